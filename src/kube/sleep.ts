// The one abortable wait: resolves after `ms`, or rejects with the signal's reason as soon
// as it fires (at once if it already has), leaving no timer or listener behind either way.
// On the lowest floor so that everything that waits (the retry policy, the providers, the
// speaker) waits the same way.
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
