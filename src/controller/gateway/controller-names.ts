// The GatewayClass controllerNames this instance serves. Its own (config
// gateway.controllerName): a class names its provider and gets all that provider serves.
// And the names of the controllers its providers replace (ProviderCapabilities
// .gatewayControllerNames: aws-load-balancer-controller's gateway.k8s.aws/alb and
// gateway.k8s.aws/nlb), so that a user moving over keeps their GatewayClasses as written: such a
// class is served only by a provider declaring its name, with only that name's features (an
// ALB class refuses a TCP listener, as ALBC's does), and route status entries for its
// Gateways carry its controllerName, as the specification asks of RouteParentStatus.
//
// Which of those names are served is the configuration's gateway.compatibleControllerNames,
// by default all the configured providers declare: a user moving from ALBC writes nothing
// more than lbc's provider entry, and a cluster keeping ALBC for its own classes sets `[]`.
// Two controllers serving one class would fight over its status and its Gateways' load
// balancers, so ALBC must not serve the names lbc does (README, Gateway API).
import { ConfigError, type ConfigIssue, type LbcConfig } from '../../config/config.js';
import type { GatewayFeature } from '../../model/gateway-features.js';

/** A provider serving a compatible controllerName's classes, and what such a class serves. */
export interface CompatibleServer {
  readonly provider: string;
  readonly features: readonly GatewayFeature[];
}

export interface GatewayControllers {
  /** lbc's own controllerName (config gateway.controllerName). */
  readonly own: string;
  /** Every name served, lbc's own first: whose classes, and whose route status entries, are this instance's. */
  readonly names: readonly string[];
  /** The providers (config order) serving a compatible controllerName; undefined for lbc's own and names not served. */
  compatible(controllerName: string | undefined): readonly CompatibleServer[] | undefined;
}

interface Declaring {
  readonly name: string;
  readonly capabilities: { readonly layers: readonly string[]; readonly gatewayControllerNames?: readonly { readonly controllerName: string; readonly features: readonly GatewayFeature[] }[] };
}

function declared(providers: readonly Declaring[]): Map<string, CompatibleServer[]> {
  const by = new Map<string, CompatibleServer[]>();
  for (const p of providers) {
    if (!p.capabilities.layers.includes('Gateway')) continue;
    for (const d of p.capabilities.gatewayControllerNames ?? []) by.set(d.controllerName, [...(by.get(d.controllerName) ?? []), { provider: p.name, features: d.features }]);
  }
  return by;
}

export function gatewayControllers(config: Pick<LbcConfig, 'gateway'>, providers: readonly Declaring[]): GatewayControllers {
  const all = declared(providers);
  const wanted = config.gateway.compatibleControllerNames;
  const served = new Map([...all].filter(([name]) => name !== config.gateway.controllerName && (wanted === undefined || wanted.includes(name))));
  return {
    own: config.gateway.controllerName,
    names: [config.gateway.controllerName, ...served.keys()],
    compatible: (name) => (name === undefined ? undefined : served.get(name)),
  };
}

/**
 * Refuses (ConfigError) gateway.compatibleControllerNames entries no configured provider
 * declares: a name lbc cannot serve is an error at start, not a silent no-op. `source`: the file.
 */
export function checkCompatibleControllerNames(config: Pick<LbcConfig, 'gateway'>, providers: readonly Declaring[], source?: string): void {
  const all = declared(providers);
  const known = [...all.keys()];
  const issues = (config.gateway.compatibleControllerNames ?? []).flatMap((name, i): ConfigIssue[] =>
    all.has(name)
      ? []
      : [
          {
            path: `gateway.compatibleControllerNames[${i}]`,
            message: `no configured provider serves GatewayClasses of ${name} (${known.length > 0 ? `they serve ${known.join(', ')}` : 'none serves another controller\'s'})`,
          },
        ],
  );
  if (issues.length > 0) throw new ConfigError(issues, source);
}
