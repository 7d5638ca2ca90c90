// The BGP test bed shared by the test and `npm run bench metal`: the routed fabric
// (fabric.ts), bird as the router, devcluster with MetalLB's CRDs, Nodes, the lbc
// config, an HTTP server and `lbc speaker` per node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { SpeakerBed } from '../wire/speaker-bed.js';
import { Bird, NODE_ASN, ROUTER_ASN } from './bird.js';
import { Fabric, ROUTER_IP4, ROUTER_IP6 } from './fabric.js';

const CRDS = new URL('../../../../../shared/crds/metallb-v0.16.1/', import.meta.url).pathname;
/** The speakers' Lease namespace, and MetalLB's (`metallb.namespace`) here too. */
export const NAMESPACE = 'lbc-system';
export const POOL = ['10.77.0.0/24', 'fd00:77::/120'] as const;
/** The IPv6 sessions are TCP MD5-signed: the router refuses them without it. */
const PASSWORD6 = 'lbc-md5-test';

export class BgpCluster extends SpeakerBed {
  readonly fabric = new Fabric();
  bird!: Bird;
  custom!: CustomObjectsApi;

  constructor(
    readonly nodes: readonly string[],
    readonly vips: readonly string[],
    /** Nodes whose IPv4 session runs BFD (BGPPeer router-bfd with BFDProfile fast, 100 ms x3). */
    readonly bfdNodes: readonly string[] = [],
  ) {
    super(nodes);
  }

  protected nsOf(node: string): string {
    return this.fabric.node(node).ns;
  }

  protected ip4Of(node: string): string {
    return this.fabric.node(node).ip4;
  }

  async start(opts: { holdTime?: number } = {}): Promise<void> {
    await this.prepare('lbc-bgp-');
    this.fabric.build(this.nodes);
    for (const n of this.nodes) this.fabric.deliverLocally(n, this.vips);
    this.bird = new Bird(this.fabric.routerNs, ROUTER_IP4);
    await this.bird.start(
      this.nodes.flatMap((n) => [
        { name: n, address: this.fabric.node(n).ip4, bfd: this.bfdNodes.includes(n) },
        { name: `${n}6`, address: this.fabric.node(n).ip6, password: PASSWORD6 },
      ]),
      { holdTime: opts.holdTime ?? 3, bfdIntervalMs: 100 },
    );
    const kc = await this.startCluster(NAMESPACE, [
      'clusterName: bgp',
      'providers:',
      '  - name: metal',
      '    type: metal',
      '    options:',
      `      metallb: { namespace: ${NAMESPACE} }`,
      '      pools:',
      `        - { name: bgp, addresses: [${POOL.map((p) => `"${p}"`).join(', ')}] }`,
    ]);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const f of ['bgppeers', 'bgpadvertisements', 'communities', 'bfdprofiles', 'servicebgpstatuses']) {
      for (const doc of parseAllDocuments(readFileSync(join(CRDS, `metallb.io_${f}.yaml`), 'utf8'))) {
        const body = doc.toJSON() as V1CustomResourceDefinition | null;
        if (body?.kind === 'CustomResourceDefinition') await ext.createCustomResourceDefinition({ body });
      }
    }
    await Promise.all(this.startHttpServers());
  }

  /**
   * The BGPPeers (IPv4 and IPv6 to the router; the IPv4 one with BFD for bfdNodes) and one
   * BGPAdvertisement, as a MetalLB user writes them.
   */
  async configure(peer: Record<string, unknown> = {}, advertisement: Record<string, unknown> = {}): Promise<void> {
    const create = (plural: string, version: string, kind: string, name: string, spec: Record<string, unknown>) =>
      this.custom.createNamespacedCustomObject({ group: 'metallb.io', version, namespace: NAMESPACE, plural, body: { apiVersion: `metallb.io/${version}`, kind, metadata: { name }, spec } });
    const common = { myASN: NODE_ASN, peerASN: ROUTER_ASN, holdTime: '3s', keepaliveTime: '1s', ...peer };
    const bfd = { key: 'kubernetes.io/hostname', operator: 'In', values: [...this.bfdNodes] };
    await create('bgppeers', 'v1beta2', 'BGPPeer', 'router', { ...common, peerAddress: ROUTER_IP4, ...(this.bfdNodes.length ? { nodeSelectors: [{ matchExpressions: [{ ...bfd, operator: 'NotIn' }] }] } : {}) });
    if (this.bfdNodes.length) {
      await create('bfdprofiles', 'v1beta1', 'BFDProfile', 'fast', { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 });
      await create('bgppeers', 'v1beta2', 'BGPPeer', 'router-bfd', { ...common, peerAddress: ROUTER_IP4, bfdProfile: 'fast', nodeSelectors: [{ matchExpressions: [bfd] }] });
    }
    await create('bgppeers', 'v1beta2', 'BGPPeer', 'router6', { ...common, peerAddress: ROUTER_IP6, password: PASSWORD6 });
    await create('communities', 'v1beta1', 'Community', 'names', { communities: [{ name: 'no-export-here', value: '64500:666' }] });
    await create('bgpadvertisements', 'v1beta1', 'BGPAdvertisement', 'all', { ipAddressPools: ['bgp'], communities: ['65535:65281', 'no-export-here', 'large:64513:1:2'], ...advertisement });
  }

  /** The node addresses the router's kernel forwards `prefix` to. */
  nextHops(prefix: string): string[] {
    return this.fabric.kernelNextHops(prefix);
  }

  ip4(node: string): string {
    return this.fabric.node(node).ip4;
  }

  dump(lines = 30): string {
    return [...this.children.map((c) => `---- ${c.name}\n${c.lines.slice(-lines).map((l) => l.line).join('\n')}`), `---- bird\n${this.bird?.log.join('').slice(-3000) ?? ''}`].join('\n');
  }

  async stop(): Promise<string[]> {
    await this.stopCluster();
    this.bird?.stop();
    const errors = this.fabric.destroy();
    this.removeScratch();
    return errors;
  }
}

/** Polls every `everyMs` until `fn` holds; returns the ms it took. */
export async function within(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
