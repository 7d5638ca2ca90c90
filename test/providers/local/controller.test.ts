// The local provider behind the controller, over real sockets: what a user sees on the
// object (Warning Event, condition, status) when one listener cannot bind or a TLS
// Secret is broken, while everything else keeps serving. Backends on 127.0.17.x, load
// balancers from 127.243.0.0/24, ports + 20000 so that no privilege is needed.
//
// Devcluster only: a real kube-apiserver refuses loopback addresses in EndpointSlices
// ("may not be in the loopback range"), and loopback is where the local provider's
// backends live on one machine.
import { createServer, type Server } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert, type ServingCert } from '../../../src/devcluster/tls.js';
import { READY_CONDITION } from '../../../src/controller/reconcile.js';
import { E2E, eventually } from '../../e2e/harness.js';
import { httpBackend, httpGet, type Backend } from './support.js';

const POOL = '127.243.0.0/24';
const OFFSET = 20_000;
const realCluster = Boolean(process.env.KUBECONFIG);
if (realCluster) console.log('test/providers/local/controller.test.ts: skipped against a real cluster: kube-apiserver refuses loopback endpoint addresses, which these backends use');

const b64 = (s: string) => Buffer.from(s).toString('base64');
const nameAt = async (ip: string, port: number, host?: string): Promise<string> => {
  const r = await httpGet(ip, port, '/', host ? { host } : {});
  return r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : String(r.status);
};

function block(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen({ host, port, exclusive: true }, () => resolve(s));
  });
}

/** The CN the listener presents for servername. */
function peerCn(ip: string, port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: ip, port, servername, rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.end();
      resolve(String(cn));
    });
    s.on('error', reject);
  });
}

/** One HTTPS request that verifies the server against ca, as `curl --cacert` would. */
function httpsName(ip: string, port: number, host: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: ip, port, path: '/', servername: host, headers: { host }, ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as { name: string }).name : `${res.statusCode ?? 0} ${body.trim()}`));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(realCluster)('local provider behind the controller: partial failures', () => {
  let e: E2E;
  const blockers: Server[] = [];
  let cert: ServingCert;

  const warnings = async (name: string): Promise<string[]> => {
    await e.controller.recorder.flush();
    return (await e.events(name)).filter((x) => x.type === 'Warning').map((x) => `${x.reason ?? ''}: ${x.message ?? ''}`);
  };
  const tlsSecret = (name: string, data: Record<string, string>): V1Secret => ({ metadata: { name }, type: 'kubernetes.io/tls', data });

  beforeAll(async () => {
    e = await E2E.start({
      allowLoopbackEndpoints: true,
      config: {
        providers: [{ name: 'local', type: 'local', options: { addressPool: POOL, addressMode: 'pool', portOffset: OFFSET, drainTimeoutMs: 500, healthChecks: false } }],
        defaultClass: 'lbc.dev/local',
      },
      controller: { retry: { baseMs: 50, maxMs: 500 } },
    });
    cert = selfSignedCert({ ips: [], dns: ['shop.test'] }, 'shop.test');
  });
  afterAll(async () => {
    for (const s of blockers) await new Promise((r) => s.close(r));
    await e?.stop();
  });
  /** A backend (closed after the test, by support.ts) behind a selectorless ClusterIP Service of the same name. */
  const serviceWithBackend = async (name: string, host: string): Promise<Backend> => {
    const b = await httpBackend(name, host);
    await e.service(name, { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: b.port, protocol: 'TCP' }] });
    await e.endpointSlice(name, [b.host], b.port);
    return b;
  };

  it('a port in use: Warning Event and LoadBalancerReady=False naming it, the other port serves and is in status; bound once it frees up', async () => {
    const web = await httpBackend('web', '127.0.17.1');
    const ip = '127.243.0.10';
    const blocker = await block(ip, 8081 + OFFSET);
    blockers.push(blocker);
    // A second Service beside it, to show it is not disturbed.
    await e.lbService('calm', undefined, { ports: [{ name: 'http', port: 8080, targetPort: web.port, protocol: 'TCP' }] });
    await e.endpointSlice('calm', [web.host], web.port);
    await e.lbService('split', undefined, {
      loadBalancerIP: ip,
      ports: [
        { name: 'a', port: 8080, targetPort: web.port, protocol: 'TCP' },
        { name: 'b', port: 8081, targetPort: web.port, protocol: 'TCP' },
      ],
    });
    await e.discovery.createNamespacedEndpointSlice({
      namespace: e.ns,
      body: {
        metadata: { name: 'split-manual', labels: { 'kubernetes.io/service-name': 'split' } },
        addressType: 'IPv4',
        ports: [
          { name: 'a', port: web.port, protocol: 'TCP' },
          { name: 'b', port: web.port, protocol: 'TCP' },
        ],
        endpoints: [{ addresses: [web.host], conditions: { ready: true } }],
      },
    });

    const svc = await eventually('split to report the port in use', async () => {
      const s = await e.getService('split');
      const c = s?.status?.conditions?.find((x) => x.type === READY_CONDITION);
      return c?.status === 'False' && s?.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    const cond = svc.status?.conditions?.find((x) => x.type === READY_CONDITION);
    expect(cond).toMatchObject({ status: 'False', reason: 'PartiallyEnsured' });
    expect(cond?.message).toContain(`${ip}:${8081 + OFFSET}: address already in use`);
    // Status names what does serve, and it serves.
    expect(svc.status?.loadBalancer?.ingress?.[0]).toMatchObject({ ip, ports: [{ port: 8080 + OFFSET, protocol: 'TCP' }] });
    expect(await nameAt(ip, 8080 + OFFSET)).toBe('web');
    const w = await eventually('the Warning Event', async () => (await warnings('split')).find((m) => m.includes('address already in use')));
    expect(w).toMatch(new RegExp(`^SyncLoadBalancerFailed: Error syncing load balancer: .*${ip.replace(/\./g, '\\.')}:${8081 + OFFSET}`));
    // The Service beside it is served and clean.
    const calm = await eventually('calm to be ready', async () => {
      const s = await e.getService('calm');
      return s?.status?.conditions?.find((x) => x.type === READY_CONDITION)?.status === 'True' ? s : undefined;
    });
    expect(await nameAt(calm.status?.loadBalancer?.ingress?.[0]?.ip ?? '', 8080 + OFFSET)).toBe('web');
    expect(await warnings('calm')).toEqual([]);

    // The port frees up: the retry binds it and the condition turns True.
    await new Promise((r) => blocker.close(r));
    const healed = await eventually(
      'split to bind its second port',
      async () => {
        const s = await e.getService('split');
        return s?.status?.conditions?.find((x) => x.type === READY_CONDITION)?.status === 'True' ? s : undefined;
      },
      15_000,
    );
    expect(healed.status?.loadBalancer?.ingress?.[0]?.ports?.map((p) => p.port)).toEqual([8080 + OFFSET, 8081 + OFFSET]);
    expect(await nameAt(ip, 8081 + OFFSET)).toBe('web');
  });

  it('a TLS Secret with a missing key or non-PEM data: Warning Event naming it; HTTP, HTTPS with the last good certificate, and other Ingresses keep serving', async () => {
    const cls = await e.ingressClass('local');
    await serviceWithBackend('web', '127.0.17.2');
    await serviceWithBackend('api', '127.0.17.3');
    await e.core.createNamespacedSecret({ namespace: e.ns, body: tlsSecret('shop-tls', { 'tls.crt': b64(cert.certPem), 'tls.key': b64(cert.keyPem) }) });
    const ingress = (name: string, host: string, svc: string, tls?: string) =>
      e.networking.createNamespacedIngress({
        namespace: e.ns,
        body: {
          metadata: { name },
          spec: {
            ingressClassName: cls,
            ...(tls ? { tls: [{ hosts: [host], secretName: tls }] } : {}),
            rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }],
          },
        },
      });
    await ingress('shop', 'shop.test', 'web', 'shop-tls');
    await ingress('side', 'side.test', 'api');
    const addr = async (name: string) => eventually(`${name} address`, async () => (await e.getIngress(name))?.status?.loadBalancer?.ingress?.[0]?.ip);
    const shop = await addr('shop');
    const side = await addr('side');
    await eventually('HTTPS on shop', async () => (await httpsName(shop, 443 + OFFSET, 'shop.test', cert.certPem)) === 'web');

    const serving = async () => {
      expect(await nameAt(shop, 80 + OFFSET, 'shop.test')).toBe('web');
      expect(await httpsName(shop, 443 + OFFSET, 'shop.test', cert.certPem)).toBe('web');
      expect(await peerCn(shop, 443 + OFFSET, 'shop.test')).toBe('shop.test');
      expect(await nameAt(side, 80 + OFFSET, 'side.test')).toBe('api');
    };
    const broken: [string, Record<string, string>, RegExp][] = [
      ['missing key', { 'tls.crt': b64(cert.certPem) }, /Secret .*\/shop-tls has no tls\.key/],
      ['not PEM', { 'tls.crt': b64('this is not a certificate'), 'tls.key': b64(cert.keyPem) }, /Secret .*\/shop-tls tls\.crt is not PEM/],
      // PEM markers around garbage pass the builder's check; the provider finds the rest.
      ['PEM around garbage', { 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nnot base64 DER\n-----END CERTIFICATE-----\n'), 'tls.key': b64(cert.keyPem) }, /Secret .*\/shop-tls: certificate or key cannot be used.*still serving its previous version/],
    ];
    for (const [what, data, expected] of broken) {
      await e.core.replaceNamespacedSecret({ namespace: e.ns, name: 'shop-tls', body: tlsSecret('shop-tls', data) });
      const w = await eventually(`a Warning for ${what}`, async () => (await warnings('shop')).find((m) => expected.test(m)));
      expect(w).toMatch(/^SyncLoadBalancerFailed: /);
      await serving();
      expect(await warnings('side')).toEqual([]);
      // Back to good before the next case (no wait for the controller: what serves never changed).
      await e.core.replaceNamespacedSecret({ namespace: e.ns, name: 'shop-tls', body: tlsSecret('shop-tls', { 'tls.crt': b64(cert.certPem), 'tls.key': b64(cert.keyPem) }) });
    }
    expect((await e.getIngress('shop'))?.status?.loadBalancer?.ingress?.[0]?.ip).toBe(shop);
  });
  it('an Ingress whose HTTPS port is in use: Warning Event naming it, its address in status with port 80 serving; 443 once it frees up', async () => {
    const cls = await e.ingressClass('local-bind');
    await serviceWithBackend('store', '127.0.17.4');
    await e.core.createNamespacedSecret({ namespace: e.ns, body: tlsSecret('store-tls', { 'tls.crt': b64(cert.certPem), 'tls.key': b64(cert.keyPem) }) });
    // The pool hands out the lowest free address: block HTTPS there before the Ingress asks.
    const owned = new Set((await e.providers.byName('local')!.listOwned()).map((o) => o.id));
    const ip = Array.from({ length: 254 }, (_, i) => `127.243.0.${i + 1}`).find((a) => !owned.has(a))!;
    const blocker = await block(ip, 443 + OFFSET);
    blockers.push(blocker);
    await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: {
        metadata: { name: 'store' },
        spec: {
          ingressClassName: cls,
          tls: [{ hosts: ['shop.test'], secretName: 'store-tls' }],
          rules: [{ host: 'shop.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'store', port: { number: 80 } } } }] } }],
        },
      },
    });
    const w = await eventually('the Warning Event', async () => (await warnings('store')).find((m) => m.includes('address already in use')));
    expect(w).toContain(`${ip}:${443 + OFFSET}`);
    const partial = await eventually('the partial address in status', async () => (await e.getIngress('store'))?.status?.loadBalancer?.ingress?.[0]);
    expect(partial).toMatchObject({ ip, ports: [{ port: 80 + OFFSET, protocol: 'TCP' }] });
    expect(await nameAt(ip, 80 + OFFSET, 'shop.test')).toBe('store');

    await new Promise((r) => blocker.close(r));
    await eventually('HTTPS once the port is free', async () => (await e.getIngress('store'))?.status?.loadBalancer?.ingress?.[0]?.ports?.length === 2, 15_000);
    expect(await httpsName(ip, 443 + OFFSET, 'shop.test', cert.certPem)).toBe('store');
  });
});
