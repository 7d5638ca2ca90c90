// MetalLB's configuration, unchanged (#20): the controller reads IPAddressPools and
// L2Advertisements from MetalLB's namespace while running, allocates by their
// serviceAllocation (priority, namespaces, serviceSelectors) as MetalLB does, writes
// metallb.io/ip-allocated-from-pool, and answers a bad object with a Warning Event on it
// while every other pool keeps serving. The upstream CRDs are installed as users install
// them. Against devcluster, or the cluster KUBECONFIG names.
import type { CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_ALLOCATED_FROM_POOL } from '../../src/providers/metal/annotations.js';
import { uniqueName } from '../support/cluster.js';
import { installMetalLbCrds, metallbCrdsPresent, MetalLbObjects } from '../support/metallb-crds.js';
import { E2E, eventually } from './harness.js';

const METALLB_NS = uniqueName('lbc-metallb');
let e: E2E;
let mlb: MetalLbObjects;

beforeAll(async () => {
  e = await E2E.start({
    config: {
      providers: [
        {
          name: 'metal',
          type: 'metal',
          // One pool in the file, not auto-assigned: IPAddressPools serve the rest.
          options: { pools: [{ name: 'file', addresses: ['192.0.2.200/30'], autoAssign: false }], metallb: { namespace: METALLB_NS } },
        },
      ],
      defaultClass: 'lbc.dev/metal',
    },
    controller: { slowRetry: { baseMs: 600_000, maxMs: 600_000 } },
    noStart: true,
  });
  await installMetalLbCrds(e.cluster.kc, ['ipaddresspools', 'l2advertisements', 'servicel2statuses', 'bgppeers', 'bgpadvertisements', 'communities', 'bfdprofiles']);
  await e.core.createNamespace({ body: { metadata: { name: METALLB_NS } } });
  mlb = new MetalLbObjects(e.cluster.kc, METALLB_NS);
  // Present before the controller starts, as on a cluster that ran MetalLB.
  await mlb.pool('general', { addresses: ['198.51.100.10-198.51.100.11'] });
  await e.controller.start();
}, 60_000);

afterAll(async () => {
  await e?.core.deleteNamespace({ name: METALLB_NS }).catch(() => {});
  await e?.stop();
});

const ipsOf = async (name: string): Promise<string[]> => ((await e.getService(name))?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
const addressOf = (name: string, want?: string): Promise<string> =>
  eventually(`${name} to get ${want ?? 'an address'}`, async () => {
    const [ip] = await ipsOf(name);
    return ip !== undefined && (want === undefined || ip === want) ? ip : undefined;
  });

async function metallbEvents(name: string): Promise<CoreV1Event[]> {
  await e.controller.recorder.flush();
  return (await e.core.listNamespacedEvent({ namespace: METALLB_NS })).items.filter((ev) => ev.involvedObject.name === name);
}
const warningOn = (kind: string, name: string, ...parts: string[]): Promise<CoreV1Event> =>
  eventually(`a Warning on ${kind} ${name} saying ${parts.join(', ')}`, async () =>
    (await metallbEvents(name)).find((ev) => ev.type === 'Warning' && ev.involvedObject.kind === kind && parts.every((p) => ev.message?.includes(p))),
  );

describe.skipIf(!metallbCrdsPresent)('MetalLB resources in the controller', () => {
  it('gives a Service an address from an IPAddressPool and names the pool in metallb.io/ip-allocated-from-pool', async () => {
    await e.lbService('plain');
    expect(await addressOf('plain')).toBe('198.51.100.10');
    const svc = await e.getService('plain');
    expect(svc?.metadata?.annotations?.[IP_ALLOCATED_FROM_POOL]).toBe('general');
  });

  it('an IPAddressPool created while running serves at once; serviceAllocation priority and serviceSelectors decide', async () => {
    await mlb.pool('web-first', { addresses: ['198.51.100.20/31'], serviceAllocation: { priority: 1, serviceSelectors: [{ matchLabels: { tier: 'web' } }] } });
    await mlb.pool('web-second', { addresses: ['198.51.100.30/31'], serviceAllocation: { priority: 2, serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }] } });
    await eventually('the new pools to be used', () => {
      const names = (e.providers.byName('metal') as unknown as { pools: { name: string }[] }).pools.map((p) => p.name);
      return names.includes('web-first') && names.includes('web-second') ? names : undefined;
    });
    for (const [name, tier] of [['web', 'web'], ['db', 'db']] as const) {
      await e.core.createNamespacedService({
        namespace: e.ns,
        body: { metadata: { name, labels: { tier } }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      });
    }
    // priority 1 matches web; db matches only priority 2; the unlabelled Service above stayed in the general pool.
    expect(await addressOf('web', '198.51.100.20')).toBe('198.51.100.20');
    expect(await addressOf('db', '198.51.100.30')).toBe('198.51.100.30');
    expect((await e.getService('web'))?.metadata?.annotations?.[IP_ALLOCATED_FROM_POOL]).toBe('web-first');
  });

  it('a pool bound to other namespaces is refused by name, and the Service says why', async () => {
    await mlb.pool('elsewhere', { addresses: ['198.51.100.40/31'], serviceAllocation: { namespaces: ['some-other-namespace'] } });
    await eventually('pool elsewhere to be known', () => (e.providers.byName('metal') as unknown as { pools: { name: string }[] }).pools.some((p) => p.name === 'elsewhere'));
    await e.lbService('pinned', { 'metallb.io/address-pool': 'elsewhere' });
    const w = await eventually('a Warning on pinned', async () => {
      await e.controller.recorder.flush();
      return (await e.events('pinned')).find((ev) => ev.type === 'Warning' && ev.message?.includes('serves only namespaces some-other-namespace'));
    });
    expect(w.message).toContain(e.ns);
    expect(await ipsOf('pinned')).toEqual([]);
  });

  it('a bad IPAddressPool or L2Advertisement gets a Warning naming the problem; every other pool keeps serving', async () => {
    await mlb.pool('overlapping', { addresses: ['198.51.100.11/32'] });
    await mlb.pool('not-cidr', { addresses: ['198.51.100.300/24'] });
    await mlb.pool('file', { addresses: ['203.0.113.0/30'] });
    await mlb.advertisement('dangling', { ipAddressPools: ['general', 'no-such-pool'] });
    const overlap = await warningOn('IPAddressPool', 'overlapping', '198.51.100.11/32', 'overlaps', `IPAddressPool ${METALLB_NS}/general`);
    expect(overlap.reason).toBe('InvalidConfiguration');
    await warningOn('IPAddressPool', 'not-cidr', '198.51.100.300/24');
    // Defined both ways: the Warning names both the IPAddressPool and the config file's pool.
    await warningOn('IPAddressPool', 'file', `IPAddressPool ${METALLB_NS}/file`, "lbc's config file (pools[0])");
    await warningOn('L2Advertisement', 'dangling', '"no-such-pool"');
    // The good pools serve on: a new Service gets general's second address.
    await e.lbService('after');
    expect(await addressOf('after', '198.51.100.11')).toBe('198.51.100.11');
  });

  it('a bad BGPAdvertisement or BGPPeer gets a Warning from the controller naming the problem; the good pools keep serving', async () => {
    await mlb.apply('bgpadvertisements', 'BGPAdvertisement', 'bgp-dangling', { ipAddressPools: ['general', 'no-such-bgp-pool'] });
    await mlb.apply('bgppeers', 'BGPPeer', 'in-vrf', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', vrf: 'red' });
    await mlb.apply('bgppeers', 'BGPPeer', 'no-bfd', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.2', bfdProfile: 'no-such-profile' });
    await mlb.apply('bgppeers', 'BGPPeer', 'fine', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.3' });
    const dangling = await warningOn('BGPAdvertisement', 'bgp-dangling', '"no-such-bgp-pool"', 'not an IPAddressPool');
    expect(dangling.reason).toBe('InvalidConfiguration');
    expect(dangling.message).not.toContain('"general"');
    await warningOn('BGPPeer', 'in-vrf', 'spec.vrf is not supported');
    await warningOn('BGPPeer', 'no-bfd', 'BFDProfile no-such-profile does not exist');
    // A pool created after them serves (the others with room are taken or bound), and the Warnings are not repeated by that change.
    await mlb.pool('later', { addresses: ['198.51.100.50/31'] });
    await e.lbService('after-bgp');
    expect(await addressOf('after-bgp', '198.51.100.50')).toBe('198.51.100.50');
    // A good peer gets none; the bad ones one each.
    expect((await metallbEvents('fine')).filter((ev) => ev.type === 'Warning')).toEqual([]);
    for (const name of ['bgp-dangling', 'in-vrf', 'no-bfd']) expect((await metallbEvents(name)).filter((ev) => ev.type === 'Warning').map((ev) => ev.count ?? 1)).toEqual([1]);
  });

  it('deleting the IPAddressPool a Service uses moves it to a pool that takes it', async () => {
    await mlb.remove('ipaddresspools', 'web-first');
    // web (tier=web) now matches only web-second.
    expect(await addressOf('web', '198.51.100.31')).toBe('198.51.100.31');
    expect(
      await eventually('the annotation to follow', async () => {
        const a = (await e.getService('web'))?.metadata?.annotations?.[IP_ALLOCATED_FROM_POOL];
        return a === 'web-second' ? a : undefined;
      }),
    ).toBe('web-second');
  });
});
