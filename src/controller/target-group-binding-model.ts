// The pure half of a TargetGroupBinding: the object, its Service, the Service's
// EndpointSlices and the eligible Nodes in, the provider-neutral TargetBinding out (or
// every problem, each naming its field). What aws-load-balancer-controller refuses in its
// admission webhooks (webhooks/elbv2/targetgroupbinding_validator.go), lbc, which has no
// webhook, refuses here with a Warning Event; fields lbc does not implement are refused
// too, never ignored.
import type { V1EndpointSlice, V1Node, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { TargetGroupBinding } from '../kube/target-group-bindings.js';
import { parseCidr } from '../model/ip.js';
import { selectorMatches, type LabelSelector } from '../model/label-selector.js';
import type { AccessRule, TargetBinding } from '../model/target-binding.js';
import { podTargets, slicesOfService } from './endpoints.js';
import { toNodeTargets } from './nodes.js';

/**
 * ALBC's default node selector for instance targets, merged with spec.nodeSelector
 * (docs/guide/targetgroupbinding/targetgroupbinding.md, "Default Node Selector").
 * node.kubernetes.io/exclude-from-external-load-balancers is already out of the eligible nodes.
 */
const DEFAULT_NODE_SELECTOR: LabelSelector = {
  matchExpressions: [
    { key: 'node-role.kubernetes.io/master', operator: 'DoesNotExist' },
    { key: 'alpha.service-controller.kubernetes.io/exclude-balancer', operator: 'DoesNotExist' },
    { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate'] },
  ],
};

export type BindingBuild = { readonly ok: true; readonly binding: TargetBinding } | { readonly ok: false; readonly problems: readonly string[] };

/** The Service port spec.serviceRef.port names: its number, or its name (as ALBC's endpoint resolver looks it up). */
export function servicePortOf(svc: V1Service, port: number | string | undefined): V1ServicePort | undefined {
  return (svc.spec?.ports ?? []).find((p) => (typeof port === 'number' ? p.port === port : p.name === port || String(p.port) === port));
}

function accessRules(tgb: TargetGroupBinding, problems: string[]): AccessRule[] {
  const out: AccessRule[] = [];
  for (const [i, rule] of (tgb.spec?.networking?.ingress ?? []).entries()) {
    const field = `spec.networking.ingress[${i}]`;
    // No ports: every TCP port, as ALBC's computeIngressPermissionsForTGBNetworking.
    const ports = rule.ports && rule.ports.length > 0 ? rule.ports : [{ protocol: 'TCP' as const }];
    for (const [j, from] of (rule.from ?? []).entries()) {
      let peer: AccessRule['from'] | undefined;
      if (from.securityGroup?.groupID) peer = { securityGroup: from.securityGroup.groupID };
      else if (from.ipBlock?.cidr !== undefined) {
        const c = parseCidr(from.ipBlock.cidr);
        if (c.ok) peer = { cidr: c.cidr };
        else problems.push(`${field}.from[${j}].ipBlock.cidr: ${c.reason}`);
        if (!c.ok) continue;
      } else {
        problems.push(`${field}.from[${j}]: either ipBlock or securityGroup should be specified`);
        continue;
      }
      if (!peer) continue;
      for (const [k, p] of ports.entries()) {
        const protocol = p.protocol === 'UDP' ? 'udp' : 'tcp';
        if (p.port === undefined) {
          out.push({ from: peer, protocol, fromPort: 0, toPort: 65535 });
        } else if (typeof p.port === 'number' || /^[0-9]+$/.test(p.port)) {
          const n = Number(p.port);
          if (n < 0 || n > 65535) problems.push(`${field}.ports[${k}].port: ${n} is not a port`);
          else out.push({ from: peer, protocol, fromPort: n, toPort: n });
        } else {
          // ALBC reads a name from the pods' container ports; lbc does not watch Pods.
          problems.push(`${field}.ports[${k}].port: named port ${JSON.stringify(p.port)} is not supported by lbc (it would need the Pods' container ports); give the number`);
        }
      }
    }
  }
  return out;
}

export interface BindingInputs {
  readonly clusterName: string;
  readonly service: V1Service | undefined;
  readonly endpointSlices: readonly V1EndpointSlice[];
  /** The eligible nodes (ready, not excluded). */
  readonly nodes: readonly V1Node[];
}

export function buildTargetBinding(tgb: TargetGroupBinding, inputs: BindingInputs): BindingBuild {
  const spec = tgb.spec ?? {};
  const problems: string[] = [];
  const namespace = tgb.metadata?.namespace ?? '';
  const targetGroup = spec.targetGroupARN ? { arn: spec.targetGroupARN } : spec.targetGroupName ? { name: spec.targetGroupName } : undefined;
  if (!targetGroup) problems.push('spec: must provide either targetGroupARN or targetGroupName');
  if (spec.targetType === 'ip' && spec.nodeSelector) problems.push('spec.nodeSelector: TargetGroupBinding cannot set NodeSelector when TargetType is ip');
  // Without multiClusterTargetGroup every target lbc did not put in is deregistered (as ALBC does); with it ALBC keeps others' targets, which lbc does not do yet.
  if (spec.multiClusterTargetGroup) problems.push('spec.multiClusterTargetGroup: not implemented by lbc, which would deregister the other clusters\' targets; remove it or bind a group of this cluster alone');
  if (spec.iamRoleArnToAssume || spec.assumeRoleExternalId) problems.push('spec.iamRoleArnToAssume: target groups in another account are not implemented by lbc');
  const access = accessRules(tgb, problems);
  const svc = inputs.service;
  const ref = spec.serviceRef ?? {};
  const port = svc ? servicePortOf(svc, ref.port) : undefined;
  if (svc && !port) problems.push(`spec.serviceRef.port: Service ${namespace}/${ref.name ?? ''} has no port ${JSON.stringify(ref.port)}`);
  if (problems.length > 0 || !targetGroup || !port || !svc) return { ok: false, problems };

  const pods = podTargets(slicesOfService(inputs.endpointSlices, namespace, ref.name ?? ''), port);
  const selector = spec.nodeSelector as LabelSelector | undefined;
  const nodes = inputs.nodes.filter((n) => selectorMatches(DEFAULT_NODE_SELECTOR, n.metadata?.labels) && (!selector || selectorMatches(selector, n.metadata?.labels)));
  const binding: TargetBinding = {
    ref: { namespace, name: tgb.metadata?.name ?? '', uid: tgb.metadata?.uid ?? '' },
    clusterName: inputs.clusterName,
    service: ref.name ?? '',
    targetGroup,
    ...(spec.targetType ? { targetType: spec.targetType } : {}),
    ...(spec.ipAddressType ? { ipAddressType: spec.ipAddressType } : {}),
    ...(spec.vpcID ? { vpcId: spec.vpcID } : {}),
    ...(spec.targetGroupProtocol ? { protocol: spec.targetGroupProtocol } : {}),
    podTargets: pods,
    ...(port.nodePort ? { nodeTargets: { nodePort: port.nodePort, nodes: toNodeTargets(nodes) } } : {}),
    access,
  };
  return { ok: true, binding };
}
