// `lbc demo` in-process, over real sockets: the addresses in status answer, the web
// Service balances over its two ready replicas only, ClientIP affinity sticks, the
// Ingress routes by host and path, and stop() leaves nothing open. Pods on 127.201.0.x,
// load balancers from 127.242.0.0/24, so that other suites never meet these.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequests, startDemo, type DemoHandle } from '../../src/cli/demo.js';
import { httpGet } from '../../src/cli/demo/http.js';

const POOL = '127.242.0.0/24';
const inPool = (ip: string) => /^127\.242\.0\.\d+$/.test(ip);

/** Sockets and servers open now (timers excluded: vitest keeps its own). */
const openSockets = (): number => process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe|UDP/.test(r)).length;

describe('lbc demo', () => {
  let h: DemoHandle;
  let before: number;

  beforeAll(async () => {
    before = openSockets();
    h = await startDemo({ addressPool: POOL, podSubnet: '127.201.0', portOffset: 0, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives the web Service, the sticky Service and the Ingress an address from the pool in status', async () => {
    const web = await h.clients.core.readNamespacedService({ namespace: 'default', name: 'web' });
    expect(web.status?.loadBalancer?.ingress?.[0]?.ip).toBe(h.addresses.web);
    const sticky = await h.clients.core.readNamespacedService({ namespace: 'default', name: 'sticky' });
    expect(sticky.status?.loadBalancer?.ingress?.[0]?.ip).toBe(h.addresses.sticky);
    const shop = await h.clients.networking.readNamespacedIngress({ namespace: 'default', name: 'shop' });
    expect(shop.status?.loadBalancer?.ingress?.[0]?.ip).toBe(h.addresses.ingress);
    for (const ip of Object.values(h.addresses)) expect(inPool(ip)).toBe(true);
    expect(new Set(Object.values(h.addresses)).size).toBe(3);
    expect(h.endpoints.web).toEqual({ 80: `${h.addresses.web}:80`, 443: `${h.addresses.web}:443` });
    // The printed commands name these addresses.
    expect(h.commands).toContain(`export KUBECONFIG=${h.kubeconfigPath}`);
    expect(h.commands).toContain(`curl http://${h.addresses.web}/`);
    expect(h.commands).toContain(`curl -H 'Host: shop.example.com' http://${h.addresses.ingress}/cart`);
  });

  it('balances web round robin over the two ready replicas, never the not-ready one, on both ports', async () => {
    const web3 = h.pods.hits('web-3');
    for (const [port, podPort] of [
      [80, '8080'],
      [443, '8443'],
    ] as const) {
      const seen: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await httpGet(h.endpoints.web[port]!, '/');
        expect(r.status).toBe(200);
        expect(r.body).toContain(`port ${podPort}`);
        seen.push(r.pod ?? '?');
      }
      expect(new Set(seen)).toEqual(new Set(['web-1', 'web-2']));
      // Round robin: alternates.
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    }
    expect(h.pods.hits('web-3')).toBe(web3);
    expect(h.pods.hits('web-3')).toBe(0);
  });

  it('keeps one client IP on one sticky replica', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await httpGet(h.endpoints.sticky[80]!, '/')).pod ?? '?');
    expect(seen.size).toBe(1);
    expect(['sticky-1', 'sticky-2']).toContain([...seen][0]);
  });

  it('routes the Ingress by host and path, with the default backend for the rest', async () => {
    const at = async (host: string | undefined, path: string) => (await httpGet(h.endpoints.ingress[80]!, path, host ? { host } : {})).pod;
    expect(['web-1', 'web-2']).toContain(await at('shop.example.com', '/cart'));
    expect(['web-1', 'web-2']).toContain(await at('shop.example.com', '/cart/items'));
    expect(await at('shop.example.com', '/api/orders')).toBe('api-1');
    expect(await at('shop.example.com', '/apix')).toBe('fallback-1');
    expect(await at('shop.example.com', '/')).toBe('fallback-1');
    expect(await at('api.example.com', '/anything')).toBe('api-1');
    expect(await at('other.example.com', '/cart')).toBe('fallback-1');
    expect(await at(undefined, '/')).toBe('fallback-1');
  });

  it("makes the demo's own requests successfully", async () => {
    const rs = await demoRequests(h);
    expect(rs.length).toBeGreaterThan(10);
    for (const r of rs) expect('error' in r.result ? r.result.error : r.result.status).toBe(200);
    expect(h.pods.hits('web-3')).toBe(0);
  });

  it('stops cleanly: controller, listeners, pods and the API server close, nothing stays open', async () => {
    await h.stop();
    await h.stop(); // idempotent
    const deadline = Date.now() + 5000;
    while (openSockets() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe|UDP/.test(r))).toHaveLength(before);
    await expect(httpGet(h.endpoints.web[80]!, '/', { timeoutMs: 1000 })).rejects.toThrow();
    await expect(httpGet(`127.201.0.1:8080`, '/', { timeoutMs: 1000 })).rejects.toThrow();
  });
});
