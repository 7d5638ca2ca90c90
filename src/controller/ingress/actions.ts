// The annotation actions of buildIngressModel: a backend `port.name: use-annotation`
// names an action the provider defines in an annotation (aws-load-balancer-controller's
// `actions.<name>`, built in its model_build_actions.go), not a Service. Actions are
// group-wide: any member may define one and any member may use it. Only the provider
// reads its action format; lbc resolves the Services an action forwards to into target
// sets exactly as rule backends, in the namespace of the Ingress that uses the action,
// as aws-load-balancer-controller does.
import type { V1Ingress, V1IngressBackend } from '@kubernetes/client-node';
import type { ModelProvider } from '../service-model.js';
import { actionServiceKey } from '../../model/spec.js';
import type { ModelError } from '../../model/validation.js';
import type { ResolveBackend } from './backends.js';
import type { Member } from './group.js';
import { codePointOrder } from './order.js';

/** aws-load-balancer-controller's port name for a backend that is an annotation action. */
export const USE_ANNOTATION = 'use-annotation';

/**
 * The Services an Ingress's annotation actions forward to (names, in its namespace), as
 * the providers that have actions read them: every `<prefix>actions.<name>` for each
 * prefix such a provider reads, the keys the builder resolves. Every action counts, used
 * by the Ingress's own backends or not: actions are group-wide, so another member may be
 * the one with the `use-annotation` backend. The cache indexes Ingresses before any
 * Ingress's provider is chosen, hence every configured provider's reading.
 */
export function actionServicesOf(providers: readonly Pick<ModelProvider, 'capabilities' | 'actionServices'>[]): (ing: V1Ingress) => string[] {
  const readers = providers.flatMap((provider) =>
    provider.actionServices ? provider.capabilities.annotationPrefixes.map((prefix) => ({ actions: `${prefix}actions.`, provider })) : [],
  );
  return (ing) => {
    const names: string[] = [];
    for (const [key, value] of Object.entries(ing.metadata?.annotations ?? {})) {
      for (const r of readers) if (key.startsWith(r.actions)) names.push(...(r.provider.actionServices?.(value) ?? []).map((ref) => ref.service));
    }
    return names;
  };
}

/** The actions of one group: which backends name one, and the target sets of the Services each forwards to. */
export class GroupActions {
  private readonly forwarded = new Map<string, { namespace: string; sets: Record<string, string> }>();

  constructor(
    private readonly provider: Pick<ModelProvider, 'name' | 'capabilities' | 'actionServices'>,
    /** The group's merged annotations, where the actions are defined. */
    private readonly annotations: Readonly<Record<string, string>>,
    private readonly resolve: ResolveBackend,
    private readonly errors: ModelError[],
  ) {}

  /** null: the backend is no action; undefined: it names an action nobody defines (reported); else the action's name. */
  nameOf(b: V1IngressBackend | undefined, field: string, object: string): string | undefined | null {
    if (b?.service?.port?.name !== USE_ANNOTATION) return null;
    const name = b.service.name;
    const keys = this.keysOf(name);
    if (keys.some((k) => this.annotations[k] !== undefined)) return name;
    // Name the prefix the group already uses for actions, if any, rather than every prefix the provider reads.
    const used = keys.filter((k) => Object.keys(this.annotations).some((m) => m.startsWith(k.slice(0, k.length - name.length))));
    const named = used.length > 0 ? used : keys;
    this.errors.push({
      field: `${field}.service.name`,
      object,
      reason:
        named.length > 0
          ? `port ${USE_ANNOTATION} refers to the action ${name}, but no ${named.join(' or ')} annotation defines it`
          : `port ${USE_ANNOTATION} needs a provider with annotation actions; ${this.provider.name} has none`,
    });
    return undefined;
  }

  /** `m` uses `action`: resolve the Services it forwards to in m's namespace, once per action. */
  use(m: Member, action: string, object: string): void {
    const key = this.keysOf(action).find((k) => this.annotations[k] !== undefined);
    const value = key === undefined ? undefined : this.annotations[key];
    if (key === undefined || value === undefined || !this.provider.actionServices) return;
    const earlier = this.forwarded.get(action);
    if (earlier && earlier.namespace !== m.namespace) {
      this.errors.push({ annotation: key, object, reason: `forwards to Services by name, and Ingresses of namespaces ${earlier.namespace} and ${m.namespace} both use it; give each namespace its own action` });
      return;
    }
    if (earlier) return; // resolved (or reported) when another rule used it
    const sets: Record<string, string> = {};
    this.provider.actionServices(value).forEach((ref, i) => {
      // aws-load-balancer-controller's servicePort is an int-or-string; "80" is meant as the number.
      const port = typeof ref.port === 'number' || (ref.port !== undefined && /^\d+$/.test(ref.port)) ? { number: Number(ref.port) } : ref.port !== undefined ? { name: ref.port } : undefined;
      const set = this.resolve(m, { service: { name: ref.service, ...(port ? { port } : {}) } }, `metadata.annotations[${key}].forwardConfig.targetGroups[${i}]`);
      if (set !== undefined) sets[actionServiceKey(ref.service, ref.port)] = set;
    });
    this.forwarded.set(action, { namespace: m.namespace, sets });
  }

  /** By action, then by the action's own Service key: the target set each forward goes to; undefined when no action forwards. */
  targetSets(): Record<string, Record<string, string>> | undefined {
    if (this.forwarded.size === 0) return undefined;
    return Object.fromEntries([...this.forwarded.entries()].sort(([x], [y]) => codePointOrder(x, y)).map(([k, v]) => [k, v.sets]));
  }

  private keysOf(action: string): string[] {
    return this.provider.capabilities.annotationPrefixes.map((p) => `${p}actions.${action}`);
  }
}
