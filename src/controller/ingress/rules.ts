// The rules part of buildIngressModel: each member's host/path rules and default
// backend, in member order, into one routing table for the group (aws-load-balancer-
// controller's model_build_listener_rules.go). A rule already in the table with the
// same target is dropped; one with another target is refused, naming the member that
// had it first, unless both target sets serve one Service port (each member's own set,
// as ALBC gives each Ingress its own target group): then both stay, each member's rule
// on its own listeners, the earlier first. A group has at most one default backend.
//
// Paths: Exact and Prefix as the Ingress API defines them (see model/routes.ts).
// ImplementationSpecific is passed through as declared, and lbc's own matcher treats it
// as Prefix; a provider with a native meaning (ALB wildcards) may use that instead.
import type { V1IngressBackend } from '@kubernetes/client-node';
import type { ActionRule, PathType, Rule } from '../../model/spec.js';
import type { ModelError } from '../../model/validation.js';
import type { GroupActions } from './actions.js';
import type { ResolveBackend } from './backends.js';
import { objectName, type Member } from './group.js';

const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PATH_TYPES: readonly PathType[] = ['Exact', 'Prefix', 'ImplementationSpecific'];

export interface Routes {
  readonly rules: readonly Rule[];
  readonly actionRules: readonly ActionRule[];
  /** The default backend's target set. */
  readonly defaultBackend?: string;
  readonly defaultAction?: string;
}

export class RouteTable {
  private readonly rules: Rule[] = [];
  private readonly ruleOwner = new Map<string, Rule>();
  private readonly actionRules: ActionRule[] = [];
  private readonly actionOwner = new Map<string, ActionRule>();
  private defaultBackend: { key: string; source: string } | undefined;
  private defaultAction: { action: string; source: string } | undefined;

  constructor(
    private readonly actions: GroupActions,
    private readonly resolve: ResolveBackend,
    private readonly errors: ModelError[],
    /** Hosts a member may not route for (another namespace's); its rules for them are left out. */
    private readonly admits: (m: Member, host: string | undefined) => boolean = () => true,
    /** The Service port behind a target set (BackendResolver.backendOf). */
    private readonly backendOf: (targetSet: string) => string | undefined = (t) => t,
  ) {}

  /** Adds one member's rules and default backend; members come in group order. */
  add(m: Member): void {
    const object = objectName(m.ingress);
    const source = `${m.namespace}/${m.name}`;
    const spec = m.ingress.spec ?? {};
    (spec.rules ?? []).forEach((r, i) => {
      const host = r.host === undefined || r.host === '' ? undefined : r.host.toLowerCase();
      if (host !== undefined && !HOST.test(host)) {
        this.errors.push({ field: `spec.rules[${i}].host`, object, reason: `${JSON.stringify(r.host)} is not a host name or *.wildcard` });
        return;
      }
      if (!this.admits(m, host)) return;
      (r.http?.paths ?? []).forEach((p, j) => {
        const field = `spec.rules[${i}].http.paths[${j}]`;
        const pathType = p.pathType as PathType;
        if (!PATH_TYPES.includes(pathType)) {
          this.errors.push({ field: `${field}.pathType`, object, reason: `${JSON.stringify(p.pathType)} is not one of ${PATH_TYPES.join(', ')}` });
          return;
        }
        const path = p.path === undefined || p.path === '' ? '/' : p.path;
        if (!path.startsWith('/')) {
          this.errors.push({ field: `${field}.path`, object, reason: `${JSON.stringify(p.path)} must start with /` });
          return;
        }
        const id = JSON.stringify([host ?? '', path, pathType]);
        const action = this.actions.nameOf(p.backend, `${field}.backend`, object);
        if (action === undefined) return;
        if (action !== null) {
          this.actions.use(m, action, object);
          const earlier = this.ruleOwner.get(id) ?? this.actionOwner.get(id);
          const rule: ActionRule = { ...(host !== undefined ? { host } : {}), path, pathType, action, source, before: this.rules.length };
          if (!earlier) {
            this.actionOwner.set(id, rule);
            this.actionRules.push(rule);
          } else if (!('action' in earlier) || earlier.action !== action) {
            this.errors.push({ field, object, reason: `${host ?? '*'} ${path} (${pathType}) already routes elsewhere (from Ingress ${earlier.source})` });
          }
          return;
        }
        const key = this.resolve(m, p.backend, `${field}.backend`);
        if (key === undefined) return;
        const rule: Rule = { ...(host !== undefined ? { host } : {}), path, pathType, targetSet: key, source };
        const earlier = this.ruleOwner.get(id);
        const earlierAction = this.actionOwner.get(id);
        if (earlierAction) {
          this.errors.push({ field, object, reason: `${host ?? '*'} ${path} (${pathType}) already routes to the action ${earlierAction.action} (from Ingress ${earlierAction.source})` });
        } else if (!earlier) {
          this.ruleOwner.set(id, rule);
          this.rules.push(rule);
        } else if (earlier.targetSet !== key && this.backendOf(earlier.targetSet) === this.backendOf(key)) {
          this.rules.push(rule);
        } else if (earlier.targetSet !== key) {
          this.errors.push({
            field,
            object,
            reason: `${host ?? '*'} ${path} (${pathType}) already routes to ${earlier.targetSet} (from Ingress ${earlier.source})`,
          });
        }
      });
    });
    if (spec.defaultBackend) this.addDefault(m, spec.defaultBackend, object, source);
  }

  /** Whether nothing routes anywhere: no rule with a path and no default backend. */
  isEmpty(): boolean {
    return this.rules.length === 0 && this.actionRules.length === 0 && !this.defaultBackend && !this.defaultAction;
  }

  routes(): Routes {
    return {
      rules: this.rules,
      actionRules: this.actionRules,
      ...(this.defaultBackend ? { defaultBackend: this.defaultBackend.key } : {}),
      ...(this.defaultAction ? { defaultAction: this.defaultAction.action } : {}),
    };
  }

  private addDefault(m: Member, backend: V1IngressBackend, object: string, source: string): void {
    const action = this.actions.nameOf(backend, 'spec.defaultBackend', object);
    if (action === undefined) return;
    if (action !== null) {
      if ((this.defaultAction && this.defaultAction.action !== action) || this.defaultBackend) {
        this.errors.push({ field: 'spec.defaultBackend', object, reason: `the group already has a default backend (from Ingress ${(this.defaultAction ?? this.defaultBackend)?.source ?? ''})` });
      } else {
        this.defaultAction = { action, source };
        this.actions.use(m, action, object);
      }
      return;
    }
    const key = this.resolve(m, backend, 'spec.defaultBackend');
    if (key === undefined) return;
    if ((this.defaultBackend && this.defaultBackend.key !== key) || this.defaultAction) {
      this.errors.push({
        field: 'spec.defaultBackend',
        object,
        reason: `the group already has default backend ${this.defaultBackend?.key ?? this.defaultAction?.action ?? ''} (from Ingress ${(this.defaultBackend ?? this.defaultAction)?.source ?? ''})`,
      });
    } else this.defaultBackend = { key, source };
  }
}
