// The benches' helper processes: the module forks itself with a role flag, and the child
// answers its first IPC message once it is ready (backends listening, LBs ensured).
// A child that runs lbc can run it compiled (`forkCompiled`): plain JavaScript as
// `npm run build` ships it, not tsx's on-the-fly transform (whose per-closure `__name`
// wrapper and source maps show in profiles), so the bench measures what users run.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** src/ and bench/ compiled to a temporary directory (with node_modules linked), removed when this process exits. */
export async function compileBench(): Promise<string> {
  // Loaded here, not at the top: the children import this module too and must not carry a compiler.
  const { default: ts } = await import('typescript');
  const out = mkdtempSync(join(tmpdir(), 'lbc-bench-'));
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of [...walk(join(ROOT, 'src')), ...walk(join(ROOT, 'bench'))]) {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
    }).outputText;
    const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  // As `npm run build` ships it: client-node bundled down to what lbc uses.
  const { bundleClientNode } = (await import(pathToFileURL(join(ROOT, 'src/kube/client-node.build.mjs')).href)) as { bundleClientNode: (file: string) => Promise<void> };
  await bundleClientNode(join(out, 'src/kube/client-node.js'));
  return out;
}

let compiled: Promise<string> | undefined;

/** One compiled tree for every child this process forks, removed at exit. */
function sharedBuild(): Promise<string> {
  compiled ??= compileBench().then((dir) => {
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  });
  return compiled;
}

/**
 * A forkWith that runs the module's compiled counterpart (and so the L7 workers its
 * LocalProvider starts: l7-workers.ts forks the worker beside itself, .js beside .js).
 * LBC_BENCH_CHILD_PROF=DIR: a CPU profile of each child in DIR, written when it exits (the
 * LB child serves L7 itself beside its workers, so its profile shows the request path).
 */
export async function forkCompiled(): Promise<(path: string, args: string[]) => ChildProcess> {
  const dir = await sharedBuild();
  const prof = process.env.LBC_BENCH_CHILD_PROF;
  const execArgv = prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : [];
  return (path, args) => fork(join(dir, relative(ROOT, path)).replace(/\.ts$/, '.js'), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** `forkWith` starts the child some other way (compiled, or in a network namespace), given the module's path and arguments. */
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
