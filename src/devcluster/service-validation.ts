// The Service object as kube-apiserver v1.26 sees it: decoding (with Go's JSON type
// errors), defaulting (SetDefaults_Service), validation (ValidateService and friends)
// and encoding (Go field order and omitempty), each worded and ordered as the real
// server words and orders them, since clients and the contract suite compare texts.
import { isIPv4 as nodeIsIPv4, isIPv6 as nodeIsIPv6 } from 'node:net';
import { ApiError, badRequest, fieldError, type StatusCause } from './errors.js';
import { isObject } from './objects.js';

// ---------------------------------------------------------------------------------------
// Go-shaped Service (zero values instead of absent fields, as the Go structs have)

export interface ServicePort {
  name: string;
  protocol: string;
  appProtocol?: string;
  port: number;
  /** IntOrString: 0 / '' mean unset. */
  targetPort: number | string;
  nodePort: number;
}

export interface ServiceSpec {
  ports: ServicePort[];
  /** undefined is Go's nil map (no selector); {} is an empty, non-nil one. */
  selector?: Record<string, string>;
  clusterIP: string;
  clusterIPs: string[];
  type: string;
  externalIPs: string[];
  sessionAffinity: string;
  loadBalancerIP: string;
  loadBalancerSourceRanges: string[];
  externalName: string;
  externalTrafficPolicy: string;
  healthCheckNodePort: number;
  publishNotReadyAddresses: boolean;
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  ipFamilies: string[];
  ipFamilyPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean;
  loadBalancerClass?: string;
  internalTrafficPolicy?: string;
}

export interface ServiceStatus {
  loadBalancer: { ingress?: Record<string, unknown>[] };
  conditions?: Record<string, unknown>[];
}

// ---------------------------------------------------------------------------------------
// Decoding: a small schema walker that reproduces encoding/json's UnmarshalTypeError text.

type Schema =
  | { t: 'string'; go: string }
  | { t: 'int32' }
  | { t: 'bool' }
  | { t: 'intstr' }
  | { t: 'array'; of: Schema; go: string }
  | { t: 'map'; of: Schema; go: string }
  | { t: 'struct'; name: string; go: string; fields: Record<string, Schema> }
  | { t: 'raw' };

const str = (go = 'string'): Schema => ({ t: 'string', go });
const int32: Schema = { t: 'int32' };
const bool: Schema = { t: 'bool' };
const strings = (go = '[]string', el = 'string'): Schema => ({ t: 'array', go, of: str(el) });

const servicePortSchema: Schema = {
  t: 'struct', name: 'ServicePort', go: 'v1.ServicePort',
  fields: { name: str(), protocol: str('v1.Protocol'), appProtocol: str(), port: int32, targetPort: { t: 'intstr' }, nodePort: int32 },
};

const serviceSpecSchema: Schema = {
  t: 'struct', name: 'ServiceSpec', go: 'v1.ServiceSpec',
  fields: {
    ports: { t: 'array', go: '[]v1.ServicePort', of: servicePortSchema },
    selector: { t: 'map', go: 'map[string]string', of: str() },
    clusterIP: str(),
    clusterIPs: strings(),
    type: str('v1.ServiceType'),
    externalIPs: strings(),
    sessionAffinity: str('v1.ServiceAffinity'),
    loadBalancerIP: str(),
    loadBalancerSourceRanges: strings(),
    externalName: str(),
    externalTrafficPolicy: str('v1.ServiceExternalTrafficPolicyType'),
    healthCheckNodePort: int32,
    publishNotReadyAddresses: bool,
    sessionAffinityConfig: {
      t: 'struct', name: 'SessionAffinityConfig', go: 'v1.SessionAffinityConfig',
      fields: { clientIP: { t: 'struct', name: 'ClientIPConfig', go: 'v1.ClientIPConfig', fields: { timeoutSeconds: int32 } } },
    },
    ipFamilies: strings('[]v1.IPFamily', 'v1.IPFamily'),
    ipFamilyPolicy: str('v1.IPFamilyPolicy'),
    allocateLoadBalancerNodePorts: bool,
    loadBalancerClass: str(),
    internalTrafficPolicy: str('v1.ServiceInternalTrafficPolicyType'),
  },
};

const serviceStatusSchema: Schema = {
  t: 'struct', name: 'ServiceStatus', go: 'v1.ServiceStatus',
  fields: {
    loadBalancer: {
      t: 'struct', name: 'LoadBalancerStatus', go: 'v1.LoadBalancerStatus',
      fields: {
        ingress: {
          t: 'array', go: '[]v1.LoadBalancerIngress',
          of: {
            t: 'struct', name: 'LoadBalancerIngress', go: 'v1.LoadBalancerIngress',
            fields: {
              ip: str(),
              hostname: str(),
              ports: {
                t: 'array', go: '[]v1.PortStatus',
                of: { t: 'struct', name: 'PortStatus', go: 'v1.PortStatus', fields: { port: int32, protocol: str('v1.Protocol'), error: str() } },
              },
            },
          },
        },
      },
    },
    conditions: {
      t: 'array', go: '[]v1.Condition',
      of: {
        t: 'struct', name: 'Condition', go: 'v1.Condition',
        fields: { type: str(), status: str('v1.ConditionStatus'), observedGeneration: { t: 'int32' }, lastTransitionTime: { t: 'raw' }, reason: str(), message: str() },
      },
    },
  },
};

function jsonKind(v: unknown, forInt: boolean): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return forInt ? `number ${String(v)}` : 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function typeError(value: unknown, owner: string, path: string, goType: string, forInt = false): ApiError {
  return badRequest(`Service in version "v1" cannot be handled as a Service: json: cannot unmarshal ${jsonKind(value, forInt)} into Go struct field ${owner}.${path} of type ${goType}`);
}

function isInt32(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
}

/** Keeps only known fields (Go drops unknown ones); null means absent, as for Go. */
function decode(value: unknown, s: Schema, owner: string, path: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (s.t) {
    case 'string':
      if (typeof value !== 'string') throw typeError(value, owner, path, s.go);
      return value;
    case 'int32':
      if (typeof value === 'number' && !isInt32(value)) throw typeError(value, owner, path, 'int32', true);
      if (typeof value !== 'number') throw typeError(value, owner, path, 'int32');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw typeError(value, owner, path, 'bool');
      return value;
    case 'intstr':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && !isInt32(value)) throw typeError(value, owner, path, 'int32', true);
      if (typeof value !== 'number') throw typeError(value, owner, path, 'int32');
      return value;
    case 'raw':
      return value;
    case 'array': {
      if (!Array.isArray(value)) throw typeError(value, owner, path, s.go);
      const elGo = s.of.t === 'struct' ? s.of.go : s.of.t === 'string' ? s.of.go : s.of.t;
      return value.map((el) => {
        if (s.of.t === 'struct' && el !== null && !isObject(el)) throw typeError(el, owner, path, elGo);
        return decode(el, s.of, owner, path) ?? (s.of.t === 'struct' ? {} : zeroOf(s.of));
      });
    }
    case 'map': {
      if (!isObject(value)) throw typeError(value, owner, path, s.go);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const d = decode(v, s.of, owner, path);
        out[k] = d ?? zeroOf(s.of);
      }
      return out;
    }
    case 'struct': {
      if (!isObject(value)) throw typeError(value, owner, path, s.go);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const fs = s.fields[k];
        if (!fs) continue;
        const d = decode(v, fs, s.name, `${path}.${k}`);
        if (d !== undefined) out[k] = d;
      }
      return out;
    }
  }
}

function zeroOf(s: Schema): unknown {
  switch (s.t) {
    case 'string':
      return '';
    case 'int32':
    case 'intstr':
      return 0;
    case 'bool':
      return false;
    default:
      return undefined;
  }
}

type Loose = Record<string, unknown>;

function toPort(p: Loose): ServicePort {
  const out: ServicePort = {
    name: (p.name as string | undefined) ?? '',
    protocol: (p.protocol as string | undefined) ?? '',
    port: (p.port as number | undefined) ?? 0,
    targetPort: (p.targetPort as number | string | undefined) ?? 0,
    nodePort: (p.nodePort as number | undefined) ?? 0,
  };
  if (p.appProtocol !== undefined) out.appProtocol = p.appProtocol as string;
  return out;
}

/** Decodes `spec` into the Go shape; 400 BadRequest with encoding/json's text on type errors. */
export function decodeServiceSpec(raw: unknown): ServiceSpec {
  if (raw !== undefined && raw !== null && !isObject(raw)) throw typeError(raw, 'Service', 'spec', 'v1.ServiceSpec');
  const d = (decode(raw ?? {}, serviceSpecSchema, 'Service', 'spec') ?? {}) as Loose;
  const spec: ServiceSpec = {
    ports: ((d.ports as Loose[] | undefined) ?? []).map(toPort),
    clusterIP: (d.clusterIP as string | undefined) ?? '',
    clusterIPs: (d.clusterIPs as string[] | undefined) ?? [],
    type: (d.type as string | undefined) ?? '',
    externalIPs: (d.externalIPs as string[] | undefined) ?? [],
    sessionAffinity: (d.sessionAffinity as string | undefined) ?? '',
    loadBalancerIP: (d.loadBalancerIP as string | undefined) ?? '',
    loadBalancerSourceRanges: (d.loadBalancerSourceRanges as string[] | undefined) ?? [],
    externalName: (d.externalName as string | undefined) ?? '',
    externalTrafficPolicy: (d.externalTrafficPolicy as string | undefined) ?? '',
    healthCheckNodePort: (d.healthCheckNodePort as number | undefined) ?? 0,
    publishNotReadyAddresses: (d.publishNotReadyAddresses as boolean | undefined) ?? false,
    ipFamilies: (d.ipFamilies as string[] | undefined) ?? [],
  };
  if (d.selector !== undefined) spec.selector = d.selector as Record<string, string>;
  if (d.sessionAffinityConfig !== undefined) spec.sessionAffinityConfig = d.sessionAffinityConfig as ServiceSpec['sessionAffinityConfig'];
  for (const k of ['ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy'] as const) {
    if (d[k] !== undefined) (spec as unknown as Loose)[k] = d[k];
  }
  return spec;
}

export function decodeServiceStatus(raw: unknown): ServiceStatus {
  if (raw !== undefined && raw !== null && !isObject(raw)) throw typeError(raw, 'Service', 'status', 'v1.ServiceStatus');
  const d = (decode(raw ?? {}, serviceStatusSchema, 'Service', 'status') ?? {}) as Loose;
  const lb = (d.loadBalancer as Loose | undefined) ?? {};
  const status: ServiceStatus = { loadBalancer: {} };
  const ingress = lb.ingress as Loose[] | undefined;
  if (ingress && ingress.length) status.loadBalancer.ingress = ingress;
  const conditions = d.conditions as Loose[] | undefined;
  if (conditions && conditions.length) status.conditions = conditions;
  return status;
}

// ---------------------------------------------------------------------------------------
// Encoding: Go struct field order, omitempty as the v1 types declare it.

export function encodeServiceSpec(s: ServiceSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.ports.length) {
    out.ports = s.ports.map((p) => {
      const o: Record<string, unknown> = {};
      if (p.name) o.name = p.name;
      if (p.protocol) o.protocol = p.protocol;
      if (p.appProtocol !== undefined) o.appProtocol = p.appProtocol;
      o.port = p.port;
      o.targetPort = p.targetPort;
      if (p.nodePort) o.nodePort = p.nodePort;
      return o;
    });
  }
  if (s.selector && Object.keys(s.selector).length) out.selector = { ...s.selector };
  if (s.clusterIP) out.clusterIP = s.clusterIP;
  if (s.clusterIPs.length) out.clusterIPs = [...s.clusterIPs];
  if (s.type) out.type = s.type;
  if (s.externalIPs.length) out.externalIPs = [...s.externalIPs];
  if (s.sessionAffinity) out.sessionAffinity = s.sessionAffinity;
  if (s.loadBalancerIP) out.loadBalancerIP = s.loadBalancerIP;
  if (s.loadBalancerSourceRanges.length) out.loadBalancerSourceRanges = [...s.loadBalancerSourceRanges];
  if (s.externalName) out.externalName = s.externalName;
  if (s.externalTrafficPolicy) out.externalTrafficPolicy = s.externalTrafficPolicy;
  if (s.healthCheckNodePort) out.healthCheckNodePort = s.healthCheckNodePort;
  if (s.publishNotReadyAddresses) out.publishNotReadyAddresses = true;
  if (s.sessionAffinityConfig) {
    const c = s.sessionAffinityConfig;
    out.sessionAffinityConfig = c.clientIP
      ? { clientIP: c.clientIP.timeoutSeconds !== undefined ? { timeoutSeconds: c.clientIP.timeoutSeconds } : {} }
      : {};
  }
  if (s.ipFamilies.length) out.ipFamilies = [...s.ipFamilies];
  if (s.ipFamilyPolicy !== undefined) out.ipFamilyPolicy = s.ipFamilyPolicy;
  if (s.allocateLoadBalancerNodePorts !== undefined) out.allocateLoadBalancerNodePorts = s.allocateLoadBalancerNodePorts;
  if (s.loadBalancerClass !== undefined) out.loadBalancerClass = s.loadBalancerClass;
  if (s.internalTrafficPolicy !== undefined) out.internalTrafficPolicy = s.internalTrafficPolicy;
  return out;
}

export function encodeServiceStatus(s: ServiceStatus): Record<string, unknown> {
  const lb: Record<string, unknown> = {};
  if (s.loadBalancer.ingress?.length) {
    lb.ingress = s.loadBalancer.ingress.map((i) => {
      const o: Record<string, unknown> = {};
      if (i.ip) o.ip = i.ip;
      if (i.hostname) o.hostname = i.hostname;
      const ports = i.ports as Loose[] | undefined;
      if (ports?.length) {
        o.ports = ports.map((p) => {
          const po: Record<string, unknown> = { port: p.port ?? 0, protocol: p.protocol ?? '' };
          if (p.error !== undefined) po.error = p.error;
          return po;
        });
      }
      return o;
    });
  }
  const out: Record<string, unknown> = { loadBalancer: lb };
  if (s.conditions?.length) {
    // metav1.Condition has no omitempty on these, so a decoded condition always carries them.
    out.conditions = s.conditions.map((c) => {
      const o: Record<string, unknown> = { type: c.type ?? '', status: c.status ?? '' };
      if (c.observedGeneration) o.observedGeneration = c.observedGeneration;
      o.lastTransitionTime = c.lastTransitionTime ?? null;
      o.reason = c.reason ?? '';
      o.message = c.message ?? '';
      return o;
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Defaults (k8s.io/kubernetes/pkg/apis/core/v1 SetDefaults_Service)

export function setServiceDefaults(s: ServiceSpec): void {
  if (!s.sessionAffinity) s.sessionAffinity = 'None';
  if (s.sessionAffinity === 'None') {
    delete s.sessionAffinityConfig;
  } else if (s.sessionAffinity === 'ClientIP' && s.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    s.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!s.type) s.type = 'ClusterIP';
  for (const p of s.ports) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && !s.externalTrafficPolicy) s.externalTrafficPolicy = 'Cluster';
  if (s.type !== 'ExternalName' && s.internalTrafficPolicy === undefined) s.internalTrafficPolicy = 'Cluster';
  if (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined) s.allocateLoadBalancerNodePorts = true;
}

// ---------------------------------------------------------------------------------------
// Helpers shared with the allocation code

export const isHeadless = (s: ServiceSpec): boolean => s.clusterIP === 'None';
export const needsClusterIP = (s: ServiceSpec): boolean => s.type !== 'ExternalName';
export const needsNodePort = (s: ServiceSpec): boolean => s.type === 'NodePort' || s.type === 'LoadBalancer';
export const needsHealthCheck = (s: ServiceSpec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
export const shouldAllocateNodePorts = (s: ServiceSpec): boolean =>
  s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);

/** Go's %#v of a []string, as field errors print slices. */
export function goStrings(v: string[] | undefined): string {
  if (v === undefined) return '[]string(nil)';
  return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
}

/**
 * 422 for a Service. Like apierrors.NewInvalid, the message lists each distinct error once
 * (ErrorList.ToAggregate drops repeats) while details.causes keeps them all.
 */
export function invalidService(name: string, causes: StatusCause[]): ApiError {
  const seen = new Set<string>();
  const text: string[] = [];
  for (const c of causes) {
    const t = c.field ? `${c.field}: ${c.message}` : c.message;
    if (!seen.has(t)) text.push(t);
    seen.add(t);
  }
  const joined = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new ApiError(422, 'Invalid', `Service "${name}" is invalid: ${joined}`, { name, kind: 'Service', causes });
}

export function invalidRaw(field: string, rendered: string, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${rendered}: ${detail}`, field };
}

/** netutils.ParseIPSloppy: Go's parser, but IPv4 octets may carry leading zeros. */
export function isIPSloppy(s: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) return s.split('.').every((o) => Number(o) <= 255);
  return isIPv6Strict(s);
}

/** net.ParseIP (strict since Go 1.17: no leading zeros, no zones). */
function isIPStrict(s: string): boolean {
  return nodeIsIPv4(s) || isIPv6Strict(s);
}

function isIPv6Strict(s: string): boolean {
  return !s.includes('%') && nodeIsIPv6(s);
}

function isCidr(s: string): boolean {
  const m = s.match(/^(.+)\/(\d{1,3})$/);
  if (!m) return false;
  const prefix = Number(m[2]);
  const ip = m[1]!;
  if (isIPSloppy(ip) && !ip.includes(':')) return prefix <= 32;
  return isIPv6Strict(ip) && prefix <= 128;
}

// ---------------------------------------------------------------------------------------
// Name and label rules (k8s.io/apimachinery/pkg/util/validation)

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (!examples.length) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function dns1123LabelErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) {
    errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", '[a-z0-9]([-a-z0-9]*[a-z0-9])?', 'my-name', '123-abc'));
  }
  return errs;
}

function dns1123SubdomainErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*', 'example.com'));
  }
  return errs;
}

const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';

function qualifiedNameErrors(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (!prefix) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (!name) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

function labelValueErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) {
    errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?', 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

function portNumErrors(p: number): string[] {
  return p >= 1 && p <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

function portNameErrors(p: string): string[] {
  const errs: string[] = [];
  if (p.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(p)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(p)) errs.push('must contain at least one letter (a-z)');
  if (p.includes('--')) errs.push('must not contain consecutive hyphens');
  if (p.length > 0 && (p.startsWith('-') || p.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/**
 * ValidateNonSpecialIP (pkg/apis/core/validation). `allowLoopback` is devcluster's own
 * exception for endpoint addresses (DevClusterOptions.allowLoopbackEndpoints).
 */
export function nonSpecialIPErrors(ip: string, field: string, allowLoopback = false): StatusCause[] {
  if (!isIPSloppy(ip)) return [fieldError.invalid(field, ip, 'must be a valid IP address')];
  const errs: StatusCause[] = [];
  let unspecified: boolean, loopback: boolean, linkLocal: boolean, linkLocalMulticast: boolean;
  if (!ip.includes(':')) {
    const o = ip.split('.').map(Number);
    unspecified = o.every((x) => x === 0);
    loopback = o[0] === 127;
    linkLocal = o[0] === 169 && o[1] === 254;
    linkLocalMulticast = o[0] === 224 && o[1] === 0 && o[2] === 0;
  } else {
    const groups = expandIPv6(ip);
    unspecified = groups.every((g) => g === 0);
    loopback = groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
    linkLocal = (groups[0]! & 0xffc0) === 0xfe80;
    linkLocalMulticast = (groups[0]! & 0xff0f) === 0xff02;
  }
  if (unspecified) errs.push(fieldError.invalid(field, ip, `may not be unspecified (${ip})`));
  if (loopback && !allowLoopback) errs.push(fieldError.invalid(field, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) errs.push(fieldError.invalid(field, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast) errs.push(fieldError.invalid(field, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** Eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two). */
function expandIPv6(ip: string): number[] {
  let s = ip;
  const v4 = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const mid = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...mid, ...t].map((g) => parseInt(g, 16));
}

/** Go's %#v of the key ValidateService builds to find duplicate ports. */
function goServicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

// ---------------------------------------------------------------------------------------
// ValidateServiceClusterIPsRelatedFields: also run early, before allocation, by the registry.

export function validateClusterIPsRelated(s: ServiceSpec): StatusCause[] {
  if (s.type === 'ExternalName') return [];
  const errs: StatusCause[] = [];
  const ipsField = 'spec.clusterIPs';
  let hasInvalidIPs = false;

  if (s.clusterIP) {
    if (!s.clusterIPs.length) errs.push(fieldError.required(ipsField));
    else if (s.clusterIPs[0] !== s.clusterIP) errs.push(invalidRaw(ipsField, goStrings(s.clusterIPs), 'first value must match `clusterIP`'));
  } else if (s.clusterIPs.length) {
    errs.push(invalidRaw(ipsField, goStrings(s.clusterIPs), 'must be empty when `clusterIP` is not specified'));
  }

  const seen = new Set<string>();
  s.ipFamilies.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(fieldError.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(fieldError.duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });

  if (s.ipFamilyPolicy !== undefined && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(s.ipFamilyPolicy)) {
    errs.push(fieldError.notSupported('spec.ipFamilyPolicy', s.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }

  s.clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (s.clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(invalidRaw(ipsField, goStrings(s.clusterIPs), "'None' must be the first and only value"));
      }
      return;
    }
    if (!isIPSloppy(ip)) {
      hasInvalidIPs = true;
      errs.push(fieldError.invalid(`${ipsField}[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    }
  });

  if (s.clusterIPs.length > 2) errs.push(invalidRaw(ipsField, goStrings(s.clusterIPs), 'may only hold up to 2 values'));
  if (hasInvalidIPs) return errs;

  if (s.clusterIPs.length > 1) {
    const v6 = s.clusterIPs.map((ip) => ip.includes(':'));
    if (s.clusterIPs.length !== 2 || v6[0] === v6[1]) {
      errs.push(invalidRaw(ipsField, goStrings(s.clusterIPs), 'may specify no more than one IP for each IP family'));
    }
  }

  if (!isHeadless(s) && s.clusterIPs.length && s.ipFamilies.length) {
    s.clusterIPs.forEach((ip, i) => {
      const fam = s.ipFamilies[i];
      if (fam === undefined) return;
      if (fam === 'IPv4' && ip.includes(':')) errs.push(fieldError.invalid(`${ipsField}[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fam === 'IPv6' && !ip.includes(':')) errs.push(fieldError.invalid(`${ipsField}[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

// ---------------------------------------------------------------------------------------
// ValidateService

export function validateService(s: ServiceSpec, annotations: Record<string, string> | undefined): StatusCause[] {
  const errs: StatusCause[] = [];
  const headless = isHeadless(s);

  if (!s.ports.length && !headless && s.type !== 'ExternalName') errs.push(fieldError.required('spec.ports'));

  switch (s.type) {
    case 'LoadBalancer':
      s.ports.forEach((p, i) => {
        if (p.port === 10250) errs.push(fieldError.invalid(`spec.ports[${i}]`, p.port, 'may not expose port 10250 externally since it is used by kubelet'));
      });
      if (headless) errs.push(fieldError.invalid('spec.clusterIPs[0]', s.clusterIPs[0] ?? '', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(fieldError.invalid('spec.clusterIPs[0]', s.clusterIPs[0] ?? '', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (s.clusterIPs.length) errs.push(fieldError.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (s.ipFamilies.length) errs.push(fieldError.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (s.ipFamilyPolicy !== undefined) errs.push(fieldError.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = s.externalName.endsWith('.') ? s.externalName.slice(0, -1) : s.externalName;
      if (cname) errs.push(...dns1123SubdomainErrors(cname).map((m) => fieldError.invalid('spec.externalName', cname, m)));
      else errs.push(fieldError.required('spec.externalName'));
      break;
    }
  }

  const names = new Set<string>();
  s.ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (s.ports.length > 1 && !p.name) {
      errs.push(fieldError.required(`${path}.name`));
    } else if (p.name) {
      errs.push(...dns1123LabelErrors(p.name).map((m) => fieldError.invalid(`${path}.name`, p.name, m)));
      if (names.has(p.name)) errs.push(fieldError.duplicate(`${path}.name`, p.name));
      else names.add(p.name);
    }
    errs.push(...portNumErrors(p.port).map((m) => fieldError.invalid(`${path}.port`, p.port, m)));
    if (!p.protocol) errs.push(fieldError.required(`${path}.protocol`));
    else if (!['SCTP', 'TCP', 'UDP'].includes(p.protocol)) errs.push(fieldError.notSupported(`${path}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
    if (typeof p.targetPort === 'number') {
      errs.push(...portNumErrors(p.targetPort).map((m) => fieldError.invalid(`${path}.targetPort`, p.targetPort, m)));
    } else {
      errs.push(...portNameErrors(p.targetPort).map((m) => fieldError.invalid(`${path}.targetPort`, p.targetPort, m)));
    }
    if (p.appProtocol !== undefined) {
      errs.push(...qualifiedNameErrors(p.appProtocol).map((m) => fieldError.invalid(`${path}.appProtocol`, p.appProtocol, m)));
    }
  });

  if (s.selector) {
    for (const [k, v] of Object.entries(s.selector)) {
      errs.push(...qualifiedNameErrors(k).map((m) => fieldError.invalid('spec.selector', k, m)));
      errs.push(...labelValueErrors(v).map((m) => fieldError.invalid('spec.selector', v, m)));
    }
  }

  if (!s.sessionAffinity) errs.push(fieldError.required('spec.sessionAffinity'));
  else if (!['ClientIP', 'None'].includes(s.sessionAffinity)) errs.push(fieldError.notSupported('spec.sessionAffinity', s.sessionAffinity, ['ClientIP', 'None']));

  if (s.sessionAffinity === 'ClientIP') {
    const c = s.sessionAffinityConfig;
    const why = 'when session affinity type is ClientIP';
    if (!c) errs.push(fieldError.required('spec.sessionAffinityConfig', why));
    else if (!c.clientIP) errs.push(fieldError.required('spec.sessionAffinityConfig.clientIP', why));
    else if (c.clientIP.timeoutSeconds === undefined) errs.push(fieldError.required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', why));
    else if (c.clientIP.timeoutSeconds <= 0 || c.clientIP.timeoutSeconds > 86400) {
      errs.push(fieldError.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', c.clientIP.timeoutSeconds, 'must be greater than 0 and less than 86400'));
    }
  } else if (s.sessionAffinity === 'None' && s.sessionAffinityConfig) {
    errs.push(fieldError.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPsRelated(s));

  s.externalIPs.forEach((ip, i) => {
    const path = `spec.externalIPs[${i}]`;
    if (!isIPSloppy(ip)) errs.push(fieldError.invalid(path, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    else errs.push(...nonSpecialIPErrors(ip, path));
  });

  if (!s.type) errs.push(fieldError.required('spec.type'));
  else if (!['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'].includes(s.type)) {
    errs.push(fieldError.notSupported('spec.type', s.type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
  }

  if (s.type === 'ClusterIP') {
    s.ports.forEach((p, i) => {
      if (p.nodePort) errs.push(fieldError.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }

  const nodePorts = new Set<string>();
  s.ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(fieldError.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });

  const ports = new Set<string>();
  s.ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (ports.has(key)) errs.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${goServicePortKey(p.protocol, p.port)}`, field: `spec.ports[${i}]` });
    ports.add(key);
  });

  const annotation = annotations?.[SOURCE_RANGES_ANNOTATION];
  if (s.loadBalancerSourceRanges.length || annotation !== undefined) {
    const viaSpec = s.loadBalancerSourceRanges.length > 0;
    const path = viaSpec ? 'spec.LoadBalancerSourceRanges' : `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]`;
    const shown = viaSpec ? `[${s.loadBalancerSourceRanges.join(' ')}]` : annotation!;
    if (s.type !== 'LoadBalancer') errs.push(fieldError.forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    const list = viaSpec ? s.loadBalancerSourceRanges : annotation!.trim() ? annotation!.trim().split(',') : [];
    if (!list.every((r) => isCidr(r.trim()))) {
      errs.push(fieldError.invalid(path, shown, 'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '));
    }
  }

  if (s.allocateLoadBalancerNodePorts !== undefined && s.type !== 'LoadBalancer') {
    errs.push(fieldError.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined) {
    errs.push(fieldError.required('allocateLoadBalancerNodePorts'));
  }

  errs.push(...validateLoadBalancerClass(undefined, s));

  if (s.type !== 'NodePort' && s.type !== 'LoadBalancer') {
    if (s.externalTrafficPolicy) {
      errs.push(fieldError.invalid('spec.externalTrafficPolicy', s.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    }
  } else if (!s.externalTrafficPolicy) {
    errs.push(fieldError.required('spec.externalTrafficPolicy'));
  } else if (!['Cluster', 'Local'].includes(s.externalTrafficPolicy)) {
    errs.push(fieldError.notSupported('spec.externalTrafficPolicy', s.externalTrafficPolicy, ['Cluster', 'Local']));
  }

  if (!needsHealthCheck(s)) {
    if (s.healthCheckNodePort) {
      errs.push(fieldError.invalid('spec.healthCheckNodePort', s.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (!s.healthCheckNodePort) {
    errs.push(fieldError.required('spec.healthCheckNodePort'));
  } else {
    errs.push(...portNumErrors(s.healthCheckNodePort).map((m) => fieldError.invalid('spec.healthCheckNodePort', s.healthCheckNodePort, m)));
  }

  if (s.internalTrafficPolicy === undefined) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(s.type)) errs.push(fieldError.required('spec.internalTrafficPolicy'));
  } else if (!['Cluster', 'Local'].includes(s.internalTrafficPolicy)) {
    errs.push(fieldError.notSupported('spec.internalTrafficPolicy', s.internalTrafficPolicy, ['Cluster', 'Local']));
  }

  return errs;
}

function validateLoadBalancerClass(old: ServiceSpec | undefined, s: ServiceSpec): StatusCause[] {
  const errs: StatusCause[] = [];
  if (old && old.type === 'LoadBalancer' && s.type === 'LoadBalancer' && old.loadBalancerClass !== s.loadBalancerClass) {
    // Go renders a nil *string as the string "null".
    errs.push(fieldError.invalid('spec.loadBalancerClass', s.loadBalancerClass ?? 'null', 'may not change once set'));
  }
  if (s.type === 'LoadBalancer') {
    if (s.loadBalancerClass !== undefined) {
      errs.push(...qualifiedNameErrors(s.loadBalancerClass).map((m) => fieldError.invalid('spec.loadBalancerClass', s.loadBalancerClass, m)));
    }
  } else if (s.loadBalancerClass !== undefined) {
    errs.push(fieldError.forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------
// ValidateServiceUpdate

export function validateServiceUpdate(s: ServiceSpec, old: ServiceSpec, annotations: Record<string, string> | undefined): StatusCause[] {
  const errs: StatusCause[] = [];
  errs.push(...validateUpgradeDowngradeClusterIPs(old, s));
  errs.push(...validateUpgradeDowngradeIPFamilies(old, s));
  errs.push(...validateLoadBalancerClass(old, s));
  if (needsHealthCheck(old) && needsHealthCheck(s) && old.healthCheckNodePort !== s.healthCheckNodePort) {
    errs.push(fieldError.forbidden('spec.healthCheckNodePort', 'field is immutable'));
  }
  errs.push(...validateService(s, annotations));
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: ServiceSpec, s: ServiceSpec): StatusCause[] {
  if (s.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) && isHeadless(s)) return [];
  const errs: StatusCause[] = [];
  const shown = goStrings(s.clusterIPs.length ? s.clusterIPs : undefined);
  const o = old.clusterIPs;
  const n = s.clusterIPs;
  if (o.length === n.length) {
    o.forEach((ip, i) => {
      if (ip !== n[i]) errs.push(invalidRaw(`spec.clusterIPs[${i}]`, shown, 'may not change once set'));
    });
  } else if (o.length > n.length) {
    if (!n.length) errs.push(invalidRaw('spec.clusterIPs[0]', shown, 'primary clusterIP can not be unset'));
    if (o.length && n.length && n[0] !== o[0]) errs.push(invalidRaw('spec.clusterIPs[0]', shown, 'may not change once set'));
    if (n.length === 1 && s.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidRaw('spec.clusterIPs[0]', shown, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (o.length && n[0] !== o[0]) {
    errs.push(invalidRaw('spec.clusterIPs[0]', shown, 'may not change once set'));
  }
  return errs;
}

function goFamilies(v: string[]): string {
  return v.length ? `[]core.IPFamily{${v.map((x) => JSON.stringify(x)).join(', ')}}` : '[]core.IPFamily(nil)';
}

function validateUpgradeDowngradeIPFamilies(old: ServiceSpec, s: ServiceSpec): StatusCause[] {
  if (s.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadless(old) !== isHeadless(s) || isHeadless(s)) return [];
  const errs: StatusCause[] = [];
  const o = old.ipFamilies;
  const n = s.ipFamilies;
  if (o.length === n.length) {
    o.forEach((f, i) => {
      if (f !== n[i]) errs.push(invalidRaw('spec.ipFamilies[0]', goFamilies(n), 'may not change once set'));
    });
  } else if (o.length > n.length) {
    if (!n.length) errs.push(invalidRaw('spec.ipFamilies[0]', goFamilies(n), 'primary ipFamily can not be unset'));
    if (n.length && n[0] !== o[0]) errs.push(invalidRaw('spec.ipFamilies[0]', goStrings(s.clusterIPs), 'may not change once set'));
    if (n.length === 1 && s.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidRaw('spec.clusterIPs[0]', goStrings(s.clusterIPs), "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (o.length && n[0] !== o[0]) {
    errs.push(invalidRaw('spec.ipFamilies[0]', goStrings(s.clusterIPs), 'may not change once set'));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------
// ValidateServiceStatusUpdate (LoadBalancerStatus only: v1.26 does not check conditions)

export function validateServiceStatus(st: ServiceStatus): StatusCause[] {
  const errs: StatusCause[] = [];
  (st.loadBalancer.ingress ?? []).forEach((ing, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    const ip = typeof ing.ip === 'string' ? ing.ip : '';
    const hostname = typeof ing.hostname === 'string' ? ing.hostname : '';
    if (ip && !isIPStrict(ip)) errs.push(fieldError.invalid(`${path}.ip`, ip, 'must be a valid IP address'));
    if (hostname) {
      errs.push(...dns1123SubdomainErrors(hostname).map((m) => fieldError.invalid(`${path}.hostname`, hostname, m)));
      if (isIPStrict(hostname)) errs.push(fieldError.invalid(`${path}.hostname`, hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
