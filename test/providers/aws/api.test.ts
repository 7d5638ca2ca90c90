// The one retry policy and the rate limits, through the real SDK clients: throttling and
// 5xx retried with backoff (retry-after honoured), exhausted throttling surfacing as
// ProviderError('throttled'), client errors not retried, partial failures converging.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordCloudCall, registry } from '../../../src/observability/metrics.js';
import { TokenBucket } from '../../../src/providers/aws/api.js';
import { observeCloudCalls } from '../../../src/providers/retry.js';
import { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { nlbSpec, provider, seededFake, SVC_REF } from './support.js';

let fake: FakeAws;
// As `lbc run` wires it: the metric hears the retry policy through its observer.
beforeAll(() => observeCloudCalls(recordCloudCall));
afterAll(() => observeCloudCalls(undefined));
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const errorOf = async (p: Promise<unknown>): Promise<ProviderError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
};

describe('retry policy', () => {
  it('ELBv2 Throttling once: the same call again, then on', async () => {
    fake.fail({ action: 'CreateLoadBalancer', code: 'Throttling', message: 'Rate exceeded', times: 1 });
    await provider().ensure(nlbSpec());
    expect(fake.actions().filter((a) => a === 'CreateLoadBalancer')).toHaveLength(2);
    expect(fake.lbs.size).toBe(1);
  });

  it('every attempt is counted in lbc_cloud_api_calls_total by operation and outcome', async () => {
    const count = async (outcome: string): Promise<number> => {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'lbc_cloud_api_calls_total');
      return m?.values.find((v) => v.labels.provider === 'aws' && v.labels.operation === 'CreateSecurityGroup' && v.labels.outcome === outcome)?.value ?? 0;
    };
    const before = { throttled: await count('throttled'), error: await count('error'), success: await count('success') };
    fake.fail({ action: 'CreateSecurityGroup', code: 'Throttling', times: 1 });
    fake.fail({ action: 'CreateSecurityGroup', code: 'InternalFailure', status: 500, times: 1 });
    await provider().ensure(nlbSpec());
    expect(await count('throttled')).toBe(before.throttled + 1);
    expect(await count('error')).toBe(before.error + 1);
    expect(await count('success')).toBe(before.success + 1);
  });

  it('EC2 RequestLimitExceeded (503) once: retried', async () => {
    fake.fail({ action: 'DescribeSubnets', code: 'RequestLimitExceeded', status: 503, times: 1 });
    await provider().ensure(nlbSpec());
    // DescribeInstances first: without vpcId the VPC is looked for through the Nodes (vpc.ts).
    expect(fake.actions().slice(0, 3)).toEqual(['DescribeInstances', 'DescribeSubnets', 'DescribeSubnets']);
  });

  it('persistent throttling: every attempt used, then ProviderError throttled with a retry-after', async () => {
    fake.fail({ action: 'DescribeSubnets', code: 'Throttling', times: 100 });
    const err = await errorOf(provider().ensure(nlbSpec()));
    expect(err.kind).toBe('throttled');
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(err.message).toMatch(/^DescribeSubnets: Throttling/);
    expect(fake.actions()).toEqual(['DescribeInstances', ...Array<string>(6).fill('DescribeSubnets')]);
  });

  it('honours retry-after before trying again', async () => {
    const slept: number[] = [];
    const p = provider(
      { retry: { attempts: 3, minDelay: '1ms', maxDelay: '20s' } },
      {
        sleep: async (ms) => {
          slept.push(ms);
        },
      },
    );
    fake.fail({ action: 'DescribeSubnets', code: 'Throttling', times: 1, headers: { 'retry-after': '3' } });
    await p.plan(nlbSpec());
    expect(slept).toContain(3000);
    fake.fail({ action: 'DescribeSubnets', code: 'Throttling', times: 100, headers: { 'retry-after': '7' } });
    const err = await errorOf(p.plan(nlbSpec()));
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(7000);
  });

  it('5xx once on a create: retried, and the create lands once', async () => {
    fake.fail({ action: 'CreateListener', code: 'InternalFailure', status: 500, times: 1 });
    await provider().ensure(nlbSpec());
    expect(fake.listeners.size).toBe(2);
    expect(fake.actions().filter((a) => a === 'CreateListener')).toHaveLength(3);
  });

  it('a client error is not retried and names the call and the AWS code', async () => {
    fake.fail({ action: 'CreateLoadBalancer', code: 'ValidationError', message: 'bad subnet', times: 1 });
    const err = await errorOf(provider().ensure(nlbSpec()));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe('CreateLoadBalancer: ValidationError: bad subnet');
    expect(fake.actions().filter((a) => a === 'CreateLoadBalancer')).toHaveLength(1);
  });

  it('AccessDenied is forbidden; a quota is quota', async () => {
    fake.fail({ action: 'CreateSecurityGroup', code: 'UnauthorizedOperation', status: 403, times: 1 });
    expect((await errorOf(provider().ensure(nlbSpec()))).kind).toBe('forbidden');
    fake.fail({ action: 'CreateLoadBalancer', code: 'TooManyLoadBalancers', times: 1 });
    expect((await errorOf(provider().ensure(nlbSpec()))).kind).toBe('quota');
  });

  it('an aborted call stops with a transient error', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await errorOf(provider().ensure(nlbSpec(), { signal: ac.signal }));
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/aborted/);
  });

  it('a partial failure (a listener create failing past every retry) converges on the next ensure', async () => {
    const p = provider();
    fake.fail({ action: 'CreateListener', code: 'ServiceUnavailable', status: 503, times: 100 });
    expect((await errorOf(p.ensure(nlbSpec()))).kind).toBe('transient');
    fake.clearFaults();
    fake.resetLog();
    await p.ensure(nlbSpec());
    expect(fake.writes().map((r) => r.action)).toEqual(['CreateListener', 'CreateListener']);
    await p.delete(SVC_REF);
    expect(fake.taggedFor('prod')).toEqual([]);
  });
});

describe('TokenBucket', () => {
  it('lets the burst through, then paces at the rate, in arrival order', async () => {
    let now = 0;
    const waits: number[] = [];
    const b = new TokenBucket(
      10,
      2,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
      () => now,
    );
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => b.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(waits).toEqual([100, 100]);
    expect(now).toBe(200);
  });

  it('drain makes every caller wait a refill after throttling', async () => {
    let now = 0;
    const waits: number[] = [];
    const b = new TokenBucket(
      5,
      5,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
      () => now,
    );
    b.drain();
    await b.take();
    expect(waits).toEqual([200]);
  });
});
