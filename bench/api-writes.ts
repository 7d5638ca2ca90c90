// The benches' count of a controller's API writes: its clients wrapped so that every write
// call (create, patch, replace, delete) is counted by method, and, for whoever needs more
// than a count (which object was written), reported with its arguments.
/** Told of each write as it starts; what it returns, if anything, is called when the write ends. */
export type WriteListener = (method: string, args: readonly unknown[]) => (() => void) | void;

const WRITE = /^(create|patch|replace|delete)/;

/** The API object, counting every write call made through it, by method. */
export function countingApi<T extends object>(api: T, writes: Map<string, number>, onWrite?: WriteListener): T {
  // Each method's wrapper is made once, not at every call: the bench's count is charged to
  // the controller's CPU, and a closure and a RegExp test per write showed in its profile
  // (#21). A method replaced on the object gets a new wrapper.
  const made = new Map<string, { fn: (...a: unknown[]) => unknown; wrapper: (...a: unknown[]) => unknown }>();
  const wrap = (prop: string, fn: (...a: unknown[]) => unknown, target: T): ((...a: unknown[]) => unknown) => {
    if (!WRITE.test(prop)) return fn;
    return (...args: unknown[]) => {
      writes.set(prop, (writes.get(prop) ?? 0) + 1);
      const done = onWrite?.(prop, args);
      const out = fn.apply(target, args);
      if (done && out instanceof Promise) out.then(done, done);
      return out;
    };
  };
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      const fn = v as (...a: unknown[]) => unknown;
      const hit = made.get(prop);
      if (hit?.fn === fn) return hit.wrapper;
      const wrapper = wrap(prop, fn, target);
      made.set(prop, { fn, wrapper });
      return wrapper;
    },
  });
}

/** The clients, counting every write call made through them, by method. */
export function countingClients<C extends { core: object; networking: object; custom?: object }>(
  clients: C,
  writes = new Map<string, number>(),
  onWrite?: WriteListener,
): { clients: C; writes: Map<string, number> } {
  const wrap = <T extends object>(api: T): T => countingApi(api, writes, onWrite);
  return {
    clients: { ...clients, core: wrap(clients.core), networking: wrap(clients.networking), ...(clients.custom ? { custom: wrap(clients.custom) } : {}) },
    writes,
  };
}
