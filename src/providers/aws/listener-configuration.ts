// A LoadBalancerConfiguration's spec.listenerConfigurations (aws-load-balancer-controller
// v3.5, docs/guide/gateway/loadbalancerconfig.md "ListenerConfiguration"): per
// protocolPort, the certificates, SSL policy, ALPN policy and mutual TLS of the Gateway
// listener on that port. Read as ALBC's listener builder reads them
// (pkg/gateway/model/model_build_listener.go):
//   - matched to a listener by port alone (mapLoadBalancerListenerConfigsByPort splits
//     protocolPort at ":" and keys by the port);
//   - certificates: defaultCertificate first, then certificates (buildExplicitTLSCertARNs);
//     only when none is given are they discovered in ACM by the listener's hostnames;
//   - sslPolicy on secure listeners, else the default (buildSSLPolicy);
//   - alpnPolicy only on TLS listeners (buildListenerALPNPolicy): an ALB has none, so on an
//     ALB Gateway it is ignored as ALBC ignores it, with a warning unless it is the CRD's
//     default "None";
//   - mutualAuthentication on HTTPS listeners, "off" where none is configured
//     (buildMutualAuthenticationAttributes), the trust store by name or ARN;
//   - listenerAttributes onto the listener (buildListenerAttributes), sent as ALBC's listener
//     attributes reconciler sends them (listener-attributes.ts).
//   - targetGroupStickiness: TargetGroupStickinessConfig on an NLB listener's forward
//     (buildL4ListenerDefaultActions), without a duration (an ALB's alone); ALB Gateway
//     listeners forward by rules, so there it is ignored, with a warning.
// quicEnabled is refused by name when true (false asks for nothing and passes): ALBC v3
// turns it into QUIC / TCP_QUIC listeners, whose target groups need a QUIC server ID on
// every registered target, which lbc's target group manager does not give.
import { listenerAttributesProblems } from './listener-attributes.js';
import type { MutualAuthEntry } from './mutual-authentication.js';
import { mutualAuthProblem } from './mutual-authentication.js';

export type AlpnPolicy = 'HTTP1Only' | 'HTTP2Only' | 'HTTP2Optional' | 'HTTP2Preferred' | 'None';

/** One entry of spec.listenerConfigurations, validated. Plain data: it is hashed with the spec. */
export interface ListenerConfiguration {
  /** As written (`HTTPS:443`); ALBC merges a GatewayClass's and a Gateway's entries by it. */
  readonly protocolPort: string;
  /** The protocol part, when given (the CRD's pattern lets it be empty). */
  readonly protocol?: string;
  readonly port: number;
  readonly defaultCertificate?: string;
  readonly certificates?: readonly string[];
  readonly sslPolicy?: string;
  readonly alpnPolicy?: AlpnPolicy;
  /** With `port` set to this entry's port. */
  readonly mutualAuthentication?: MutualAuthEntry;
  /** listenerAttributes by key; which keys a listener takes is checked against its protocol (listener-attributes.ts). */
  readonly listenerAttributes?: Readonly<Record<string, string>>;
  /** NLB listeners: stickiness across the forward's target groups. */
  readonly targetGroupStickiness?: boolean;
}

const ALPN: readonly AlpnPolicy[] = ['HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred', 'None'];
const PROTOCOL_PORT = /^(HTTP|HTTPS|TLS|TCP|UDP|TCP_UDP)?:(\d{1,5})$/;
// As the ssl-policy annotation (annotations.ts): ELBv2's predefined policies all carry this prefix.
const SSL_POLICY = /^ELBSecurityPolicy-[A-Za-z0-9-]+$/;
const IMPLEMENTED = new Set(['protocolPort', 'defaultCertificate', 'certificates', 'sslPolicy', 'alpnPolicy', 'mutualAuthentication', 'listenerAttributes', 'targetGroupStickiness']);
const NOT_IMPLEMENTED_FLAGS: ReadonlyMap<string, string> = new Map([
  ['quicEnabled', 'not implemented by lbc: a QUIC (or TCP_QUIC) listener, as aws-load-balancer-controller makes of a UDP (TCP_UDP) one, forwards to QUIC target groups whose targets each need a QUIC server ID, which lbc does not register'],
]);
// ELBv2's ListenerAttribute Key: "Maximum length of 256. Pattern: ^[a-zA-Z0-9._]+$".
const ATTRIBUTE_KEY = /^[a-zA-Z0-9._]{1,256}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArn = (v: unknown): v is string => typeof v === 'string' && v.startsWith('arn:');

/** spec.listenerConfigurations → the entries, or every problem by field. */
export function parseListenerConfigurations(raw: unknown, field = 'spec.listenerConfigurations'): { ok: true; value: ListenerConfiguration[] } | { ok: false; errors: string[] } {
  if (!Array.isArray(raw)) return { ok: false, errors: [`${field}: not a list`] };
  const errors: string[] = [];
  const out: ListenerConfiguration[] = [];
  const seen = new Map<number, string>();
  for (const [i, entry] of raw.entries()) {
    const at = `${field}[${i}]`;
    if (!isRecord(entry)) {
      errors.push(`${at}: not an object`);
      continue;
    }
    for (const k of Object.keys(entry).sort()) {
      if (IMPLEMENTED.has(k)) continue;
      const flag = NOT_IMPLEMENTED_FLAGS.get(k);
      if (flag !== undefined && entry[k] === false) continue;
      errors.push(`${at}.${k}: ${flag ?? 'not implemented by lbc'}`);
    }
    const m = typeof entry.protocolPort === 'string' ? PROTOCOL_PORT.exec(entry.protocolPort) : null;
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      errors.push(`${at}.protocolPort: ${String(entry.protocolPort)} is not PROTOCOL:PORT with a port in [1, 65535]`);
      continue;
    }
    const protocolPort = entry.protocolPort as string;
    // ALBC keys the entries by port, the last one winning; lbc refuses the ambiguity.
    const earlier = seen.get(port);
    if (earlier !== undefined) errors.push(`${at}.protocolPort: port ${port} is configured already by ${earlier}`);
    seen.set(port, protocolPort);
    const { defaultCertificate, certificates, sslPolicy, alpnPolicy, mutualAuthentication, listenerAttributes, targetGroupStickiness } = entry;
    if (targetGroupStickiness !== undefined && typeof targetGroupStickiness !== 'boolean') errors.push(`${at}.targetGroupStickiness: not a boolean`);
    if (defaultCertificate !== undefined && !isArn(defaultCertificate)) errors.push(`${at}.defaultCertificate: ${String(defaultCertificate)} is not a certificate ARN`);
    if (certificates !== undefined && !(Array.isArray(certificates) && certificates.every(isArn))) errors.push(`${at}.certificates: not a list of certificate ARNs`);
    if (sslPolicy !== undefined && !(typeof sslPolicy === 'string' && SSL_POLICY.test(sslPolicy))) errors.push(`${at}.sslPolicy: ${String(sslPolicy)} is not a predefined ELB security policy (ELBSecurityPolicy-...)`);
    if (alpnPolicy !== undefined && !(ALPN as readonly unknown[]).includes(alpnPolicy)) errors.push(`${at}.alpnPolicy: ${String(alpnPolicy)} is not one of ${ALPN.join(', ')}`);
    let mtls: MutualAuthEntry | undefined;
    if (mutualAuthentication !== undefined) {
      const problem = mutualAuthenticationProblem(mutualAuthentication, port);
      if (problem !== undefined) errors.push(`${at}.mutualAuthentication: ${problem}`);
      else mtls = toEntry(mutualAuthentication as Record<string, unknown>, port);
    }
    const attributes = listenerAttributes === undefined ? undefined : parseListenerAttributes(listenerAttributes, `${at}.listenerAttributes`, errors);
    out.push({
      protocolPort,
      ...(m[1] !== undefined ? { protocol: m[1] } : {}),
      port,
      ...(isArn(defaultCertificate) ? { defaultCertificate } : {}),
      ...(Array.isArray(certificates) && certificates.every(isArn) ? { certificates } : {}),
      ...(typeof sslPolicy === 'string' ? { sslPolicy } : {}),
      ...(alpnPolicy !== undefined ? { alpnPolicy: alpnPolicy as AlpnPolicy } : {}),
      ...(mtls ? { mutualAuthentication: mtls } : {}),
      ...(attributes !== undefined && Object.keys(attributes).length > 0 ? { listenerAttributes: attributes } : {}),
      ...(typeof targetGroupStickiness === 'boolean' ? { targetGroupStickiness } : {}),
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}

/** listenerAttributes → by key; ALBC keeps the last of a key given twice, lbc refuses the ambiguity. */
function parseListenerAttributes(raw: unknown, at: string, errors: string[]): Record<string, string> | undefined {
  if (!Array.isArray(raw)) {
    errors.push(`${at}: not a list`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [i, a] of raw.entries()) {
    if (!isRecord(a) || typeof a.key !== 'string' || typeof a.value !== 'string' || Object.keys(a).some((k) => k !== 'key' && k !== 'value')) {
      errors.push(`${at}[${i}]: not a {key, value} pair of strings`);
      continue;
    }
    if (!ATTRIBUTE_KEY.test(a.key)) errors.push(`${at}[${i}].key: ${a.key} is not an ELBv2 listener attribute key (letters, digits, "." and "_", at most 256)`);
    else if (a.key in out) errors.push(`${at}[${i}].key: ${a.key} is given twice`);
    else out[a.key] = a.value;
  }
  return out;
}

/** The CRD's MutualAuthenticationAttributes, checked with the annotation's rules (ALBC validates both alike). */
function mutualAuthenticationProblem(raw: unknown, port: number): string | undefined {
  if (!isRecord(raw)) return 'not an object';
  const unknownKeys = Object.keys(raw).filter((k) => !['mode', 'trustStore', 'ignoreClientCertificateExpiry', 'advertiseTrustStoreCaNames'].includes(k));
  if (unknownKeys.length > 0) return `${unknownKeys.sort().join(', ')}: not a field of mutualAuthentication`;
  const { mode, trustStore, ignoreClientCertificateExpiry, advertiseTrustStoreCaNames } = raw;
  if (mode !== undefined && typeof mode !== 'string') return 'mode: not a string';
  if (trustStore !== undefined && typeof trustStore !== 'string') return 'trustStore: not a string';
  if (ignoreClientCertificateExpiry !== undefined && typeof ignoreClientCertificateExpiry !== 'boolean') return 'ignoreClientCertificateExpiry: not a boolean';
  if (advertiseTrustStoreCaNames !== undefined && typeof advertiseTrustStoreCaNames !== 'string') return 'advertiseTrustStoreCaNames: not a string';
  return mutualAuthProblem({
    port,
    ...(mode !== undefined ? { mode } : {}),
    ...(trustStore !== undefined ? { trustStore } : {}),
    ...(ignoreClientCertificateExpiry !== undefined ? { ignoreClientCertificateExpiry } : {}),
    ...(advertiseTrustStoreCaNames !== undefined ? { advertiseTrustStoreCaNames } : {}),
  } as Parameters<typeof mutualAuthProblem>[0]);
}

function toEntry(raw: Record<string, unknown>, port: number): MutualAuthEntry {
  return {
    port,
    mode: raw.mode as MutualAuthEntry['mode'],
    ...(typeof raw.trustStore === 'string' && raw.trustStore !== '' ? { trustStore: raw.trustStore } : {}),
    ...(typeof raw.ignoreClientCertificateExpiry === 'boolean' ? { ignoreClientCertificateExpiry: raw.ignoreClientCertificateExpiry } : {}),
    ...(raw.advertiseTrustStoreCaNames === 'on' || raw.advertiseTrustStoreCaNames === 'off' ? { advertiseTrustStoreCaNames: raw.advertiseTrustStoreCaNames } : {}),
  };
}

/** The entry for a listener port, as ALBC finds it: by port, the last in protocolPort order winning (a class's and a Gateway's merged may both name it). */
export const listenerConfigurationFor = (configs: readonly ListenerConfiguration[] | undefined, port: number): ListenerConfiguration | undefined => (configs ?? []).filter((c) => c.port === port).at(-1);

/** The explicit certificates of an entry, default first (ALBC buildExplicitTLSCertARNs); empty when none. */
export function configuredCertificates(c: ListenerConfiguration | undefined): string[] {
  if (!c) return [];
  return [...new Set([...(c.defaultCertificate !== undefined ? [c.defaultCertificate] : []), ...(c.certificates ?? [])])];
}

/** The mutual TLS entries of every configured listener: the trust stores the plan resolves before synthesis. */
export const configuredMutualAuthentication = (configs: readonly ListenerConfiguration[] | undefined): MutualAuthEntry[] => (configs ?? []).flatMap((c) => (c.mutualAuthentication ? [c.mutualAuthentication] : []));

/**
 * An entry's listenerAttributes for the listener it configures, as a DesiredListener field;
 * a key ELBv2 would refuse on that listener's protocol stops the Gateway, naming the entry.
 */
export function configuredAttributes(c: ListenerConfiguration | undefined, protocol: string, common: { invalid: (message: string) => Error }): { attributes?: Readonly<Record<string, string>> } {
  if (!c?.listenerAttributes) return {};
  const problems = listenerAttributesProblems(protocol, c.listenerAttributes);
  if (problems.length > 0) throw common.invalid(`listenerConfigurations ${c.protocolPort}: listenerAttributes: ${problems.join('; ')}`);
  return { attributes: c.listenerAttributes };
}
