// Speakers announcing MetalLB's configuration (#20): an IPAddressPool and an
// L2Advertisement (nodeSelectors, interfaces) from MetalLB's namespace decide which node
// announces and on which interface, changes apply while running, and the announcing
// speaker writes MetalLB's ServiceL2Status and nodeAssigned Event. Two in-process
// speakers against devcluster with the upstream CRDs, fake interfaces and sockets (the
// wire test does ARP on real wires).
import type { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import { startDevCluster, type DevCluster } from '../../../src/devcluster/index.js';
import { makeClients } from '../../../src/kube/client.js';
import { parseMetalOptions } from '../../../src/providers/metal/options.js';
import type { FrameSocket } from '../../../src/providers/metal/speaker/responder.js';
import { Speaker } from '../../../src/providers/metal/speaker/speaker.js';
import { installMetalLbCrds, metallbCrdsPresent, MetalLbObjects } from '../../support/metallb-crds.js';

const NODES = ['n1', 'n2'];
const VIP = '10.7.0.5';
const PORT = 20_000 + Math.floor(Math.random() * 20_000);

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!metallbCrdsPresent)('speaker: MetalLB IPAddressPool and L2Advertisement', () => {
  let dev: DevCluster;
  let core: CoreV1Api;
  let mlb: MetalLbObjects;
  const speakers = new Map<string, Speaker>();
  // No pool in the file: everything comes from MetalLB's resources.
  const metal = parseMetalOptions({
    speaker: { gossipPort: PORT, heartbeatInterval: '100ms', deadAfter: '300ms', leaseDuration: '8s', gratuitousFor: 0 },
  });
  const ownership = parseConfig('clusterName: t\nproviders: [{ name: metal, type: metal }]\n');

  beforeAll(async () => {
    dev = await startDevCluster({ port: 0 });
    ({ core } = makeClients(dev.kubeConfig()));
    await installMetalLbCrds(dev.kubeConfig());
    for (const ns of ['lbc-system', 'metallb-system']) await core.createNamespace({ body: { metadata: { name: ns } } });
    for (const [i, name] of NODES.entries()) {
      await core.createNode({
        body: {
          metadata: { name, labels: name === 'n2' ? { edge: 'true' } : {} },
          status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: `127.0.0.${i + 2}` }] },
        },
      });
    }
    mlb = new MetalLbObjects(dev.kubeConfig(), 'metallb-system');
    await mlb.pool('cr', { addresses: ['10.7.0.0/24'] });
    await mlb.advertisement('edge', { ipAddressPools: ['cr'], nodeSelectors: [{ matchLabels: { edge: 'true' } }], interfaces: ['eth1'] });
    const created = await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/metal', ports: [{ port: 80, protocol: 'TCP' }] } },
    });
    await core.replaceNamespacedServiceStatus({ namespace: 'default', name: 'web', body: { ...created, status: { loadBalancer: { ingress: [{ ip: VIP }] } } } });
    await makeClients(dev.kubeConfig()).discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.200.0.1'], nodeName: 'n1', conditions: { ready: true } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    });
    await Promise.all(
      NODES.map((node, i) => {
        const s = new Speaker({
          node,
          provider: 'metal',
          metal,
          ownership,
          clients: makeClients(dev.kubeConfig()),
          log: { info: () => {}, warn: () => {} },
          pod: { name: `speaker-${node}`, uid: `uid-speaker-${node}` },
          hostInterfaces: () => [
            { name: 'eth0', ifindex: 1, mac: `02:00:00:00:00:0${i + 1}`, cidrs: ['10.9.0.2/24'] },
            { name: 'eth1', ifindex: 2, mac: `02:00:00:00:01:0${i + 1}`, cidrs: ['10.8.0.2/24'] },
          ],
          socketFactory: (): FrameSocket => ({ send: () => {}, join: () => {}, leave: () => {}, close: () => {} }),
          gossipBind: { v4: `127.0.0.${i + 2}`, v6: '::1' },
        });
        speakers.set(node, s);
        return s.start();
      }),
    );
  }, 30_000);

  afterAll(async () => {
    await Promise.all([...speakers.values()].map((s) => s.stop({ clean: false })));
    await dev?.stop();
  });

  const announcers = (): string[] => NODES.filter((n) => speakers.get(n)?.announced().has(VIP));
  const statuses = () => mlb.list('servicel2statuses');

  it('only the node the L2Advertisement selects announces, on the interface it names, though the address is on neither network', async () => {
    await until('n2 to announce', () => announcers().join() === 'n2');
    expect(speakers.get('n2')?.announced().get(VIP)).toEqual(['eth1']);
    expect(speakers.get('n1')?.pools().map((p) => [p.name, p.l2Advertisements.map((a) => a.name)])).toEqual([['cr', ['edge']]]);
  });

  it('the announcing speaker writes a ServiceL2Status as MetalLB does, and a nodeAssigned Event on the Service', async () => {
    const [st] = await until('a ServiceL2Status', async () => {
      const l = await statuses();
      return l.length === 1 && l[0]?.status?.node ? l : undefined;
    });
    expect(st?.metadata.name).toMatch(/^l2-/);
    expect(st?.metadata.labels).toEqual({ 'metallb.io/node': 'n2', 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' });
    expect(st?.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'speaker-n2', uid: 'uid-speaker-n2' }]);
    expect(st?.status).toEqual({ node: 'n2', serviceName: 'web', serviceNamespace: 'default', interfaces: [{ name: 'eth1' }] });
    const ev = await until('nodeAssigned', async () =>
      (await core.listNamespacedEvent({ namespace: 'default' })).items.find((e) => e.reason === 'nodeAssigned' && e.involvedObject.name === 'web'),
    );
    expect(ev.type).toBe('Normal');
    expect(ev.message).toBe('announcing from node "n2" with protocol "layer2"');
  });

  it('an edited L2Advertisement moves the announcement while running; the status follows', async () => {
    await mlb.advertisement('edge', { ipAddressPools: ['cr'], nodeSelectors: [{ matchExpressions: [{ key: 'edge', operator: 'DoesNotExist' }] }], interfaces: ['eth1'] });
    await until('n1 to announce instead', () => announcers().join() === 'n1');
    expect(speakers.get('n1')?.announced().get(VIP)).toEqual(['eth1']);
    const st = await until('the status to move to n1', async () => {
      const l = await statuses();
      return l.length === 1 && l[0]?.status?.node === 'n1' ? l[0] : undefined;
    });
    expect(st.metadata.labels?.['metallb.io/node']).toBe('n1');
  });

  it('a pool no L2Advertisement selects is not announced (MetalLB)', async () => {
    await mlb.remove('l2advertisements', 'edge');
    await until('nobody to announce', () => announcers().length === 0);
    await until('the status to go', async () => (await statuses()).length === 0);
  });
});
