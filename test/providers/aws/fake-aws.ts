// A stateful fake of the ELBv2, EC2 and ACM calls lbc makes, served over HTTP interception
// (nock) to the real SDK clients: requests arrive as the SDK serialises them (Query
// protocol, form-encoded, for ELBv2 and EC2; JSON 1.1 with an X-Amz-Target header for
// ACM) and answers go back as AWS sends them (XML; JSON for ACM). It follows AWS's
// documented behaviour where the provider depends on it (idempotent creates with equal
// settings, Duplicate* otherwise, ResourceInUse for a target group behind a listener,
// DependencyViolation for a security group a load balancer holds, NotFound codes), and
// records every request so tests can assert exactly what was sent.
import { randomBytes } from 'node:crypto';
import nock from 'nock';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const ELB_HOST = `https://elasticloadbalancing.${REGION}.amazonaws.com`;
export const EC2_HOST = `https://ec2.${REGION}.amazonaws.com`;
export const ACM_HOST = `https://acm.${REGION}.amazonaws.com`;
export const WAFV2_HOST = `https://wafv2.${REGION}.amazonaws.com`;
/** Shield Advanced's one endpoint, whatever the region. */
export const SHIELD_HOST = 'https://shield.us-east-1.amazonaws.com';
/** The instance metadata service, where the SDK's metadata client looks by default. */
export const IMDS_HOST = 'http://169.254.169.254';

export type Service = 'elbv2' | 'ec2' | 'acm' | 'wafv2' | 'shield';

/** Calls that change nothing: not writes, never crashed or lost. */
const READ = /^(Describe|List|Get)/;

export interface Recorded {
  readonly service: Service;
  readonly action: string;
  /** The form parameters as sent, without Action and Version (empty for ACM). */
  readonly params: Readonly<Record<string, string>>;
  /** ACM: the JSON request body as sent. */
  readonly body?: Readonly<Record<string, unknown>>;
}

export interface FaultSpec {
  readonly action: string;
  /** How many matching requests fail. Default 1. */
  readonly times?: number;
  readonly status?: number;
  readonly code: string;
  readonly message?: string;
  readonly headers?: Record<string, string>;
  /** Apply the request first, then answer with the error (a lost response). */
  readonly afterApply?: boolean;
}

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Tags = Record<string, string>;
type Obj = Record<string, unknown>;

interface Subnet {
  id: string;
  vpcId: string;
  az: string;
  cidr: string;
  free: number;
  tags: Tags;
}

interface Perm {
  protocol: string;
  from: number;
  to: number;
  /** '' for a rule whose source is a security group or a prefix list. */
  cidr: string;
  /** The source security group, for group-to-group rules. */
  source?: string;
  /** The source managed prefix list (pl-…). */
  prefixList?: string;
  ruleId: string;
  tags: Tags;
}

interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: Perm[];
  tags: Tags;
}

interface LoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  ipAddressType: string;
  vpcId: string;
  dnsName: string;
  subnets: { subnetId: string; az: string; allocationId?: string; privateIp?: string }[];
  securityGroups: string[];
  attributes: Record<string, string>;
  created: number;
}

interface TargetGroup {
  arn: string;
  name: string;
  protocol: string;
  /** HTTP1, HTTP2 or GRPC for HTTP(S) groups (ELBv2 defaults HTTP1); absent for the others. */
  protocolVersion?: string;
  port: number;
  vpcId: string;
  targetType: string;
  /** ipv4 (ELBv2's default) or ipv6. */
  ipAddressType?: string;
  /** The target optimizer's control port, fixed at creation; absent when not asked for. */
  targetControlPort?: number;
  hc: Record<string, string>;
  attributes: Record<string, string>;
  targets: Map<string, { id: string; port: number }>;
}

interface Action {
  type: string;
  targetGroupArn?: string;
  /** Forward to several groups with weights (ForwardConfig); the first is also targetGroupArn. */
  weighted?: { arn: string; weight: number }[];
  /** Target group stickiness with its duration (ALB). */
  stickiness?: number;
  /** Target group stickiness without a duration, as an NLB takes it. */
  stickyWithoutDuration?: boolean;
  fixed?: Record<string, string>;
  redirect?: Record<string, string>;
  /** authenticate-oidc / authenticate-cognito config as sent; ClientSecret is kept but never described back. */
  auth?: Record<string, unknown>;
  order?: number;
}

interface Listener {
  arn: string;
  lbArn: string;
  port: number;
  protocol: string;
  sslPolicy?: string;
  certificates: string[];
  defaultActions: Action[];
  /** ELBv2's MutualAuthentication as last written; absent: off. */
  mutualAuthentication?: { mode: string; trustStoreArn?: string; ignoreClientCertificateExpiry?: boolean; advertiseTrustStoreCaNames?: string };
  /** TLS listeners: the ALPN policy as last written; absent: None. */
  alpnPolicy?: string;
  /** Listener attributes as last written; DescribeListenerAttributes adds ELBv2's defaults for the others. */
  attributes: Record<string, string>;
}

/**
 * The attributes ELBv2 has on a listener, by protocol, with their defaults (ELBv2 API
 * reference, ListenerAttribute; NLB guide "Update the TCP idle timeout": TCP listeners only,
 * 60-6000, default 350; ALB guide "HTTP header modification": the mTLS/TLS header names on
 * HTTPS only, response headers empty until set, the server header on).
 */
function listenerAttributeDefaults(protocol: string): Record<string, string> {
  const response = ['strict_transport_security', 'access_control_allow_origin', 'access_control_allow_methods', 'access_control_allow_headers', 'access_control_allow_credentials', 'access_control_expose_headers', 'access_control_max_age', 'content_security_policy', 'x_content_type_options', 'x_frame_options'];
  const tlsNames = ['x_amzn_mtls_clientcert_serial_number', 'x_amzn_mtls_clientcert_issuer', 'x_amzn_mtls_clientcert_subject', 'x_amzn_mtls_clientcert_validity', 'x_amzn_mtls_clientcert_leaf', 'x_amzn_mtls_clientcert', 'x_amzn_tls_version', 'x_amzn_tls_cipher_suite'];
  const http = { 'routing.http.response.server.enabled': 'true', ...Object.fromEntries(response.map((h) => [`routing.http.response.${h}.header_value`, ''])) };
  if (protocol === 'TCP') return { 'tcp.idle_timeout.seconds': '350' };
  if (protocol === 'HTTP') return http;
  if (protocol === 'HTTPS') return { ...Object.fromEntries(tlsNames.map((h) => [`routing.http.request.${h}.header_name`, ''])), ...http };
  return {};
}

interface Certificate {
  arn: string;
  domain: string;
  sans: string[];
  status: string;
  keyAlgorithm: string;
}

interface Rule {
  arn: string;
  listenerArn: string;
  priority: number;
  conditions: { field: string; values: string[]; name?: string; pairs?: { Key?: string | undefined; Value: string }[]; regex?: string[] }[];
  actions: Action[];
  /** Rule transforms (2025): one host-header-rewrite and one url-rewrite at most. */
  transforms: { type: string; rewrites: { Regex: string; Replace: string }[] }[];
}

/** What a connection to 169.254.169.254 gets where no instance metadata service is. */
const unreachable = (): Error => Object.assign(new Error('connect EHOSTUNREACH 169.254.169.254:80'), { code: 'EHOSTUNREACH' });
const hex = (n: number): string => randomBytes(n).toString('hex');
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Objects to XML; arrays become repeated `<member>` (ELBv2) or `<item>` (EC2) children. */
function toXml(value: unknown, item: string): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => `<${item}>${toXml(v, item)}</${item}>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Obj)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v, item)}</${k}>`)
      .join('');
  }
  return esc(String(value));
}

/** `A.member.1.B=x` / `Filter.1.Value.1=x` → nested objects and arrays. */
export function nest(params: Readonly<Record<string, string>>): Obj {
  const root: Obj = {};
  for (const [k, v] of Object.entries(params)) {
    const segs = k.split('.').filter((s) => s !== 'member');
    let cur: Record<string | number, unknown> = root;
    segs.forEach((s, i) => {
      const key: string | number = /^\d+$/.test(s) ? Number(s) - 1 : s;
      if (i === segs.length - 1) {
        cur[key] = v;
        return;
      }
      const next = segs[i + 1] ?? '';
      cur[key] ??= /^\d+$/.test(next) ? [] : {};
      cur = cur[key] as Record<string | number, unknown>;
    });
  }
  return root;
}

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => x !== undefined) as Obj[]) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? (v.filter((x) => typeof x === 'string') as string[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const tagsOf = (v: unknown): Tags => Object.fromEntries(list(v).map((t) => [String(t['Key']), String(t['Value'] ?? '')]));

/**
 * What ELBv2 refuses in a target group's health check (API_CreateTargetGroup,
 * API_ModifyTargetGroup): thresholds 2-10, interval 5-300 s, timeout 2-120 s
 * (ValidationError, in the SDK's constraint wording), and a path or matcher on a TCP check
 * (InvalidConfigurationRequest "Health check paths/matchers are not supported for TCP
 * health checks", as users of the API report it: awsdocs/aws-cloudformation-user-guide#186,
 * hashicorp/terraform-provider-aws#2170).
 */
function refuseHealthCheck(p: Obj): void {
  const ranges: [string, string, number, number][] = [
    ['HealthyThresholdCount', 'healthyThresholdCount', 2, 10],
    ['UnhealthyThresholdCount', 'unhealthyThresholdCount', 2, 10],
    ['HealthCheckIntervalSeconds', 'healthCheckIntervalSeconds', 5, 300],
    ['HealthCheckTimeoutSeconds', 'healthCheckTimeoutSeconds', 2, 120],
  ];
  for (const [k, member, min, max] of ranges) {
    const v = str(p[k]);
    if (v === undefined) continue;
    const n = Number(v);
    if (n < min) throw new AwsError('ValidationError', `1 validation error detected: Value '${v}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
    if (n > max) throw new AwsError('ValidationError', `1 validation error detected: Value '${v}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  }
  if ((str(p['HealthCheckProtocol']) ?? 'TCP') !== 'TCP') return;
  if (str(p['HealthCheckPath']) !== undefined) throw new AwsError('InvalidConfigurationRequest', 'Health check paths are not supported for TCP health checks');
  if (p['Matcher'] !== undefined) throw new AwsError('InvalidConfigurationRequest', 'Health check matchers are not supported for TCP health checks');
}

export class FakeAws {
  readonly requests: Recorded[] = [];
  readonly subnets = new Map<string, Subnet>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly lbs = new Map<string, LoadBalancer>();
  readonly tgs = new Map<string, TargetGroup>();
  readonly listeners = new Map<string, Listener>();
  readonly rules = new Map<string, Rule>();
  readonly tags = new Map<string, Tags>();
  readonly certificates = new Map<string, Certificate>();
  readonly instances = new Map<string, { id: string; vpcId: string }>();
  /** Regional WAFv2 web ACLs (ARNs), and the one each load balancer (ARN) is associated with. */
  readonly webAcls = new Set<string>();
  readonly webAclOf = new Map<string, string>();
  /** Shield Advanced protections by ID. */
  readonly protections = new Map<string, { id: string; name: string; resourceArn: string }>();
  /** ELBv2 trust stores (mutual TLS) by ARN; seed with addTrustStore. */
  readonly trustStores = new Map<string, { arn: string; name: string }>();
  /** Managed prefix lists in the region (IDs): a rule naming another is refused, as EC2 does. */
  readonly prefixLists = new Set<string>();
  /** Route tables: `main` is the VPC's main table; `igw` adds a 0.0.0.0/0 route to an internet gateway. */
  readonly routeTables: { id: string; vpcId: string; main: boolean; subnets: string[]; igw: boolean }[] = [];
  /** This process's own instance as IMDS describes it; undefined: not on EC2 (IMDS unreachable). */
  imds: { mac: string; vpcId: string } | undefined;
  /** IMDS requests served (method and path). */
  readonly imdsRequests: string[] = [];
  /** ACM ListCertificates page size (MaxItems, when smaller, wins). */
  acmPageSize = 1000;
  /** ACM lists at most this many names in SubjectAlternativeNameSummaries, then sets HasAdditionalSubjectAlternativeNames. */
  acmSummaryNames = 100;
  /** SG id → how many more DeleteSecurityGroup calls fail with DependencyViolation (ENIs of a deleted LB). */
  readonly eniHolds = new Map<string, number>();
  /** How many DeleteSecurityGroup calls a deleted load balancer's interfaces hold its groups for. */
  eniHoldCalls = 0;
  private faults: (FaultSpec & { left: number })[] = [];
  private scopes: nock.Scope[] = [];
  /** When set, the n-th mutating request from now and every one after it fails: a process that stopped. */
  private crashAfter: number | undefined;
  /** When set, the n-th mutating request from now is applied but answered with a 500: a lost response. */
  private loseAt: number | undefined;

  // ---- set-up ----------------------------------------------------------------------

  /** Intercepts each service at its regional AWS host, or all three at one `endpoint` (as LocalStack serves them). */
  install(endpoint?: string): this {
    nock.disableNetConnect();
    const form = (body: nock.Body): string => (typeof body === 'string' ? body : new URLSearchParams(body as Record<string, string>).toString());
    const handle = (service: Service) =>
      function (this: unknown, _uri: string, body: nock.Body): nock.ReplyFnResult {
        return fake.handle(service, form(body));
      };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    const acm = function (this: { req: { headers: Record<string, string | string[] | undefined> } }, _uri: string, body: nock.Body): nock.ReplyFnResult {
      const target = String(this.req.headers['x-amz-target'] ?? '');
      const json = typeof body === 'string' ? (body === '' ? {} : (JSON.parse(body) as Obj)) : (body as Obj);
      return fake.handleJson(target, json);
    };
    if (endpoint !== undefined) {
      // One host: ACM by its target header, EC2 and ELBv2 by their API version.
      const any = function (this: { req: { headers: Record<string, string | string[] | undefined> } }, uri: string, body: nock.Body): nock.ReplyFnResult {
        if (this.req.headers['x-amz-target'] !== undefined) return acm.call(this, uri, body);
        const text = form(body);
        return fake.handle(new URLSearchParams(text).get('Version') === '2016-11-15' ? 'ec2' : 'elbv2', text);
      };
      this.scopes = [nock(endpoint).persist().post('/').reply(any)];
      return this;
    }
    // Off EC2 nothing answers at the link-local address; on EC2, IMDSv2: a token, then the paths.
    const imds = nock(IMDS_HOST).persist();
    type Done = (err: NodeJS.ErrnoException | null, result: nock.ReplyFnResult) => void;
    imds
      .put('/latest/api/token')
      .reply((_uri: string, _body: nock.Body, done: Done) => {
        fake.imdsRequests.push('PUT /latest/api/token');
        if (!fake.imds) done(unreachable(), [0, '']);
        else done(null, [200, 'AQAEAFAKETOKEN']);
      })
      .get(/^\/latest\/meta-data\/.*/)
      .reply((uri: string, _body: nock.Body, done: Done) => {
        fake.imdsRequests.push(`GET ${uri}`);
        const on = fake.imds;
        if (!on) done(unreachable(), [0, '']);
        else if (uri === '/latest/meta-data/mac') done(null, [200, on.mac]);
        else if (uri === `/latest/meta-data/network/interfaces/macs/${on.mac}/vpc-id`) done(null, [200, on.vpcId]);
        else done(null, [404, 'Not Found']);
      });
    this.scopes = [
      imds,
      nock(ELB_HOST).persist().post('/').reply(handle('elbv2')),
      nock(EC2_HOST).persist().post('/').reply(handle('ec2')),
      nock(ACM_HOST).persist().post('/').reply(acm),
      nock(WAFV2_HOST).persist().post('/').reply(acm),
      nock(SHIELD_HOST).persist().post('/').reply(acm),
    ];
    return this;
  }

  uninstall(): void {
    for (const s of this.scopes) s.persist(false);
    nock.cleanAll();
    nock.enableNetConnect();
  }

  /** An EC2 instance (a Node's); ids as EC2 makes them, i- and 8 or 17 hex digits. */
  addInstance(i: { id: string; vpcId?: string }): void {
    this.instances.set(i.id, { id: i.id, vpcId: i.vpcId ?? 'vpc-1' });
  }

  addRouteTable(t: { id: string; vpcId?: string; main?: boolean; subnets?: string[]; igw?: boolean }): void {
    this.routeTables.push({ id: t.id, vpcId: t.vpcId ?? 'vpc-1', main: t.main ?? false, subnets: t.subnets ?? [], igw: t.igw ?? false });
  }

  addSubnet(s: { id: string; vpcId?: string; az: string; cidr?: string; free?: number; tags?: Tags }): void {
    this.subnets.set(s.id, { id: s.id, vpcId: s.vpcId ?? 'vpc-1', az: s.az, cidr: s.cidr ?? '10.0.0.0/24', free: s.free ?? 250, tags: s.tags ?? {} });
  }

  /** An ACM certificate in the region; returns its ARN. */
  addCertificate(c: { id: string; domain: string; sans?: string[]; status?: string; keyAlgorithm?: string }): string {
    const arn = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${c.id}`;
    // ACM puts the DomainName first among the SubjectAlternativeNames.
    const sans = [c.domain, ...(c.sans ?? []).filter((n) => n !== c.domain)];
    this.certificates.set(arn, { arn, domain: c.domain, sans, status: c.status ?? 'ISSUED', keyAlgorithm: c.keyAlgorithm ?? 'RSA_2048' });
    return arn;
  }

  /** A target group the user made (a TargetGroupBinding's): no lbc tags; returns its ARN. */
  addTargetGroup(t: { name: string; targetType?: string; protocol?: string; port?: number; vpcId?: string; ipAddressType?: string; tags?: Tags }): string {
    const arn = this.arn('targetgroup', `${t.name}/${hex(8)}`);
    this.tgs.set(arn, {
      arn,
      name: t.name,
      protocol: t.protocol ?? 'TCP',
      port: t.port ?? 80,
      vpcId: t.vpcId ?? 'vpc-1',
      targetType: t.targetType ?? 'instance',
      ...(t.ipAddressType !== undefined ? { ipAddressType: t.ipAddressType } : {}),
      hc: { HealthCheckProtocol: 'TCP', HealthCheckPort: 'traffic-port' },
      attributes: { 'stickiness.enabled': 'false', 'deregistration_delay.timeout_seconds': '300', 'proxy_protocol_v2.enabled': 'false' },
      targets: new Map(),
    });
    this.tags.set(arn, t.tags ?? {});
    return arn;
  }

  addSecurityGroup(g: { id: string; name: string; vpcId?: string; tags?: Tags }): void {
    this.securityGroups.set(g.id, { id: g.id, name: g.name, description: 'user', vpcId: g.vpcId ?? 'vpc-1', ingress: [], tags: g.tags ?? {} });
  }

  /** A rule someone else made: `source` a group ID or a CIDR. */
  addIngressRule(groupId: string, r: { protocol: string; from: number; to: number; source: string; tags?: Tags }): string {
    const ruleId = `sgr-${hex(8)}`;
    const bySource = r.source.startsWith('sg-') ? { cidr: '', source: r.source } : { cidr: r.source };
    this.mustSg(groupId).ingress.push({ protocol: r.protocol, from: r.from, to: r.to, ...bySource, ruleId, tags: r.tags ?? {} });
    return ruleId;
  }

  fail(f: FaultSpec): void {
    this.faults.push({ ...f, left: f.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
    this.crashAfter = undefined;
    this.loseAt = undefined;
  }

  /** Applies the n-th mutating request from now (0: the next) but answers it with a 500. */
  loseResponseOfWrite(n: number): void {
    this.loseAt = n;
  }

  /** Lets `n` more mutating requests through, then fails every one after with a non-retryable error. */
  crashAfterWrites(n: number): void {
    this.crashAfter = n;
  }

  // ---- inspection ------------------------------------------------------------------

  actions(service?: Service): string[] {
    return this.requests.filter((r) => service === undefined || r.service === service).map((r) => r.action);
  }

  writes(): Recorded[] {
    return this.requests.filter((r) => !READ.test(r.action));
  }

  last(action: string): Recorded | undefined {
    return [...this.requests].reverse().find((r) => r.action === action);
  }

  all(action: string): Recorded[] {
    return this.requests.filter((r) => r.action === action);
  }

  resetLog(): void {
    this.requests.length = 0;
  }

  /** ARNs and IDs of everything tagged for the cluster: what a leak check looks at. */
  taggedFor(clusterName: string): string[] {
    const elb = [...this.tags.entries()].filter(([arn, t]) => t['lbc.dev/cluster'] === clusterName && (this.lbs.has(arn) || this.tgs.has(arn))).map(([arn]) => arn);
    const sgs = [...this.securityGroups.values()].filter((g) => g.tags['lbc.dev/cluster'] === clusterName).map((g) => g.id);
    return [...elb, ...sgs].sort();
  }

  // ---- dispatch --------------------------------------------------------------------

  private handle(service: Service, body: string): nock.ReplyFnResult {
    const form = new URLSearchParams(body);
    const action = form.get('Action') ?? '';
    const params: Record<string, string> = {};
    for (const [k, v] of form) if (k !== 'Action' && k !== 'Version') params[k] = v;
    this.requests.push({ service, action, params });
    const mutating = !READ.test(action);
    if (mutating && this.crashAfter !== undefined) {
      if (this.crashAfter <= 0) return this.error(service, new AwsError('SimulatedCrash', 'the controller stopped here', 400));
      this.crashAfter--;
    }
    let fault = this.takeFault(action);
    if (mutating && this.loseAt !== undefined) {
      if (this.loseAt === 0) fault = { action, code: 'InternalFailure', message: 'response lost', status: 500, afterApply: true, left: 0 };
      this.loseAt = this.loseAt === 0 ? undefined : this.loseAt - 1;
    }
    if (fault && !fault.afterApply) return this.error(service, new AwsError(fault.code, fault.message ?? fault.code, fault.status ?? 400), fault.headers);
    try {
      const input = nest(params);
      const result = service === 'elbv2' ? this.elbv2(action, input) : this.ec2(action, input);
      if (fault) return this.error(service, new AwsError(fault.code, fault.message ?? fault.code, fault.status ?? 500), fault.headers);
      const id = hex(8);
      if (service === 'elbv2') {
        return [
          200,
          `<${action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><${action}Result>${toXml(result, 'member')}</${action}Result><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${action}Response>`,
          { 'content-type': 'text/xml' },
        ];
      }
      return [
        200,
        `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${id}</requestId>${toXml(result, 'item')}</${action}Response>`,
        { 'content-type': 'text/xml;charset=UTF-8' },
      ];
    } catch (e) {
      if (e instanceof AwsError) return this.error(service, e);
      throw e;
    }
  }

  private takeFault(action: string): (FaultSpec & { left: number }) | undefined {
    const fault = this.faults.find((f) => f.left > 0 && f.action === action);
    if (fault) fault.left--;
    return fault;
  }

  /** ACM, WAFv2 and Shield (JSON 1.1, told apart by the target's prefix): no crash or lost-response simulation. */
  private handleJson(target: string, body: Obj): nock.ReplyFnResult {
    const service: Service = target.startsWith('AWSWAF_20190729.') ? 'wafv2' : target.startsWith('AWSShield_20160616.') ? 'shield' : 'acm';
    const action = target.replace(/^(CertificateManager|AWSWAF_20190729|AWSShield_20160616)\./, '');
    this.requests.push({ service, action, params: {}, body });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): nock.ReplyFnResult => [
      status,
      JSON.stringify(value),
      { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': hex(8), ...headers },
    ];
    const fault = this.takeFault(action);
    if (fault) return json(fault.status ?? 400, { __type: fault.code, message: fault.message ?? fault.code }, fault.headers);
    try {
      if (service === 'wafv2') return json(200, this.wafv2(action, body));
      if (service === 'shield') return json(200, this.shield(action, body));
      if (!target.startsWith('CertificateManager.')) throw new AwsError('UnknownOperationException', `unexpected target ${target}`);
      return json(200, this.acm(action, body));
    } catch (e) {
      if (e instanceof AwsError) return json(e.status, { __type: e.code, message: e.message });
      throw e;
    }
  }

  private error(service: Service, e: AwsError, headers: Record<string, string> = {}): nock.ReplyFnResult {
    const id = hex(8);
    if (service === 'elbv2') {
      return [
        e.status,
        `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
        { 'content-type': 'text/xml', ...headers },
      ];
    }
    return [
      e.status,
      `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`,
      { 'content-type': 'text/xml;charset=UTF-8', ...headers },
    ];
  }

  // ---- ELBv2 -----------------------------------------------------------------------

  private arn(kind: string, rest: string): string {
    return `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:${kind}/${rest}`;
  }

  private notFound(arn: string): AwsError {
    if (arn.includes(':listener-rule/')) return new AwsError('RuleNotFound', `rule ${arn} not found`);
    if (arn.includes(':listener/')) return new AwsError('ListenerNotFound', `listener ${arn} not found`);
    if (arn.includes(':targetgroup/')) return new AwsError('TargetGroupNotFound', `target group ${arn} not found`);
    return new AwsError('LoadBalancerNotFound', `load balancer ${arn} not found`);
  }

  private lbXml(lb: LoadBalancer): Obj {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: 'Z26RNL4JYFTOTI',
      CreatedTime: new Date(lb.created).toISOString(),
      LoadBalancerName: lb.name,
      Scheme: lb.scheme,
      VpcId: lb.vpcId,
      State: { Code: 'active' },
      Type: lb.type,
      AvailabilityZones: lb.subnets.map((s) => ({
        ZoneName: s.az,
        SubnetId: s.subnetId,
        ...(s.allocationId || s.privateIp ? { LoadBalancerAddresses: [{ AllocationId: s.allocationId, PrivateIPv4Address: s.privateIp }] } : {}),
      })),
      SecurityGroups: lb.securityGroups,
      IpAddressType: lb.ipAddressType,
    };
  }

  private tgXml(tg: TargetGroup): Obj {
    const lbArns = [...new Set([...this.listeners.values()].filter((l) => this.listenerUses(l, tg.arn)).map((l) => l.lbArn))];
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: tg.protocol,
      Port: tg.port,
      VpcId: tg.vpcId,
      HealthCheckProtocol: tg.hc['HealthCheckProtocol'],
      HealthCheckPort: tg.hc['HealthCheckPort'],
      HealthCheckEnabled: 'true',
      HealthCheckIntervalSeconds: tg.hc['HealthCheckIntervalSeconds'],
      HealthCheckTimeoutSeconds: tg.hc['HealthCheckTimeoutSeconds'],
      HealthyThresholdCount: tg.hc['HealthyThresholdCount'],
      UnhealthyThresholdCount: tg.hc['UnhealthyThresholdCount'],
      HealthCheckPath: tg.hc['HealthCheckPath'],
      Matcher: tg.hc['Matcher'] !== undefined ? { HttpCode: tg.hc['Matcher'] } : tg.hc['GrpcCode'] !== undefined ? { GrpcCode: tg.hc['GrpcCode'] } : undefined,
      ProtocolVersion: tg.protocolVersion,
      LoadBalancerArns: lbArns,
      TargetType: tg.targetType,
      IpAddressType: tg.ipAddressType ?? 'ipv4',
      TargetControlPort: tg.targetControlPort,
    };
  }

  private actionXml(a: Action): Obj {
    const order = a.order !== undefined ? { Order: a.order } : {};
    if (a.type === 'authenticate-oidc') {
      // ELBv2 never returns the client secret.
      const { ClientSecret: _secret, ...config } = a.auth ?? {};
      return { Type: a.type, ...order, AuthenticateOidcConfig: config };
    }
    if (a.type === 'authenticate-cognito') return { Type: a.type, ...order, AuthenticateCognitoConfig: a.auth };
    return { ...this.mainActionXml(a), ...order };
  }

  private mainActionXml(a: Action): Obj {
    if (a.type === 'forward' && a.weighted) {
      // As ELBv2 answers a multi-group forward: no top-level TargetGroupArn.
      return {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: a.weighted.map((g) => ({ TargetGroupArn: g.arn, Weight: g.weight })),
          TargetGroupStickinessConfig: a.stickiness !== undefined ? { Enabled: 'true', DurationSeconds: a.stickiness } : { Enabled: a.stickyWithoutDuration === true ? 'true' : 'false' },
        },
      };
    }
    if (a.type === 'forward') return { Type: 'forward', TargetGroupArn: a.targetGroupArn, ForwardConfig: { TargetGroups: [{ TargetGroupArn: a.targetGroupArn, Weight: 1 }] } };
    if (a.type === 'fixed-response') return { Type: 'fixed-response', FixedResponseConfig: a.fixed };
    return { Type: 'redirect', RedirectConfig: a.redirect };
  }

  /** A trust store as CreateTrustStore would make it (its CA bundle is not modelled); returns its ARN. */
  addTrustStore(name: string): string {
    const arn = this.arn('truststore', `${name}/${hex(8)}`);
    this.trustStores.set(arn, { arn, name });
    return arn;
  }

  /**
   * A listener's MutualAuthentication as ELBv2 takes it: HTTPS listeners only, verify with
   * an existing trust store (TrustStoreNotFound otherwise), the other modes without a trust
   * store or expiry option. ELBv2 answers these with ValidationError, as its "Mutual
   * Authentication mode passthrough does not support ignoring certificate expiry" shows
   * (hashicorp/terraform-provider-aws#34861); the other messages are lbc's wording.
   */
  private parseMutualAuth(protocol: string, v: unknown): Listener['mutualAuthentication'] {
    if (v === undefined) return undefined;
    const m = v as Obj;
    const mode = str(m['Mode']) ?? '';
    const trustStoreArn = str(m['TrustStoreArn']);
    const ignore = str(m['IgnoreClientCertificateExpiry']);
    const advertise = str(m['AdvertiseTrustStoreCaNames']);
    if (protocol !== 'HTTPS' && mode !== 'off') throw new AwsError('ValidationError', `Mutual Authentication is not supported for ${protocol} listeners`);
    if (!['off', 'passthrough', 'verify'].includes(mode)) throw new AwsError('ValidationError', `1 validation error detected: Value '${mode}' at 'mutualAuthentication.mode' failed to satisfy constraint: Member must satisfy enum value set: [off, passthrough, verify]`);
    if (mode === 'verify') {
      if (trustStoreArn === undefined) throw new AwsError('ValidationError', 'Mutual Authentication mode verify requires a trust store');
      if (!this.trustStores.has(trustStoreArn)) throw new AwsError('TrustStoreNotFound', `Trust store '${trustStoreArn}' not found`);
    } else {
      if (ignore !== undefined) throw new AwsError('ValidationError', `Mutual Authentication mode ${mode} does not support ignoring certificate expiry`);
      if (trustStoreArn !== undefined) throw new AwsError('ValidationError', `Mutual Authentication mode ${mode} does not support a trust store`);
    }
    return {
      mode,
      ...(trustStoreArn !== undefined ? { trustStoreArn } : {}),
      ...(mode === 'verify' ? { ignoreClientCertificateExpiry: ignore === 'true', advertiseTrustStoreCaNames: advertise ?? 'off' } : {}),
    };
  }

  /**
   * ELBv2's AlpnPolicy: one of its five policies, on TLS listeners only (NLB guide,
   * "ALPN policies"; CreateListener: "[TLS listeners] The name of the ALPN policy. You can
   * specify one policy name"). The messages are lbc's wording of ELBv2's ValidationError.
   */
  private parseAlpnPolicy(protocol: string, v: unknown): string | undefined {
    if (v === undefined) return undefined;
    const names = strings(v);
    if (names.length !== 1) throw new AwsError('ValidationError', 'You can specify one ALPN policy name');
    const [name = ''] = names;
    if (!['HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred', 'None'].includes(name)) throw new AwsError('ALPNPolicyNotFound', `ALPN policy '${name}' not found`);
    if (protocol !== 'TLS') throw new AwsError('ValidationError', `An ALPN policy can only be specified for TLS listeners, not ${protocol}`);
    return name;
  }

  private listenerXml(l: Listener): Obj {
    return {
      ListenerArn: l.arn,
      LoadBalancerArn: l.lbArn,
      Port: l.port,
      Protocol: l.protocol,
      SslPolicy: l.sslPolicy,
      Certificates: l.certificates.length > 0 ? [{ CertificateArn: l.certificates[0] }] : undefined,
      DefaultActions: l.defaultActions.map((a) => this.actionXml(a)),
      AlpnPolicy: l.alpnPolicy !== undefined ? [l.alpnPolicy] : undefined,
      // ELBv2 reports an HTTPS listener's mode even when it was never set.
      MutualAuthentication:
        l.protocol === 'HTTPS'
          ? {
              Mode: l.mutualAuthentication?.mode ?? 'off',
              TrustStoreArn: l.mutualAuthentication?.trustStoreArn,
              IgnoreClientCertificateExpiry: l.mutualAuthentication?.ignoreClientCertificateExpiry,
              AdvertiseTrustStoreCaNames: l.mutualAuthentication?.advertiseTrustStoreCaNames,
            }
          : undefined,
    };
  }

  private listenerUses(l: Listener, tgArn: string): boolean {
    const uses = (a: Action): boolean => a.targetGroupArn === tgArn || (a.weighted ?? []).some((g) => g.arn === tgArn);
    if (l.defaultActions.some(uses)) return true;
    return [...this.rules.values()].some((r) => r.listenerArn === l.arn && r.actions.some(uses));
  }

  /** ELBv2 refuses authenticate actions on listeners that are not HTTPS. */
  private checkAuthProtocol(protocol: string, actions: Action[]): void {
    if (protocol !== 'HTTPS' && actions.some((a) => a.type.startsWith('authenticate-'))) {
      throw new AwsError('InvalidLoadBalancerAction', 'Authenticate actions are only supported on HTTPS listeners');
    }
  }

  /**
   * A listener's protocol must be its load balancer type's, and its forward target groups
   * of a protocol it can carry (NLB user guide, "Listeners": "The target groups for a
   * TCP_UDP listener must use the TCP_UDP protocol"). ELBv2's answers, as users met them:
   * "Listener protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'" (pulumi-aws#1193),
   * "Listener protocol 'TCP' must be one of 'HTTPS, HTTP'" (terraform-provider-aws#6173), and
   * IncompatibleProtocols for a TCP listener forwarding to an HTTP group (#4955).
   */
  private checkListenerProtocols(lbType: string, protocol: string, actions: Action[]): void {
    const allowed = lbType === 'network' ? ['TLS', 'TCP', 'TCP_UDP', 'UDP'] : ['HTTPS', 'HTTP'];
    if (!allowed.includes(protocol)) throw new AwsError('ValidationError', `Listener protocol '${protocol}' must be one of '${allowed.join(', ')}'`);
    // TargetGroupStickinessConfig.DurationSeconds is "[Application Load Balancers]", and "you must
    // specify this value when enabling target group stickiness" there (ELBv2 API reference).
    for (const a of actions) {
      if (lbType === 'network' && a.stickiness !== undefined) throw new AwsError('ValidationError', 'DurationSeconds cannot be specified for target group stickiness on a Network Load Balancer');
      if (lbType === 'application' && a.stickyWithoutDuration === true) throw new AwsError('ValidationError', 'DurationSeconds must be specified when enabling target group stickiness');
    }
    const carries: Record<string, readonly string[]> = { HTTP: ['HTTP', 'HTTPS'], HTTPS: ['HTTP', 'HTTPS'], TCP: ['TCP', 'TCP_UDP'], TLS: ['TCP', 'TLS'], UDP: ['UDP', 'TCP_UDP'], TCP_UDP: ['TCP_UDP'] };
    for (const a of actions) {
      for (const arn of [...(a.targetGroupArn !== undefined ? [a.targetGroupArn] : []), ...(a.weighted ?? []).map((g) => g.arn)]) {
        const tg = this.tgs.get(arn);
        if (tg && !(carries[protocol] ?? []).includes(tg.protocol)) throw new AwsError('IncompatibleProtocols', `The listener and its associated target group '${arn}' have incompatible protocols`);
      }
    }
  }

  private parseActions(v: unknown): Action[] {
    const actions = list(v).map((a) => ({ ...this.parseAction(a), ...(a['Order'] !== undefined ? { order: Number(a['Order']) } : {}) }));
    if (actions.length > 1 && actions.some((a) => a.order === undefined)) throw new AwsError('ValidationError', 'Order must be specified when there are several actions');
    const last = [...actions].sort((x, y) => (x.order ?? 0) - (y.order ?? 0)).pop();
    if (last?.type.startsWith('authenticate-')) throw new AwsError('InvalidLoadBalancerAction', 'The last action must be a forward, redirect or fixed-response action');
    return actions;
  }

  private parseAction(a: Obj): Action {
    {
      const type = str(a['Type']) ?? '';
      if (type === 'authenticate-oidc') {
        const c = (a['AuthenticateOidcConfig'] ?? {}) as Record<string, unknown>;
        for (const k of ['Issuer', 'AuthorizationEndpoint', 'TokenEndpoint', 'UserInfoEndpoint', 'ClientId']) if (typeof c[k] !== 'string') throw new AwsError('ValidationError', `AuthenticateOidcConfig.${k} is required`);
        if (typeof c['ClientSecret'] !== 'string' && c['UseExistingClientSecret'] !== 'true') throw new AwsError('InvalidLoadBalancerAction', 'A client secret must be specified');
        return { type, auth: { ...c } };
      }
      if (type === 'authenticate-cognito') {
        const c = (a['AuthenticateCognitoConfig'] ?? {}) as Record<string, unknown>;
        for (const k of ['UserPoolArn', 'UserPoolClientId', 'UserPoolDomain']) if (typeof c[k] !== 'string') throw new AwsError('ValidationError', `AuthenticateCognitoConfig.${k} is required`);
        return { type, auth: { ...c } };
      }
      if (type === 'forward') {
        const fc = a['ForwardConfig'] as Obj | undefined;
        const groups = list(fc?.['TargetGroups']).map((g) => ({ arn: str(g['TargetGroupArn']) ?? '', weight: Number(g['Weight'] ?? 1) }));
        const sticky = fc?.['TargetGroupStickinessConfig'] as Obj | undefined;
        const enabled = str(sticky?.['Enabled']) === 'true';
        const stickiness = enabled && sticky?.['DurationSeconds'] !== undefined ? Number(sticky['DurationSeconds']) : undefined;
        const stickyWithoutDuration = enabled && stickiness === undefined;
        for (const g of groups) if (!this.tgs.has(g.arn)) throw new AwsError('TargetGroupNotFound', `target group ${g.arn} not found`);
        if (groups.length > 1 || enabled) return { type, targetGroupArn: groups[0]?.arn ?? '', weighted: groups, ...(stickiness !== undefined ? { stickiness } : {}), ...(stickyWithoutDuration ? { stickyWithoutDuration } : {}) };
        const tgArn = str(a['TargetGroupArn']) ?? groups[0]?.arn;
        if (!tgArn || !this.tgs.has(tgArn)) throw new AwsError('TargetGroupNotFound', `target group ${tgArn ?? ''} not found`);
        return { type, targetGroupArn: tgArn };
      }
      if (type === 'fixed-response') {
        const f = (a['FixedResponseConfig'] ?? {}) as Record<string, string>;
        return { type, fixed: { ...f } };
      }
      if (type === 'redirect') {
        const r = (a['RedirectConfig'] ?? {}) as Record<string, string>;
        // RedirectActionStatusCodeEnum: HTTP_301 | HTTP_302.
        if (r['StatusCode'] !== 'HTTP_301' && r['StatusCode'] !== 'HTTP_302') throw new AwsError('ValidationError', `1 validation error detected: Value '${r['StatusCode'] ?? ''}' at 'actions.1.member.redirectConfig.statusCode' failed to satisfy constraint: Member must satisfy enum value set: [HTTP_302, HTTP_301]`);
        return {
          type,
          redirect: { Protocol: r['Protocol'] ?? '#{protocol}', Port: r['Port'] ?? '#{port}', Host: r['Host'] ?? '#{host}', Path: r['Path'] ?? '/#{path}', Query: r['Query'] ?? '#{query}', StatusCode: r['StatusCode'] ?? '' },
        };
      }
      throw new AwsError('ValidationError', `unsupported action type ${type}`);
    }
  }

  private checkTgAssociation(lbArn: string, actions: Action[]): void {
    for (const a of actions) {
      if (!a.targetGroupArn) continue;
      const other = [...this.listeners.values()].find((l) => l.lbArn !== lbArn && this.listenerUses(l, a.targetGroupArn ?? ''));
      if (other) throw new AwsError('TargetGroupAssociationLimit', `target group ${a.targetGroupArn} is already associated with load balancer ${other.lbArn}`);
    }
  }

  private lbConfigKey(p: Obj): string {
    return JSON.stringify([p['Type'] ?? 'application', p['Scheme'] ?? 'internet-facing', strings(p['Subnets']), list(p['SubnetMappings']), strings(p['SecurityGroups'])]);
  }

  private elbv2(action: string, p: Obj): unknown {
    switch (action) {
      case 'DescribeLoadBalancers': {
        let found: LoadBalancer[];
        const arns = strings(p['LoadBalancerArns']);
        const names = strings(p['Names']);
        if (arns.length > 0) {
          found = arns.map((a) => {
            const lb = this.lbs.get(a);
            if (!lb) throw this.notFound(a);
            return lb;
          });
        } else if (names.length > 0) {
          found = names.map((n) => {
            const lb = [...this.lbs.values()].find((l) => l.name === n);
            if (!lb) throw new AwsError('LoadBalancerNotFound', `One or more load balancers not found`);
            return lb;
          });
        } else found = [...this.lbs.values()];
        return { LoadBalancers: found.map((l) => this.lbXml(l)) };
      }
      case 'CreateLoadBalancer': {
        const name = str(p['Name']) ?? '';
        const existing = [...this.lbs.values()].find((l) => l.name === name);
        const key = this.lbConfigKey(p);
        if (existing) {
          if ((existing as LoadBalancer & { key?: string }).key === key) return { LoadBalancers: [this.lbXml(existing)] };
          throw new AwsError('DuplicateLoadBalancerName', `A load balancer with the same name '${name}' exists, but with different settings`);
        }
        const mappings = list(p['SubnetMappings']).map((m) => ({ SubnetId: str(m['SubnetId']) ?? '', AllocationId: str(m['AllocationId']), PrivateIPv4Address: str(m['PrivateIPv4Address']) }));
        for (const s of strings(p['Subnets'])) mappings.push({ SubnetId: s, AllocationId: undefined, PrivateIPv4Address: undefined });
        const subnets = mappings.map((m) => {
          const s = this.subnets.get(m.SubnetId);
          if (!s) throw new AwsError('SubnetNotFound', `subnet ${m.SubnetId} not found`);
          return { subnetId: s.id, az: s.az, ...(m.AllocationId ? { allocationId: m.AllocationId } : {}), ...(m.PrivateIPv4Address ? { privateIp: m.PrivateIPv4Address } : {}) };
        });
        const type = str(p['Type']) ?? 'application';
        if (type === 'application' && new Set(subnets.map((s) => s.az)).size < 2) throw new AwsError('ValidationError', 'At least two subnets in two different Availability Zones must be specified');
        const sgs = strings(p['SecurityGroups']);
        for (const g of sgs) if (!this.securityGroups.has(g)) throw new AwsError('InvalidSecurityGroup', `security group ${g} not found`);
        const scheme = str(p['Scheme']) ?? 'internet-facing';
        const id = hex(8);
        const arn = this.arn('loadbalancer', `${type === 'network' ? 'net' : 'app'}/${name}/${id}`);
        const lb: LoadBalancer & { key: string } = {
          arn,
          name,
          type,
          scheme,
          ipAddressType: str(p['IpAddressType']) ?? 'ipv4',
          vpcId: this.subnets.get(subnets[0]?.subnetId ?? '')?.vpcId ?? '',
          dnsName: `${scheme === 'internal' ? 'internal-' : ''}${name}-${id}.elb.${REGION}.amazonaws.com`,
          subnets,
          securityGroups: sgs,
          attributes: type === 'network' ? { 'deletion_protection.enabled': 'false', 'load_balancing.cross_zone.enabled': 'false', 'access_logs.s3.enabled': 'false' } : { 'deletion_protection.enabled': 'false', 'idle_timeout.timeout_seconds': '60', 'access_logs.s3.enabled': 'false' },
          created: Date.now(),
          key,
        };
        this.lbs.set(arn, lb);
        this.tags.set(arn, tagsOf(p['Tags']));
        return { LoadBalancers: [this.lbXml(lb)] };
      }
      case 'DeleteLoadBalancer': {
        const arn = str(p['LoadBalancerArn']) ?? '';
        const lb = this.lbs.get(arn);
        if (!lb) return {};
        if (lb.attributes['deletion_protection.enabled'] === 'true') throw new AwsError('OperationNotPermitted', 'Load balancer is protected from deletion');
        for (const l of [...this.listeners.values()].filter((x) => x.lbArn === arn)) this.deleteListener(l.arn);
        this.lbs.delete(arn);
        this.tags.delete(arn);
        this.webAclOf.delete(arn);
        if (this.eniHoldCalls > 0) for (const g of lb.securityGroups) this.eniHolds.set(g, this.eniHoldCalls);
        return {};
      }
      case 'SetSubnets': {
        const lb = this.mustLb(p);
        const ids = [...strings(p['Subnets']), ...list(p['SubnetMappings']).map((m) => str(m['SubnetId']) ?? '')];
        lb.subnets = ids.map((id) => {
          const s = this.subnets.get(id);
          if (!s) throw new AwsError('SubnetNotFound', `subnet ${id} not found`);
          return { subnetId: s.id, az: s.az };
        });
        return { AvailabilityZones: lb.subnets.map((s) => ({ ZoneName: s.az, SubnetId: s.subnetId })) };
      }
      case 'SetSecurityGroups': {
        const lb = this.mustLb(p);
        if (lb.type === 'network' && lb.securityGroups.length === 0) throw new AwsError('InvalidConfigurationRequest', 'You cannot set security groups on a Network Load Balancer which was created without any');
        const sgs = strings(p['SecurityGroups']);
        for (const g of sgs) if (!this.securityGroups.has(g)) throw new AwsError('InvalidSecurityGroup', `security group ${g} not found`);
        lb.securityGroups = sgs;
        return { SecurityGroupIds: sgs };
      }
      case 'SetIpAddressType': {
        const lb = this.mustLb(p);
        lb.ipAddressType = str(p['IpAddressType']) ?? 'ipv4';
        return { IpAddressType: lb.ipAddressType };
      }
      case 'DescribeLoadBalancerAttributes': {
        const lb = this.mustLb(p);
        return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'ModifyLoadBalancerAttributes': {
        const lb = this.mustLb(p);
        for (const a of list(p['Attributes'])) lb.attributes[str(a['Key']) ?? ''] = str(a['Value']) ?? '';
        return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'DescribeTags': {
        const arns = strings(p['ResourceArns']);
        if (arns.length > 20) throw new AwsError('ValidationError', 'at most 20 resource ARNs');
        return {
          TagDescriptions: arns.map((arn) => {
            const t = this.tags.get(arn);
            if (!t) throw this.notFound(arn);
            return { ResourceArn: arn, Tags: Object.entries(t).map(([Key, Value]) => ({ Key, Value })) };
          }),
        };
      }
      case 'AddTags': {
        for (const arn of strings(p['ResourceArns'])) {
          const t = this.tags.get(arn);
          if (!t) throw this.notFound(arn);
          Object.assign(t, tagsOf(p['Tags']));
        }
        return {};
      }
      case 'RemoveTags': {
        for (const arn of strings(p['ResourceArns'])) {
          const t = this.tags.get(arn);
          if (!t) throw this.notFound(arn);
          for (const k of strings(p['TagKeys'])) delete t[k];
        }
        return {};
      }
      case 'CreateTargetGroup': {
        // ELBv2's default check speaks an HTTP(S) group's protocol, TCP for the others.
        refuseHealthCheck({ HealthCheckProtocol: p['Protocol'] === 'HTTP' || p['Protocol'] === 'HTTPS' ? p['Protocol'] : 'TCP', ...p });
        const name = str(p['Name']) ?? '';
        const hc: Record<string, string> = {};
        for (const k of ['HealthCheckProtocol', 'HealthCheckPort', 'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount']) {
          const v = str(p[k]);
          if (v !== undefined) hc[k] = v;
        }
        const m = str((p['Matcher'] as Obj | undefined)?.['HttpCode']);
        if (m !== undefined) hc['Matcher'] = m;
        const g = str((p['Matcher'] as Obj | undefined)?.['GrpcCode']);
        if (g !== undefined) hc['GrpcCode'] = g;
        hc['HealthCheckProtocol'] ??= 'TCP';
        hc['HealthCheckPort'] ??= 'traffic-port';
        const protocol = str(p['Protocol']) ?? '';
        const asked = str(p['ProtocolVersion']);
        if (asked !== undefined && protocol !== 'HTTP' && protocol !== 'HTTPS') throw new AwsError('ValidationError', `Protocol version is not supported for target groups with the '${protocol}' protocol`);
        const protocolVersion = protocol === 'HTTP' || protocol === 'HTTPS' ? (asked ?? 'HTTP1') : undefined;
        // A gRPC group matches gRPC codes, the others HTTP codes (API_Matcher).
        if (g !== undefined && protocolVersion !== 'GRPC') throw new AwsError('ValidationError', 'GrpcCode can only be specified for target groups with the GRPC protocol version');
        if (m !== undefined && protocolVersion === 'GRPC') throw new AwsError('ValidationError', 'HttpCode cannot be specified for target groups with the GRPC protocol version');
        const port = Number(p['Port'] ?? 0);
        const targetType = str(p['TargetType']) ?? 'instance';
        const vpcId = str(p['VpcId']) ?? '';
        const control = p['TargetControlPort'] !== undefined ? Number(p['TargetControlPort']) : undefined;
        const existing = [...this.tgs.values()].find((t) => t.name === name);
        if (existing) {
          if (
            existing.protocol === protocol &&
            existing.protocolVersion === protocolVersion &&
            existing.targetControlPort === control &&
            existing.port === port &&
            existing.targetType === targetType &&
            existing.vpcId === vpcId &&
            JSON.stringify(existing.hc) === JSON.stringify(hc)
          ) {
            return { TargetGroups: [this.tgXml(existing)] };
          }
          throw new AwsError('DuplicateTargetGroupName', `A target group with the same name '${name}' exists, but with different settings`);
        }
        const arn = this.arn('targetgroup', `${name}/${hex(8)}`);
        const tg: TargetGroup = { arn, name, protocol, ...(protocolVersion !== undefined ? { protocolVersion } : {}), ...(control !== undefined ? { targetControlPort: control } : {}), port, vpcId, targetType, hc, attributes: { 'stickiness.enabled': 'false', 'deregistration_delay.timeout_seconds': '300', 'proxy_protocol_v2.enabled': 'false' }, targets: new Map() };
        this.tgs.set(arn, tg);
        this.tags.set(arn, tagsOf(p['Tags']));
        return { TargetGroups: [this.tgXml(tg)] };
      }
      case 'DescribeTargetGroups': {
        const arns = strings(p['TargetGroupArns']);
        const names = strings(p['Names']);
        let found: TargetGroup[];
        if (arns.length > 0) {
          found = arns.map((a) => {
            const t = this.tgs.get(a);
            if (!t) throw this.notFound(a);
            return t;
          });
        } else if (names.length > 0) {
          found = names.map((n) => {
            const t = [...this.tgs.values()].find((x) => x.name === n);
            if (!t) throw new AwsError('TargetGroupNotFound', 'One or more target groups not found');
            return t;
          });
        } else if (str(p['LoadBalancerArn'])) {
          found = [...this.tgs.values()].filter((t) => [...this.listeners.values()].some((l) => l.lbArn === p['LoadBalancerArn'] && this.listenerUses(l, t.arn)));
        } else found = [...this.tgs.values()];
        return { TargetGroups: found.map((t) => this.tgXml(t)) };
      }
      case 'ModifyTargetGroup': {
        const tg = this.mustTg(p);
        refuseHealthCheck({ HealthCheckProtocol: tg.hc['HealthCheckProtocol'], ...p });
        for (const k of ['HealthCheckProtocol', 'HealthCheckPort', 'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount']) {
          const v = str(p[k]);
          if (v !== undefined) tg.hc[k] = v;
        }
        const m = str((p['Matcher'] as Obj | undefined)?.['HttpCode']);
        if (m !== undefined) tg.hc['Matcher'] = m;
        const g = str((p['Matcher'] as Obj | undefined)?.['GrpcCode']);
        if (g !== undefined) tg.hc['GrpcCode'] = g;
        return { TargetGroups: [this.tgXml(tg)] };
      }
      case 'DeleteTargetGroup': {
        const arn = str(p['TargetGroupArn']) ?? '';
        if (!this.tgs.has(arn)) return {};
        const user = [...this.listeners.values()].find((l) => this.listenerUses(l, arn));
        if (user) throw new AwsError('ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`);
        this.tgs.delete(arn);
        this.tags.delete(arn);
        return {};
      }
      case 'DescribeTargetGroupAttributes': {
        const tg = this.mustTg(p);
        return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'ModifyTargetGroupAttributes': {
        const tg = this.mustTg(p);
        for (const a of list(p['Attributes'])) tg.attributes[str(a['Key']) ?? ''] = str(a['Value']) ?? '';
        return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'RegisterTargets': {
        const tg = this.mustTg(p);
        // An instance group takes instance IDs only; ELBv2 names the first other id
        // (ValidationError "Instance ID '10.19.173.98' is not valid", as ALBC issue #3668 shows for an ip into an instance group).
        if (tg.targetType === 'instance') {
          const bad = list(p['Targets']).map((t) => str(t['Id']) ?? '').find((id) => !/^i-[0-9a-f]+$/.test(id));
          if (bad !== undefined) throw new AwsError('ValidationError', `Instance ID '${bad}' is not valid`);
        }
        for (const t of list(p['Targets'])) {
          const id = str(t['Id']) ?? '';
          const port = Number(t['Port'] ?? tg.port);
          tg.targets.set(`${id}:${port}`, { id, port });
        }
        return {};
      }
      case 'DeregisterTargets': {
        const tg = this.mustTg(p);
        for (const t of list(p['Targets'])) tg.targets.delete(`${str(t['Id']) ?? ''}:${Number(t['Port'] ?? tg.port)}`);
        return {};
      }
      case 'DescribeTargetHealth': {
        const tg = this.mustTg(p);
        return { TargetHealthDescriptions: [...tg.targets.values()].map((t) => ({ Target: { Id: t.id, Port: t.port }, HealthCheckPort: String(t.port), TargetHealth: { State: 'initial' } })) };
      }
      case 'CreateListener': {
        const lbArn = str(p['LoadBalancerArn']) ?? '';
        const lb = this.lbs.get(lbArn);
        if (!lb) throw this.notFound(lbArn);
        const port = Number(p['Port']);
        const protocol = str(p['Protocol']) ?? '';
        const certificates = list(p['Certificates']).map((c) => str(c['CertificateArn']) ?? '');
        if ((protocol === 'HTTPS' || protocol === 'TLS') && certificates.length === 0) throw new AwsError('ValidationError', `A certificate must be specified for ${protocol} listeners`);
        const defaultActions = this.parseActions(p['DefaultActions']);
        this.checkListenerProtocols(lb.type, protocol, defaultActions);
        this.checkAuthProtocol(protocol, defaultActions);
        const mutualAuthentication = this.parseMutualAuth(protocol, p['MutualAuthentication']);
        const alpnPolicy = this.parseAlpnPolicy(protocol, p['AlpnPolicy']);
        const existing = [...this.listeners.values()].find((l) => l.lbArn === lbArn && l.port === port);
        if (existing) {
          if (existing.protocol === protocol && JSON.stringify(existing.defaultActions) === JSON.stringify(defaultActions)) return { Listeners: [this.listenerXml(existing)] };
          throw new AwsError('DuplicateListener', `A listener already exists on port ${port}`);
        }
        this.checkTgAssociation(lbArn, defaultActions);
        const arn = this.arn('listener', `${lb.type === 'network' ? 'net' : 'app'}/${lb.name}/${lb.arn.split('/').pop() ?? ''}/${hex(8)}`);
        const sslPolicy = str(p['SslPolicy']) ?? (protocol === 'HTTPS' || protocol === 'TLS' ? 'ELBSecurityPolicy-2016-08' : undefined);
        const l: Listener = {
          arn,
          lbArn,
          port,
          protocol,
          ...(sslPolicy ? { sslPolicy } : {}),
          certificates,
          defaultActions,
          ...(mutualAuthentication ? { mutualAuthentication } : {}),
          ...(alpnPolicy !== undefined ? { alpnPolicy } : {}),
          attributes: {},
        };
        this.listeners.set(arn, l);
        this.tags.set(arn, tagsOf(p['Tags']));
        return { Listeners: [this.listenerXml(l)] };
      }
      case 'DescribeTrustStores': {
        const names = strings(p['Names']);
        const arns = strings(p['TrustStoreArns']);
        const all = [...this.trustStores.values()];
        const found = all.filter((t) => (names.length === 0 || names.includes(t.name)) && (arns.length === 0 || arns.includes(t.arn)));
        // As DescribeTargetGroups by name: one unknown name or ARN fails the whole call.
        if (names.some((n) => !all.some((t) => t.name === n)) || arns.some((a) => !this.trustStores.has(a))) throw new AwsError('TrustStoreNotFound', 'One or more trust stores not found');
        return { TrustStores: found.map((t) => ({ Name: t.name, TrustStoreArn: t.arn, Status: 'ACTIVE', NumberOfCaCertificates: 1, TotalRevokedEntries: 0 })) };
      }
      case 'DescribeListeners': {
        const lbArn = str(p['LoadBalancerArn']);
        const arns = strings(p['ListenerArns']);
        if (lbArn !== undefined && !this.lbs.has(lbArn)) throw this.notFound(lbArn);
        const found = arns.length > 0 ? arns.map((a) => this.mustListener(a)) : [...this.listeners.values()].filter((l) => l.lbArn === lbArn);
        return { Listeners: found.map((l) => this.listenerXml(l)) };
      }
      case 'ModifyListener': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        if (p['Port'] !== undefined) {
          const port = Number(p['Port']);
          if ([...this.listeners.values()].some((x) => x !== l && x.lbArn === l.lbArn && x.port === port)) throw new AwsError('DuplicateListener', `A listener already exists on port ${port}`);
          l.port = port;
        }
        if (p['Protocol'] !== undefined) {
          const protocol = str(p['Protocol']) ?? l.protocol;
          if (p['DefaultActions'] === undefined) this.checkListenerProtocols(this.lbs.get(l.lbArn)?.type ?? '', protocol, l.defaultActions);
          l.protocol = protocol;
        }
        if (p['MutualAuthentication'] !== undefined) l.mutualAuthentication = this.parseMutualAuth(l.protocol, p['MutualAuthentication']);
        else if (l.protocol !== 'HTTPS') delete l.mutualAuthentication;
        if (p['SslPolicy'] !== undefined) l.sslPolicy = str(p['SslPolicy']) ?? '';
        if (p['AlpnPolicy'] !== undefined) l.alpnPolicy = this.parseAlpnPolicy(l.protocol, p['AlpnPolicy']) ?? 'None';
        else if (l.protocol !== 'TLS') delete l.alpnPolicy;
        const certs = list(p['Certificates']).map((c) => str(c['CertificateArn']) ?? '');
        if (certs.length > 0) l.certificates = [certs[0] ?? '', ...l.certificates.slice(1).filter((c) => c !== certs[0])];
        if (p['DefaultActions'] !== undefined) {
          const actions = this.parseActions(p['DefaultActions']);
          this.checkListenerProtocols(this.lbs.get(l.lbArn)?.type ?? '', l.protocol, actions);
          this.checkTgAssociation(l.lbArn, actions);
          this.checkAuthProtocol(l.protocol, actions);
          l.defaultActions = actions;
        }
        if ((l.protocol === 'HTTPS' || l.protocol === 'TLS') && l.certificates.length === 0) throw new AwsError('ValidationError', `A certificate must be specified for ${l.protocol} listeners`);
        return { Listeners: [this.listenerXml(l)] };
      }
      case 'DeleteListener': {
        const arn = str(p['ListenerArn']) ?? '';
        this.mustListener(arn);
        this.deleteListener(arn);
        return {};
      }
      case 'DescribeListenerAttributes': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        return { Attributes: Object.entries({ ...listenerAttributeDefaults(l.protocol), ...l.attributes }).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'ModifyListenerAttributes': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        const known = listenerAttributeDefaults(l.protocol);
        const given = list(p['Attributes']).map((a) => [str(a['Key']) ?? '', str(a['Value']) ?? ''] as const);
        if (given.length === 0) throw new AwsError('ValidationError', "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null");
        // All or nothing, as ModifyLoadBalancerAttributes: one key ELBv2 does not know on this listener fails the call.
        for (const [key, value] of given) {
          if (!(key in known)) throw new AwsError('ValidationError', `Listener attribute key '${key}' is not recognized`);
          if (key === 'tcp.idle_timeout.seconds' && !(/^\d+$/.test(value) && Number(value) >= 60 && Number(value) <= 6000)) throw new AwsError('ValidationError', `Listener attribute 'tcp.idle_timeout.seconds' value '${value}' must be between 60 and 6000`);
          if (key === 'routing.http.response.server.enabled' && value !== 'true' && value !== 'false') throw new AwsError('ValidationError', `Listener attribute '${key}' value '${value}' must be true or false`);
        }
        for (const [key, value] of given) l.attributes[key] = value;
        return { Attributes: given.map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'DescribeListenerCertificates': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        return { Certificates: l.certificates.map((c, i) => ({ CertificateArn: c, IsDefault: i === 0 ? 'true' : 'false' })) };
      }
      case 'AddListenerCertificates': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        for (const c of list(p['Certificates'])) {
          const arn = str(c['CertificateArn']) ?? '';
          if (!l.certificates.includes(arn)) l.certificates.push(arn);
        }
        return { Certificates: l.certificates.slice(1).map((c) => ({ CertificateArn: c, IsDefault: 'false' })) };
      }
      case 'RemoveListenerCertificates': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        const drop = new Set(list(p['Certificates']).map((c) => str(c['CertificateArn']) ?? ''));
        l.certificates = [l.certificates[0] ?? '', ...l.certificates.slice(1).filter((c) => !drop.has(c))].filter((c) => c !== '');
        return {};
      }
      case 'CreateRule': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        const priority = Number(p['Priority']);
        if ([...this.rules.values()].some((r) => r.listenerArn === l.arn && r.priority === priority)) throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
        const actions = this.parseActions(p['Actions']);
        this.checkTgAssociation(l.lbArn, actions);
        this.checkAuthProtocol(l.protocol, actions);
        const arn = this.arn('listener-rule', `${l.arn.split(':listener/')[1] ?? ''}/${hex(8)}`);
        const r: Rule = { arn, listenerArn: l.arn, priority, conditions: this.parseConditions(p['Conditions']), actions, transforms: this.parseTransforms(p['Transforms']) };
        this.rules.set(arn, r);
        this.tags.set(arn, tagsOf(p['Tags']));
        return { Rules: [this.ruleXml(r)] };
      }
      case 'ModifyRule': {
        const r = this.rules.get(str(p['RuleArn']) ?? '');
        if (!r) throw new AwsError('RuleNotFound', 'rule not found');
        if (p['Conditions'] !== undefined) r.conditions = this.parseConditions(p['Conditions']);
        // ELBv2 ModifyRule: "If you specify Transforms, you can't specify ResetTransforms"; given neither, they stay.
        if (p['Transforms'] !== undefined && str(p['ResetTransforms']) === 'true') throw new AwsError('ValidationError', "If you specify Transforms, you can't specify ResetTransforms");
        if (p['Transforms'] !== undefined) r.transforms = this.parseTransforms(p['Transforms']);
        if (str(p['ResetTransforms']) === 'true') r.transforms = [];
        if (p['Actions'] !== undefined) {
          const actions = this.parseActions(p['Actions']);
          this.checkAuthProtocol(this.mustListener(r.listenerArn).protocol, actions);
          r.actions = actions;
        }
        return { Rules: [this.ruleXml(r)] };
      }
      case 'DeleteRule': {
        const arn = str(p['RuleArn']) ?? '';
        if (!this.rules.has(arn)) throw new AwsError('RuleNotFound', 'rule not found');
        this.rules.delete(arn);
        this.tags.delete(arn);
        return {};
      }
      case 'DescribeRules': {
        const l = this.mustListener(str(p['ListenerArn']) ?? '');
        const rules = [...this.rules.values()].filter((r) => r.listenerArn === l.arn).sort((a, b) => a.priority - b.priority);
        return {
          Rules: [
            ...rules.map((r) => this.ruleXml(r)),
            { RuleArn: `${l.arn.replace(':listener/', ':listener-rule/')}/default`, Priority: 'default', IsDefault: 'true', Conditions: [], Actions: l.defaultActions.map((a) => this.actionXml(a)) },
          ],
        };
      }
      default:
        throw new AwsError('InvalidAction', `the fake does not implement ${action}`);
    }
  }

  private parseTransforms(v: unknown): Rule['transforms'] {
    const out = list(v).map((t) => {
      const type = str(t['Type']) ?? '';
      if (type !== 'host-header-rewrite' && type !== 'url-rewrite') throw new AwsError('ValidationError', `unknown transform type ${type}`);
      const config = (type === 'host-header-rewrite' ? t['HostHeaderRewriteConfig'] : t['UrlRewriteConfig']) as Obj | undefined;
      const rewrites = list(config?.['Rewrites']).map((r) => ({ Regex: str(r['Regex']) ?? '', Replace: str(r['Replace']) ?? '' }));
      if (rewrites.length !== 1) throw new AwsError('ValidationError', `a ${type} transform takes one rewrite`);
      return { type, rewrites };
    });
    if (new Set(out.map((t) => t.type)).size !== out.length) throw new AwsError('ValidationError', 'a rule takes one host header rewrite transform and one URL rewrite transform');
    return out;
  }

  private parseConditions(v: unknown): Rule['conditions'] {
    return list(v).map((c) => {
      const field = str(c['Field']) ?? '';
      const regex = strings(c['RegexValues']);
      if (regex.length > 0) {
        // RegexValues: "Specify only when Field is http-header, host-header, or path-pattern", instead of Values.
        if (field !== 'http-header' && field !== 'host-header' && field !== 'path-pattern') throw new AwsError('ValidationError', `RegexValues cannot be used with ${field}`);
        const config = (c['HttpHeaderConfig'] ?? c['HostHeaderConfig'] ?? c['PathPatternConfig']) as Obj | undefined;
        if (strings(config?.['Values']).length > 0 || strings(c['Values']).length > 0) throw new AwsError('ValidationError', 'Values and RegexValues cannot both be specified');
        return { field, values: [], regex, ...(field === 'http-header' ? { name: str(config?.['HttpHeaderName']) ?? '' } : {}) };
      }
      if (field === 'http-header') {
        const h = (c['HttpHeaderConfig'] ?? {}) as Obj;
        return { field, name: str(h['HttpHeaderName']) ?? '', values: strings(h['Values']) };
      }
      if (field === 'query-string') {
        const q = (c['QueryStringConfig'] ?? {}) as Obj;
        return { field, values: [], pairs: list(q['Values']).map((kv) => ({ ...(str(kv['Key']) !== undefined ? { Key: str(kv['Key']) } : {}), Value: str(kv['Value']) ?? '' })) };
      }
      const config = (c['HostHeaderConfig'] ?? c['PathPatternConfig'] ?? c['HttpRequestMethodConfig'] ?? c['SourceIpConfig']) as Obj | undefined;
      return { field, values: [...strings(config?.['Values']), ...strings(c['Values'])] };
    });
  }

  private ruleXml(r: Rule): Obj {
    return {
      RuleArn: r.arn,
      Priority: String(r.priority),
      IsDefault: 'false',
      Conditions: r.conditions.map((c) => ({
        Field: c.field,
        ...(c.regex !== undefined ? { RegexValues: c.regex } : {}),
        ...(c.field === 'host-header' || c.field === 'path-pattern' ? { Values: c.values } : {}),
        ...(c.field === 'host-header' ? { HostHeaderConfig: { Values: c.values } } : {}),
        ...(c.field === 'path-pattern' ? { PathPatternConfig: { Values: c.values } } : {}),
        ...(c.field === 'http-header' ? { HttpHeaderConfig: { HttpHeaderName: c.name, Values: c.values } } : {}),
        ...(c.field === 'http-request-method' ? { HttpRequestMethodConfig: { Values: c.values } } : {}),
        ...(c.field === 'source-ip' ? { SourceIpConfig: { Values: c.values } } : {}),
        ...(c.field === 'query-string' ? { QueryStringConfig: { Values: c.pairs ?? [] } } : {}),
      })),
      Actions: r.actions.map((a) => this.actionXml(a)),
      ...(r.transforms.length > 0
        ? {
            Transforms: r.transforms.map((t) => ({
              Type: t.type,
              [t.type === 'host-header-rewrite' ? 'HostHeaderRewriteConfig' : 'UrlRewriteConfig']: { Rewrites: t.rewrites },
            })),
          }
        : {}),
    };
  }

  private deleteListener(arn: string): void {
    for (const r of [...this.rules.values()]) {
      if (r.listenerArn === arn) {
        this.rules.delete(r.arn);
        this.tags.delete(r.arn);
      }
    }
    this.listeners.delete(arn);
    this.tags.delete(arn);
  }

  private mustLb(p: Obj): LoadBalancer {
    const arn = str(p['LoadBalancerArn']) ?? '';
    const lb = this.lbs.get(arn);
    if (!lb) throw this.notFound(arn);
    return lb;
  }

  private mustTg(p: Obj): TargetGroup {
    const arn = str(p['TargetGroupArn']) ?? '';
    const tg = this.tgs.get(arn);
    if (!tg) throw this.notFound(arn);
    return tg;
  }

  private mustListener(arn: string): Listener {
    const l = this.listeners.get(arn);
    if (!l) throw new AwsError('ListenerNotFound', `listener ${arn} not found`);
    return l;
  }

  // ---- EC2 -------------------------------------------------------------------------

  private filterMatch(filters: Obj[], tags: Tags, fields: Record<string, string>): boolean {
    return filters.every((f) => {
      const name = str(f['Name']) ?? '';
      const values = strings(f['Value']);
      if (name === 'tag-key') return values.some((v) => tags[v] !== undefined);
      if (name.startsWith('tag:')) {
        const t = tags[name.slice(4)];
        return t !== undefined && values.includes(t);
      }
      const field = fields[name];
      if (field === undefined) throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      return values.includes(field);
    });
  }

  private sgXml(g: SecurityGroup): Obj {
    const byPort = new Map<string, Perm[]>();
    for (const p of g.ingress) byPort.set(`${p.protocol}/${p.from}/${p.to}`, [...(byPort.get(`${p.protocol}/${p.from}/${p.to}`) ?? []), p]);
    return {
      ownerId: ACCOUNT,
      groupId: g.id,
      groupName: g.name,
      groupDescription: g.description,
      vpcId: g.vpcId,
      ipPermissions: [...byPort.values()].map((ps) => ({
        ipProtocol: ps[0]?.protocol,
        fromPort: ps[0]?.from,
        toPort: ps[0]?.to,
        groups: ps.filter((p) => p.source !== undefined).map((p) => ({ groupId: p.source, userId: ACCOUNT })),
        ipRanges: ps.filter((p) => p.cidr !== '' && !p.cidr.includes(':')).map((p) => ({ cidrIp: p.cidr })),
        ipv6Ranges: ps.filter((p) => p.cidr.includes(':')).map((p) => ({ cidrIpv6: p.cidr })),
        prefixListIds: ps.filter((p) => p.prefixList !== undefined).map((p) => ({ prefixListId: p.prefixList })),
      })),
      ipPermissionsEgress: [{ ipProtocol: '-1', groups: [], ipRanges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [], prefixListIds: [] }],
      tagSet: Object.entries(g.tags).map(([key, value]) => ({ key, value })),
    };
  }

  private perms(v: unknown, tags: Tags = {}): Perm[] {
    const out: Perm[] = [];
    for (const p of list(v)) {
      const protocol = str(p['IpProtocol']) ?? '-1';
      const from = Number(p['FromPort'] ?? -1);
      const to = Number(p['ToPort'] ?? -1);
      const base = { protocol, from, to, tags: { ...tags } };
      for (const r of list(p['IpRanges'])) out.push({ ...base, cidr: str(r['CidrIp']) ?? '', ruleId: `sgr-${hex(8)}` });
      for (const r of list(p['Ipv6Ranges'])) out.push({ ...base, cidr: str(r['CidrIpv6']) ?? '', ruleId: `sgr-${hex(8)}` });
      // The EC2 query protocol names UserIdGroupPairs `Groups`.
      for (const r of list(p['Groups'])) {
        const source = str(r['GroupId']) ?? '';
        this.mustSg(source);
        out.push({ ...base, cidr: '', source, ruleId: `sgr-${hex(8)}` });
      }
      for (const r of list(p['PrefixListIds'])) {
        const prefixList = str(r['PrefixListId']) ?? '';
        if (!this.prefixLists.has(prefixList)) throw new AwsError('InvalidPrefixListId.NotFound', `The prefix list ID '${prefixList}' does not exist`);
        out.push({ ...base, cidr: '', prefixList, ruleId: `sgr-${hex(8)}` });
      }
    }
    return out;
  }

  private samePerm(a: Perm, b: Perm): boolean {
    return a.protocol === b.protocol && a.from === b.from && a.to === b.to && a.cidr === b.cidr && a.source === b.source && a.prefixList === b.prefixList;
  }

  private sgRuleXml(g: SecurityGroup, p: Perm): Obj {
    return {
      securityGroupRuleId: p.ruleId,
      groupId: g.id,
      groupOwnerId: ACCOUNT,
      isEgress: 'false',
      ipProtocol: p.protocol,
      fromPort: p.from,
      toPort: p.to,
      ...(p.source !== undefined
        ? { referencedGroupInfo: { groupId: p.source, userId: ACCOUNT } }
        : p.prefixList !== undefined
          ? { prefixListId: p.prefixList }
          : p.cidr.includes(':')
            ? { cidrIpv6: p.cidr }
            : { cidrIpv4: p.cidr }),
      tagSet: Object.entries(p.tags).map(([key, value]) => ({ key, value })),
    };
  }

  private mustSg(id: string): SecurityGroup {
    const g = this.securityGroups.get(id);
    if (!g) throw new AwsError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return g;
  }

  private ec2(action: string, p: Obj): unknown {
    switch (action) {
      case 'DescribeSubnets': {
        const ids = strings(p['SubnetId']);
        for (const id of ids) if (!this.subnets.has(id)) throw new AwsError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
        const filters = list(p['Filter']);
        const found = [...this.subnets.values()].filter((s) => (ids.length === 0 || ids.includes(s.id)) && this.filterMatch(filters, s.tags, { 'vpc-id': s.vpcId, 'subnet-id': s.id, 'availability-zone': s.az }));
        return {
          subnetSet: found.map((s) => ({
            subnetId: s.id,
            vpcId: s.vpcId,
            availabilityZone: s.az,
            cidrBlock: s.cidr,
            availableIpAddressCount: s.free,
            state: 'available',
            tagSet: Object.entries(s.tags).map(([key, value]) => ({ key, value })),
          })),
        };
      }
      case 'DescribeSecurityGroups': {
        const ids = strings(p['GroupId']);
        for (const id of ids) this.mustSg(id);
        const filters = list(p['Filter']);
        const found = [...this.securityGroups.values()].filter((g) => (ids.length === 0 || ids.includes(g.id)) && this.filterMatch(filters, g.tags, { 'vpc-id': g.vpcId, 'group-id': g.id, 'group-name': g.name }));
        return { securityGroupInfo: found.map((g) => this.sgXml(g)) };
      }
      case 'CreateSecurityGroup': {
        const name = str(p['GroupName']) ?? '';
        const vpcId = str(p['VpcId']) ?? '';
        if ([...this.securityGroups.values()].some((g) => g.name === name && g.vpcId === vpcId)) throw new AwsError('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
        const id = `sg-${hex(8)}`;
        const tags: Tags = {};
        for (const spec of list(p['TagSpecification'])) if (spec['ResourceType'] === 'security-group') Object.assign(tags, tagsOf(spec['Tag']));
        this.securityGroups.set(id, { id, name, description: str(p['GroupDescription']) ?? '', vpcId, ingress: [], tags });
        return { return: 'true', groupId: id, tagSet: Object.entries(tags).map(([key, value]) => ({ key, value })) };
      }
      case 'DeleteSecurityGroup': {
        const id = str(p['GroupId']) ?? '';
        this.mustSg(id);
        const held = this.eniHolds.get(id) ?? 0;
        const referenced = [...this.securityGroups.values()].some((g) => g.ingress.some((p) => p.source === id));
        if ([...this.lbs.values()].some((l) => l.securityGroups.includes(id)) || held > 0 || referenced) {
          if (held > 0) this.eniHolds.set(id, held - 1);
          throw new AwsError('DependencyViolation', `resource ${id} has a dependent object`);
        }
        this.securityGroups.delete(id);
        return { return: 'true' };
      }
      case 'AuthorizeSecurityGroupIngress': {
        const g = this.mustSg(str(p['GroupId']) ?? '');
        const tags: Tags = {};
        for (const spec of list(p['TagSpecification'])) if (spec['ResourceType'] === 'security-group-rule') Object.assign(tags, tagsOf(spec['Tag']));
        const add = this.perms(p['IpPermissions'], tags);
        for (const a of add) {
          if (g.ingress.some((x) => this.samePerm(x, a))) {
            throw new AwsError('InvalidPermission.Duplicate', `the specified rule "peer: ${a.source ?? a.prefixList ?? a.cidr}, ${a.protocol.toUpperCase()}, from port: ${a.from}, to port: ${a.to}, ALLOW" already exists`);
          }
        }
        g.ingress.push(...add);
        return { return: 'true', securityGroupRuleSet: add.map((a) => this.sgRuleXml(g, a)) };
      }
      case 'RevokeSecurityGroupIngress': {
        const g = this.mustSg(str(p['GroupId']) ?? '');
        const ids = strings(p['SecurityGroupRuleId']);
        if (ids.length > 0) {
          for (const id of ids) if (!g.ingress.some((x) => x.ruleId === id)) throw new AwsError('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
          g.ingress = g.ingress.filter((x) => !ids.includes(x.ruleId));
          return { return: 'true' };
        }
        const drop = this.perms(p['IpPermissions']);
        for (const d of drop) {
          const i = g.ingress.findIndex((x) => this.samePerm(x, d));
          if (i < 0) throw new AwsError('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
          g.ingress.splice(i, 1);
        }
        return { return: 'true' };
      }
      case 'DescribeSecurityGroupRules': {
        const filters = list(p['Filter']);
        const groupIds = filters.filter((f) => f['Name'] === 'group-id').flatMap((f) => strings(f['Value']));
        const others = filters.filter((f) => f['Name'] !== 'group-id');
        const found: Obj[] = [];
        for (const g of this.securityGroups.values()) {
          if (groupIds.length > 0 && !groupIds.includes(g.id)) continue;
          for (const perm of g.ingress) if (this.filterMatch(others, perm.tags, {})) found.push(this.sgRuleXml(g, perm));
        }
        return { securityGroupRuleSet: found };
      }
      case 'DescribeInstances': {
        const ids = strings(p['InstanceId']);
        // EC2 checks the form of every id before looking any up, then names the missing ones.
        const malformed = ids.filter((id) => !/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id));
        if (malformed.length > 0) throw new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${malformed[0]}"`);
        const missing = ids.filter((id) => !this.instances.has(id));
        if (missing.length > 0) throw new AwsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
        const found = [...this.instances.values()].filter((i) => ids.length === 0 || ids.includes(i.id));
        return {
          reservationSet: found.map((i) => ({
            reservationId: `r-${hex(8)}`,
            ownerId: ACCOUNT,
            instancesSet: [{ instanceId: i.id, vpcId: i.vpcId, instanceState: { code: 16, name: 'running' } }],
          })),
        };
      }
      case 'DescribeRouteTables': {
        const filters = list(p['Filter']);
        const found = this.routeTables.filter((t) => this.filterMatch(filters, {}, { 'vpc-id': t.vpcId, 'route-table-id': t.id }));
        return {
          routeTableSet: found.map((t) => ({
            routeTableId: t.id,
            vpcId: t.vpcId,
            ownerId: ACCOUNT,
            associationSet: [
              ...(t.main ? [{ routeTableAssociationId: `rtbassoc-${hex(8)}`, routeTableId: t.id, main: 'true' }] : []),
              ...t.subnets.map((sub) => ({ routeTableAssociationId: `rtbassoc-${hex(8)}`, routeTableId: t.id, subnetId: sub, main: 'false' })),
            ],
            routeSet: [
              { destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local', state: 'active', origin: 'CreateRouteTable' },
              ...(t.igw ? [{ destinationCidrBlock: '0.0.0.0/0', gatewayId: 'igw-0fake', state: 'active', origin: 'CreateRoute' }] : []),
            ],
            tagSet: [],
          })),
        };
      }
      case 'CreateTags': {
        for (const id of strings(p['ResourceId'])) Object.assign(this.mustSg(id).tags, tagsOf(p['Tag']));
        return { return: 'true' };
      }
      default:
        throw new AwsError('InvalidAction', `the fake does not implement ${action}`);
    }
  }

  // ---- ACM -------------------------------------------------------------------------

  /**
   * WAFv2, the association calls: an unknown web ACL or load balancer is
   * WAFNonexistentItemException, a global (CloudFront) ACL on an ALB is
   * WAFInvalidParameterException, as WAFv2 answers.
   */
  private wafv2(action: string, p: Obj): unknown {
    const resource = typeof p['ResourceArn'] === 'string' ? p['ResourceArn'] : '';
    const nonexistent = (): AwsError => new AwsError('WAFNonexistentItemException', "AWS WAF couldn't perform the operation because your resource doesn't exist.");
    if (!this.lbs.has(resource)) throw nonexistent();
    switch (action) {
      case 'GetWebACLForResource': {
        const arn = this.webAclOf.get(resource);
        return arn === undefined ? {} : { WebACL: { ARN: arn, Name: arn.split('/').at(-2), Id: arn.split('/').at(-1) } };
      }
      case 'AssociateWebACL': {
        const acl = typeof p['WebACLArn'] === 'string' ? p['WebACLArn'] : '';
        if (acl.includes(':global/')) throw new AwsError('WAFInvalidParameterException', 'Error reason: The ARN isn\'t valid. A valid ARN begins with arn: and includes other information separated by colons or slashes., field: RESOURCE_ARN, parameter: ' + acl);
        if (!this.webAcls.has(acl)) throw nonexistent();
        this.webAclOf.set(resource, acl);
        return {};
      }
      case 'DisassociateWebACL':
        this.webAclOf.delete(resource);
        return {};
      default:
        throw new AwsError('UnknownOperationException', `unexpected WAFv2 action ${action}`);
    }
  }

  /** Shield Advanced protections: one per resource, as Shield allows. */
  private shield(action: string, p: Obj): unknown {
    const notFound = (): AwsError => new AwsError('ResourceNotFoundException', 'The referenced protection does not exist.');
    switch (action) {
      case 'DescribeProtection': {
        const resource = typeof p['ResourceArn'] === 'string' ? p['ResourceArn'] : '';
        const found = [...this.protections.values()].find((x) => x.resourceArn === resource);
        if (!found) throw notFound();
        return { Protection: { Id: found.id, Name: found.name, ResourceArn: found.resourceArn } };
      }
      case 'CreateProtection': {
        const resource = typeof p['ResourceArn'] === 'string' ? p['ResourceArn'] : '';
        if (!this.lbs.has(resource)) throw new AwsError('InvalidResourceException', `Unable to find the resource ${resource}`);
        if ([...this.protections.values()].some((x) => x.resourceArn === resource)) throw new AwsError('ResourceAlreadyExistsException', 'The referenced protection already exists.');
        const id = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
        this.protections.set(id, { id, name: typeof p['Name'] === 'string' ? p['Name'] : '', resourceArn: resource });
        return { ProtectionId: id };
      }
      case 'DeleteProtection': {
        const id = typeof p['ProtectionId'] === 'string' ? p['ProtectionId'] : '';
        if (!this.protections.delete(id)) throw notFound();
        return {};
      }
      default:
        throw new AwsError('UnknownOperationException', `unexpected Shield action ${action}`);
    }
  }

  private acm(action: string, p: Obj): unknown {
    switch (action) {
      case 'ListCertificates': {
        const statuses = strings(p['CertificateStatuses']);
        const includes = (p['Includes'] ?? {}) as Obj;
        // As ACM documents it: without Includes.keyTypes only RSA_1024 and RSA_2048 are listed.
        const keyTypes = includes['keyTypes'] !== undefined ? strings(includes['keyTypes']) : ['RSA_1024', 'RSA_2048'];
        const all = [...this.certificates.values()].filter((c) => (statuses.length === 0 || statuses.includes(c.status)) && keyTypes.includes(c.keyAlgorithm));
        const start = p['NextToken'] !== undefined ? Number(String(p['NextToken']).replace(/^page-/, '')) : 0;
        if (!Number.isInteger(start) || start < 0 || start > all.length) throw new AwsError('InvalidArgsException', 'invalid NextToken');
        const size = Math.min(this.acmPageSize, typeof p['MaxItems'] === 'number' ? p['MaxItems'] : 1000);
        const page = all.slice(start, start + size);
        return {
          CertificateSummaryList: page.map((c) => ({
            CertificateArn: c.arn,
            DomainName: c.domain,
            SubjectAlternativeNameSummaries: c.sans.slice(0, this.acmSummaryNames),
            HasAdditionalSubjectAlternativeNames: c.sans.length > this.acmSummaryNames,
            Status: c.status,
            KeyAlgorithm: c.keyAlgorithm,
            Type: 'AMAZON_ISSUED',
            InUse: false,
          })),
          ...(start + size < all.length ? { NextToken: `page-${start + size}` } : {}),
        };
      }
      case 'DescribeCertificate': {
        const arn = str(p['CertificateArn']) ?? '';
        const c = this.certificates.get(arn);
        if (!c) throw new AwsError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
        return { Certificate: { CertificateArn: c.arn, DomainName: c.domain, SubjectAlternativeNames: c.sans, Status: c.status, KeyAlgorithm: c.keyAlgorithm, Type: 'AMAZON_ISSUED' } };
      }
      default:
        throw new AwsError('UnknownOperationException', `the fake does not implement ${action}`);
    }
  }
}
