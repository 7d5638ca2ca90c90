// What the controller hands Provider.restore() at start: the addresses in the statuses of
// the objects each provider serves, as model types, with the facts an allocator weighs.
import { describe, expect, it } from 'vitest';
import { heldBy } from '../../src/controller/held-addresses.js';
import { createMemoryProvider } from '../../src/providers/memory/index.js';
import { config, ingress, ingressClass, lbService } from './fixtures.js';

const cfg = config({
  providers: [
    { name: 'mem', type: 'memory', class: 'lbc.dev/mem', options: {} },
    { name: 'other', type: 'memory', class: 'lbc.dev/other', options: {} },
  ],
  defaultClass: 'lbc.dev/mem',
});
const mem = createMemoryProvider({ name: 'mem', clusterName: 'test' });
const withStatus = <T extends object>(obj: T, ...ips: string[]): T => ({ ...obj, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });
const created = <T extends { metadata?: object }>(obj: T, at: string): T => ({ ...obj, metadata: { ...obj.metadata, creationTimestamp: new Date(at) } });

describe('heldBy', () => {
  it("takes the provider's Services that hold an address, with their facts, parsed options and requested address", () => {
    const web = created(
      withStatus(lbService('web', [{ port: 80, protocol: 'TCP' }], { externalTrafficPolicy: 'Local', selector: { tier: 'web', app: 'shop' }, loadBalancerIP: '192.0.2.7' }, { 'memory.lbc.dev/tier': 'premium' }), '192.0.2.7', '192.0.2.7'),
      '2024-05-01T00:00:00Z',
    );
    const none = lbService('none', [{ port: 80 }]);
    const foreign = withStatus(lbService('foreign', [{ port: 80 }], { loadBalancerClass: 'lbc.dev/other' }), '192.0.2.9');
    const bad = withStatus(lbService('bad', [{ port: 53, protocol: 'UDP' }], {}, { 'memory.lbc.dev/tier': 'gold' }), '192.0.2.8');
    expect(heldBy(mem, { services: [web, none, foreign, bad], ingresses: [], ingressClasses: [] }, cfg)).toEqual([
      {
        ref: { kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-default-web' },
        addresses: ['192.0.2.7'],
        allocation: { trafficPolicy: 'Local', selector: 'app=shop,tier=web', createdAt: Date.parse('2024-05-01T00:00:00Z') },
        ports: [{ protocol: 'TCP', port: 80 }],
        requestedAddresses: ['192.0.2.7'],
        providerOptions: { tier: 'premium' },
      },
      // Its annotations do not parse, but its status still names the address: no one else may get it.
      {
        ref: { kind: 'Service', namespace: 'default', name: 'bad', uid: 'uid-default-bad' },
        addresses: ['192.0.2.8'],
        allocation: { trafficPolicy: 'Cluster', selector: '', createdAt: 0 },
        ports: [{ protocol: 'UDP', port: 53 }],
        requestedAddresses: [],
      },
    ]);
  });

  it("takes an Ingress group's address once, from a member that has it, as old as its oldest member", () => {
    const cls = ingressClass('lbc', cfg.ingress.controllerName, { provider: 'mem' });
    const spec = { ingressClassName: 'lbc', defaultBackend: { service: { name: 'web', port: { number: 80 } } } };
    const a = created(withStatus(ingress('a', spec, { 'alb.ingress.kubernetes.io/group.name': 'shop' }), '192.0.2.20'), '2024-03-01T00:00:00Z');
    const b = created(ingress('b', spec, { 'alb.ingress.kubernetes.io/group.name': 'shop' }), '2024-01-01T00:00:00Z');
    const lone = withStatus(ingress('lone', spec), '192.0.2.21');
    const held = heldBy(mem, { services: [], ingresses: [b, a, lone], ingressClasses: [cls] }, cfg);
    expect(held.map((h) => [h.ref, h.addresses, h.allocation.createdAt])).toEqual([
      [{ kind: 'Ingress', namespace: '', name: 'shop', uid: 'ingress-group:shop' }, ['192.0.2.20'], Date.parse('2024-01-01T00:00:00Z')],
      [{ kind: 'Ingress', namespace: 'default', name: 'lone', uid: 'uid-default-lone' }, ['192.0.2.21'], 0],
    ]);
  });
});
