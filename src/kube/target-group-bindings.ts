// aws-load-balancer-controller's TargetGroupBinding (elbv2.k8s.aws/v1beta1) as lbc lists,
// watches and writes it: whether the API server serves it, its finalizer and its
// status.observedGeneration. lbc does not ship the CRD: users install the upstream release
// (tests install ../shared/crds), and a cluster without it has no bindings to watch.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from './client-node.js';
import { asCustomObject, listCustomObjects, probeCustomResource, type CustomObject, type ProbeClients } from './custom-resources.js';
import type { ResourceType } from './resources.js';
import { ConflictError, hasCauses, precondition } from './status.js';

export const ELBV2_GROUP = 'elbv2.k8s.aws';
const CUSTOM_RESOURCE = { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'targetgroupbindings' };

/** spec as the v1beta1 schema has it (fields lbc reads). */
export interface TargetGroupBindingSpec {
  targetGroupARN?: string;
  targetGroupName?: string;
  targetType?: 'instance' | 'ip';
  serviceRef?: { name?: string; port?: number | string };
  networking?: {
    ingress?: {
      from?: { ipBlock?: { cidr?: string }; securityGroup?: { groupID?: string } }[];
      ports?: { protocol?: 'TCP' | 'UDP'; port?: number | string }[];
    }[];
  };
  nodeSelector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  ipAddressType?: 'ipv4' | 'ipv6';
  vpcID?: string;
  targetGroupProtocol?: string;
  multiClusterTargetGroup?: boolean;
  iamRoleArnToAssume?: string;
  assumeRoleExternalId?: string;
}

export type TargetGroupBinding = CustomObject<TargetGroupBindingSpec, { observedGeneration?: number }>;

// Literal path, as resources.ts's: test/install/code-permissions.ts reads it to derive RBAC.
export const TargetGroupBindings: ResourceType<TargetGroupBinding> = {
  kind: 'TargetGroupBinding',
  apiVersion: 'elbv2.k8s.aws/v1beta1',
  namespaced: true,
  path: '/apis/elbv2.k8s.aws/v1beta1/targetgroupbindings',
  list: listCustomObjects('/apis/elbv2.k8s.aws/v1beta1/targetgroupbindings'),
  decode: asCustomObject,
};

/** Whether the CRD (v1beta1) is installed: listing one object, 404 when it is not. */
export async function targetGroupBindingsServed(clients: ProbeClients): Promise<boolean> {
  try {
    // rbac: list elbv2.k8s.aws/targetgroupbindings
    await probeCustomResource(clients, { group: ELBV2_GROUP, version: 'v1beta1', plural: 'targetgroupbindings' });
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 404) return false;
    throw e;
  }
}

type PatchClient = Pick<CustomObjectsApi, 'patchNamespacedCustomObject' | 'patchNamespacedCustomObjectStatus'>;

const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const nameOf = (tgb: TargetGroupBinding): { namespace: string; name: string } => ({ namespace: tgb.metadata?.namespace ?? '', name: tgb.metadata?.name ?? '' });

/** The writes the TargetGroupBinding reconciler makes; each makes no request when nothing would change. */
export class TargetGroupBindingWriter {
  constructor(private readonly custom: PatchClient) {}

  /** Adds or removes `finalizer`, tested against the resourceVersion read (ConflictError when it moved). */
  async setFinalizer(tgb: TargetGroupBinding, finalizer: string, present: boolean): Promise<TargetGroupBinding> {
    const list = tgb.metadata?.finalizers ?? [];
    const i = list.indexOf(finalizer);
    if (present === i >= 0) return tgb;
    if (present && tgb.metadata?.deletionTimestamp) throw new Error(`TargetGroupBinding ${nameOf(tgb).namespace}/${nameOf(tgb).name} is being deleted; the API server refuses new finalizers`);
    const ops = present
      ? [precondition(tgb), list.length > 0 ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer } : { op: 'add', path: '/metadata/finalizers', value: [finalizer] }]
      : [precondition(tgb), { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer }, { op: 'remove', path: `/metadata/finalizers/${i}` }];
    try {
      return (await this.custom.patchNamespacedCustomObject({ ...CUSTOM_RESOURCE, ...nameOf(tgb), body: ops }, JSON_PATCH)) as TargetGroupBinding;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 409 || (code === 422 && !hasCauses(err))) throw new ConflictError(`TargetGroupBinding ${nameOf(tgb).namespace}/${nameOf(tgb).name} changed since resourceVersion ${tgb.metadata?.resourceVersion}`, code, err);
      throw err;
    }
  }

  /** status.observedGeneration, as aws-load-balancer-controller's updateTargetGroupBindingStatus: written only when it moved. */
  async observe(tgb: TargetGroupBinding): Promise<TargetGroupBinding> {
    const generation = tgb.metadata?.generation;
    if (generation === undefined || tgb.status?.observedGeneration === generation) return tgb;
    return (await this.custom.patchNamespacedCustomObjectStatus({ ...CUSTOM_RESOURCE, ...nameOf(tgb), body: { status: { observedGeneration: generation } } }, MERGE_PATCH)) as TargetGroupBinding;
  }
}
