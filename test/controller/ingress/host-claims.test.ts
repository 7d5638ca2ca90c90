// Issue #16's hijack: a member from another namespace joins group `shop` and names a host
// the group already serves from `shop`, with a lower group.order so its rules would come
// first. Its rules for that host are left out, the owner's stay, and both are named.
import type { V1Ingress } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import { applyClassParams } from '../../../src/controller/ingress/class-params.js';
import { ingress, modelProvider, node, service } from '../fixtures.js';

const G = 'lbc.dev/group.name';
const at = (ing: V1Ingress, iso: string): V1Ingress => ({ ...ing, metadata: { ...ing.metadata, creationTimestamp: new Date(iso) } });
const member = (ns: string, name: string, rules: { host?: string; path: string; svc: string }[], extra: Record<string, string> = {}) =>
  ingress(
    name,
    { rules: rules.map((r) => ({ ...(r.host ? { host: r.host } : {}), http: { paths: [{ path: r.path, pathType: 'Prefix', backend: { service: { name: r.svc, port: { number: 80 } } } }] } })) },
    { [G]: 'shop', ...extra },
    ns,
  );
const services = [
  service('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }, undefined, 'shop'),
  service('checkout', { type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] }, undefined, 'shop'),
  service('evil', { type: 'NodePort', ports: [{ port: 80, nodePort: 30082 }] }, undefined, 'mallory'),
];

function build(ingresses: V1Ingress[]) {
  const r = buildIngressModel({ ingresses, services, endpointSlices: [], secrets: [], nodes: [node('n1')], provider: modelProvider(), className: 'lbc', clusterName: 'test' });
  if (!r.ok) throw new Error(`expected a spec, got ${JSON.stringify(r)}`);
  return r;
}

describe('host claims across namespaces in one group', () => {
  const owner = at(member('shop', 'store', [{ host: 'shop.example.com', path: '/', svc: 'web' }, { host: 'shop.example.com', path: '/api/checkout', svc: 'checkout' }]), '2026-01-01T00:00:00Z');

  it('a later member from another namespace, with a lower group.order, does not take shop.example.com/api/checkout', () => {
    const intruder = at(
      member('mallory', 'grab', [{ host: 'shop.example.com', path: '/api/checkout', svc: 'evil' }, { host: 'mallory.example.com', path: '/', svc: 'evil' }], { 'lbc.dev/group.order': '-10' }),
      '2026-02-01T00:00:00Z',
    );
    const r = build([owner, intruder]);
    expect(r.spec.rules.map((x) => `${x.host ?? '*'}${x.path} → ${x.targetSet} (${x.source})`)).toEqual([
      // The intruder's own host stays: only the claim on another namespace's host is refused.
      'mallory.example.com/ → mallory/evil:80 (mallory/grab)',
      'shop.example.com/ → shop/web:80 (shop/store)',
      'shop.example.com/api/checkout → shop/checkout:80 (shop/store)',
    ]);
    expect(r.refusedHosts.map((c) => [c.host, `${c.intruder.namespace}/${c.intruder.name}`, `${c.owner.namespace}/${c.owner.name}`])).toEqual([
      ['shop.example.com', 'mallory/grab', 'shop/store'],
    ]);
  });

  it('with creationTimestamps as the informers hold them (the server\'s RFC 3339 strings), the older namespace still owns the host', () => {
    const asServerJson = (ing: V1Ingress, iso: string): V1Ingress => ({ ...ing, metadata: { ...ing.metadata, creationTimestamp: iso as unknown as Date } });
    // shop is older and sorts after mallory: namespace order alone would give mallory the host.
    const store = asServerJson(member('shop', 'store', [{ host: 'shop.example.com', path: '/api/checkout', svc: 'checkout' }]), '2026-01-01T00:00:00Z');
    const grab = asServerJson(member('mallory', 'grab', [{ host: 'shop.example.com', path: '/api/checkout', svc: 'evil' }], { 'lbc.dev/group.order': '-10' }), '2026-02-01T00:00:00Z');
    const r = build([grab, store]);
    expect(r.refusedHosts.map((c) => [c.host, `${c.intruder.namespace}/${c.intruder.name}`, `${c.owner.namespace}/${c.owner.name}`])).toEqual([['shop.example.com', 'mallory/grab', 'shop/store']]);
    expect(r.spec.rules.map((x) => `${x.path} → ${x.targetSet}`)).toEqual(['/api/checkout → shop/checkout:80']);
  });

  it('members of one namespace share a host freely', () => {
    const sibling = at(member('shop', 'more', [{ host: 'shop.example.com', path: '/more', svc: 'web' }]), '2026-02-01T00:00:00Z');
    const r = build([owner, sibling]);
    expect(r.refusedHosts).toEqual([]);
    // Group order: namespace, then name (more < store).
    expect(r.spec.rules.map((x) => x.path)).toEqual(['/more', '/', '/api/checkout']);
  });

  it('the host belongs to the oldest member, whatever the order they are listed or sorted in', () => {
    const older = at(member('mallory', 'first', [{ host: 'shop.example.com', path: '/x', svc: 'evil' }]), '2025-12-01T00:00:00Z');
    const r = build([owner, older]);
    expect(r.refusedHosts.map((c) => `${c.intruder.namespace}/${c.intruder.name}`)).toEqual(['shop/store']);
  });
});

// Issue #16: "Joining a group across namespaces must be explicit: follow ALBC's
// IngressClassParams group/namespaceSelector". An administrator who gives a class params
// with group.name and a namespaceSelector shares that group's hosts with the namespaces it
// selects; a member that joined by its own annotation is still refused another's host.
describe('host claims across namespaces the class\'s IngressClassParams allow', () => {
  const owner = at(member('shop', 'store', [{ host: 'shop.example.com', path: '/', svc: 'web' }]), '2026-01-01T00:00:00Z');
  const shared = { name: 'shared-group', spec: { group: { name: 'shop' }, namespaceSelector: { matchLabels: { 'shop.example.com/team': 'storefront' } } } };
  const viaParams = (ing: V1Ingress, spec: Parameters<typeof applyClassParams>[1]['spec']): V1Ingress => {
    const r = applyClassParams(ing, { name: 'shared-group', spec }, { 'shop.example.com/team': 'storefront' });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.ingress;
  };
  const partner = () => at(member('mallory', 'partner', [{ host: 'shop.example.com', path: '/partner', svc: 'evil' }]), '2026-02-01T00:00:00Z');

  it('a member its params put in the group, from a namespace their namespaceSelector selects, routes the owner\'s host', () => {
    const r = build([owner, viaParams(partner(), shared.spec)]);
    expect(r.refusedHosts).toEqual([]);
    expect(r.spec.rules.map((x) => `${x.host ?? '*'}${x.path} (${x.source})`)).toContain('shop.example.com/partner (mallory/partner)');
  });

  it('params without a namespaceSelector allow no one: the member from another namespace is refused the host', () => {
    const r = build([owner, viaParams(partner(), { group: { name: 'shop' } })]);
    expect(r.refusedHosts.map((c) => `${c.intruder.namespace}/${c.intruder.name}`)).toEqual(['mallory/partner']);
  });

  it('a member that joined by its own group.name annotation is refused, whatever params others have', () => {
    const r = build([viaParams(owner, shared.spec), partner()]);
    expect(r.refusedHosts.map((c) => `${c.intruder.namespace}/${c.intruder.name}`)).toEqual(['mallory/partner']);
  });
});
