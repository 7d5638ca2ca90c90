// The metal provider inside the controller, wired the way the controller is asked to
// wire it: attachServices(the Services cache, ownership) before start. Addresses land in
// the Services' statuses, bad input becomes a Warning naming the annotation, and a
// restarted controller rebuilds its state from the statuses (older Service wins a dispute).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceOwnership } from '../../../src/controller/ownership.js';
import { READY_CONDITION } from '../../../src/controller/reconcile.js';
import type { Controller } from '../../../src/controller/controller.js';
import { isMetalProvider } from '../../../src/providers/metal/index.js';
import type { ProviderSet } from '../../../src/providers/registry.js';
import { buildProviders } from '../../../src/providers/registry.js';
import { E2E, eventually } from '../../e2e/harness.js';

let e: E2E;

function attach(controller: Controller, providers: ProviderSet): void {
  for (const p of providers.all) {
    if (!isMetalProvider(p)) continue;
    p.attachServices(controller.services.cache, (svc) => {
      const own = serviceOwnership(svc, e.config);
      return own.ours && own.provider === p.name;
    });
  }
}

beforeAll(async () => {
  e = await E2E.start({
    config: {
      providers: [{ name: 'metal', type: 'metal', options: { pools: [{ name: 'lan', addresses: ['192.0.2.10-192.0.2.13'] }] } }],
      defaultClass: 'lbc.dev/metal',
    },
    noStart: true,
  });
  attach(e.controller, e.providers);
  await e.controller.start();
});

afterAll(async () => {
  await e?.stop();
});

const ingress = async (name: string) => (await e.getService(name))?.status?.loadBalancer?.ingress;
// Not e.settle(): a Service with bad input waits for its slow retry, so the queue is never idle.
const warningsOf = async (name: string): Promise<string> => {
  await e.controller.recorder.flush();
  return (await e.events(name))
    .filter((ev) => ev.type === 'Warning')
    .map((w) => w.message ?? '')
    .join('\n');
};

describe('metal provider in the controller', () => {
  it('gives a Service a pool address (ipMode VIP) and the Ready condition', async () => {
    await e.lbService('one');
    const ing = await eventually('an address', async () => {
      const i = await ingress('one');
      return i?.[0]?.ip !== undefined ? i : undefined;
    });
    expect(ing?.[0]?.ip).toBe('192.0.2.10');
    // devcluster serves v1.26, which has no ipMode field (added in 1.29); where it is stored it must say VIP.
    expect(ing?.[0]?.ipMode ?? 'VIP').toBe('VIP');
    expect((await e.getService('one'))?.status?.conditions?.find((c) => c.type === READY_CONDITION)?.status).toBe('True');
  });

  it('a request outside every pool: a Warning naming the annotation and the address, no address; others unaffected', async () => {
    await e.lbService('bad', { 'metallb.universe.tf/loadBalancerIPs': '10.1.2.3' });
    await e.lbService('two');
    await eventually('two to get an address', async () => (await ingress('two'))?.[0]?.ip === '192.0.2.11');
    const warning = await eventually('a Warning', async () => (await warningsOf('bad')) || undefined);
    expect(warning).toContain('10.1.2.3 (annotation metallb.universe.tf/loadBalancerIPs) is not in any address pool');
    expect(await ingress('bad')).toBeUndefined();
    const cond = (await e.getService('bad'))?.status?.conditions?.find((c) => c.type === READY_CONDITION);
    expect(cond?.status).toBe('False');
    expect(cond?.message).toContain('10.1.2.3');
  });

  it('after a restart every Service keeps its address; of two claiming one, the older keeps it and the newer is reported', async () => {
    // The newer Service claims the older's address in its status, as a second controller (or a restore from backup) might leave it.
    await e.lbService('three');
    await eventually('three to get an address', async () => (await ingress('three'))?.[0]?.ip === '192.0.2.12');
    await e.controller.stop({ drainTimeoutMs: 1000 });
    const three = await e.getService('three');
    await e.core.replaceNamespacedServiceStatus({
      namespace: e.ns,
      name: 'three',
      body: { ...three, status: { ...three?.status, loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
    });

    const providers = await buildProviders(e.config);
    const restarted = e.newController({ providers });
    attach(restarted, providers);
    e.controller = restarted;
    await restarted.start();
    expect((await ingress('one'))?.[0]?.ip).toBe('192.0.2.10');
    expect((await ingress('two'))?.[0]?.ip).toBe('192.0.2.11');
    const moved = await eventually('three to move', async () => {
      const ip = (await ingress('three'))?.[0]?.ip;
      return ip !== '192.0.2.10' && ip;
    });
    expect(moved).toBe('192.0.2.12');
    const warnings = await eventually('a Warning', async () => (await warningsOf('three')) || undefined);
    expect(warnings).toContain(`${e.ns}/three claims 192.0.2.10 in its status, but is in use by Service ${e.ns}/one`);
    await providers.close();
  });

  it('deleting a Service frees its address for the next', async () => {
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'two' });
    await eventually('two to be gone', async () => (await e.getService('two')) === undefined);
    await e.lbService('four');
    await eventually('four to reuse the freed address', async () => (await ingress('four'))?.[0]?.ip === '192.0.2.11');
    // Asking for a specific address still works next to the others.
    await e.core.patchNamespacedService(
      { namespace: e.ns, name: 'bad', body: { metadata: { annotations: { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.13' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually('bad to get what it asked for', async () => (await ingress('bad'))?.[0]?.ip === '192.0.2.13');
  });
});
