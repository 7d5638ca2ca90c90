// The backends part of buildIngressModel: Service backends resolved to one Service port
// each; ../target-sets.ts makes one target set per backend port, or, where the provider
// scopes target-group annotations per Ingress (AnnotationScopes), per member and backend
// port in an explicit group, as aws-load-balancer-controller builds one target group per
// Ingress, Service and port (pkg/ingress/model_build_target_group.go: buildTargetGroup
// keys its tgByResID by buildTargetGroupResourceID(ingKey, svcKey, port), and
// buildTargetGroupName hashes the Ingress's namespace and name).
import type { V1IngressBackend, V1Service } from '@kubernetes/client-node';
import type { ResolvedBackend } from '../target-sets.js';
import type { ModelProvider } from '../service-model.js';
import type { ModelError } from '../../model/validation.js';
import type { AnnotationScopes } from '../../providers/types.js';
import { objectName, targetSetAnnotations, type Member } from './group.js';
import { codePointOrder } from './order.js';

export type BackendProtocolOf = NonNullable<ModelProvider['backendProtocol']>;

/** An Ingress backend: which member first routes to it, and its own target-group annotations. */
export interface IngressBackend extends ResolvedBackend {
  /** The first member (in rule order) that routes to it. */
  readonly member: Member;
  /** Its per-target-set annotations (the provider's annotationScopes), Service over Ingress. */
  readonly annotations: Readonly<Record<string, string>>;
}

export { buildTargetSets, type BackendDecision, type BackendRef, type BackendSettings, type CompanionRequest, type ResolvedBackend, type TargetSetInputs, type TargetSets } from '../target-sets.js';

/** A backend of `member` at `field` → its target set's name, or undefined once the error is reported. */
export type ResolveBackend = (member: Member, backend: V1IngressBackend, field: string) => string | undefined;

/**
 * Resolves Service backends in their Ingress's namespace and remembers each one resolved,
 * once per Service port, or once per member and Service port when `perMember`.
 */
export class BackendResolver {
  private readonly services: ReadonlyMap<string, V1Service>;
  private readonly backends = new Map<string, IngressBackend>();

  constructor(
    services: readonly V1Service[],
    private readonly errors: ModelError[],
    private readonly opts: {
      readonly protocolOf?: BackendProtocolOf | undefined;
      readonly scopes?: AnnotationScopes | undefined;
      /**
       * Each member gets its own target set per Service port, with its own target-group
       * annotations: for a provider with annotation scopes, in an explicit group (a lone
       * Ingress keeps the plain `namespace/service:port` name, which it always had).
       */
      readonly perMember?: boolean;
    } = {},
  ) {
    this.services = new Map(services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  }

  readonly resolve: ResolveBackend = (m, b, field) => {
    const object = objectName(m.ingress);
    if (!b.service) {
      this.errors.push({ field, object, reason: 'only Service backends are supported (resource backends are not)' });
      return undefined;
    }
    const svc = this.services.get(`${m.namespace}/${b.service.name}`);
    if (!svc) {
      this.errors.push({ field: `${field}.service.name`, object, reason: `Service ${m.namespace}/${b.service.name} does not exist` });
      return undefined;
    }
    const want = b.service.port;
    const port =
      want?.number !== undefined
        ? svc.spec?.ports?.find((p) => p.port === want.number)
        : want?.name !== undefined
          ? svc.spec?.ports?.find((p) => p.name === want.name)
          : undefined;
    if (!port) {
      const asked = want?.number ?? want?.name;
      this.errors.push({
        field: `${field}.service.port`,
        object,
        reason: asked === undefined ? 'a port number or name is required' : `Service ${m.namespace}/${b.service.name} has no port ${asked}`,
      });
      return undefined;
    }
    if ((port.protocol ?? 'TCP') !== 'TCP') {
      this.errors.push({ field: `${field}.service.port`, object, reason: `Service port ${port.port} is ${port.protocol ?? ''}; HTTP needs TCP` });
      return undefined;
    }
    // A member's name never holds '@', a Service's never ':': the two forms cannot meet.
    const key = `${m.namespace}/${b.service.name}:${port.port}${this.opts.perMember ? `@${m.name}` : ''}`;
    // Seen before, it has the same target-group annotations: it is the same member's, a
    // lone Ingress's, or the set of a provider that reads none per backend.
    if (this.backends.has(key)) return key;
    const annotations = this.opts.scopes ? targetSetAnnotations(m, svc, this.opts.scopes) : {};
    const proto = this.opts.protocolOf?.(svc.metadata?.annotations ?? {}, { ...(port.name !== undefined ? { name: port.name } : {}), port: port.port });
    if (proto && !proto.ok) {
      // The mistake is on the Service; the error says which.
      this.errors.push(...proto.errors.map((e) => ({ ...e, object: `Service ${m.namespace}/${b.service?.name ?? ''}` })));
      return undefined;
    }
    const backendProtocol = proto?.ok ? proto.protocol : undefined;
    this.backends.set(key, {
      key,
      backend: { namespace: m.namespace, service: b.service.name, port: port.port },
      service: svc,
      port,
      member: m,
      annotations,
      ...(this.opts.perMember ? { ingress: `${m.namespace}/${m.name}` } : {}),
      ...(backendProtocol !== undefined ? { backendProtocol } : {}),
    });
    return key;
  };

  /** The Service port (`namespace/service:port`) behind a key resolve() returned. */
  backendOf(key: string): string | undefined {
    const b = this.backends.get(key)?.backend;
    return b ? `${b.namespace}/${b.service}:${b.port}` : undefined;
  }

  /**
   * The provider's system default backend for a group whose Ingresses name none. Missing,
   * it is an error: unmatched requests must get its 404, never an application.
   */
  resolveSystemDefault(m: Member, d: { readonly namespace: string; readonly service: string; readonly port: number | string }): string | undefined {
    const object = objectName(m.ingress);
    const svc = this.services.get(`${d.namespace}/${d.service}`);
    const port = svc?.spec?.ports?.find((p) => (typeof d.port === 'number' ? p.port === d.port : p.name === d.port));
    if (!svc || !port) {
      this.errors.push({
        field: 'spec.defaultBackend',
        object,
        reason: `no defaultBackend, and the system default backend ${d.namespace}/${d.service} port ${String(d.port)}, which answers requests no rule matches with 404, ${svc ? 'has no such port' : 'does not exist'}; set spec.defaultBackend or create it`,
      });
      return undefined;
    }
    const key = `${d.namespace}/${d.service}:${port.port}`;
    this.backends.set(key, { key, backend: { namespace: d.namespace, service: d.service, port: port.port }, service: svc, port, member: m, annotations: {} });
    return key;
  }

  /** Every backend resolved so far, in key order. */
  resolved(): IngressBackend[] {
    return [...this.backends.values()].sort((x, y) => codePointOrder(x.key, y.key));
  }
}
