// ALB mutual TLS (alb.ingress.kubernetes.io/mutual-authentication), as
// aws-load-balancer-controller v3.5 reads it: pkg/shared_utils/mutual_auth_utils.go
// (MutualAuthenticationConfig, ParseMtlsConfigEntries, validateMutualAuthenticationConfig,
// parseMtlsAttributesForTrustStoreNames) and pkg/ingress/model_build_listener.go
// (computeIngressMutualAuthentication). Three parts: the annotation's parser (ALBC's
// validation, its error texts), the trust-store look-up the plan makes before synthesis
// (names → ARNs through ELBv2 DescribeTrustStores), and the listener field's compare form.
import { DescribeTrustStoresCommand, type MutualAuthenticationAttributes } from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { ProviderError } from '../types.js';
import type { ValueParser } from '../../model/annotations.js';
import type { AwsApi } from './api.js';
import { hasCode } from './errors.js';

export type MutualAuthMode = 'off' | 'passthrough' | 'verify';

/** One entry of the annotation, validated. `trustStore` is an ARN or a trust store's name. */
export interface MutualAuthEntry {
  readonly port: number;
  readonly mode: MutualAuthMode;
  readonly trustStore?: string;
  readonly ignoreClientCertificateExpiry?: boolean;
  readonly advertiseTrustStoreCaNames?: 'on' | 'off';
}

/** What an HTTPS listener's MutualAuthentication is to be (trust store as an ARN). */
export interface DesiredMutualAuth {
  readonly mode: MutualAuthMode;
  readonly trustStoreArn?: string;
  readonly ignoreClientCertificateExpiry?: boolean;
  readonly advertiseTrustStoreCaNames?: 'on' | 'off';
}

// ALBC unmarshals into its struct with encoding/json: a wrong type is an error. lbc also
// refuses keys the struct has no field for (ALBC drops them), so a misspelt key is not
// silently ignored.
const entrySchema = z.strictObject({
  port: z.number().int(),
  mode: z.string().optional(),
  trustStore: z.string().optional(),
  ignoreClientCertificateExpiry: z.boolean().optional(),
  advertiseTrustStoreCaNames: z.string().optional(),
});

type RawEntry = z.infer<typeof entrySchema>;

const MODES: readonly MutualAuthMode[] = ['off', 'passthrough', 'verify'];

/**
 * validateMutualAuthenticationConfig for an HTTPS listener, word for word (the only
 * protocol ALBC's Ingress path accepts modes for); undefined when the entry is valid.
 */
export function mutualAuthProblem(e: RawEntry): string | undefined {
  const { port } = e;
  const mode = e.mode ?? '';
  const trustStore = e.trustStore ?? '';
  if (port < 1 || port > 65535) return `listen port must be within [1, 65535]: ${port}`;
  if (mode === '') return `mutualAuthentication mode cannot be empty for port ${port}`;
  if (!(MODES as readonly string[]).includes(mode)) return `mutualAuthentication mode value must be among [${MODES.join(', ')}] for protocol HTTPS port ${port} : ${mode}`;
  if (mode === 'verify' && trustStore === '') return `trustStore is required when mutualAuthentication mode is verify for port ${port}`;
  if (mode !== 'verify' && trustStore !== '') return `Mutual Authentication mode ${mode} does not support trustStore for port ${port}`;
  if (mode !== 'verify' && e.ignoreClientCertificateExpiry !== undefined) return `Mutual Authentication mode ${mode} does not support ignoring client certificate expiry for port ${port}`;
  if (e.advertiseTrustStoreCaNames !== undefined) {
    if (mode !== 'verify') return `Mutual Authentication mode ${mode} does not support advertiseTrustStoreCaNames for port ${port}`;
    if (e.advertiseTrustStoreCaNames !== 'on' && e.advertiseTrustStoreCaNames !== 'off') {
      return `advertiseTrustStoreCaNames only supports the values "on" and "off" got value ${e.advertiseTrustStoreCaNames} for port ${port}`;
    }
  }
  return undefined;
}

/** The annotation's value parser: ALBC's JSON list, each entry validated as ALBC does. */
export function mutualAuthentication(): ValueParser<MutualAuthEntry[]> {
  return (raw) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      return { ok: false, reason: `failed to parse mutualAuthentication configuration from ingress annotation: \`${raw}\`: ${(e as Error).message}` };
    }
    const parsed = z.array(entrySchema).safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
      return { ok: false, reason: `failed to parse mutualAuthentication configuration from ingress annotation: \`${raw}\`: ${issues}` };
    }
    if (parsed.data.length === 0) return { ok: false, reason: `empty mutualAuthentication configuration from ingress annotation: \`${raw}\`` };
    const out = new Map<number, MutualAuthEntry>();
    for (const e of parsed.data) {
      const problem = mutualAuthProblem(e);
      if (problem !== undefined) return { ok: false, reason: problem };
      // ALBC keys its result by port, the last entry winning; lbc refuses the ambiguity.
      if (out.has(e.port)) return { ok: false, reason: `port ${e.port} is listed more than once` };
      out.set(e.port, {
        port: e.port,
        mode: e.mode as MutualAuthMode,
        ...(e.trustStore !== undefined && e.trustStore !== '' ? { trustStore: e.trustStore } : {}),
        ...(e.ignoreClientCertificateExpiry !== undefined ? { ignoreClientCertificateExpiry: e.ignoreClientCertificateExpiry } : {}),
        ...(e.advertiseTrustStoreCaNames !== undefined ? { advertiseTrustStoreCaNames: e.advertiseTrustStoreCaNames as 'on' | 'off' } : {}),
      });
    }
    return { ok: true, value: [...out.values()] };
  };
}

/** A trust store given by name (ALBC: verify mode, and not starting with "arn:"). */
const isName = (trustStore: string): boolean => !trustStore.startsWith('arn:');

/**
 * The entries' trust stores as ARNs. Names are resolved with one DescribeTrustStores(Names)
 * as ALBC's GetTrustStoreArnFromName does ("couldn't find TrustStore with name …" when one
 * is missing); ARNs are checked with one DescribeTrustStores(TrustStoreArns), which ALBC
 * leaves to CreateListener: lbc stops before the load balancer is made instead.
 */
export async function resolveTrustStores(api: AwsApi, entries: readonly MutualAuthEntry[], provider: string, signal?: AbortSignal): Promise<Map<string, string>> {
  const wanted = [...new Set(entries.flatMap((e) => (e.mode === 'verify' && e.trustStore !== undefined ? [e.trustStore] : [])))].sort();
  const names = wanted.filter(isName);
  const arns = wanted.filter((t) => !isName(t));
  const out = new Map<string, string>();
  const describe = async (input: { Names: string[] } | { TrustStoreArns: string[] }, missing: string) => {
    try {
      const r = await api.elbv2('DescribeTrustStores', (c, o) => c.send(new DescribeTrustStoresCommand(input), o), { signal });
      return r.TrustStores ?? [];
    } catch (e) {
      if (hasCode(e, 'TrustStoreNotFound')) throw new ProviderError('invalid', `${missing}: ${e instanceof Error ? e.message : String(e)}`, { provider, cause: e });
      throw e;
    }
  };
  if (names.length > 0) {
    const found = await describe({ Names: names }, `couldn't find TrustStore with names [${names.join(' ')}]`);
    for (const n of names) {
      const arn = found.find((t) => t.Name === n)?.TrustStoreArn;
      if (arn === undefined) throw new ProviderError('invalid', `couldn't find TrustStore with name ${n}`, { provider });
      out.set(n, arn);
    }
  }
  if (arns.length > 0) {
    const found = await describe({ TrustStoreArns: arns }, `couldn't find TrustStore with ARNs [${arns.join(' ')}]`);
    for (const a of arns) {
      if (!found.some((t) => t.TrustStoreArn === a)) throw new ProviderError('invalid', `couldn't find TrustStore with ARN ${a}`, { provider });
      out.set(a, a);
    }
  }
  return out;
}

/**
 * An entry as the listener field: verify gets IgnoreClientCertificateExpiry false when
 * not given (ParseMtlsConfigEntries), the trust store its ARN.
 */
export function desiredMutualAuth(e: MutualAuthEntry, trustStoreArns: ReadonlyMap<string, string>): DesiredMutualAuth {
  if (e.mode !== 'verify') return { mode: e.mode };
  const arn = trustStoreArns.get(e.trustStore ?? '');
  if (arn === undefined) throw new Error(`trust store ${e.trustStore ?? ''} was not resolved before synthesis`);
  return {
    mode: 'verify',
    trustStoreArn: arn,
    ignoreClientCertificateExpiry: e.ignoreClientCertificateExpiry ?? false,
    ...(e.advertiseTrustStoreCaNames !== undefined ? { advertiseTrustStoreCaNames: e.advertiseTrustStoreCaNames } : {}),
  };
}

/** ELBv2's MutualAuthentication in lbc's form; absent is ELBv2's "off". */
export function fromAwsMutualAuth(m: MutualAuthenticationAttributes | undefined): DesiredMutualAuth {
  const mode = (m?.Mode ?? 'off') as MutualAuthMode;
  if (mode !== 'verify') return { mode };
  return {
    mode,
    ...(m?.TrustStoreArn !== undefined ? { trustStoreArn: m.TrustStoreArn } : {}),
    ignoreClientCertificateExpiry: m?.IgnoreClientCertificateExpiry ?? false,
    ...(m?.AdvertiseTrustStoreCaNames !== undefined ? { advertiseTrustStoreCaNames: m.AdvertiseTrustStoreCaNames } : {}),
  };
}

export function toAwsMutualAuth(d: DesiredMutualAuth): MutualAuthenticationAttributes {
  return {
    Mode: d.mode,
    ...(d.trustStoreArn !== undefined ? { TrustStoreArn: d.trustStoreArn } : {}),
    ...(d.ignoreClientCertificateExpiry !== undefined ? { IgnoreClientCertificateExpiry: d.ignoreClientCertificateExpiry } : {}),
    ...(d.advertiseTrustStoreCaNames !== undefined ? { AdvertiseTrustStoreCaNames: d.advertiseTrustStoreCaNames } : {}),
  };
}

/**
 * Same mutual authentication. Only what the user set is compared: ELBv2 reports
 * AdvertiseTrustStoreCaNames ("off") when it was never given, and the annotation leaving
 * it out asks for nothing about it.
 */
export function sameMutualAuth(actual: DesiredMutualAuth, desired: DesiredMutualAuth): boolean {
  return (
    actual.mode === desired.mode &&
    actual.trustStoreArn === desired.trustStoreArn &&
    actual.ignoreClientCertificateExpiry === desired.ignoreClientCertificateExpiry &&
    (desired.advertiseTrustStoreCaNames === undefined || (actual.advertiseTrustStoreCaNames ?? 'off') === desired.advertiseTrustStoreCaNames)
  );
}
