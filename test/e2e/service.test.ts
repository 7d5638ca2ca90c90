// A LoadBalancer Service through its life: created, changed (ports, annotations, class,
// type), deleted; the provider calls and the API state at each step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_CONDITION } from '../../src/controller/reconcile.js';
import type { LoadBalancerSpec } from '../../src/model/spec.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

let e: E2E;

beforeAll(async () => {
  e = await E2E.start({
    config: {
      providers: [
        { name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24' } },
        { name: 'other', type: 'memory', options: { addressPool: '203.0.113.0/24' } },
      ],
    },
  });
});

afterAll(async () => {
  await e?.stop();
});

const lbOf = (name: string, provider = 'mem') => e.provider(provider).loadBalancers().find((lb) => lb.ref.name === name && lb.ref.namespace === e.ns);
const ensuresOf = (name: string, provider = 'mem') => e.provider(provider).callsOf('ensure').filter((c) => c.ref.name === name && c.ref.namespace === e.ns);
const deletesOf = (name: string, provider = 'mem') => e.provider(provider).callsOf('delete').filter((c) => c.ref.name === name && c.ref.namespace === e.ns);
const address = async (name: string) => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ip;

describe('a LoadBalancer Service', () => {
  it('gets the finalizer, an address, the Ready condition and the upstream Events', async () => {
    const created = await e.lbService('web');
    const ip = await eventually('an address', () => address('web'));
    const svc = await e.getService('web');
    expect(hasOurFinalizer(svc)).toBe(true);
    expect(ip).toMatch(/^198\.51\.100\./);
    expect(svc?.status?.loadBalancer?.ingress).toEqual([{ ip, ports: [{ port: 80, protocol: 'TCP' }] }]);
    expect(svc?.status?.conditions?.find((c) => c.type === READY_CONDITION)).toMatchObject({ status: 'True', reason: 'LoadBalancerEnsured' });
    await e.settle();
    expect(await e.reasons('web')).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);

    const [call] = ensuresOf('web');
    const spec = call?.spec as LoadBalancerSpec;
    expect(spec.ref).toEqual({ kind: 'Service', namespace: e.ns, name: 'web', uid: created.metadata?.uid });
    expect(spec.layer).toBe('L4');
    expect(spec.layer === 'L4' && spec.listeners).toEqual([{ protocol: 'TCP', port: 80, targetSet: 'tcp-80', name: 'http' }]);
    expect(spec.targetSets[0]).toMatchObject({ type: 'instance', nodePort: created.spec?.ports?.[0]?.nodePort, targets: [] });
    expect(spec.tags['lbc.dev/owner-uid']).toBe(created.metadata?.uid);
  });

  it('does nothing, to the cloud or the API, when reconciled again with nothing changed', async () => {
    await e.settle();
    const before = await e.getService('web');
    const calls = e.provider().calls.length;
    e.controller.enqueueAll();
    await e.settle();
    e.controller.enqueueAll();
    await e.settle();
    expect(e.provider().calls.length).toBe(calls);
    expect((await e.getService('web'))?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    expect(await e.reasons('web')).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
  });

  it('follows a port change with one ensure and a new status', async () => {
    const n = ensuresOf('web').length;
    const ip = await address('web');
    await e.patchService('web', { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }] } });
    await eventually('the new port in the status', async () => ((await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.ports?.length ?? 0) === 2);
    await e.settle();
    const calls = ensuresOf('web');
    expect(calls.length).toBe(n + 1);
    const spec = calls.at(-1)?.spec as LoadBalancerSpec;
    expect(spec.layer === 'L4' && spec.listeners.map((l) => l.port)).toEqual([80, 443]);
    expect(await address('web')).toBe(ip);
    expect((await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
    ]);
  });

  it('follows annotations into the spec (lbc tags, the provider options)', async () => {
    await e.patchService('web', { metadata: { annotations: { 'lbc.dev/tags': 'team=edge,env=test', 'memory.lbc.dev/tier': 'premium' } } });
    const spec = await eventually('the annotated spec', () => {
      const s = lbOf('web')?.spec;
      return s?.tags.team === 'edge' ? s : undefined;
    });
    expect(spec.tags).toMatchObject({ team: 'edge', env: 'test', 'lbc.dev/cluster': e.ns });
    expect(spec.providerOptions).toEqual({ tier: 'premium' });
  });

  it('follows instance targets as labelled Nodes become Ready and NotReady', async () => {
    await e.node('a', '10.9.0.1');
    await e.node('b', '10.9.0.2');
    const names = async (): Promise<string[]> => {
      const ts = lbOf('web')?.spec.targetSets[0];
      return ts?.type === 'instance' ? ts.targets.map((t) => t.name) : [];
    };
    await eventually('both nodes targeted', async () => (await names()).length === 2);
    await e.setNodeReady('b', false);
    await eventually('the NotReady node dropped', async () => JSON.stringify(await names()) === JSON.stringify([`${e.ns}-a`]));
    await e.settle();
    expect(await e.reasons('web')).toContain('UpdatedLoadBalancer');
  });

  it('is served by the provider its loadBalancerClass names', async () => {
    await e.lbService('classy', undefined, { loadBalancerClass: 'lbc.dev/other' });
    await eventually('an address from the other pool', async () => (await address('classy'))?.startsWith('203.0.113.'));
    expect(lbOf('classy', 'other')).toBeDefined();
    expect(lbOf('classy', 'mem')).toBeUndefined();
  });

  it('leaves Services of a class that is not lbc\'s alone', async () => {
    await e.lbService('foreign', undefined, { loadBalancerClass: 'example.com/not-lbc' });
    await e.lbService('sentinel');
    await eventually('the sentinel served', () => address('sentinel'));
    await e.settle();
    const svc = await e.getService('foreign');
    expect(hasOurFinalizer(svc)).toBe(false);
    expect(svc?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(await e.reasons('foreign')).toEqual([]);
  });

  it('removes the load balancer, status and finalizer when the type changes away from LoadBalancer', async () => {
    await e.lbService('typed');
    await eventually('an address', () => address('typed'));
    const lb = lbOf('typed');
    await e.patchService('typed', { spec: { type: 'ClusterIP', loadBalancerClass: null, allocateLoadBalancerNodePorts: null, externalTrafficPolicy: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: null }] } });
    await eventually('the finalizer gone', async () => !hasOurFinalizer(await e.getService('typed')));
    const svc = await e.getService('typed');
    expect(svc?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(svc?.status?.conditions?.find((c) => c.type === READY_CONDITION)).toBeUndefined();
    expect(lbOf('typed')).toBeUndefined();
    expect(deletesOf('typed').map((c) => c.ref.uid)).toContain(lb?.ref.uid);
    await e.settle();
    expect(await e.reasons('typed')).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer', 'DeletingLoadBalancer', 'DeletedLoadBalancer']);

    // loadBalancerClass is immutable on a LoadBalancer Service; coming back as one is how a Service changes class.
    await e.patchService('typed', { spec: { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/other' } });
    await eventually('an address from the other provider', async () => (await address('typed'))?.startsWith('203.0.113.'));
    expect(lbOf('typed', 'other')).toBeDefined();
    expect(lbOf('typed', 'mem')).toBeUndefined();
  });

  it('removes the load balancer and then the finalizer when the Service is deleted', async () => {
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'web' });
    await eventually('the Service gone', async () => (await e.getService('web')) === undefined);
    expect(lbOf('web')).toBeUndefined();
    await e.settle();
    expect((await e.reasons('web')).slice(-2)).toEqual(['DeletingLoadBalancer', 'DeletedLoadBalancer']);
  });

  it('gives externalTrafficPolicy: Local the health check on healthCheckNodePort', async () => {
    const svc = await e.lbService('local', undefined, { externalTrafficPolicy: 'Local' });
    const spec = await eventually('the spec', () => lbOf('local')?.spec);
    expect(spec.targetSets[0]?.healthCheck).toMatchObject({ protocol: 'HTTP', port: svc.spec?.healthCheckNodePort, path: '/healthz' });
  });

  it('gives ip targets the ready endpoints of a selectorless Service', async () => {
    await e.lbService('db', { 'lbc.dev/target-type': 'ip' }, { ports: [{ name: 'pg', port: 5432, targetPort: 5432, protocol: 'TCP' }] });
    await e.endpointSlice('db', ['10.20.0.1', '10.20.0.2'], 5432, 'pg');
    const targets = await eventually('the endpoints as targets', () => {
      const ts = lbOf('db')?.spec.targetSets[0];
      return ts?.type === 'ip' && ts.targets.length === 2 ? ts.targets : undefined;
    });
    expect(targets.map((t) => `${t.ip}:${t.port}`)).toEqual(['10.20.0.1:5432', '10.20.0.2:5432']);
  });

  it('records what the provider notices as an Event on the Service, not in its status', async () => {
    await e.settle();
    const message = 'subnet-0a1 is not tagged for this cluster';
    e.provider().noticeNext({ type: 'Warning', reason: 'SyncLoadBalancerFailed', message });
    await e.lbService('noticed');
    await eventually('an address', () => address('noticed'));
    await e.settle();
    expect(ensuresOf('noticed')).toHaveLength(1);
    const events = await e.events('noticed');
    expect(events.map((x) => `${x.type} ${x.reason}: ${x.message}`)).toEqual([
      'Normal EnsuringLoadBalancer: Ensuring load balancer',
      `Warning SyncLoadBalancerFailed: ${message}`,
      'Normal EnsuredLoadBalancer: Ensured load balancer',
    ]);
    expect(events[1]?.involvedObject).toMatchObject({ kind: 'Service', name: 'noticed', namespace: e.ns });
    expect(JSON.stringify((await e.getService('noticed'))?.status)).not.toContain(message);
  });
});
