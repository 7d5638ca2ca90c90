// Members and backends for the tests of the Ingress builder's parts: what groupMembers
// hands the other parts, built straight from an Ingress.
import type { V1HTTPIngressPath, V1Ingress, V1IngressBackend } from '@kubernetes/client-node';
import type { Member } from '../../../src/controller/ingress/group.js';

export const member = (ingress: V1Ingress, order = 0): Member => ({ ingress, namespace: ingress.metadata?.namespace ?? '', name: ingress.metadata?.name ?? '', order });

export const backend = (name: string, port?: number | string): V1IngressBackend => ({
  service: { name, ...(port === undefined ? {} : { port: typeof port === 'number' ? { number: port } : { name: port } }) },
});

export const path = (p: string | undefined, b: V1IngressBackend, pathType = 'Prefix'): V1HTTPIngressPath => ({ ...(p === undefined ? {} : { path: p }), pathType, backend: b });
