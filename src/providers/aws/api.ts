// The one way lbc talks to AWS: the official SDK clients, each call through a
// client-side rate limit for its API family and the one retry policy (p-retry), which
// backs off with jitter on throttling and 5xx, honours a retry-after where AWS gives
// one, and turns what is left into a ProviderError. The SDK's own retries are off
// (maxAttempts 1) so that no call is retried by two policies at once.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import pRetry from 'p-retry';
import { ProviderError } from '../types.js';
import { awsErrorFacts, isRetryable, isThrottling, toAwsProviderError } from './errors.js';
import type { AwsOptions } from './options.js';

export type ApiFamily = 'elbv2Read' | 'elbv2Write' | 'ec2Read' | 'ec2Write';
export type AwsService = 'elbv2' | 'ec2';

export interface CallEvent {
  readonly service: AwsService;
  readonly action: string;
  /** 1 for the first try. */
  readonly attempt: number;
  readonly outcome: 'ok' | 'error';
  readonly code?: string;
}

export type CallObserver = (event: CallEvent) => void;

export interface CallPolicy {
  readonly signal?: AbortSignal | undefined;
  /**
   * AWS codes that mean "not yet" for this call (ResourceInUse on DeleteTargetGroup,
   * DependencyViolation on DeleteSecurityGroup): retried with backoff until deadlineMs.
   */
  readonly waitOn?: readonly string[];
  readonly deadlineMs?: number;
}

type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
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

/**
 * A token bucket: `burst` calls at once, then `perSecond`. Waiters are served in
 * arrival order so a busy family cannot starve one caller.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly sleep: Sleep = realSleep,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(signal));
    // A waiter that gave up must not hold up the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** After AWS throttled this family: everyone waits for the bucket to refill from empty. */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
  }

  private async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000), signal);
    }
  }
}

export interface ClientOverrides {
  /** Passed to both SDK clients as they are (credentials, requestHandler, ...), after lbc's own settings. */
  readonly clientConfig?: Record<string, unknown>;
  /** Per client, after clientConfig (e.g. an endpoint each). */
  readonly elbv2Config?: Record<string, unknown>;
  readonly ec2Config?: Record<string, unknown>;
}

export function createClients(options: Pick<AwsOptions, 'region' | 'endpoint'>, overrides: ClientOverrides = {}): { elbv2: ElasticLoadBalancingV2Client; ec2: EC2Client } {
  const common = {
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...overrides.clientConfig,
  };
  return {
    elbv2: new ElasticLoadBalancingV2Client({ ...common, ...overrides.elbv2Config }),
    ec2: new EC2Client({ ...common, ...overrides.ec2Config }),
  };
}

export interface AwsApiInit {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly options: Pick<AwsOptions, 'retry' | 'rateLimits'>;
  readonly provider: string;
  readonly observer?: CallObserver;
  readonly sleep?: Sleep;
}

type SendOptions = { abortSignal?: AbortSignal };

export class AwsApi {
  readonly elbv2Client: ElasticLoadBalancingV2Client;
  readonly ec2Client: EC2Client;
  private readonly buckets: Record<ApiFamily, TokenBucket>;
  private readonly retry: AwsOptions['retry'];
  private readonly provider: string;
  private readonly sleep: Sleep;
  private readonly observers: CallObserver[] = [];

  constructor(init: AwsApiInit) {
    this.elbv2Client = init.elbv2;
    this.ec2Client = init.ec2;
    this.retry = init.options.retry;
    this.provider = init.provider;
    this.sleep = init.sleep ?? realSleep;
    const l = init.options.rateLimits;
    this.buckets = {
      elbv2Read: new TokenBucket(l.elbv2Read.perSecond, l.elbv2Read.burst, this.sleep),
      elbv2Write: new TokenBucket(l.elbv2Write.perSecond, l.elbv2Write.burst, this.sleep),
      ec2Read: new TokenBucket(l.ec2Read.perSecond, l.ec2Read.burst, this.sleep),
      ec2Write: new TokenBucket(l.ec2Write.perSecond, l.ec2Write.burst, this.sleep),
    };
    if (init.observer) this.observers.push(init.observer);
  }

  /** Sees every attempt (tests count writes with it; metrics could too). */
  observe(observer: CallObserver): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  elbv2<T>(action: string, call: (client: ElasticLoadBalancingV2Client, opts: SendOptions) => Promise<T>, policy: CallPolicy = {}): Promise<T> {
    return this.run('elbv2', action, (opts) => call(this.elbv2Client, opts), policy);
  }

  ec2<T>(action: string, call: (client: EC2Client, opts: SendOptions) => Promise<T>, policy: CallPolicy = {}): Promise<T> {
    return this.run('ec2', action, (opts) => call(this.ec2Client, opts), policy);
  }

  private async run<T>(service: AwsService, action: string, send: (opts: SendOptions) => Promise<T>, policy: CallPolicy): Promise<T> {
    const family: ApiFamily = `${service}${action.startsWith('Describe') ? 'Read' : 'Write'}`;
    const bucket = this.buckets[family];
    const signal = policy.signal;
    const waitOn = policy.waitOn ?? [];
    let lastDelayMs = this.retry.minDelay;
    try {
      return await pRetry(
        async (attempt) => {
          await bucket.take(signal);
          try {
            const out = await send(signal ? { abortSignal: signal } : {});
            this.emit({ service, action, attempt, outcome: 'ok' });
            return out;
          } catch (e) {
            if (signal?.aborted) throw signal.reason;
            this.emit({ service, action, attempt, outcome: 'error', code: awsErrorFacts(e).code });
            // p-retry gives up at once on a TypeError it does not know as a network error.
            throw e instanceof Error && !(e instanceof TypeError) ? e : new RetryableWrapper(e);
          }
        },
        {
          retries: waitOn.length > 0 ? Number.POSITIVE_INFINITY : this.retry.attempts - 1,
          ...(waitOn.length > 0 ? { maxRetryTime: policy.deadlineMs ?? 60_000 } : {}),
          minTimeout: this.retry.minDelay,
          maxTimeout: this.retry.maxDelay,
          factor: 2,
          randomize: true,
          ...(signal ? { signal } : {}),
          shouldRetry: ({ error }) => {
            const f = awsErrorFacts(unwrap(error));
            return isRetryable(f) || waitOn.includes(f.code);
          },
          onFailedAttempt: async ({ error, retriesConsumed }) => {
            const f = awsErrorFacts(unwrap(error));
            lastDelayMs = Math.min(this.retry.maxDelay, this.retry.minDelay * 2 ** retriesConsumed);
            if (isThrottling(f)) bucket.drain();
            // p-retry's own backoff follows; waiting out retry-after first means never sooner.
            if (f.retryAfterMs !== undefined && f.retryAfterMs > 0 && (isRetryable(f) || waitOn.includes(f.code))) {
              await this.sleep(Math.min(f.retryAfterMs, this.retry.maxDelay), signal);
            }
          },
        },
      );
    } catch (e) {
      if (signal?.aborted) {
        throw new ProviderError('transient', `${action}: aborted`, { provider: this.provider, cause: signal.reason });
      }
      const raw = unwrap(e);
      const f = awsErrorFacts(raw);
      const retryAfterMs = isThrottling(f) ? Math.max(f.retryAfterMs ?? 0, lastDelayMs * 2) : f.retryAfterMs;
      throw toAwsProviderError(action, raw, this.provider, retryAfterMs);
    }
  }

  private emit(event: CallEvent): void {
    for (const o of this.observers) o(event);
  }
}

class RetryableWrapper extends Error {
  constructor(readonly inner: unknown) {
    super(inner instanceof Error ? inner.message : String(inner));
  }
}

function unwrap(e: unknown): unknown {
  return e instanceof RetryableWrapper ? e.inner : e;
}
