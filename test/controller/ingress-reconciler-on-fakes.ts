// An IngressReconciler wired to in-memory caches and the recording fakes, as the
// controller wires it to informers and the API: what the Ingress tests share.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../../src/config/config.js';
import { COMPANION_BY_GROUP, companionByGroup, Companions } from '../../src/controller/companions.js';
import type { ClassParamsLookups } from '../../src/controller/ingress/class-params.js';
import { ingressCacheIndexers, IngressReconciler } from '../../src/controller/ingress-reconciler.js';
import { OwnWrites } from '../../src/controller/own-writes.js';
import { Cache } from '../../src/kube/cache.js';
import { endpointSliceIndexers, serviceIndexers } from '../../src/kube/indexes.js';
import type { buildProviders } from '../../src/providers/registry.js';
import { FakeCompanionApi, FakeEvents, FakePods, FakeWriter, quietLog } from './reconciler-fakes.js';

/** One Ready node, n1 at 10.0.0.1. */
export const ONE_READY_NODE: V1Node[] = [{ metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } }];

/** `classes` when the test's class lookups must read the same cache the reconciler does. */
export function ingressReconcilerOnFakes(o: { config: LbcConfig; providers: Awaited<ReturnType<typeof buildProviders>>; classParams?: ClassParamsLookups; classes?: Cache<V1IngressClass> }) {
  const { config, providers, classParams } = o;
  const services = new Cache<V1Service>({ ...serviceIndexers, [COMPANION_BY_GROUP]: companionByGroup });
  const ingresses = new Cache<V1Ingress>(ingressCacheIndexers(providers, classParams));
  const classes = o.classes ?? new Cache<V1IngressClass>();
  const slices = new Cache<V1EndpointSlice>(endpointSliceIndexers);
  const secrets = new Cache<V1Secret>();
  const writer = new FakeWriter({ Service: services, Ingress: ingresses });
  const events = new FakeEvents();
  const companionApi = new FakeCompanionApi(services);
  const pods = new FakePods();
  const r = new IngressReconciler({
    config,
    providers,
    writer,
    events,
    log: quietLog,
    providerTimeoutMs: 500,
    ingresses,
    ingressClasses: classes,
    services,
    endpointSlices: slices,
    secrets,
    nodes: () => ONE_READY_NODE,
    fresh: new OwnWrites<V1Ingress>(),
    companions: new Companions({ services, api: companionApi, fresh: new OwnWrites<V1Service>() }),
    pods,
    ...(classParams ? { classParams } : {}),
  });
  return { r, services, ingresses, classes, slices, secrets, writer, events, companionApi, pods };
}
