// The controller configuration an install ships in its ConfigMap: one provider of the
// chosen type with the options it cannot start without, and nothing the defaults of
// src/config already say.
import { stringify } from 'yaml';
import { CLASS_PREFIX, validateConfig, type LbcConfig } from '../config/config.js';
import { builtinOptionsChecks } from '../providers/options.js';

export const INSTALL_PROVIDERS = ['aws', 'gce', 'metal', 'local'] as const;
export type InstallProvider = (typeof INSTALL_PROVIDERS)[number];

export interface ProviderSettings {
  /** aws and gce: the region the cluster's load balancers go to. */
  readonly region?: string;
  /** gce: the project that holds the cluster's network. */
  readonly project?: string;
  /** metal: the address pool, CIDRs or `first-last` ranges. */
  readonly addresses?: readonly string[];
}

/** What an install sets beside its provider: the GatewayClass controllerName when not lbc's default. */
export interface InstallSettings extends ProviderSettings {
  /** config gateway.controllerName: a second lbc install takes its own, so the two never serve the same GatewayClass. */
  readonly gatewayControllerName?: string;
}

export const DEFAULT_REGION: Readonly<Record<'aws' | 'gce', string>> = { aws: 'us-east-1', gce: 'us-central1' };
export const DEFAULT_PROJECT = 'my-project';
/** No pool in the config file by default: the pools are MetalLB's IPAddressPools, as a MetalLB user has them. */
export const DEFAULT_METAL_ADDRESSES: readonly string[] = [];
/** local: every listener port moved up, so the non-root controller binds 80 and 443 without capabilities, clear of 8080/8081. */
export const LOCAL_PORT_OFFSET = 10_000;

function providerOptions(provider: InstallProvider, namespace: string, s: ProviderSettings): Record<string, unknown> {
  switch (provider) {
    case 'aws':
      return { region: s.region ?? DEFAULT_REGION.aws };
    case 'gce':
      // No clusterId: lbc reads GKE's own (kube-system/ingress-uid), so it shares the
      // instance groups GKE's controllers made; another id would make a second family of
      // groups, which GCE refuses (an instance is in at most one load-balanced group).
      return { project: s.project ?? DEFAULT_PROJECT, region: s.region ?? DEFAULT_REGION.gce };
    case 'metal':
      // Without --addresses the pools are MetalLB's IPAddressPools (in metallb-system), as a MetalLB user has them.
      // The speakers keep their Leases where their Role allows: lbc's namespace.
      return { ...(s.addresses?.length ? { pools: [{ name: 'default', addresses: [...s.addresses] }] } : {}), speaker: { leaseNamespace: namespace } };
    case 'local':
      return { portOffset: LOCAL_PORT_OFFSET };
  }
}

/**
 * The configuration document. On aws and gce the platform's own controllers serve
 * Services without a loadBalancerClass, so lbc takes only its class there; on metal and
 * local nothing else does, so lbc is the default.
 */
export function installConfig(provider: InstallProvider, clusterName: string, namespace: string, settings: InstallSettings = {}): Record<string, unknown> {
  return {
    clusterName,
    providers: [{ name: provider, type: provider, options: providerOptions(provider, namespace, settings) }],
    ...(provider === 'metal' || provider === 'local' ? { defaultClass: `${CLASS_PREFIX}${provider}` } : {}),
    ...(settings.gatewayControllerName !== undefined ? { gateway: { controllerName: settings.gatewayControllerName } } : {}),
  };
}

export function installConfigYaml(...args: Parameters<typeof installConfig>): string {
  return stringify(installConfig(...args));
}

/** What `lbc run` checks at start, done before anything is shipped: the file and every provider's options block. */
export function checkInstallConfig(doc: unknown, source = 'the generated configuration'): LbcConfig {
  return validateConfig(doc, source, builtinOptionsChecks);
}
