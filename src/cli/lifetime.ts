// How a long-running command ends: on SIGINT/SIGTERM, or after --for seconds, or (the
// command ending by itself, e.g. failing) when `signal` aborts, which leaves no handler
// or timer behind to keep the process up.
export function untilStopped(forSeconds?: number, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      resolve(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    const onAbort = () => done('aborted');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = forSeconds ? setTimeout(() => done('timeout'), forSeconds * 1000) : undefined;
  });
}
