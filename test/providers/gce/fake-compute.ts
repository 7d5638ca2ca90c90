// A stateful fake of the Compute Engine REST API lbc uses, installed with nock so the
// real @google-cloud/compute clients (REST transport) talk to it. Routes, request
// types and resource types come from the protos shipped with @google-cloud/compute,
// so a request body with a field the API does not have is rejected as GCE would
// (400 "Unknown name"), and a path the API does not have fails the test.
//
// The body on the wire is only half of it: the REST transport encodes a request with
// protobuf.js fromObject, which silently drops fields its type does not have, so a
// misspelled field in lbc's request would never reach the wire. The fake therefore
// also checks each request object lbc hands the client, against the same request type
// the client resolved from the package's protos, before it is encoded.
//
// What it models: insert/get/list/delete/patch/update per collection, with 409 for a
// taken name, 404 for a missing one, 412 for a stale fingerprint, 400
// resourceInUseByAnotherResource when something still refers to a resource, 400 when
// a reference points nowhere; instance group members and named ports; an instance in
// two load-balanced instance groups refused as GCE refuses it (400
// instanceInMultipleLoadBalancedIgs on addInstances, an operation ending in
// INSTANCE_IN_MULTIPLE_LOAD_BALANCED_IGS on a backend service write); setTarget,
// setUrlMap, setSslCertificates; firewall ports and address families checked; zonal NEGs
// and their endpoints (see "network endpoint groups" below); addresses and ephemeral IPs
// handed out; operations that stay RUNNING until waited on (when asked), and the wait call
// that finishes them; regional Application Load Balancers refused without the region's
// proxy-only subnet, as GCE refuses them.
// Faults: scripted HTTP failures, operations that end in error, and "crashes" (every
// write after the Nth fails, as if the process had died there).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import nock from 'nock';

const require = createRequire(import.meta.url);
const protos = require('@google-cloud/compute/build/protos/protos.json') as ProtoRoot;

interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}
interface ProtoType {
  fields?: Record<string, ProtoField>;
  values?: Record<string, number>;
  methods?: Record<string, { requestType: string; responseType: string; parsedOptions?: Record<string, unknown>[] }>;
  nested?: Record<string, ProtoType>;
}
interface ProtoRoot {
  nested: { google: { nested: { cloud: { nested: { compute: { nested: { v1: { nested: Record<string, ProtoType> } } } } } } } };
}

const V1 = protos.nested.google.nested.cloud.nested.compute.nested.v1.nested;
const SCALARS = new Set(['string', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float', 'sint32', 'sint64', 'fixed32', 'fixed64', 'bytes']);

/** The services lbc's provider talks to. */
const SERVICES = [
  'Addresses',
  'GlobalAddresses',
  'ForwardingRules',
  'GlobalForwardingRules',
  'RegionBackendServices',
  'BackendServices',
  'RegionHealthChecks',
  'HealthChecks',
  'Firewalls',
  'InstanceGroups',
  'Instances',
  'NetworkEndpointGroups',
  'UrlMaps',
  'TargetHttpProxies',
  'TargetHttpsProxies',
  'SslCertificates',
  'RegionUrlMaps',
  'RegionTargetHttpProxies',
  'RegionTargetHttpsProxies',
  'RegionSslCertificates',
  'Subnetworks',
  'RegionOperations',
  'GlobalOperations',
  'ZoneOperations',
];

interface Route {
  readonly service: string;
  readonly method: string;
  readonly verb: string;
  readonly regex: RegExp;
  readonly params: string[];
  /** The request field holding the body, and its message type. */
  readonly bodyType?: string;
}

function buildRoutes(): Route[] {
  const routes: Route[] = [];
  for (const service of SERVICES) {
    const svc = V1[service];
    for (const [method, m] of Object.entries(svc?.methods ?? {})) {
      const http = m.parsedOptions?.map((o) => o['(google.api.http)'] as Record<string, string> | undefined).find((h) => h !== undefined);
      if (!http) continue;
      const verb = Object.keys(http).find((k) => k !== 'body') ?? '';
      const template = http[verb] ?? '';
      const params: string[] = [];
      const regex = new RegExp(
        `^${template.replace(/\{([a-z_]+)\}/g, (_, p: string) => {
          params.push(p);
          return '([^/]+)';
        })}$`,
      );
      let bodyType: string | undefined;
      if (http.body) {
        const camel = http.body.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
        bodyType = V1[m.requestType]?.fields?.[camel]?.type;
      }
      routes.push({ service, method, verb: verb.toUpperCase(), regex, params, ...(bodyType ? { bodyType } : {}) });
    }
  }
  return routes;
}

const ROUTES = buildRoutes();

/** Field names the Compute API does not have, with their JSON path. */
export function unknownFields(value: unknown, typeName: string, path = ''): string[] {
  const type = V1[typeName];
  if (!type?.fields || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const f = type.fields[k];
    if (!f) {
      out.push(`${path}${k}`);
      continue;
    }
    if (SCALARS.has(f.type) || V1[f.type]?.values) continue;
    if (f.keyType !== undefined) {
      for (const [mk, mv] of Object.entries((v as Record<string, unknown>) ?? {})) out.push(...unknownFields(mv, f.type, `${path}${k}.${mk}.`));
    } else if (f.rule === 'repeated' && Array.isArray(v)) {
      v.forEach((item, i) => out.push(...unknownFields(item, f.type, `${path}${k}[${i}].`)));
    } else {
      out.push(...unknownFields(v, f.type, `${path}${k}.`));
    }
  }
  return out;
}

export type Json = Record<string, unknown>;

// ---- the request objects lbc hands the client -------------------------------------

type EncodeRequest = (rpc: { name: string; resolvedRequestType: { name: string } }, ...rest: unknown[]) => unknown;
// google-gax exports no subpath; its REST encoder is reached by file, as fallback.js requires it.
const fallbackRest = require(join(dirname(require.resolve('google-gax')), 'fallbackRest.js')) as { encodeRequest: EncodeRequest };
const encodeRequest = fallbackRest.encodeRequest;
const checking = new Set<FakeCompute>();

/** What the transport raises for a 400: not retried, classified invalid. */
class UnknownFieldError extends Error {
  readonly code = 400;
}

/**
 * Installed once: a client captures the encoder when it first connects, so the check
 * looks up the fakes installed at call time rather than being swapped per fake.
 */
function checkRequests(): void {
  if (fallbackRest.encodeRequest !== encodeRequest) return;
  fallbackRest.encodeRequest = (rpc, ...rest) => {
    // encodeRequest(rpc, protocol, servicePath, servicePort, request, ...)
    const request = rest[3];
    const unknown = checking.size > 0 ? unknownFields(request, rpc.resolvedRequestType.name) : [];
    if (unknown.length > 0) {
      const message = `${rpc.name}: Invalid request. Unknown name ${unknown.map((u) => JSON.stringify(u)).join(', ')} in ${rpc.resolvedRequestType.name}`;
      for (const f of checking) f.violations.push(message);
      throw new UnknownFieldError(message);
    }
    return encodeRequest(rpc, ...rest);
  };
}

export interface LoggedCall {
  readonly verb: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** `Service.Method`, e.g. `ForwardingRules.Insert`. */
  readonly rpc: string;
  /** The resource the call is about (the name, or the collection for insert/list). */
  readonly target: string;
  readonly body?: Json;
  readonly status: number;
}

export interface FakeReply {
  readonly status: number;
  readonly body?: Json;
  readonly headers?: Record<string, string>;
}

interface Fault {
  readonly match: (c: { rpc: string; target: string; verb: string }) => boolean;
  readonly reply: FakeReply;
  remaining: number;
}

interface OpFault {
  readonly match: (c: { rpc: string; target: string }) => boolean;
  readonly error: { code: string; message: string };
  remaining: number;
}

interface Operation extends Json {
  name: string;
  status: string;
  error?: Json;
}

const READS = new Set(['Get', 'List', 'AggregatedList', 'ListInstances', 'ListNetworkEndpoints', 'Wait']);
export const isWrite = (c: LoggedCall): boolean => !READS.has(c.rpc.split('.')[1] ?? '');

/** Fields holding links to other resources lbc manages; the fake checks they point somewhere. */
const LINK_FIELDS = ['target', 'backendService', 'urlMap', 'defaultService', 'service', 'sslPolicy'] as const;
const LINK_LIST_FIELDS = ['healthChecks', 'sslCertificates'] as const;
const MANAGED = /(addresses|forwardingRules|backendServices|healthChecks|firewalls|instanceGroups|networkEndpointGroups|urlMaps|targetHttpProxies|targetHttpsProxies|sslCertificates|sslPolicies)\/[^/]+$/;

const linkPath = (l: string): string => {
  const i = l.indexOf('projects/');
  return i < 0 ? l : l.slice(i);
};

function referencesOf(r: Json): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string): void => {
    if (typeof v === 'string') {
      if (key !== undefined && ((LINK_FIELDS as readonly string[]).includes(key) || (LINK_LIST_FIELDS as readonly string[]).includes(key) || key === 'group')) {
        out.push(linkPath(v));
      }
      return;
    }
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(r);
  return out.filter((p) => MANAGED.test(p));
}

/**
 * A backend service as Compute stores it: securityPolicy is output-only (attached by
 * setSecurityPolicy) and the IAP client secret is never returned, only its SHA-256.
 */
function asServed(bs: Json): void {
  delete bs.securityPolicy;
  const iap = bs.iap as Json | undefined;
  if (iap?.oauth2ClientSecret !== undefined) {
    const { oauth2ClientSecret, ...rest } = iap;
    bs.iap = { ...rest, oauth2ClientSecretSha256: createHash('sha256').update(String(oauth2ClientSecret)).digest('hex') };
  }
}

type Matcher = (item: Json) => boolean;

/**
 * A list filter as GCE takes it, or the 400 GCE answers a malformed one with ("Invalid value
 * for field 'filter': '<filter>'. Invalid list filter expression."). Modelled: the RE2 form
 * `field eq|ne literal` (unquoted, 'single' or "double" quoted), the only one lbc sends;
 * AIP-160 expressions and several parenthesized ones are valid to GCE but not modelled, so
 * they fail the test instead of being answered wrongly.
 */
export function parseFilter(filter: string | undefined): Matcher | { readonly invalid: string } {
  if (filter === undefined || filter === '') return () => true;
  const invalid = { invalid: `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.` };
  const m = /^\s*(\w+)\s+(eq|ne)\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s'"]+))\s*$/.exec(filter);
  if (!m) {
    if (/^\s*\(|^\s*[\w.]+\s*(=|!=|>=|<=|>|<|:)/.test(filter)) throw new Error(`fake compute: filter form not modelled: ${filter}`);
    return invalid;
  }
  const [, field = '', op, dq, sq, bare] = m;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${(dq ?? sq ?? bare ?? '').replace(/\\"/g, '"')})$`, 's');
  } catch {
    return invalid;
  }
  return (item) => {
    const v = item[field];
    const hit = typeof v === 'string' && re.test(v);
    return op === 'eq' ? hit : !hit;
  };
}

/**
 * The scopes GCE's aggregated lists answer for a collection: global and every region for
 * the kinds whose aggregatedList is documented as "regional and global" (urlMaps,
 * targetHttp(s)Proxies, sslCertificates, backendServices, healthChecks), every region for
 * addresses and forwardingRules, every zone for instance groups and NEGs.
 */
const GLOBAL_AND_REGIONAL = new Set(['urlMaps', 'targetHttpProxies', 'targetHttpsProxies', 'sslCertificates', 'backendServices', 'healthChecks']);
const ZONAL = new Set(['instanceGroups', 'networkEndpointGroups']);

export interface FakeComputeOptions {
  readonly project: string;
  readonly region: string;
  /** Operations answer RUNNING until waited on. */
  readonly pendingOperations?: boolean;
  /** The bearer token every request must carry (no token endpoint is ever called). */
  readonly token?: string;
  /** The project's regions besides `region`, each with zones -a, -b and -c (aggregated lists answer for all). */
  readonly otherRegions?: readonly string[];
  /** Scoped entries per page of an aggregated list (GCE's maxResults, 500 by default). */
  readonly aggregatedPageSize?: number;
}

export class FakeCompute {
  readonly log: LoggedCall[] = [];
  /** Protocol violations seen (a write before the previous operation was waited on, a bad token...). */
  readonly violations: string[] = [];
  private readonly store = new Map<string, Json>();
  private readonly members = new Map<string, Set<string>>();
  /** NEG path → endpoint key → endpoint as attached. */
  private readonly endpoints = new Map<string, Map<string, Json>>();
  private readonly ops = new Map<string, Operation>();
  private readonly faults: Fault[] = [];
  private readonly opFaults: OpFault[] = [];
  private writesLeft = Infinity;
  private seq = 0;
  private ipSeq = 10;
  private unwaited: string | undefined;
  private scope: nock.Scope | undefined;
  pendingOperations: boolean;

  constructor(readonly opts: FakeComputeOptions) {
    this.pendingOperations = opts.pendingOperations ?? false;
  }

  install(base = 'https://compute.googleapis.com'): this {
    const handler = (verb: string) =>
      function (this: nock.ReplyFnContext, uri: string, body: nock.Body) {
        return fake.handle(verb, uri, body, this.req.headers);
      };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    let scope = nock(base).persist();
    for (const verb of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      scope = scope.intercept(/^\/compute\/v1\//, verb).query(true).reply(handler(verb) as never);
    }
    this.scope = scope;
    checkRequests();
    checking.add(this);
    return this;
  }

  uninstall(): void {
    checking.delete(this);
    this.scope?.persist(false);
    nock.cleanAll();
  }

  // ---- state --------------------------------------------------------------------------

  /** A resource by path below projects/<project>/, e.g. `regions/r/forwardingRules/a1`. */
  get(path: string): Json | undefined {
    return this.store.get(this.full(path));
  }

  /** Every resource path, sorted (without the projects/<project>/ prefix). */
  paths(): string[] {
    return [...this.store.keys()].map((k) => k.replace(/^projects\/[^/]+\//, '')).sort();
  }

  /** A NEG's endpoints as `instance ip:port`, sorted. */
  endpointsOf(path: string): string[] {
    return [...(this.endpoints.get(this.full(path))?.values() ?? [])].map((e) => `${String(e.instance)} ${String(e.ipAddress)}:${String(e.port)}`).sort();
  }

  membersOf(path: string): string[] {
    return [...(this.members.get(this.full(path)) ?? [])].sort();
  }

  /** Puts a resource in place as if someone else had made it. */
  seed(path: string, resource: Json): void {
    const full = this.full(path);
    const name = full.split('/').pop() ?? '';
    this.store.set(full, { ...this.serverFields(full, name), ...resource, name });
  }

  /** Makes instances (`zones/<z>/instances/<name>`) members of a seeded group, as someone else would have. */
  seedMembers(path: string, instances: readonly string[]): void {
    const set = this.members.get(this.full(path)) ?? new Set<string>();
    for (const i of instances) set.add(`https://www.googleapis.com/compute/v1/${this.full(i)}`);
    this.members.set(this.full(path), set);
    const g = this.store.get(this.full(path));
    if (g) g.size = set.size;
  }

  remove(path: string): void {
    this.store.delete(this.full(path));
  }

  /** The writes so far as `Rpc target` lines. */
  writes(): string[] {
    return this.log.filter(isWrite).map((c) => `${c.rpc} ${c.target}`);
  }

  reads(): string[] {
    return this.log.filter((c) => !isWrite(c)).map((c) => `${c.rpc} ${c.target}`);
  }

  clearLog(): void {
    this.log.length = 0;
  }

  // ---- faults -------------------------------------------------------------------------

  /** The next `times` calls matching `match` get `reply` instead. */
  failNext(match: (c: { rpc: string; target: string; verb: string }) => boolean, reply: FakeReply, times = 1): void {
    this.faults.push({ match, reply, remaining: times });
  }

  /** The next matching write is accepted, but its operation ends with this error. */
  failOperation(match: (c: { rpc: string; target: string }) => boolean, error: { code: string; message: string }, times = 1): void {
    this.opFaults.push({ match, error, remaining: times });
  }

  /** After n more writes, every write fails with a non-retryable error, as if lbc had died there. */
  crashAfterWrites(n: number): void {
    this.writesLeft = n;
  }

  healed(): void {
    this.writesLeft = Infinity;
    this.faults.length = 0;
    this.opFaults.length = 0;
  }

  // ---- the API ------------------------------------------------------------------------

  private full(path: string): string {
    return path.startsWith('projects/') ? path : `projects/${this.opts.project}/${path}`;
  }

  private serverFields(path: string, name: string): Json {
    const parts = path.split('/');
    const collection = parts[parts.length - 2] ?? '';
    const out: Json = {
      kind: `compute#${collection.replace(/s$/, '').replace(/ie$/, 'y').replace(/Addresse$/, 'Address')}`,
      id: String(1000 + ++this.seq),
      name,
      selfLink: `https://www.googleapis.com/compute/v1/${path}`,
      creationTimestamp: '2024-01-01T00:00:00.000-07:00',
      fingerprint: Buffer.from(`fp-${this.seq}`).toString('base64'),
    };
    const region = /\/regions\/([^/]+)\//.exec(path)?.[1];
    const zone = /\/zones\/([^/]+)\//.exec(path)?.[1];
    if (region) out.region = `https://www.googleapis.com/compute/v1/projects/${this.opts.project}/regions/${region}`;
    if (zone) out.zone = `https://www.googleapis.com/compute/v1/projects/${this.opts.project}/zones/${zone}`;
    return out;
  }

  private error(status: number, reason: string, message: string): FakeReply {
    return { status, body: { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } } };
  }

  private handle(verb: string, uri: string, rawBody: nock.Body, headers: Record<string, string | string[] | undefined>): [number, Json, Record<string, string>?] {
    const url = new URL(uri, 'https://compute.googleapis.com');
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams.entries());
    const route = ROUTES.find((r) => r.verb === verb && r.regex.test(path));
    const auth = headers.authorization;
    if (this.opts.token !== undefined && auth !== `Bearer ${this.opts.token}`) this.violations.push(`${verb} ${path}: authorization ${String(auth)}`);
    if (!route) {
      this.violations.push(`no Compute API route for ${verb} ${path}`);
      return [404, { error: { code: 404, message: `fake compute: no route for ${verb} ${path}` } }];
    }
    const m = route.regex.exec(path) ?? [];
    const params: Record<string, string> = {};
    route.params.forEach((p, i) => (params[p] = decodeURIComponent(m[i + 1] ?? '')));
    let body: Json | undefined;
    if (typeof rawBody === 'string' && rawBody !== '') body = JSON.parse(rawBody) as Json;
    else if (rawBody && typeof rawBody === 'object' && !Buffer.isBuffer(rawBody)) body = rawBody as Json;
    const rpc = `${route.service}.${route.method}`;
    const relPath = path.replace(/^\/compute\/v1\//, '');
    const target = route.method === 'Insert' ? String(body?.name ?? '') : this.targetOf(route, relPath, params);
    const reply = this.dispatch(route, rpc, relPath, params, query, body, target, verb);
    this.log.push({ verb, path: relPath, query, rpc, target, ...(body !== undefined ? { body } : {}), status: reply.status });
    return [reply.status, reply.body ?? {}, reply.headers];
  }

  private targetOf(route: Route, relPath: string, params: Record<string, string>): string {
    if (route.method === 'Wait') return params.operation ?? '';
    const last = route.params[route.params.length - 1];
    if (route.method === 'List' || route.method === 'AggregatedList') return relPath.split('/').pop() ?? '';
    return last !== undefined ? (params[last] ?? '') : relPath;
  }

  private dispatch(
    route: Route,
    rpc: string,
    relPath: string,
    params: Record<string, string>,
    query: Record<string, string>,
    body: Json | undefined,
    target: string,
    verb: string,
  ): FakeReply {
    const write = !READS.has(route.method);
    const fault = this.faults.find((f) => f.remaining > 0 && f.match({ rpc, target, verb }));
    if (fault) {
      fault.remaining--;
      return fault.reply;
    }
    if (write) {
      if (this.unwaited !== undefined) this.violations.push(`${rpc} ${target} sent before operation ${this.unwaited} was waited on`);
      if (this.writesLeft <= 0) return this.error(400, 'injectedCrash', 'lbc crashed here (injected)');
      this.writesLeft--;
    }
    if (route.bodyType && body) {
      const unknown = unknownFields(body, route.bodyType);
      if (unknown.length > 0) return this.error(400, 'invalid', `Invalid JSON payload received. Unknown name ${unknown.map((u) => JSON.stringify(u)).join(', ')}`);
    }
    switch (route.method) {
      case 'Get':
        return this.doGet(relPath);
      case 'List': {
        const match = parseFilter(query.filter);
        return 'invalid' in match ? this.error(400, 'invalid', match.invalid) : { status: 200, body: { items: this.listIn(relPath, match) } };
      }
      case 'AggregatedList':
        return this.doAggregated(relPath.split('/').pop() ?? '', query);
      case 'Insert':
        return this.doInsert(rpc, relPath, body ?? {});
      case 'Delete':
        return this.doDelete(rpc, relPath);
      case 'Patch':
      case 'Update':
        return this.doModify(rpc, relPath, body ?? {}, route.method === 'Patch');
      case 'Wait':
        return this.doWait(params.operation ?? '');
      case 'ListInstances':
        return this.doListInstances(relPath.replace(/\/listInstances$/, ''));
      case 'ListNetworkEndpoints':
        return this.doListEndpoints(relPath.replace(/\/listNetworkEndpoints$/, ''));
      case 'AttachNetworkEndpoints':
      case 'DetachNetworkEndpoints':
        return this.doEndpoints(rpc, route.method === 'AttachNetworkEndpoints', relPath.replace(/\/[a-zA-Z]+$/, ''), body ?? {});
      default:
        // A few global custom methods have no global/ in their path (targetHttpsProxies/x/setSslCertificates).
        return this.doCustom(rpc, route.method, relPath.replace(/\/[a-zA-Z]+$/, '').replace(/^(projects\/[^/]+\/)(target\w+Proxies\/)/, '$1global/$2'), body ?? {});
    }
  }

  private doGet(relPath: string): FakeReply {
    const r = this.store.get(relPath);
    if (!r) return this.error(404, 'notFound', `The resource '${relPath}' was not found`);
    return { status: 200, body: r };
  }

  private listIn(collection: string, match: Matcher): Json[] {
    const prefix = `${collection}/`;
    return [...this.store.entries()]
      .filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/'))
      .map(([, v]) => v)
      .filter(match)
      .sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  }

  /** Every scope of the collection, each with its matching items or GCE's warning for none; paged by aggregatedPageSize. */
  private doAggregated(collection: string, query: Record<string, string>): FakeReply {
    const match = parseFilter(query.filter);
    if ('invalid' in match) return this.error(400, 'invalid', match.invalid);
    const regions = [this.opts.region, ...(this.opts.otherRegions ?? [])];
    const scopes = ZONAL.has(collection)
      ? regions.flatMap((r) => ['a', 'b', 'c'].map((z) => `zones/${r}-${z}`))
      : [...(GLOBAL_AND_REGIONAL.has(collection) ? ['global'] : []), ...regions.map((r) => `regions/${r}`)];
    const entries: [string, Json][] = [];
    for (const [k, v] of this.store.entries()) {
      const m = /^projects\/[^/]+\/((?:zones|regions)\/[^/]+|global)\/([a-zA-Z]+)\/[^/]+$/.exec(k);
      if (!m || m[2] !== collection || !match(v)) continue;
      const scope = m[1] ?? '';
      if (!scopes.includes(scope)) scopes.push(scope);
      entries.push([scope, v]);
    }
    entries.sort(([a, x], [b, y]) => (a !== b ? (a < b ? -1 : 1) : String(x.name) < String(y.name) ? -1 : 1));
    const size = Number(query.maxResults ?? this.opts.aggregatedPageSize ?? 500);
    const from = Number(query.pageToken ?? 0);
    const items: Record<string, Json> = {};
    // Scopes with nothing come once, on the first page, as GCE's per-scope warning.
    if (from === 0) {
      for (const scope of scopes.filter((sc) => !entries.some(([e]) => e === sc))) {
        items[scope] = { warning: { code: 'NO_RESULTS_ON_PAGE', message: `There are no results for scope '${scope}' on this page.`, data: [{ key: 'scope', value: scope }] } };
      }
    }
    for (const [scope, v] of entries.slice(from, from + size)) {
      const list = (items[scope] ??= { [collection]: [] }) as Record<string, Json[]>;
      list[collection]?.push(v);
    }
    const next = from + size < entries.length ? { nextPageToken: String(from + size) } : {};
    return { status: 200, body: { items, ...next } };
  }

  private operation(rpc: string, relPath: string, target: string, error?: { code: string; message: string }): FakeReply {
    const name = `operation-${++this.seq}`;
    const scope = /^projects\/[^/]+\/(regions|zones)\/([^/]+)\//.exec(relPath);
    const op: Operation = {
      kind: 'compute#operation',
      id: String(this.seq),
      name,
      operationType: rpc.split('.')[1]?.toLowerCase() ?? '',
      targetLink: `https://www.googleapis.com/compute/v1/${target}`,
      status: this.pendingOperations || error ? 'RUNNING' : 'DONE',
      selfLink: `https://www.googleapis.com/compute/v1/${relPath}`,
      ...(scope?.[1] === 'regions' ? { region: `https://www.googleapis.com/compute/v1/projects/${this.opts.project}/regions/${scope[2] ?? ''}` } : {}),
      ...(scope?.[1] === 'zones' ? { zone: `https://www.googleapis.com/compute/v1/projects/${this.opts.project}/zones/${scope[2] ?? ''}` } : {}),
    };
    const stored: Operation = error ? { ...op, error: { errors: [{ code: error.code, message: error.message }] }, httpErrorStatusCode: 400 } : op;
    this.ops.set(name, stored);
    if (op.status !== 'DONE') this.unwaited = name;
    return { status: 200, body: op };
  }

  private doWait(name: string): FakeReply {
    const op = this.ops.get(name);
    if (!op) return this.error(404, 'notFound', `operation ${name} not found`);
    op.status = 'DONE';
    if (this.unwaited === name) this.unwaited = undefined;
    return { status: 200, body: op };
  }

  private takeOpFault(rpc: string, target: string): { code: string; message: string } | undefined {
    const f = this.opFaults.find((x) => x.remaining > 0 && x.match({ rpc, target }));
    if (!f) return undefined;
    f.remaining--;
    return f.error;
  }

  private missingReference(r: Json): string | undefined {
    return referencesOf(r).find((p) => !this.store.has(p));
  }

  // ---- one load-balanced instance group per instance ------------------------------
  // "Don't put a VM in more than one load-balanced instance group" (Cloud Load Balancing,
  // backend services, restrictions); GCE's answer, as users meet it (kubernetes/ingress-gce
  // and terraform-google-lb-http #322): "Validation failed for instance '<link>': instance
  // may belong to at most one load-balanced instance group."

  /** Groups some backend service (regional or global) has as a backend, but `except`'s. */
  private loadBalancedGroups(except?: string): Set<string> {
    const out = new Set<string>();
    for (const [k, v] of this.store.entries()) {
      if (k === except || !/\/backendServices\/[^/]+$/.test(k)) continue;
      for (const b of (v.backends as { group?: string }[] | undefined) ?? []) if (b.group) out.add(linkPath(b.group));
    }
    return out;
  }

  private static multipleIgsMessage(instance: string): string {
    return `Validation failed for instance '${linkPath(instance)}': instance may belong to at most one load-balanced instance group.`;
  }

  /** The first instance of `groups` that would be in two load-balanced groups once `groups` are load-balanced. */
  private instanceInTwoBalancedGroups(groups: readonly string[], except?: string): string | undefined {
    const balanced = this.loadBalancedGroups(except);
    for (const g of groups) balanced.add(g);
    for (const g of groups) {
      for (const i of this.members.get(g) ?? []) {
        const other = [...balanced].find((o) => o !== g && this.members.get(o)?.has(i));
        if (other !== undefined) return i;
      }
    }
    return undefined;
  }

  /** A backend service write that would put an instance in two load-balanced groups fails in its operation, as GCE's does. */
  private backendServiceViolation(path: string, body: Json): { code: string; message: string } | undefined {
    if (!/\/backendServices(\/[^/]+)?$/.test(path) || !Array.isArray(body.backends)) return undefined;
    const groups = (body.backends as { group?: string }[]).map((b) => (b.group ? linkPath(b.group) : '')).filter((g) => /\/instanceGroups\//.test(g));
    const instance = this.instanceInTwoBalancedGroups(groups, path);
    return instance === undefined ? undefined : { code: 'INSTANCE_IN_MULTIPLE_LOAD_BALANCED_IGS', message: FakeCompute.multipleIgsMessage(instance) };
  }

  private doInsert(rpc: string, collection: string, body: Json): FakeReply {
    const name = String(body.name ?? '');
    const path = `${collection}/${name}`;
    if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) return this.error(400, 'invalid', `Invalid value for field 'resource.name': '${name}'`);
    if (this.store.has(path)) return this.error(409, 'alreadyExists', `The resource '${path}' already exists`);
    const missing = this.missingReference(body);
    if (missing) return this.error(400, 'invalid', `The resource '${missing}' is not ready or does not exist`);
    const opError = this.takeOpFault(rpc, name) ?? this.backendServiceViolation(path, body);
    if (opError) return this.operation(rpc, collection, path, opError);
    const resource: Json = { ...this.serverFields(path, name), ...body };
    if (/\/addresses$/.test(collection)) {
      resource.address ??= String(body.addressType) === 'INTERNAL' ? `10.128.0.${this.ipSeq++}` : `203.0.113.${this.ipSeq++}`;
      resource.status = 'RESERVED';
      if (/\/regions\//.test(collection) && String(body.addressType ?? 'EXTERNAL') === 'EXTERNAL') resource.networkTier ??= 'PREMIUM';
    }
    if (/forwardingRules$/.test(collection)) {
      const refused = this.ipVersionRefusal(body) ?? this.proxyOnlySubnetRefusal(collection, body) ?? this.schemeRefusal(body);
      if (refused) return refused;
      if (resource.IPAddress === undefined && String(body.ipVersion) === 'IPV6') resource.IPAddress = this.ipv6From(body);
      if (resource.IPAddress === undefined) resource.IPAddress = `198.51.100.${this.ipSeq++}`;
      if (String(resource.loadBalancingScheme ?? 'EXTERNAL') === 'EXTERNAL' && /\/regions\//.test(collection)) resource.networkTier ??= 'PREMIUM';
      const clash = this.listIn(collection, () => true).find(
        (fr) => fr.IPAddress === resource.IPAddress && fr.IPProtocol === resource.IPProtocol && JSON.stringify(fr.ports ?? fr.portRange) === JSON.stringify(resource.ports ?? resource.portRange),
      );
      if (clash) return this.error(400, 'ipInUseByAnotherResource', `IP ${String(resource.IPAddress)} is in use by ${String(clash.name)}`);
    }
    if (/firewalls$/.test(collection)) {
      const refused = this.firewallRefusal(body);
      if (refused) return refused;
    }
    if (/backendServices$/.test(collection)) {
      const refused = this.backendServiceRefusal(collection, body);
      if (refused) return refused;
      resource.sessionAffinity ??= 'NONE';
      asServed(resource);
    }
    if (/urlMaps$/.test(collection)) {
      const refused = this.urlMapRefusal(body);
      if (refused) return refused;
    }
    if (/instanceGroups$/.test(collection)) this.members.set(path, new Set());
    if (/networkEndpointGroups$/.test(collection)) {
      // GCE's default type; a zonal NEG lives in one network.
      resource.networkEndpointType ??= 'GCE_VM_IP_PORT';
      if (resource.network === undefined) return this.invalidField('resource.network', '', 'A zonal network endpoint group needs a network.');
      // The API reference (NetworkEndpointGroup.defaultPort): not for these types, whose endpoints have no port.
      if (resource.defaultPort != null && ['GCE_VM_IP', 'SERVERLESS', 'PRIVATE_SERVICE_CONNECT'].includes(String(resource.networkEndpointType))) {
        return this.invalidField('resource.defaultPort', String(resource.defaultPort), `Default port cannot be set for network endpoint groups of type ${String(resource.networkEndpointType)}.`);
      }
      if (resource.defaultPort != null && !(Number.isInteger(resource.defaultPort) && Number(resource.defaultPort) >= 1 && Number(resource.defaultPort) <= 65535)) {
        return this.invalidField('resource.defaultPort', String(resource.defaultPort), 'Port must be between 1 and 65535.');
      }
      resource.size = 0;
      this.endpoints.set(path, new Map());
    }
    if (/sslCertificates$/.test(collection) && body.type === 'MANAGED') {
      // Google provisions it once the domains resolve to the load balancer; until then both stay PROVISIONING.
      const domains = ((body.managed as Json)?.domains as string[] | undefined) ?? [];
      resource.managed = { domains, status: 'PROVISIONING', domainStatus: Object.fromEntries(domains.map((d) => [d, 'PROVISIONING'])) };
    }
    this.store.set(path, resource);
    return this.operation(rpc, collection, path);
  }

  // ---- IPv6 forwarding rules ------------------------------------------------------
  // An IPv6 rule takes its address from its subnet's IPv6 range, so the subnet must be
  // dual-stack with the access type of the rule's scheme. GCE's answer for an internal rule
  // on a subnet without one is quoted in kubernetes/ingress-gce#1897; the external one is
  // its counterpart. The /96 text is GCE's for regional external rules
  // (GoogleCloudPlatform/k8s-config-connector#8898); the family-mismatch texts are this
  // fake's own, in GCE's "Invalid value for field" form.

  private invalidField(field: string, value: string, why: string): FakeReply {
    return this.error(400, 'invalid', `Invalid value for field '${field}': '${value}'. ${why}`);
  }

  private ipVersionRefusal(body: Json): FakeReply | undefined {
    const ip = body.IPAddress === undefined ? undefined : String(body.IPAddress);
    const external = String(body.loadBalancingScheme ?? 'EXTERNAL') === 'EXTERNAL';
    if (String(body.ipVersion ?? 'IPV4') !== 'IPV6') {
      if (ip?.includes(':')) return this.invalidField('resource.IPAddress', ip, 'An IPv6 address requires ipVersion IPV6.');
      return undefined;
    }
    if (ip !== undefined && !ip.includes(':')) return this.invalidField('resource.IPAddress', ip, 'An IPV6 forwarding rule needs an IPv6 address.');
    if (ip !== undefined && external && !ip.endsWith('/96')) {
      return this.invalidField('resource.IPAddress', ip, 'IPv6 addresses must be in the form of a /96 range for regional EXTERNAL forwarding rules.');
    }
    if (external && String(body.networkTier ?? 'PREMIUM') !== 'PREMIUM') return this.invalidField('resource.networkTier', String(body.networkTier), 'IPv6 forwarding rules are Premium tier only.');
    const link = String(body.subnetwork ?? '');
    if (link === '') return this.invalidField('resource.subnetwork', '', 'An IPv6 forwarding rule needs a subnetwork.');
    const subnet = this.store.get(linkPath(link));
    if (!subnet) return this.error(404, 'notFound', `The resource '${linkPath(link)}' was not found`);
    const access = external ? 'EXTERNAL' : 'INTERNAL';
    if (String(subnet.stackType ?? 'IPV4_ONLY') !== 'IPV4_IPV6' || String(subnet.ipv6AccessType) !== access) {
      const lb = external ? 'IPv6 L4 NetLB' : 'IPv6 L4 ILB';
      return this.invalidField('resource.subnetwork', link, `Subnetwork does not have an ${access.toLowerCase()} IPv6 IP space which is required for ${lb} forwarding rules.`);
    }
    return undefined;
  }

  /**
   * What Compute refuses in a backend service that lbc could send: IAP enabled without its
   * OAuth client (iap/docs/reference/compute-engine-apis: "If iap.enabled is true, the
   * oauth2ClientId and oauth2ClientSecret properties must be set") and Cloud CDN where only
   * the global external schemes take it.
   */
  private backendServiceRefusal(collection: string, body: Json): FakeReply | undefined {
    const iap = body.iap as Json | undefined;
    if (iap?.enabled === true && (!iap.oauth2ClientId || (!iap.oauth2ClientSecret && !iap.oauth2ClientSecretSha256))) {
      return this.error(400, 'invalid', "Invalid value for field 'resource.iap': ''. oauth2ClientId and oauth2ClientSecret must be set when IAP is enabled.");
    }
    // "The backend service cannot also use other NEG types or instance groups as backends"
    // (Cloud Load Balancing, hybrid NEGs; the same holds for every zonal NEG type). The text
    // is this fake's own, in GCE's "Invalid value for field" form.
    const groups = ((body.backends as { group?: string }[] | undefined) ?? []).map((b) => linkPath(b.group ?? ''));
    const firstNeg = groups.findIndex((g) => /\/networkEndpointGroups\//.test(g));
    const firstIg = groups.findIndex((g) => /\/instanceGroups\//.test(g));
    if (firstNeg >= 0 && firstIg >= 0) {
      const i = Math.max(firstNeg, firstIg);
      return this.invalidField(`resource.backends[${i}].group`, groups[i] ?? '', 'A backend service cannot have both instance group and network endpoint group backends.');
    }
    // "Backend services with instance group or zonal NEG backends must have a health check"
    // (compute v1 BackendService.healthChecks); one without backends needs none. GCE's words
    // when a zonal NEG is added to a global backend service made without one (gcloud
    // backend-services add-backend, as a user's script records it): "Invalid value for field
    // 'resource.healthChecks': ''. At least one health check needs to be specified."
    const checks = (body.healthChecks as string[] | undefined) ?? [];
    if (checks.length === 0 && groups.some((g) => /\/instanceGroups\//.test(g) || /\/zones\/[^/]+\/networkEndpointGroups\//.test(g))) {
      return this.invalidField('resource.healthChecks', '', 'At least one health check needs to be specified.');
    }
    const scheme = String(body.loadBalancingScheme ?? 'EXTERNAL');
    if (body.enableCDN === true && (/\/regions\//.test(collection) || !['EXTERNAL', 'EXTERNAL_MANAGED'].includes(scheme))) {
      return this.error(400, 'invalid', "Invalid value for field 'resource.enableCDN': 'true'. Cloud CDN can only be enabled with EXTERNAL or EXTERNAL_MANAGED load balancing scheme.");
    }
    return undefined;
  }

  /**
   * What Compute refuses in a firewall rule: a port that is not a number or range within
   * 0-65535 (the Firewall resource's allowed[].ports: "either an integer or a range", e.g.
   * "22", "12345-12349"), and IPv4 with IPv6 ranges in one rule ("A firewall rule can contain
   * either IPv4 or IPv6 ranges, but not both", VPC firewall rules, Create). The texts are this
   * fake's own, in GCE's "Invalid value for field" form.
   */
  private firewallRefusal(body: Json): FakeReply | undefined {
    const allowed = (body.allowed as { ports?: string[] }[] | undefined) ?? [];
    for (const [i, a] of allowed.entries()) {
      for (const [j, p] of (a.ports ?? []).entries()) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(p);
        const from = Number(m?.[1]);
        const to = Number(m?.[2] ?? m?.[1]);
        if (!m || to > 65535 || from > to) return this.invalidField(`resource.allowed[${i}].ports[${j}]`, p, 'Must be a port number or range within 0-65535.');
      }
    }
    const ranges = [...((body.sourceRanges as string[] | undefined) ?? []), ...((body.destinationRanges as string[] | undefined) ?? [])];
    if (ranges.some((r) => r.includes(':')) && ranges.some((r) => !r.includes(':'))) {
      return this.invalidField('resource.sourceRanges', ranges.join(','), 'A firewall rule can contain either IPv4 or IPv6 ranges, but not both.');
    }
    return undefined;
  }

  /**
   * A global forwarding rule's scheme must be that of every backend service behind it
   * (through its target proxy and URL map): a rule of the classic scheme EXTERNAL cannot
   * front EXTERNAL_MANAGED backend services, nor the reverse. GCE's words, as
   * GoogleCloudPlatform/cloud-foundation-fabric#1065 quotes them: "Invalid value for field
   * 'resource.backendService': ''. Load balancing scheme EXTERNAL_MANAGED does not match the
   * backend service load balancing scheme EXTERNAL."
   */
  private schemeRefusal(rule: Json): FakeReply | undefined {
    const target = rule.target === undefined ? undefined : this.store.get(linkPath(String(rule.target)));
    const map = target?.urlMap === undefined ? undefined : this.store.get(linkPath(String(target.urlMap)));
    if (!map) return undefined;
    const scheme = String(rule.loadBalancingScheme ?? 'EXTERNAL');
    for (const ref of referencesOf(map)) {
      const service = /\/backendServices\//.test(ref) ? this.store.get(ref) : undefined;
      const theirs = String(service?.loadBalancingScheme ?? 'EXTERNAL');
      if (service && theirs !== scheme) {
        return this.invalidField('resource.backendService', '', `Load balancing scheme ${scheme} does not match the backend service load balancing scheme ${theirs}.`);
      }
    }
    return undefined;
  }

  /**
   * A regional Application Load Balancer's rule (its target a regional target proxy) needs
   * an active proxy-only subnet (purpose REGIONAL_MANAGED_PROXY, role ACTIVE) in its region
   * and network. GCE's words, as GKE's Gateway controller reports them on a regional Gateway
   * (Programmed False): "Invalid value for field 'resource.target':
   * 'regions/us-central1/targetHttpProxies/gkegw1-…'. An active proxy-only subnetwork is
   * required in the same region and VPC as the forwarding rule."
   */
  private proxyOnlySubnetRefusal(collection: string, rule: Json): FakeReply | undefined {
    const region = /\/regions\/([^/]+)\/forwardingRules$/.exec(collection)?.[1];
    const target = rule.target === undefined ? '' : linkPath(String(rule.target));
    if (region === undefined || !/\/regions\/[^/]+\/targetHttps?Proxies\//.test(target)) return undefined;
    const network = linkPath(String(rule.network ?? `projects/${this.opts.project}/global/networks/default`));
    const active = [...this.store.entries()].some(
      ([k, v]) => k.includes(`/regions/${region}/subnetworks/`) && v.purpose === 'REGIONAL_MANAGED_PROXY' && v.role === 'ACTIVE' && linkPath(String(v.network ?? '')) === network,
    );
    if (active) return undefined;
    return this.invalidField('resource.target', target.replace(/^projects\/[^/]+\//, ''), 'An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule.');
  }

  /** The next /96 of the subnet's /64, in the long form GCE answers with. */
  private ipv6From(body: Json): string {
    const subnet = this.store.get(linkPath(String(body.subnetwork))) ?? {};
    const prefix = String(String(body.loadBalancingScheme ?? 'EXTERNAL') === 'EXTERNAL' ? subnet.externalIpv6Prefix : subnet.internalIpv6Prefix);
    const groups = (prefix.split('/')[0] ?? '').split('::')[0]?.split(':') ?? [];
    return `${[...groups, (this.ipSeq++).toString(16), '0', '0', '0'].join(':')}/96`;
  }

  /**
   * What Compute refuses in a URL map with route rules (an EXTERNAL_MANAGED Gateway's):
   * advanced routing in front of a classic-scheme backend service, in GCE's words ("Invalid
   * value for field 'resource.defaultService': … Advanced routing rules are not supported
   * for scheme EXTERNAL", hashicorp/terraform-provider-google#8307, kubernetes/ingress-gce#1059
   * for INTERNAL); a priority used twice in one path matcher, and a weight outside 0-1000
   * (HttpRouteRule.priority, WeightedBackendService.weight in the compute v1 reference), and
   * a fault abort's status outside 200-599 or share outside 0-100 (HttpFaultAbort), in GCE's
   * "Invalid value for field" form with this fake's own reason.
   */
  private urlMapRefusal(body: Json): FakeReply | undefined {
    const matchers = (body.pathMatchers as Json[] | undefined) ?? [];
    const advanced = body.defaultRouteAction !== undefined || matchers.some((pm) => pm.defaultRouteAction !== undefined || ((pm.routeRules as Json[] | undefined) ?? []).length > 0);
    if (advanced) {
      for (const ref of referencesOf(body)) {
        const service = /\/backendServices\//.test(ref) ? this.store.get(ref) : undefined;
        const scheme = String(service?.loadBalancingScheme ?? 'EXTERNAL');
        if (service && (scheme === 'EXTERNAL' || scheme === 'INTERNAL')) {
          return this.invalidField('resource.defaultService', String(service.selfLink ?? ref), `Advanced routing rules are not supported for scheme ${scheme}`);
        }
      }
    }
    const actions: [string, Json | undefined][] = [
      ['resource.defaultRouteAction', body.defaultRouteAction as Json | undefined],
      ...matchers.flatMap((pm, i): [string, Json | undefined][] => [
        [`resource.pathMatchers[${i}].defaultRouteAction`, pm.defaultRouteAction as Json | undefined],
        ...((pm.routeRules as Json[] | undefined) ?? []).map((r, j): [string, Json | undefined] => [`resource.pathMatchers[${i}].routeRules[${j}].routeAction`, r.routeAction as Json | undefined]),
      ]),
    ];
    for (const [at, action] of actions) {
      const abort = (action?.faultInjectionPolicy as Json | undefined)?.abort as Json | undefined;
      if (!abort) continue;
      const status = Number(abort.httpStatus);
      if (!Number.isInteger(status) || status < 200 || status > 599) return this.invalidField(`${at}.faultInjectionPolicy.abort.httpStatus`, String(abort.httpStatus), 'The value must be from 200 to 599 inclusive.');
      const percentage = Number(abort.percentage ?? 0);
      if (!(percentage >= 0 && percentage <= 100)) return this.invalidField(`${at}.faultInjectionPolicy.abort.percentage`, String(abort.percentage), 'The value must be from 0.0 to 100.0 inclusive.');
    }
    for (const [i, pm] of matchers.entries()) {
      const seen = new Set<number>();
      for (const [j, rule] of ((pm.routeRules as Json[] | undefined) ?? []).entries()) {
        const priority = Number(rule.priority ?? 0);
        if (seen.has(priority)) return this.invalidField(`resource.pathMatchers[${i}].routeRules[${j}].priority`, String(priority), 'Priorities of route rules in a path matcher must be unique.');
        seen.add(priority);
        const weighted = ((rule.routeAction as Json | undefined)?.weightedBackendServices as Json[] | undefined) ?? [];
        for (const [k, w] of weighted.entries()) {
          const weight = Number(w.weight ?? 0);
          if (weight < 0 || weight > 1000) {
            return this.invalidField(`resource.pathMatchers[${i}].routeRules[${j}].routeAction.weightedBackendServices[${k}].weight`, String(weight), 'Weight must be between 0 and 1000.');
          }
        }
      }
    }
    return undefined;
  }

  private doDelete(rpc: string, path: string): FakeReply {
    if (!this.store.has(path)) return this.error(404, 'notFound', `The resource '${path}' was not found`);
    const user = [...this.store.entries()].find(([k, v]) => k !== path && referencesOf(v).includes(path));
    if (user) {
      // GCE names the kind for NEGs (GoogleCloudPlatform/cloud-foundation-fabric#1972).
      const what = /\/networkEndpointGroups\//.test(path) ? 'The network_endpoint_group resource' : 'The resource';
      return this.error(400, 'resourceInUseByAnotherResource', `${what} '${path}' is already being used by '${user[0]}'`);
    }
    const opError = this.takeOpFault(rpc, path.split('/').pop() ?? '');
    if (opError) return this.operation(rpc, path, path, opError);
    this.store.delete(path);
    this.members.delete(path);
    this.endpoints.delete(path);
    return this.operation(rpc, path, path);
  }

  private doModify(rpc: string, path: string, body: Json, patch: boolean): FakeReply {
    const have = this.store.get(path);
    if (!have) return this.error(404, 'notFound', `The resource '${path}' was not found`);
    if (body.fingerprint !== undefined && body.fingerprint !== have.fingerprint) {
      return this.error(412, 'conditionNotMet', 'Supplied fingerprint does not match current resource fingerprint.');
    }
    const missing = this.missingReference(body);
    if (missing) return this.error(400, 'invalid', `The resource '${missing}' is not ready or does not exist`);
    const opError = this.takeOpFault(rpc, path.split('/').pop() ?? '') ?? this.backendServiceViolation(path, body);
    if (opError) return this.operation(rpc, path, path, opError);
    const server = { kind: have.kind, id: have.id, name: have.name, selfLink: have.selfLink, creationTimestamp: have.creationTimestamp, region: have.region, zone: have.zone };
    // In proto3 JSON an empty map is the same as no map: a PATCH leaves such a field alone.
    const changes = patch ? Object.fromEntries(Object.entries(body).filter(([, v]) => !(v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0))) : body;
    const collection = path.replace(/\/[^/]+$/, '');
    if (/urlMaps$/.test(collection)) {
      const refused = this.urlMapRefusal({ ...(patch ? have : {}), ...changes });
      if (refused) return refused;
    }
    if (/backendServices$/.test(collection)) {
      const refused = this.backendServiceRefusal(collection, { ...(patch ? have : {}), ...changes });
      if (refused) return refused;
    }
    if (/firewalls$/.test(collection)) {
      const refused = this.firewallRefusal({ ...(patch ? have : {}), ...changes });
      if (refused) return refused;
    }
    const next: Json = patch ? { ...have, ...changes } : { ...server, ...body };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    if (/backendServices$/.test(collection)) {
      // Output-only: an update never attaches or detaches a policy, setSecurityPolicy does.
      asServed(next);
      if (have.securityPolicy !== undefined) next.securityPolicy = have.securityPolicy;
    }
    next.fingerprint = Buffer.from(`fp-${++this.seq}`).toString('base64');
    this.store.set(path, next);
    return this.operation(rpc, path, path);
  }

  private doListInstances(path: string): FakeReply {
    if (!this.store.has(path)) return this.error(404, 'notFound', `The resource '${path}' was not found`);
    return { status: 200, body: { items: [...(this.members.get(path) ?? [])].sort().map((instance) => ({ instance, status: 'RUNNING' })) } };
  }

  // ---- network endpoint groups ------------------------------------------------------
  // What GCE refuses in an attach or detach: more than 1000 endpoints in one call; an
  // instance that is not in the NEG's zone; an IP that is neither the instance's nor in its
  // alias ranges, or an instance outside the NEG's network (GCE's message, as
  // kubernetes/ingress-gce#1463 quotes it); an endpoint attached twice, or detached while
  // not attached. Only the #1463 text is GCE's verbatim; the others are in its
  // "Invalid value for field" form.
  // A GCE_VM_IP endpoint "is represented by an IP address" (NetworkEndpointType), with no
  // port (the provider's reference: port "is required unless the Network Endpoint Group is
  // created with the type of GCE_VM_IP"); the fake refuses a port there, in its own words.
  // GCE takes the instance's primary IP when none is given, and an instance is attached once.

  static readonly MAX_ENDPOINTS_PER_CALL = 1000;

  private static endpointKey(e: Json, neg?: Json): string {
    if (neg?.networkEndpointType === 'GCE_VM_IP') return String(e.instance ?? '').split('/').pop() ?? '';
    return `${String(e.instance ?? '').split('/').pop() ?? ''}|${String(e.ipAddress ?? '')}|${String(e.port ?? '')}`;
  }

  private doListEndpoints(path: string): FakeReply {
    if (!this.store.has(path)) return this.error(404, 'notFound', `The resource '${path}' was not found`);
    const items = [...(this.endpoints.get(path)?.values() ?? [])].map((networkEndpoint) => ({ networkEndpoint }));
    return { status: 200, body: { items } };
  }

  private endpointRefusal(neg: Json, zone: string, e: Json, i: number): FakeReply | undefined {
    const instance = String(e.instance ?? '').split('/').pop() ?? '';
    const vm = this.store.get(`projects/${this.opts.project}/zones/${zone}/instances/${instance}`);
    if (!vm) return this.invalidField(`resource.networkEndpoints[${i}].instance`, instance, `Instance '${instance}' does not exist in zone ${zone}.`);
    const nics = (vm.networkInterfaces as Json[] | undefined) ?? [];
    if (neg.networkEndpointType === 'GCE_VM_IP') {
      if (e.port !== undefined) return this.invalidField(`resource.networkEndpoints[${i}].port`, String(e.port), 'Port must not be specified for network endpoints of GCE_VM_IP network endpoint groups.');
      if (e.ipAddress === undefined) return undefined;
    }
    const ip = String(e.ipAddress ?? '');
    const network = String(neg.network ?? '').split('/').pop() ?? '';
    const nic = nics.find((n) => linkPath(String(n.network ?? '')) === linkPath(String(neg.network ?? '')));
    const ranges = nic ? [`${String(nic.networkIP)}/32`, ...((nic.aliasIpRanges as Json[] | undefined) ?? []).map((r) => String(r.ipCidrRange))] : [];
    if (!ranges.some((r) => inCidr(ip, r))) {
      return this.invalidField('resource.ipAddress', ip, `Specified IP address ${ip} doesn't belong to the (sub)network ${network} or to the instance ${instance}.`);
    }
    return undefined;
  }

  /** A GCE_VM_IP endpoint attached without an IP is listed with the instance's primary one. */
  private asListed(neg: Json, zone: string, e: Json): Json {
    if (neg.networkEndpointType !== 'GCE_VM_IP' || e.ipAddress !== undefined) return e;
    const instance = String(e.instance ?? '').split('/').pop() ?? '';
    const vm = this.store.get(`projects/${this.opts.project}/zones/${zone}/instances/${instance}`);
    const nic = ((vm?.networkInterfaces as Json[] | undefined) ?? []).find((n) => linkPath(String(n.network ?? '')) === linkPath(String(neg.network ?? '')));
    return nic?.networkIP !== undefined ? { ...e, ipAddress: nic.networkIP } : e;
  }

  private doEndpoints(rpc: string, attach: boolean, path: string, body: Json): FakeReply {
    const neg = this.store.get(path);
    if (!neg) return this.error(404, 'notFound', `The resource '${path}' was not found`);
    const list = (body.networkEndpoints as Json[] | undefined) ?? [];
    if (list.length > FakeCompute.MAX_ENDPOINTS_PER_CALL) {
      return this.invalidField('resource.networkEndpoints', String(list.length), `At most ${FakeCompute.MAX_ENDPOINTS_PER_CALL} network endpoints may be attached or detached in one request.`);
    }
    const zone = /\/zones\/([^/]+)\//.exec(path)?.[1] ?? '';
    const have = this.endpoints.get(path) ?? new Map<string, Json>();
    const seen = new Set<string>();
    for (const [i, e] of list.entries()) {
      const key = FakeCompute.endpointKey(e, neg);
      const label = `${String(e.instance)} ${String(e.ipAddress)}:${String(e.port)}`;
      if (attach) {
        const refused = this.endpointRefusal(neg, zone, e, i);
        if (refused) return refused;
        if (have.has(key) || seen.has(key)) return this.error(400, 'memberAlreadyExists', `Network endpoint ${label} is already a member of ${path}`);
      } else if (!have.has(key)) {
        return this.invalidField(`resource.networkEndpoints[${i}]`, label, `Network endpoint is not a member of ${path}.`);
      }
      seen.add(key);
    }
    const opError = this.takeOpFault(rpc, path.split('/').pop() ?? '');
    if (opError) return this.operation(rpc, path, path, opError);
    for (const e of list) {
      if (attach) have.set(FakeCompute.endpointKey(e, neg), this.asListed(neg, zone, e));
      else have.delete(FakeCompute.endpointKey(e, neg));
    }
    this.endpoints.set(path, have);
    neg.size = have.size;
    return this.operation(rpc, path, path);
  }

  private doCustom(rpc: string, method: string, path: string, body: Json): FakeReply {
    const have = this.store.get(path);
    if (!have) return this.error(404, 'notFound', `The resource '${path}' was not found`);
    const name = path.split('/').pop() ?? '';
    const opError = this.takeOpFault(rpc, name);
    if (opError) return this.operation(rpc, path, path, opError);
    const bump = (): void => {
      have.fingerprint = Buffer.from(`fp-${++this.seq}`).toString('base64');
    };
    switch (method) {
      case 'AddInstances':
      case 'RemoveInstances': {
        const set = this.members.get(path) ?? new Set<string>();
        const balanced = this.loadBalancedGroups();
        for (const i of (body.instances as { instance: string }[] | undefined) ?? []) {
          const link = `https://www.googleapis.com/compute/v1/${linkPath(i.instance)}`;
          if (method === 'AddInstances') {
            if (set.has(link)) return this.error(400, 'memberAlreadyExists', `${link} is already a member of ${path}`);
            if (balanced.has(path) && [...balanced].some((g) => g !== path && this.members.get(g)?.has(link))) {
              return this.error(400, 'instanceInMultipleLoadBalancedIgs', FakeCompute.multipleIgsMessage(link));
            }
          }
        }
        for (const i of (body.instances as { instance: string }[] | undefined) ?? []) {
          const link = `https://www.googleapis.com/compute/v1/${linkPath(i.instance)}`;
          if (method === 'AddInstances') set.add(link);
          else set.delete(link);
        }
        this.members.set(path, set);
        have.size = set.size;
        break;
      }
      case 'SetNamedPorts':
        if (body.fingerprint !== undefined && body.fingerprint !== have.fingerprint) {
          return this.error(412, 'conditionNotMet', 'Supplied fingerprint does not match current resource fingerprint.');
        }
        have.namedPorts = body.namedPorts;
        bump();
        break;
      case 'SetSecurityPolicy': {
        const policy = body.securityPolicy as string | undefined;
        if (policy === undefined || policy === '') {
          delete have.securityPolicy;
        } else {
          if (!this.store.has(linkPath(policy))) return this.error(404, 'notFound', `The resource '${linkPath(policy)}' was not found`);
          have.securityPolicy = policy;
        }
        bump();
        break;
      }
      case 'SetSslPolicy': {
        const policy = body.sslPolicy as string | undefined;
        if (policy === undefined || policy === '') delete have.sslPolicy;
        else {
          if (!this.store.has(linkPath(policy))) return this.error(404, 'notFound', `The resource '${linkPath(policy)}' was not found`);
          have.sslPolicy = policy;
        }
        bump();
        break;
      }
      case 'SetTarget':
      case 'SetUrlMap':
      case 'SetSslCertificates': {
        const missing = this.missingReference(body);
        if (missing) return this.error(400, 'invalid', `The resource '${missing}' is not ready or does not exist`);
        if (method === 'SetTarget') {
          const refused = this.schemeRefusal({ ...have, ...body });
          if (refused) return refused;
        }
        Object.assign(have, body);
        bump();
        break;
      }
      default:
        this.violations.push(`fake compute does not model ${rpc}`);
        return this.error(501, 'notImplemented', `fake compute does not model ${rpc}`);
    }
    return this.operation(rpc, path, path);
  }
}

/** Whether an IPv4 address is in a CIDR (the fake's only use: alias ranges). */
function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const n = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const len = Number(bits);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !/^\d+\.\d+\.\d+\.\d+$/.test(base)) return false;
  const size = 2 ** (32 - len);
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}
