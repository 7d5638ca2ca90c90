// How a long-running command ends: on SIGINT/SIGTERM, or after --for seconds.
export function untilStopped(forSeconds?: number): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (timer) clearTimeout(timer);
      resolve(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer = forSeconds ? setTimeout(() => done('timeout'), forSeconds * 1000) : undefined;
  });
}
