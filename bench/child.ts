// The benches' helper processes: the module forks itself with a role flag, and the child
// answers its first IPC message once it is ready (backends listening, LBs ensured).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `forkWith` starts the child some other way (in a network namespace), given the module's path and arguments. */
export function forkRole<T>(moduleUrl: string, flag: string, role: string, payload?: unknown, forkWith?: (path: string, args: string[]) => ChildProcess): Promise<{ proc: ChildProcess; reply: T }> {
  const proc = forkWith
    ? forkWith(fileURLToPath(moduleUrl), [flag, role])
    : fork(fileURLToPath(moduleUrl), [flag, role], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (reply) => resolve({ proc, reply: reply as T }));
    proc.once('exit', (code) => reject(new Error(`bench ${role} process exited (${code}) before it was ready`)));
    if (payload !== undefined) proc.send(payload as object);
  });
}
