// planCluster with in-process providers: Ingress groups (in sync, changes, companions,
// members leaving, misconfigured classes, teardown), scopes, the garbage collector's
// switches, the metal provider's address plan, and the deletion plan of a provider that
// can plan deletions itself.
import type { V1Ingress, V1IngressSpec, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { LbcConfig } from '../../src/config/config.js';
import { COMPANION_BACKEND_ANNOTATION, COMPANION_OF_ANNOTATION, companionName } from '../../src/controller/companions.js';
import { exitCodeOf, planCluster, type ObjectPlan, type PlanScope } from '../../src/controller/plan.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import type { LbRef } from '../../src/model/ref.js';
import type { LoadBalancerSpec } from '../../src/model/spec.js';
import { createMemoryProvider, type MemoryProvider } from '../../src/providers/memory/index.js';
import { createMetalProvider } from '../../src/providers/metal/index.js';
import type { CallOptions, Change } from '../../src/providers/types.js';
import { config as baseConfig, ingress, ingressClass, lbService, node, service } from './fixtures.js';
import { planInputs, providerSet, type World } from './plan-support.js';

const CONTROLLER = 'lbc.dev/ingress-controller';
const config = baseConfig({
  clusterName: 'test',
  providers: [
    { name: 'mem', type: 'memory', class: 'lbc.dev/mem', options: {} },
    { name: 'other', type: 'memory', class: 'lbc.dev/other', options: {} },
  ],
  defaultClass: 'lbc.dev/mem',
  ingress: { controllerName: CONTROLLER, classAnnotationMap: {} },
});
const nodes = [node('n1', { ip: '10.0.0.1' }), node('n2', { ip: '10.0.0.2' })];
const classes = [ingressClass('lbc', CONTROLLER, { provider: 'mem' }), ingressClass('lbc-other', CONTROLLER, { provider: 'other' }), ingressClass('nginx', 'k8s.io/ingress-nginx')];
const backend = lbService('web', [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }]);

function memory(name: string, opts: { targetTypes?: ('instance' | 'ip')[] } = {}): MemoryProvider {
  return createMemoryProvider({ name, clusterName: 'test', ...(opts.targetTypes ? { targetTypes: opts.targetTypes as ['instance'] } : {}) });
}

function ing(name: string, opts: { cls?: string; host?: string; service?: string; annotations?: Record<string, string>; finalizer?: boolean; deleting?: boolean; namespace?: string } = {}): V1Ingress {
  const spec: V1IngressSpec = {
    ingressClassName: opts.cls ?? 'lbc',
    rules: [{ host: opts.host ?? `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: opts.service ?? 'web', port: { number: 80 } } } }] } }],
  };
  const i = ingress(name, spec, opts.annotations, opts.namespace);
  return {
    ...i,
    metadata: { ...i.metadata, ...(opts.finalizer ? { finalizers: [FINALIZER] } : {}), ...(opts.deleting ? { deletionTimestamp: new Date() } : {}) },
  };
}

const withFinalizer = <T extends V1Service | V1Ingress>(o: T): T => ({ ...o, metadata: { ...o.metadata, finalizers: [FINALIZER] } });

async function plan(providers: MemoryProvider[], w: World, scope?: PlanScope, cfg: LbcConfig = config) {
  const set = providerSet(cfg, providers);
  const p = await planCluster(planInputs(cfg, set, { nodes, ingressClasses: classes, ...w }), scope);
  return { objects: p.objects, code: exitCodeOf(p) };
}

const changes = (o: ObjectPlan | undefined): string[] =>
  o?.outcome.kind === 'planned' ? o.outcome.cloud.flatMap((c) => c.changes.map((ch) => `${c.provider} ${ch.op} ${ch.resource} ${ch.id}`)) : [];
const kube = (o: ObjectPlan | undefined): string[] => (o?.outcome.kind === 'planned' ? o.outcome.kube.map((c) => `${c.op} ${c.resource} ${c.id}`) : []);

/** Ensures what the last plan call for ref planned, as the reconciler would have. */
async function ensurePlanned(p: MemoryProvider, name: string): Promise<void> {
  const call = [...p.callsOf('plan')].reverse().find((c) => c.ref.name === name);
  if (!call) throw new Error(`no plan for ${name}`);
  await p.ensure(call.spec);
}

describe('planning an Ingress', () => {
  it('plans it as the reconciler builds it, then finds it in sync once ensured', async () => {
    const mem = memory('mem');
    const site = ing('site');
    const first = await plan([mem, memory('other')], { ingresses: [site], services: [withFinalizer(backend)] });
    const group = first.objects.find((o) => o.subject.kind === 'IngressGroup');
    expect(group?.subject).toEqual({ kind: 'IngressGroup', group: 'ingress/default/site', members: ['default/site'] });
    expect(changes(group)).toEqual([
      'mem create LoadBalancer uid-default-site',
      'mem create TargetSet default/web:80',
      'mem create Listener HTTP:80',
      'mem create Rules rules',
    ]);
    expect(kube(group)).toEqual(['create Finalizer Ingress default/site']);

    await ensurePlanned(mem, 'site');
    await ensurePlanned(mem, 'web');
    const again = await plan([mem, memory('other')], { ingresses: [withFinalizer(site)], services: [withFinalizer(backend)] });
    expect(again.objects.map((o) => `${o.subject.kind} ${changes(o).length + kube(o).length}`)).toEqual(['Service 0', 'IngressGroup 0']);
    expect(again.code).toBe(0);

    const moved = await plan([mem, memory('other')], { ingresses: [withFinalizer(ing('site', { host: 'moved.example.com' }))], services: [withFinalizer(backend)] });
    expect(changes(moved.objects.find((o) => o.subject.kind === 'IngressGroup'))).toEqual(['mem update Rules rules']);
    expect(moved.code).toBe(2);
  });

  it('lists the companion NodePort Services a ClusterIP backend needs, and those no longer needed', async () => {
    const mem = memory('mem', { targetTypes: ['instance'] });
    const api = service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'api' } });
    const site = withFinalizer(ing('site', { service: 'api' }));
    const needed = await plan([mem], { ingresses: [site], services: [api] });
    const group = needed.objects[0];
    const name = companionName('ingress/default/site', { namespace: 'default', service: 'api', port: 80 });
    expect(kube(group)).toEqual([`create Service default/${name}`]);
    expect(changes(group)).toEqual([]);
    expect(group?.outcome.kind === 'planned' && group.outcome.notes).toEqual([expect.stringContaining('companion Services for default/api:80')]);
    expect(needed.code).toBe(2);

    const companion: V1Service = {
      metadata: { name, namespace: 'default', uid: 'uid-companion', annotations: { [COMPANION_OF_ANNOTATION]: 'ingress/default/site', [COMPANION_BACKEND_ANNOTATION]: 'default/api:80' } },
      spec: { type: 'NodePort', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31000 }] },
    };
    const stale: V1Service = {
      metadata: { name: 'old-lbc-00000000', namespace: 'default', uid: 'uid-stale', annotations: { [COMPANION_OF_ANNOTATION]: 'ingress/default/site', [COMPANION_BACKEND_ANNOTATION]: 'default/gone:80' } },
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }] },
    };
    const withPorts = await plan([mem], { ingresses: [site], services: [api, companion, stale] });
    const planned = withPorts.objects[0];
    expect(changes(planned)).toContain('mem create TargetSet default/api:80');
    const spec = mem.callsOf('plan').at(-1)?.spec as LoadBalancerSpec;
    expect(spec.targetSets[0]).toMatchObject({ type: 'instance', nodePort: 31000 });
    // The Ingress owns its companion: without the owner reference it has drifted.
    expect(planned?.outcome.kind === 'planned' && planned.outcome.kube).toEqual([
      expect.objectContaining({ op: 'update', resource: 'Service', id: `default/${name}`, fields: ['metadata.ownerReferences'] }),
      expect.objectContaining({ op: 'delete', resource: 'Service', id: 'default/old-lbc-00000000' }),
    ]);
    const owned = { ...companion, metadata: { ...companion.metadata, ownerReferences: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'site', uid: 'uid-default-site' }] } };
    expect(kube((await plan([mem], { ingresses: [site], services: [api, owned, stale] })).objects[0])).toEqual(['delete Service default/old-lbc-00000000']);
  });

  it('releases members that left the group while it keeps serving the others', async () => {
    const mem = memory('mem');
    const shop = { 'lbc.dev/group.name': 'shop' };
    const a = withFinalizer(ing('a', { annotations: shop }));
    // Its IngressClass is gone: no controller is addressed, so the one holding the finalizer lets go.
    const b = withFinalizer(ing('b', { annotations: shop, cls: 'deleted-class' }));
    const { objects } = await plan([mem], { ingresses: [a, b], services: [withFinalizer(backend)] });
    const group = objects.find((o) => o.subject.kind === 'IngressGroup');
    expect(group?.subject).toEqual({ kind: 'IngressGroup', group: 'group/shop', members: ['default/a', 'default/b'] });
    expect(group?.intent).toEqual({ kind: 'ensure', provider: 'mem' });
    expect(kube(group)).toEqual(['update Status Ingress default/b', 'delete Finalizer Ingress default/b']);
  });

  it('leaves a member addressed to another controller alone, finalizer and status (issue #22: two controllers fought over them)', async () => {
    const mem = memory('mem');
    const shop = { 'lbc.dev/group.name': 'shop' };
    const a = withFinalizer(ing('a', { annotations: shop }));
    const b = withFinalizer(ing('b', { annotations: shop, cls: 'nginx' }));
    const { objects } = await plan([mem], { ingresses: [a, b], services: [withFinalizer(backend)] });
    const group = objects.find((o) => o.subject.kind === 'IngressGroup');
    expect(group?.intent).toEqual({ kind: 'ensure', provider: 'mem' });
    expect(kube(group)).toEqual([]);
    expect(group?.outcome.kind === 'planned' && group.outcome.notes).toEqual(['addressed to another controller, left alone: Ingress default/b']);
  });

  it('notes members that select another provider than their group', async () => {
    const shop = { 'lbc.dev/group.name': 'shop' };
    const { objects } = await plan([memory('mem'), memory('other')], { ingresses: [ing('a', { annotations: shop }), ing('b', { annotations: shop, cls: 'lbc-other' })], services: [backend] });
    const group = objects.find((o) => o.subject.kind === 'IngressGroup');
    expect(group?.outcome.kind === 'planned' && group.outcome.notes).toEqual([
      'left out of the load balancer: Ingress default/b selects provider other, but its group is served by mem (from Ingress default/a)',
    ]);
  });

  it('reports a misconfigured IngressClass as an error and exits 1, keeping the LB', async () => {
    const broken = ingressClass('broken', CONTROLLER, { parameters: { apiGroup: 'example.com', kind: 'Thing', name: 'x' } });
    const { objects, code } = await plan([memory('mem')], { ingresses: [ing('site', { cls: 'broken' })], ingressClasses: [broken] });
    expect(objects[0]?.outcome).toEqual({ kind: 'invalid', message: expect.stringContaining('Ingress default/site: IngressClass broken: spec.parameters must be') });
    expect(code).toBe(1);
  });

  it('plans the teardown of a group whose last member is being deleted', async () => {
    const mem = memory('mem');
    await plan([mem], { ingresses: [ing('site')], services: [backend] });
    await ensurePlanned(mem, 'site');
    const { objects, code } = await plan([mem], { ingresses: [ing('site', { finalizer: true, deleting: true })], services: [withFinalizer(backend)] });
    const group = objects.find((o) => o.subject.kind === 'IngressGroup');
    expect(group?.intent.kind).toBe('delete');
    expect(changes(group)).toEqual([`mem delete LoadBalancer ${mem.loadBalancers()[0]?.id}`]);
    expect(kube(group)).toEqual(['delete Finalizer Ingress default/site']);
    expect(code).toBe(2);
  });
});

describe('scopes', () => {
  const world = (): World => ({
    services: [backend, lbService('api', [{ port: 81, nodePort: 30081, protocol: 'TCP' }]), { ...service('other', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30090 }] }, undefined, 'elsewhere') }, service('plain', { type: 'ClusterIP', ports: [{ port: 80 }] })],
    ingresses: [ing('site'), ing('away', { namespace: 'elsewhere' })],
  });

  it('plans everything lbc serves, leaving out what it does not', async () => {
    const { objects } = await plan([memory('mem')], world());
    expect(objects.map((o) => (o.subject.kind === 'Service' ? `svc ${o.subject.namespace}/${o.subject.name}` : o.subject.kind === 'IngressGroup' ? o.subject.group : o.subject.kind))).toEqual([
      'svc default/api',
      'svc default/web',
      'svc elsewhere/other',
      'ingress/default/site',
      'ingress/elsewhere/away',
    ]);
  });

  it('plans one namespace', async () => {
    const { objects } = await plan([memory('mem')], world(), { kind: 'namespace', namespace: 'elsewhere' });
    expect(objects.map((o) => o.subject)).toEqual([
      { kind: 'Service', namespace: 'elsewhere', name: 'other' },
      { kind: 'IngressGroup', group: 'ingress/elsewhere/away', members: ['elsewhere/away'] },
    ]);
  });

  it('plans one named object, and says why one that lbc does not serve needs nothing', async () => {
    const named = await plan([memory('mem')], world(), { kind: 'object', namespace: 'default', objectKind: 'Ingress', name: 'site' });
    expect(named.objects.map((o) => o.subject.kind === 'IngressGroup' && o.subject.group)).toEqual(['ingress/default/site']);
    const plain = await plan([memory('mem')], world(), { kind: 'object', namespace: 'default', objectKind: 'Service', name: 'plain' });
    expect(plain.objects).toEqual([expect.objectContaining({ intent: { kind: 'ignore', reason: "not lbc's: type is ClusterIP, not LoadBalancer" } })]);
    expect(plain.code).toBe(0);
  });
});

describe('orphans', () => {
  const ghostRef: LbRef = { kind: 'Service', namespace: 'default', name: 'ghost', uid: 'uid-gone' };

  async function withGhost(): Promise<MemoryProvider> {
    const mem = memory('mem');
    await plan([mem], { services: [lbService('ghost', [{ port: 80, nodePort: 30080, protocol: 'TCP' }])] });
    const spec = mem.callsOf('plan')[0]?.spec;
    if (!spec) throw new Error('no plan call');
    await mem.ensure({ ...spec, ref: ghostRef });
    return mem;
  }

  it('are what listOwned returns that no live object wants', async () => {
    const mem = await withGhost();
    const { objects, code } = await plan([mem], {});
    expect(objects).toEqual([
      expect.objectContaining({ subject: { kind: 'Orphan', provider: 'mem', ref: ghostRef, id: mem.get(ghostRef)?.id }, intent: { kind: 'delete', reason: 'no live object wants it (garbage collection)' } }),
    ]);
    expect(changes(objects[0])).toEqual([`mem delete LoadBalancer ${mem.get(ghostRef)?.id}`]);
    expect(code).toBe(2);
    expect((await plan([mem], {}, { kind: 'namespace', namespace: 'elsewhere' })).objects).toEqual([]);
  });

  it('change nothing when the garbage collector only logs (gc.dryRun) or does not run', async () => {
    const mem = await withGhost();
    for (const gc of [{ intervalMs: 1_800_000, dryRun: true }, { intervalMs: 0, dryRun: false }]) {
      const { objects, code } = await plan([mem], {}, undefined, { ...config, gc });
      expect(objects).toHaveLength(1);
      expect(objects[0]?.outcome).toEqual({ kind: 'planned', cloud: [], kube: [], notes: [expect.stringMatching(/^gc\.(dryRun is set|interval is 0)/)] });
      expect(code).toBe(0);
    }
  });
});

describe('deletion plans', () => {
  it('use the provider\'s own planDeletion when it has one', async () => {
    const mem = memory('mem');
    const asked: LbRef[] = [];
    const steps: Change[] = [{ op: 'delete', resource: 'ForwardingRule', id: 'fr-1' }, { op: 'delete', resource: 'Address', id: 'addr-1' }];
    // The GCE provider's shape: planDeletion(ref) beside the contract's methods.
    const planning = Object.assign(Object.create(mem) as MemoryProvider, {
      planDeletion: async (ref: LbRef, _opts?: CallOptions) => {
        asked.push(ref);
        return steps;
      },
    });
    const leaving = { ...withFinalizer(backend), metadata: { ...withFinalizer(backend).metadata, deletionTimestamp: new Date() } };
    const { objects } = await plan([planning], { services: [leaving] });
    expect(asked).toEqual([{ kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-default-web' }]);
    expect(changes(objects[0])).toEqual(['mem delete ForwardingRule fr-1', 'mem delete Address addr-1']);
  });
});

describe('the metal provider', () => {
  it('plans addresses from the Services\' statuses, as the controller would after a restart', async () => {
    const metalConfig = baseConfig({ clusterName: 'test', providers: [{ name: 'metal', type: 'metal', class: 'lbc.dev/metal', options: {} }], defaultClass: 'lbc.dev/metal' });
    const metal = createMetalProvider({ name: 'metal', clusterName: 'test', options: { pools: [{ name: 'lan', addresses: ['192.0.2.10-192.0.2.13'] }] }, configPath: 'providers[0].options' });
    const held: V1Service = { ...withFinalizer(lbService('held', [{ port: 80, nodePort: 30080, protocol: 'TCP' }])), status: { loadBalancer: { ingress: [{ ip: '192.0.2.11' }] } } };
    const fresh = lbService('fresh', [{ port: 80, nodePort: 30081, protocol: 'TCP' }]);
    const set = providerSet(metalConfig, [metal]);
    const inputs = planInputs(metalConfig, set, { services: [held, fresh], nodes });
    const p = await planCluster(inputs);
    const byName = (n: string) => p.objects.find((o) => o.subject.kind === 'Service' && o.subject.name === n);
    expect(changes(byName('held'))).toEqual([]);
    expect(changes(byName('fresh'))).toEqual(['metal create Address 192.0.2.10']);
    expect(metal.allocations().map((a) => a.ips)).toEqual([['192.0.2.11']]);
  });
});
