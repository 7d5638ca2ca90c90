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

// For calls that take no signal of their own (a typed API request, a paginated list):
// settles as `p` does, or rejects with the signal's reason as soon as it fires, so that a
// hung call cannot hold up whoever stops; p's late outcome is then dropped (its rejection
// handled, so it is not reported as unhandled).
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
