// `lbc demo --check`: the demo's promises, each tried with real requests through the
// load balancers and reported as one PASS or FAIL line. Every request is on a new
// connection, since the local provider balances connections.
import type { DemoHandle } from '../demo.js';
import { gatewayChecks } from './gateway-check.js';
import { gets, httpsGet } from './http.js';
import { count, type Outcome } from './outcome.js';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** What was seen, in a few words, pass or fail. */
  readonly detail: string;
}


/** Requests of a routing table, each with the pod that must answer. */
async function routes(endpoint: string | undefined, table: readonly [host: string | undefined, path: string, pod: RegExp][]): Promise<Outcome> {
  const seen: string[] = [];
  let ok = true;
  for (const [host, path, pod] of table) {
    const r = (await gets(endpoint, 1, path, host))[0];
    const good = r !== undefined && r.status === 200 && pod.test(r.pod ?? '');
    ok &&= good;
    seen.push(`${host ?? '(no host)'}${path} -> ${r ? (r.pod ?? String(r.status)) : 'nothing'}${good ? '' : ` (want ${pod.source})`}`);
  }
  return { ok, detail: seen.join('; ') };
}

export async function runChecks(h: DemoHandle): Promise<CheckResult[]> {
  const { web, sticky, db, shop, legacy } = h.lbs;
  const notReady = h.pods.pods.filter((p) => !p.ready).map((p) => p.name);
  const before = new Map(notReady.map((n) => [n, h.pods.hits(n)]));
  const checks: [string, () => Promise<Outcome>][] = [
    [
      'web (LoadBalancer, port 80) answers from its ready replicas in turn',
      async () => {
        const pods = (await gets(web.endpoints[80], 6)).map((r) => r.pod ?? `${r.status}`);
        const alternates = pods.every((p, i) => i === 0 || p !== pods[i - 1]);
        return { ok: new Set(pods).size === 2 && pods.every((p) => p === 'web-1' || p === 'web-2') && alternates, detail: count(pods) };
      },
    ],
    [
      "web port 443 forwards to the pods' port 8443",
      async () => {
        const rs = await gets(web.endpoints[443], 4);
        return { ok: rs.every((r) => r.status === 200 && /^web-[12]$/.test(r.pod ?? '') && r.body.includes('port 8443')), detail: count(rs.map((r) => `${r.pod ?? r.status}:${/port (\d+)/.exec(r.body)?.[1] ?? '?'}`)) };
      },
    ],
    [
      'sticky (sessionAffinity: ClientIP) keeps this client on one replica',
      async () => {
        const pods = (await gets(sticky.endpoints[80], 6)).map((r) => r.pod ?? `${r.status}`);
        return { ok: new Set(pods).size === 1 && /^sticky-[12]$/.test(pods[0] ?? ''), detail: count(pods) };
      },
    ],
    [
      'db (selectorless Service) reaches the address of its hand-written Endpoints',
      async () => {
        const ext = h.pods.external.find((x) => x.name === 'external-db');
        const slices = await h.clients.discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=db' });
        const mirrored = slices.items.find((s) => s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslicemirroring-controller.k8s.io');
        const addresses = mirrored?.endpoints?.flatMap((e) => e.addresses) ?? [];
        const r = (await gets(db.endpoints[5432], 1))[0];
        const ok = r?.pod === 'external-db' && ext !== undefined && addresses.includes(ext.ip);
        return { ok, detail: `answered by ${r?.pod ?? r?.status ?? 'nobody'}; mirrored EndpointSlice ${mirrored ? `${mirrored.metadata?.name ?? ''} [${addresses.join(', ')}]` : 'missing'}` };
      },
    ],
    [
      'Ingress shop routes by host',
      () =>
        routes(shop.endpoints[80], [
          ['shop.example.com', '/web', /^web-[12]$/],
          ['api.example.com', '/', /^api-1$/],
          ['api.example.com', '/web', /^api-1$/],
        ]),
    ],
    [
      'Ingress shop routes by path (Prefix by path element)',
      () =>
        routes(shop.endpoints[80], [
          ['shop.example.com', '/web/cart', /^web-[12]$/],
          ['shop.example.com', '/api/orders', /^api-1$/],
          ['shop.example.com', '/webshop', /^fallback-1$/],
        ]),
    ],
    [
      'Ingress shop sends what matches no rule to its defaultBackend',
      () =>
        routes(shop.endpoints[80], [
          ['shop.example.com', '/', /^fallback-1$/],
          ['other.example.com', '/web', /^fallback-1$/],
          [undefined, '/anything', /^fallback-1$/],
        ]),
    ],
    [
      "Ingress shop serves HTTPS with the Secret's certificate, chosen by SNI",
      async () => {
        const endpoint = shop.endpoints[443];
        if (!endpoint) return { ok: false, detail: 'no HTTPS listener' };
        const r = await httpsGet(endpoint, '/web', { servername: 'shop.example.com', ca: h.tls.certPem });
        const same = r.fingerprint256 === h.tls.fingerprint256;
        return { ok: same && r.status === 200 && /^web-[12]$/.test(r.pod ?? ''), detail: `certificate verified for shop.example.com${same ? ', the Secret’s' : ', NOT the Secret’s'}; ${r.status} from ${r.pod ?? 'nobody'}` };
      },
    ],
    [
      'Ingress legacy (kubernetes.io/ingress.class annotation) is served',
      async () => {
        const r = (await gets(legacy.endpoints[80], 1, '/', 'legacy.example.com'))[0];
        return { ok: r?.status === 200 && /^web-[12]$/.test(r.pod ?? ''), detail: `address ${legacy.ip}; legacy.example.com/ -> ${r?.pod ?? r?.status ?? 'nothing'}` };
      },
    ],
    ...gatewayChecks({ edge: h.lbs.edge, clients: h.clients, lbcFingerprint: h.tls.fingerprint256, backendTls: h.backendTls }),
  ];
  const results: CheckResult[] = [];
  for (const [name, run] of checks) {
    try {
      results.push({ name, ...(await run()) });
    } catch (e) {
      results.push({ name, ok: false, detail: `error: ${(e as Error).message}` });
    }
  }
  // Last, so that it covers every request the checks above made.
  const hits = notReady.map((n) => `${n}: ${h.pods.hits(n) - (before.get(n) ?? 0)}`);
  results.push({
    name: `the not-ready replica${notReady.length === 1 ? '' : 's'} ${notReady.join(', ')} got no requests`,
    ok: notReady.length > 0 && notReady.every((n) => h.pods.hits(n) === (before.get(n) ?? 0)) && notReady.every((n) => h.pods.hits(n) === 0),
    detail: hits.join(', '),
  });
  return results;
}
