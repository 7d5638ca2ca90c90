// The Compute clients lbc uses (REST transport) and the three ways it calls them: a
// read, a paginated list, and a write whose long-running operation is waited on
// through the matching operations client before the next call. Every call goes
// through the one retry policy in retry.ts and comes out as a GceError on failure.
//
// Call labels are `<client>.<method>` exactly as the client and method are named
// here; the IAM role test reads them from the source to check deploy/gce/role.yaml.
import {
  AddressesClient,
  BackendServicesClient,
  FirewallsClient,
  ForwardingRulesClient,
  GlobalAddressesClient,
  GlobalForwardingRulesClient,
  GlobalOperationsClient,
  HealthChecksClient,
  InstanceGroupsClient,
  InstancesClient,
  NetworkEndpointGroupsClient,
  RegionBackendServicesClient,
  RegionHealthChecksClient,
  RegionOperationsClient,
  RegionSslCertificatesClient,
  RegionTargetHttpProxiesClient,
  RegionTargetHttpsProxiesClient,
  RegionUrlMapsClient,
  SslCertificatesClient,
  SubnetworksClient,
  TargetHttpProxiesClient,
  TargetHttpsProxiesClient,
  UrlMapsClient,
  ZoneOperationsClient,
  type protos,
} from '@google-cloud/compute';
import { GoogleAuth } from 'google-auth-library';
import { GceError, isNotFound, operationError, toGceError } from './errors.js';
import type { GceOptions } from './options.js';
import { withRetry } from './retry.js';

export type ComputeClientOptions = NonNullable<ConstructorParameters<typeof ForwardingRulesClient>[0]>;
export type IOperation = protos.google.cloud.compute.v1.IOperation;

/** Per-call options: gax's own retries off, so retry.ts is the only policy. */
export interface GaxCallOptions {
  readonly retry: null;
  readonly timeout: number;
  readonly autoPaginate?: boolean;
}

export interface CallRecord {
  /** `<client>.<method>` */
  readonly call: string;
  readonly target: string;
  readonly write: boolean;
}

export interface ComputeInit {
  readonly provider: string;
  readonly options: GceOptions;
  /** Extra client options (tests pass an authClient holding a fixed token). */
  readonly clientOptions?: ComputeClientOptions;
  readonly onCall?: (c: CallRecord) => void;
}

function endpointOptions(apiEndpoint: string | undefined): ComputeClientOptions {
  if (apiEndpoint === undefined) return {};
  if (!apiEndpoint.includes('://')) return { apiEndpoint };
  const url = new URL(apiEndpoint);
  const protocol = url.protocol.replace(/:$/, '');
  const port = url.port !== '' ? Number(url.port) : protocol === 'http' ? 80 : 443;
  return { apiEndpoint: url.hostname, port, protocol } as ComputeClientOptions;
}

const lastSegment = (url: string | null | undefined): string | undefined => url?.split('/').filter(Boolean).pop();

/** What the Compute clients ask for when they find credentials themselves (their static `scopes`). */
const COMPUTE_SCOPES = ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/compute'];

/**
 * Where lbc looks for credentials, for the error that says none were found: Application
 * Default Credentials as google-auth-library searches them.
 */
const CREDENTIAL_SOURCES =
  'set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or the provider option keyFilename, ' +
  'or run on GCE/GKE with a service account (Workload Identity) the metadata server hands out';

export class Compute {
  // Clients are made on first use: each one loads the whole Compute API description.
  private readonly clients = new Map<string, { close(): Promise<void> }>();
  private readonly clientOptions: ComputeClientOptions;
  /**
   * lbc's own credential lookup, shared by every client. Left to themselves, the
   * clients look up credentials lazily inside their stub and chain a rethrowing
   * `.catch` onto that promise on every call: when nothing is found, that rejection is
   * unhandled and Node exits. Given `auth`, a client only asks it for the client that
   * `credentials()` has already resolved (GoogleAuth caches it), so that cannot fail.
   */
  private readonly auth: GoogleAuth | undefined;
  private authReady: Promise<void> | undefined;

  private client<C extends { close(): Promise<void> }>(key: string, make: (o: ComputeClientOptions) => C): C {
    let c = this.clients.get(key) as C | undefined;
    if (!c) {
      c = make({ ...this.clientOptions });
      this.clients.set(key, c);
    }
    return c;
  }

  get addresses(): AddressesClient {
    return this.client('addresses', (o) => new AddressesClient(o));
  }
  get globalAddresses(): GlobalAddressesClient {
    return this.client('globalAddresses', (o) => new GlobalAddressesClient(o));
  }
  get forwardingRules(): ForwardingRulesClient {
    return this.client('forwardingRules', (o) => new ForwardingRulesClient(o));
  }
  get globalForwardingRules(): GlobalForwardingRulesClient {
    return this.client('globalForwardingRules', (o) => new GlobalForwardingRulesClient(o));
  }
  get regionBackendServices(): RegionBackendServicesClient {
    return this.client('regionBackendServices', (o) => new RegionBackendServicesClient(o));
  }
  get backendServices(): BackendServicesClient {
    return this.client('backendServices', (o) => new BackendServicesClient(o));
  }
  get regionHealthChecks(): RegionHealthChecksClient {
    return this.client('regionHealthChecks', (o) => new RegionHealthChecksClient(o));
  }
  get healthChecks(): HealthChecksClient {
    return this.client('healthChecks', (o) => new HealthChecksClient(o));
  }
  get firewalls(): FirewallsClient {
    return this.client('firewalls', (o) => new FirewallsClient(o));
  }
  get instanceGroups(): InstanceGroupsClient {
    return this.client('instanceGroups', (o) => new InstanceGroupsClient(o));
  }
  get instances(): InstancesClient {
    return this.client('instances', (o) => new InstancesClient(o));
  }
  get networkEndpointGroups(): NetworkEndpointGroupsClient {
    return this.client('networkEndpointGroups', (o) => new NetworkEndpointGroupsClient(o));
  }
  get urlMaps(): UrlMapsClient {
    return this.client('urlMaps', (o) => new UrlMapsClient(o));
  }
  get targetHttpProxies(): TargetHttpProxiesClient {
    return this.client('targetHttpProxies', (o) => new TargetHttpProxiesClient(o));
  }
  get targetHttpsProxies(): TargetHttpsProxiesClient {
    return this.client('targetHttpsProxies', (o) => new TargetHttpsProxiesClient(o));
  }
  get sslCertificates(): SslCertificatesClient {
    return this.client('sslCertificates', (o) => new SslCertificatesClient(o));
  }
  get regionUrlMaps(): RegionUrlMapsClient {
    return this.client('regionUrlMaps', (o) => new RegionUrlMapsClient(o));
  }
  get regionTargetHttpProxies(): RegionTargetHttpProxiesClient {
    return this.client('regionTargetHttpProxies', (o) => new RegionTargetHttpProxiesClient(o));
  }
  get regionTargetHttpsProxies(): RegionTargetHttpsProxiesClient {
    return this.client('regionTargetHttpsProxies', (o) => new RegionTargetHttpsProxiesClient(o));
  }
  get regionSslCertificates(): RegionSslCertificatesClient {
    return this.client('regionSslCertificates', (o) => new RegionSslCertificatesClient(o));
  }
  get subnetworks(): SubnetworksClient {
    return this.client('subnetworks', (o) => new SubnetworksClient(o));
  }
  get regionOperations(): RegionOperationsClient {
    return this.client('regionOperations', (o) => new RegionOperationsClient(o));
  }
  get globalOperations(): GlobalOperationsClient {
    return this.client('globalOperations', (o) => new GlobalOperationsClient(o));
  }
  get zoneOperations(): ZoneOperationsClient {
    return this.client('zoneOperations', (o) => new ZoneOperationsClient(o));
  }

  readonly project: string;
  readonly region: string;
  private readonly provider: string;
  private readonly options: GceOptions;
  private readonly onCall: ((c: CallRecord) => void) | undefined;
  private readonly callOptions: GaxCallOptions;

  constructor(init: ComputeInit) {
    this.provider = init.provider;
    this.options = init.options;
    this.project = init.options.project;
    this.region = init.options.region;
    this.onCall = init.onCall;
    this.callOptions = { retry: null, timeout: 120_000 };
    // A caller that brings its own auth or authClient (the tests' fixed token) has resolved it already.
    const given = init.clientOptions !== undefined && ('auth' in init.clientOptions || 'authClient' in init.clientOptions);
    this.auth = given
      ? undefined
      : new GoogleAuth({
          projectId: init.options.project,
          scopes: COMPUTE_SCOPES,
          ...(init.options.keyFilename !== undefined ? { keyFilename: init.options.keyFilename } : {}),
        });
    this.clientOptions = {
      fallback: true,
      projectId: init.options.project,
      ...(this.auth ? { auth: this.auth } : {}),
      ...endpointOptions(init.options.apiEndpoint),
      ...init.clientOptions,
    };
  }

  /** One GET (or other read). */
  async read<T>(call: string, target: string, signal: AbortSignal | undefined, fn: (o: GaxCallOptions) => Promise<readonly [T, ...unknown[]]>): Promise<T> {
    this.onCall?.({ call, target, write: false });
    const [value] = await this.retry(`${call} ${target}`, signal, () => fn(this.callOptions));
    return value;
  }

  /** A GET that answers undefined for 404, the usual way to ask whether something exists. */
  async readOptional<T>(
    call: string,
    target: string,
    signal: AbortSignal | undefined,
    fn: (o: GaxCallOptions) => Promise<readonly [T, ...unknown[]]>,
  ): Promise<T | undefined> {
    try {
      return await this.read(call, target, signal, fn);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** A list the client pages through itself; retried as a whole. */
  async list<T>(call: string, target: string, signal: AbortSignal | undefined, fn: (o: GaxCallOptions) => Promise<readonly [T[], ...unknown[]]>): Promise<T[]> {
    this.onCall?.({ call, target, write: false });
    const [items] = await this.retry(`${call} ${target}`, signal, () => fn(this.callOptions));
    return items;
  }

  /** Lists through an async iterator (aggregated lists). */
  async collect<T>(call: string, target: string, signal: AbortSignal | undefined, fn: (o: GaxCallOptions) => AsyncIterable<T>): Promise<T[]> {
    this.onCall?.({ call, target, write: false });
    return this.retry(`${call} ${target}`, signal, async () => {
      const out: T[] = [];
      for await (const item of fn({ ...this.callOptions, autoPaginate: false })) out.push(item);
      return out;
    });
  }

  /**
   * A mutating call, then its operation waited on to the end. Resolves when the change
   * is in effect; rejects with the operation's own error message when it failed.
   */
  async write(call: string, target: string, signal: AbortSignal | undefined, fn: (o: GaxCallOptions) => Promise<readonly [unknown, ...unknown[]]>): Promise<void> {
    this.onCall?.({ call, target, write: true });
    const what = `${call} ${target}`;
    const [lro] = await this.retry(what, signal, () => fn(this.callOptions));
    const op = (lro as { latestResponse?: IOperation } | undefined)?.latestResponse;
    if (!op) throw new GceError('transient', `${what}: no operation in the response`, { provider: this.provider });
    await this.waitFor(what, op, signal);
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }

  /**
   * Resolves the credentials before the first call through any client; a failure is a
   * forbidden GceError (only the operator can fix it) and is not kept, so the next
   * call looks again (a key mounted since, the metadata server back).
   */
  private credentials(): Promise<void> {
    const auth = this.auth;
    if (!auth) return Promise.resolve();
    this.authReady ??= auth.getClient().then(
      () => undefined,
      (e: unknown) => {
        this.authReady = undefined;
        const detail = e instanceof Error ? e.message : String(e);
        const message =
          this.options.keyFilename !== undefined
            ? `the Google credentials in ${this.options.keyFilename} (options.keyFilename) cannot be used: ${detail}`
            : `no Google credentials found (Application Default Credentials): ${detail}; ${CREDENTIAL_SOURCES}`;
        throw new GceError('forbidden', message, {
          provider: this.provider,
          reason: 'credentials',
          cause: e,
        });
      },
    );
    return this.authReady;
  }

  private async retry<T>(what: string, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    await this.credentials();
    return withRetry(what, this.provider, this.options.retry, signal, attempt, (e) => toGceError(e, what, this.provider));
  }

  /** Waits with the operations client of the operation's scope; `wait` returns when done or after ~2 minutes. */
  private async waitFor(what: string, first: IOperation, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + this.options.operationTimeout;
    let op = first;
    while (String(op.status) !== 'DONE') {
      if (Date.now() > deadline) {
        throw new GceError('transient', `${what}: operation ${op.name ?? ''} still ${String(op.status)} after ${this.options.operationTimeout} ms`, {
          provider: this.provider,
        });
      }
      const operation = op.name ?? '';
      const zone = lastSegment(op.zone);
      const region = lastSegment(op.region);
      if (operation === '') throw new GceError('transient', `${what}: operation without a name`, { provider: this.provider });
      if (zone !== undefined) {
        op = await this.read('zoneOperations.wait', operation, signal, (o) => this.zoneOperations.wait({ project: this.project, zone, operation }, o));
      } else if (region !== undefined) {
        op = await this.read('regionOperations.wait', operation, signal, (o) => this.regionOperations.wait({ project: this.project, region, operation }, o));
      } else {
        op = await this.read('globalOperations.wait', operation, signal, (o) => this.globalOperations.wait({ project: this.project, operation }, o));
      }
    }
    if ((op.error?.errors?.length ?? 0) > 0) throw operationError(what, this.provider, op);
  }
}
