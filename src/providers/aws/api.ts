// The one way lbc talks to AWS: the official SDK clients, each call through a
// client-side rate limit for its API family and lbc's one retry policy (../retry.ts,
// shared with every provider), told here which AWS codes mean throttled, transient or
// "not yet". The SDK's own retries are off
// (maxAttempts 1) so that no call is retried by two policies at once.
import { ACMClient } from '@aws-sdk/client-acm';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ShieldClient } from '@aws-sdk/client-shield';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';
import { sleep as abortableSleep } from '../../kube/sleep.js';
import { ProviderError } from '../types.js';
import { callWithRetry, type Sleep } from '../retry.js';
import { awsErrorFacts, isRetryable, isThrottling, toAwsProviderError } from './errors.js';
import type { AwsOptions } from './options.js';

/** lbc only ever reads ACM (certificate discovery), so ACM has one family; WAFv2 and Shield too (a few calls per load balancer that asks for them). */
export type ApiFamily = 'elbv2Read' | 'elbv2Write' | 'ec2Read' | 'ec2Write' | 'acmRead' | 'wafv2' | 'shield';
export type AwsService = 'elbv2' | 'ec2' | 'acm' | 'wafv2' | 'shield';

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
    private readonly sleep: Sleep = abortableSleep,
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

export interface ImdsConfig {
  /** Default: the SDK's (AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254). */
  readonly endpoint?: string;
  readonly timeoutMs?: number;
}

export interface ClientOverrides {
  /** Passed to every SDK client as they are (credentials, requestHandler, ...), after lbc's own settings. */
  readonly clientConfig?: Record<string, unknown>;
  /** Per client, after clientConfig (e.g. an endpoint each). */
  readonly elbv2Config?: Record<string, unknown>;
  readonly ec2Config?: Record<string, unknown>;
  readonly acmConfig?: Record<string, unknown>;
  readonly wafv2Config?: Record<string, unknown>;
  readonly shieldConfig?: Record<string, unknown>;
  /** The instance metadata service (VPC discovery without vpcId): its endpoint and timeout. */
  readonly imdsConfig?: ImdsConfig;
}

/**
 * The SDK warns (process.emitWarning, plain text on stderr, once per client package) on
 * Node < 22 that its releases after January 2027 will need Node 22. The versions
 * package-lock.json pins run on the Node 20 README supports, and a later SDK declares
 * its engines, which npm checks on update; the warning only breaks lbc's JSON stderr.
 * The SDK's own switch turns it off (@aws-sdk/core emitWarningIfUnsupportedVersion),
 * unless the operator set it either way.
 */
function quietNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

export interface AwsClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly acm: ACMClient;
  /** Made on first use: only load balancers with wafv2-acl-arn need the WAFv2 SDK loaded at all. */
  readonly wafv2: () => Promise<WAFV2Client>;
  /** Made on first use, for shield-advanced-protection. */
  readonly shield: () => Promise<ShieldClient>;
}

export function createClients(options: Pick<AwsOptions, 'region' | 'endpoint'>, overrides: ClientOverrides = {}): AwsClients {
  quietNodeVersionWarning();
  const common = {
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...overrides.clientConfig,
  };
  return {
    elbv2: new ElasticLoadBalancingV2Client({ ...common, ...overrides.elbv2Config }),
    ec2: new EC2Client({ ...common, ...overrides.ec2Config }),
    acm: new ACMClient({ ...common, ...overrides.acmConfig }),
    wafv2: async () => new (await import('@aws-sdk/client-wafv2')).WAFV2Client({ ...common, ...overrides.wafv2Config }),
    // The Shield Advanced API has one endpoint, in us-east-1 (AWS General Reference, "AWS
    // Shield endpoints and quotas"), whatever region the load balancers are in.
    shield: async () => new (await import('@aws-sdk/client-shield')).ShieldClient({ ...common, region: 'us-east-1', ...overrides.shieldConfig }),
  };
}

export interface AwsApiInit {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly acm: ACMClient;
  readonly wafv2?: () => Promise<WAFV2Client>;
  readonly shield?: () => Promise<ShieldClient>;
  readonly options: Pick<AwsOptions, 'retry' | 'rateLimits'>;
  readonly provider: string;
  readonly observer?: CallObserver;
  readonly sleep?: Sleep;
  /** Deadline of one API request. Default 30 s: the SDK's own request timeout is none. */
  readonly attemptTimeoutMs?: number;
}

type SendOptions = { abortSignal?: AbortSignal };

export class AwsApi {
  readonly elbv2Client: ElasticLoadBalancingV2Client;
  readonly ec2Client: EC2Client;
  readonly acmClient: ACMClient;
  private readonly wafv2Client: () => Promise<WAFV2Client>;
  private readonly shieldClient: () => Promise<ShieldClient>;
  private readonly buckets: Record<ApiFamily, TokenBucket>;
  private readonly retry: AwsOptions['retry'];
  private readonly provider: string;
  private readonly sleep: Sleep;
  private readonly attemptTimeoutMs: number;
  private readonly observers: CallObserver[] = [];

  constructor(init: AwsApiInit) {
    this.elbv2Client = init.elbv2;
    this.ec2Client = init.ec2;
    this.acmClient = init.acm;
    this.wafv2Client = this.onFirstUse('WAFv2', init.wafv2);
    this.shieldClient = this.onFirstUse('Shield', init.shield);
    this.retry = init.options.retry;
    this.provider = init.provider;
    this.sleep = init.sleep ?? abortableSleep;
    this.attemptTimeoutMs = init.attemptTimeoutMs ?? 30_000;
    const l = init.options.rateLimits;
    this.buckets = {
      elbv2Read: new TokenBucket(l.elbv2Read.perSecond, l.elbv2Read.burst, this.sleep),
      elbv2Write: new TokenBucket(l.elbv2Write.perSecond, l.elbv2Write.burst, this.sleep),
      ec2Read: new TokenBucket(l.ec2Read.perSecond, l.ec2Read.burst, this.sleep),
      ec2Write: new TokenBucket(l.ec2Write.perSecond, l.ec2Write.burst, this.sleep),
      acmRead: new TokenBucket(l.acmRead.perSecond, l.acmRead.burst, this.sleep),
      wafv2: new TokenBucket(l.wafv2.perSecond, l.wafv2.burst, this.sleep),
      shield: new TokenBucket(l.shield.perSecond, l.shield.burst, this.sleep),
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

  acm<T>(action: string, call: (client: ACMClient, opts: SendOptions) => Promise<T>, policy: CallPolicy = {}): Promise<T> {
    return this.run('acm', action, (opts) => call(this.acmClient, opts), policy);
  }

  async wafv2<T>(action: string, call: (client: WAFV2Client, opts: SendOptions) => Promise<T>, policy: CallPolicy = {}): Promise<T> {
    const client = await this.wafv2Client();
    return this.run('wafv2', action, (opts) => call(client, opts), policy);
  }

  async shield<T>(action: string, call: (client: ShieldClient, opts: SendOptions) => Promise<T>, policy: CallPolicy = {}): Promise<T> {
    const client = await this.shieldClient();
    return this.run('shield', action, (opts) => call(client, opts), policy);
  }

  /** A client made once, when first asked for. */
  private onFirstUse<C>(name: string, make: (() => Promise<C>) | undefined): () => Promise<C> {
    let made: Promise<C> | undefined;
    return () => {
      if (!make) return Promise.reject(new ProviderError('invalid', `this provider has no ${name} client`, { provider: this.provider }));
      made ??= make();
      return made;
    };
  }

  private async run<T>(service: AwsService, action: string, send: (opts: SendOptions) => Promise<T>, policy: CallPolicy): Promise<T> {
    const family: ApiFamily = service === 'acm' ? 'acmRead' : service === 'wafv2' || service === 'shield' ? service : `${service}${action.startsWith('Describe') ? 'Read' : 'Write'}`;
    const bucket = this.buckets[family];
    const signal = policy.signal;
    const waitOn = policy.waitOn ?? [];
    return callWithRetry(
      {
        providerType: 'aws',
        operation: action,
        policy: { attempts: this.retry.attempts, baseDelayMs: this.retry.minDelay, maxDelayMs: this.retry.maxDelay },
        signal,
        attemptTimeoutMs: this.attemptTimeoutMs,
        admit: (s) => bucket.take(s),
        ...(waitOn.length > 0 ? { deadlineMs: policy.deadlineMs ?? 60_000 } : {}),
        classify: (e) => {
          const f = awsErrorFacts(e);
          if (isThrottling(f)) return { kind: 'throttled', ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}) };
          if (isRetryable(f) || waitOn.includes(f.code)) return { kind: 'transient', ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}) };
          return { kind: 'final' };
        },
        toError: (e, exhausted) => toAwsProviderError(action, e, this.provider, exhausted.retryAfterMs),
        aborted: (reason) => new ProviderError('transient', `${action}: aborted`, { provider: this.provider, cause: reason }),
        onAttempt: (outcome, attempt, error) => {
          // AWS throttles per account and API family: everyone using the family waits for a refill.
          if (outcome === 'throttled') bucket.drain();
          this.emit({ service, action, attempt, outcome: outcome === 'success' ? 'ok' : 'error', ...(error !== undefined ? { code: awsErrorFacts(error).code } : {}) });
        },
        sleep: this.sleep,
      },
      (_n, attemptSignal) => send(attemptSignal ? { abortSignal: attemptSignal } : {}),
    );
  }

  private emit(event: CallEvent): void {
    for (const o of this.observers) o(event);
  }
}
