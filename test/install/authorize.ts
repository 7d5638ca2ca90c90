// RBAC's decision for one ServiceAccount, computed from the install's own objects the
// way kube-apiserver's RBAC authorizer makes it: ClusterRoles bound by ClusterRoleBindings
// apply everywhere, Roles (and ClusterRoles) bound by RoleBindings only in the binding's
// namespace; a rule matches on group, resource (with subresource) and verb, `*` included.
import type { KubeObject } from '../../src/install/manifests.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Request {
  readonly verb: string;
  readonly group: string;
  /** `services` or `services/status`. */
  readonly resource: string;
  /** Absent for cluster-scoped objects and requests across all namespaces. */
  readonly namespace?: string;
  readonly name?: string;
}

// What every authenticated user may read (system:discovery, system:public-info-viewer).
const PUBLIC_PATHS = [/^\/api$/, /^\/api\/v1$/, /^\/apis$/, /^\/apis\/[^/]+(\/[^/]+)?$/, /^\/version$/, /^\/openapi\/.*/, /^\/(healthz|livez|readyz)$/];

export function publicPath(path: string): boolean {
  return PUBLIC_PATHS.some((re) => re.test(path));
}

const has = (list: readonly string[] | undefined, v: string): boolean => (list ?? []).includes('*') || (list ?? []).includes(v);

function matches(rule: Rule, r: Request): boolean {
  if (rule.nonResourceURLs) return false;
  if (!has(rule.verbs, r.verb) || !has(rule.apiGroups, r.group) || !has(rule.resources, r.resource)) return false;
  return rule.resourceNames === undefined || rule.resourceNames.length === 0 || (r.name !== undefined && rule.resourceNames.includes(r.name));
}

export function allowed(objects: readonly KubeObject[], sa: { namespace: string; name: string }, r: Request): boolean {
  const bound = (o: KubeObject): boolean =>
    ((o.subjects as { kind: string; name: string; namespace?: string }[] | undefined) ?? []).some(
      (s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace,
    );
  const role = (kind: string, name: string, namespace?: string): KubeObject | undefined =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && (kind === 'ClusterRole' || o.metadata.namespace === namespace));
  for (const b of objects.filter(bound)) {
    const ref = b.roleRef as { kind: string; name: string };
    if (b.kind === 'RoleBinding' && b.metadata.namespace !== r.namespace) continue;
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    const granted = role(ref.kind, ref.name, b.metadata.namespace);
    if (((granted?.rules as Rule[] | undefined) ?? []).some((rule) => matches(rule, r))) return true;
  }
  return false;
}
