// The one retry policy every provider's cloud calls go through (AWS and GCE run their
// own suites through it too; these pin the policy itself).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCloudCall, registry } from '../../src/observability/metrics.js';
import { backoffDelay, callWithRetry, observeCloudCalls, type CloudCall, type CloudCallOutcome, type FailureClass } from '../../src/providers/retry.js';
import { ProviderError } from '../../src/providers/types.js';

class Boom extends Error {
  constructor(
    readonly code: string,
    readonly retryAfterMs?: number,
  ) {
    super(code);
  }
}

const classify = (e: unknown): FailureClass => {
  if (!(e instanceof Boom)) return { kind: 'transient' };
  const after = e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {};
  if (e.code === 'Throttling') return { kind: 'throttled', ...after };
  if (e.code === 'Unavailable' || e.code === 'NotYet') return { kind: 'transient', ...after };
  return { kind: 'final' };
};

function harness(overrides: Partial<CloudCall> = {}) {
  const slept: number[] = [];
  const outcomes: string[] = [];
  const call: CloudCall = {
    providerType: 'test',
    operation: `Op${Math.random().toString(36).slice(2, 8)}`,
    policy: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
    classify,
    toError: (e, x) =>
      new ProviderError(e instanceof Boom && e.code === 'Throttling' ? 'throttled' : e instanceof Boom && e.code === 'Bad' ? 'invalid' : 'transient', String((e as Error).message), {
        ...(x.retryAfterMs !== undefined ? { retryAfterMs: x.retryAfterMs } : {}),
      }),
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    onAttempt: (o) => outcomes.push(o),
    ...overrides,
  };
  return { call, slept, outcomes };
}

/** Fails with the given errors in turn, then answers `ok`. */
function script(...errors: unknown[]): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    fn: async () => {
      const e = errors[n++];
      if (e !== undefined) throw e;
      return 'ok';
    },
    calls: () => n,
  };
}

async function metric(provider: string, operation: string, outcome: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'lbc_cloud_api_calls_total');
  const v = m?.values.find((x) => x.labels.provider === provider && x.labels.operation === operation && x.labels.outcome === outcome);
  return v?.value ?? 0;
}

// As `lbc run` wires it: the metric hears the retry policy through its observer.
beforeAll(() => observeCloudCalls(recordCloudCall));
afterAll(() => observeCloudCalls(undefined));

describe('the cloud-call observer', () => {
  it('hears every attempt with provider type, operation and outcome, and nothing once removed', async () => {
    const heard: [string, string, CloudCallOutcome][] = [];
    observeCloudCalls((...a) => heard.push(a));
    try {
      const h = harness();
      await callWithRetry(h.call, script(new Boom('Throttling'), new Boom('Unavailable')).fn);
      expect(heard).toEqual([
        ['test', h.call.operation, 'throttled'],
        ['test', h.call.operation, 'error'],
        ['test', h.call.operation, 'success'],
      ]);
      observeCloudCalls(undefined);
      await callWithRetry(harness().call, script().fn);
      expect(heard).toHaveLength(3);
    } finally {
      observeCloudCalls(recordCloudCall);
    }
  });
});

describe('backoffDelay: full jitter under an exponential cap', () => {
  it('is random * min(max, base * 2^retry)', () => {
    const p = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((r) => backoffDelay(p, r, () => 0.999999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(p, 3, () => 0)).toBe(0);
    expect(backoffDelay(p, 2, () => 0.5)).toBe(200);
  });
});

describe('callWithRetry', () => {
  it('retries throttled and transient failures with backoff, counting every attempt by outcome', async () => {
    const h = harness();
    const s = script(new Boom('Throttling'), new Boom('Unavailable'));
    await expect(callWithRetry(h.call, s.fn)).resolves.toBe('ok');
    expect(s.calls()).toBe(3);
    expect(h.slept).toEqual([50, 100]);
    expect(h.outcomes).toEqual(['throttled', 'error', 'success']);
    expect(await metric('test', h.call.operation, 'throttled')).toBe(1);
    expect(await metric('test', h.call.operation, 'error')).toBe(1);
    expect(await metric('test', h.call.operation, 'success')).toBe(1);
  });

  it('waits at least the retry-after the cloud sent, capped at maxDelay', async () => {
    const h = harness();
    const s = script(new Boom('Throttling', 700), new Boom('Throttling', 60_000));
    await callWithRetry(h.call, s.fn);
    expect(h.slept).toEqual([700, 1000]);
  });

  it('a final failure is not retried and comes back as the provider error', async () => {
    const h = harness();
    const s = script(new Boom('Bad'));
    const err = await callWithRetry(h.call, s.fn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('invalid');
    expect(s.calls()).toBe(1);
    expect(h.slept).toEqual([]);
  });

  it('throttling past the budget: a throttled ProviderError telling the queue how long to stay away', async () => {
    const h = harness();
    const s = script(...Array<Boom>(10).fill(new Boom('Throttling', 3000)));
    const err = (await callWithRetry(h.call, s.fn).catch((e: unknown) => e)) as ProviderError;
    expect(s.calls()).toBe(4);
    expect(err.kind).toBe('throttled');
    expect(err.retryAfterMs).toBe(3000);
    expect(h.outcomes).toEqual(['throttled', 'throttled', 'throttled', 'throttled']);
  });

  it('throttling past the budget is throttled even when the provider error says otherwise, never shorter than maxDelay', async () => {
    const h = harness({ toError: () => new ProviderError('transient', 'rate') });
    const s = script(...Array<Boom>(10).fill(new Boom('Throttling')));
    const err = (await callWithRetry(h.call, s.fn).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('throttled');
    expect(err.retryAfterMs).toBe(1000);
  });

  it('transient failures past the budget end in the provider error, not throttled', async () => {
    const h = harness();
    const s = script(...Array<Boom>(10).fill(new Boom('Unavailable')));
    const err = (await callWithRetry(h.call, s.fn).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('transient');
    expect(err.retryAfterMs).toBeUndefined();
    expect(s.calls()).toBe(4);
  });

  it('a TypeError the classifier calls transient is retried (p-retry alone would give up)', async () => {
    const h = harness();
    const s = script(new TypeError('fetch failed'));
    await expect(callWithRetry(h.call, s.fn)).resolves.toBe('ok');
    expect(s.calls()).toBe(2);
  });

  it('with a deadline, keeps trying past the attempt budget until the time is up', async () => {
    const h = harness({ deadlineMs: 60_000 });
    const s = script(...Array<Boom>(9).fill(new Boom('NotYet')));
    await expect(callWithRetry(h.call, s.fn)).resolves.toBe('ok');
    expect(s.calls()).toBe(10);
  });

  it('an abort stops waiting at once with the abort error, and no further attempt is made', async () => {
    const ac = new AbortController();
    const h = harness({
      signal: ac.signal,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason));
          ac.abort(new Error('shutdown'));
        }),
      aborted: (reason) => new ProviderError('transient', `aborted: ${(reason as Error).message}`),
    });
    const s = script(new Boom('Throttling'));
    const err = (await callWithRetry(h.call, s.fn).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('transient');
    expect(err.message).toBe('aborted: shutdown');
    expect(s.calls()).toBe(1);
  });

  it('an already aborted signal makes no call', async () => {
    const ac = new AbortController();
    ac.abort();
    const h = harness({ signal: ac.signal });
    const s = script();
    const err = (await callWithRetry(h.call, s.fn).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/aborted/);
    expect(s.calls()).toBe(0);
  });

  it('gives up an attempt with no answer at attemptTimeoutMs, aborting its signal, and tries again', async () => {
    const h = harness({ attemptTimeoutMs: 100 });
    const signals: AbortSignal[] = [];
    let n = 0;
    const t0 = Date.now();
    const out = await callWithRetry(h.call, (_n, signal) => {
      signals.push(signal!);
      // The first attempt never answers (a request lost on a dead connection), the second does.
      return n++ === 0 ? new Promise<string>(() => {}) : Promise.resolve('ok');
    });
    expect(out).toBe('ok');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as Error).message).toBe('no answer within 100 ms');
    expect(signals[1]!.aborted).toBe(false);
    expect(h.outcomes).toEqual(['error', 'success']);
  });

  it('an attempt that ignores its signal is left behind; past the budget the call fails transient, naming the timeout', async () => {
    const h = harness({ attemptTimeoutMs: 50, policy: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
    let calls = 0;
    const t0 = Date.now();
    const err = (await callWithRetry(h.call, () => {
      calls++;
      return new Promise<string>(() => {});
    }).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('transient');
    expect(err.message).toBe('no answer within 50 ms');
    expect(calls).toBe(3);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("the caller's abort still wins over the attempt deadline, and admit's wait is not part of it", async () => {
    const ac = new AbortController();
    let admitted = 0;
    const h = harness({
      signal: ac.signal,
      attemptTimeoutMs: 100,
      admit: async () => {
        admitted++;
        await new Promise((r) => setTimeout(r, 150));
      },
      aborted: (reason) => new ProviderError('transient', `aborted: ${(reason as Error).message}`),
    });
    const seen: AbortSignal[] = [];
    const answered = await callWithRetry(h.call, async (_n, signal) => {
      seen.push(signal!);
      return 'ok';
    });
    expect(answered).toBe('ok');
    expect(admitted).toBe(1);
    setTimeout(() => ac.abort(new Error('shutdown')), 20);
    const err = (await callWithRetry(h.call, (_n, signal) => new Promise<string>((_r, reject) => signal!.addEventListener('abort', () => reject(signal!.reason)))).catch(
      (e: unknown) => e,
    )) as ProviderError;
    expect(err.message).toBe('aborted: shutdown');
  });
});
