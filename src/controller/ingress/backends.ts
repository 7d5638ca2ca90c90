// The backends part of buildIngressModel: Service backends resolved to one Service port
// each; ../target-sets.ts makes one target set per backend port.
import type { V1IngressBackend, V1Service } from '@kubernetes/client-node';
import type { ResolvedBackend } from '../target-sets.js';
import type { ModelError } from '../../model/validation.js';
import { objectName, type Member } from './group.js';
import { codePointOrder } from './order.js';

export { buildTargetSets, type BackendDecision, type BackendRef, type CompanionRequest, type ResolvedBackend, type TargetSetInputs, type TargetSets } from '../target-sets.js';

/** A backend of `member` at `field` → its target set's name, or undefined once the error is reported. */
export type ResolveBackend = (member: Member, backend: V1IngressBackend, field: string) => string | undefined;

/** Resolves Service backends in their Ingress's namespace and remembers each one resolved, once per Service port. */
export class BackendResolver {
  private readonly services: ReadonlyMap<string, V1Service>;
  private readonly backends = new Map<string, ResolvedBackend>();

  constructor(
    services: readonly V1Service[],
    private readonly errors: ModelError[],
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
    const key = `${m.namespace}/${b.service.name}:${port.port}`;
    this.backends.set(key, { key, backend: { namespace: m.namespace, service: b.service.name, port: port.port }, service: svc, port });
    return key;
  };

  /** Every backend resolved so far, in key order. */
  resolved(): ResolvedBackend[] {
    return [...this.backends.values()].sort((x, y) => codePointOrder(x.key, y.key));
  }
}

