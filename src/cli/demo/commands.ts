// The shell commands `lbc demo` prints: kubectl against its kubeconfig, and curl lines
// that reach each load balancer as a user would, by host name (`--resolve` maps the
// example hosts to the load balancer's address without touching /etc/hosts) and over
// HTTPS verified against the demo's own certificate (`--cacert`), not with `-k`.
import type { DemoLb, DemoLbView } from '../demo.js';
import { DEMO_GATEWAY } from './gateway.js';
import type { RunningPod } from './pods.js';

export interface DemoCommand {
  /** One line to paste into a POSIX shell. */
  readonly line: string;
  /** Printed after it as a comment. */
  readonly note?: string;
  /** What the output (stdout and stderr) shows when the command works, each pattern somewhere: the tests run every line. */
  readonly expect?: readonly RegExp[];
}

/** Quotes for a POSIX shell where needed. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function split(endpoint: string): { ip: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { ip: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

const origin = (scheme: 'http' | 'https', host: string, port: number): string =>
  `${scheme}://${host}${(scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? '' : `:${port}`}`;

/** `curl http://ip:port/path` for an address, or `curl --resolve host:port:ip http://host:port/path` for a host. */
function curl(endpoint: string | undefined, path: string, opts: { host?: string; scheme?: 'http' | 'https'; cacert?: string; header?: string } = {}): string {
  if (!endpoint) return 'false  # no listener';
  const { ip, port } = split(endpoint);
  const scheme = opts.scheme ?? 'http';
  const args = ['curl'];
  if (opts.cacert) args.push('--cacert', opts.cacert);
  if (opts.header) args.push('-H', opts.header);
  if (opts.host) args.push('--resolve', `${opts.host}:${port}:${ip}`);
  args.push(`${origin(scheme, opts.host ?? ip, port)}${path}`);
  return args.map(shellQuote).join(' ');
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One row of kubectl's table output: these cells in order, separated by its column padding (`\S+` for any cell). */
const row = (...cells: string[]): RegExp => new RegExp(`^${cells.join(' {2,}')}(?: |$)`, 'm');

export interface DemoCommandsInput {
  readonly kubeconfigPath: string;
  readonly namespace: string;
  readonly nodes: readonly string[];
  readonly pods: readonly Pick<RunningPod, 'name' | 'node' | 'ip' | 'ready'>[];
  /** The external database's address in the hand-written Endpoints of Service db. */
  readonly dbEndpoint: string;
  readonly lbs: Readonly<Record<DemoLb, DemoLbView>>;
  readonly certFile: string;
  /** The TLS passthrough backend's own certificate. */
  readonly backendCertFile: string;
}

export function demoCommands(d: DemoCommandsInput): DemoCommand[] {
  const { web, sticky, db, shop, legacy, edge } = d.lbs;
  const g = DEMO_GATEWAY;
  const canary = new RegExp(`pod ${g.canaryPod} `);
  // Out of 100 requests the 90/10 weights give 90 and 10 (smooth weighted round robin); a
  // few either way if other requests shared the rule meanwhile, never 50 or 100.
  const split = [new RegExp(`^ *(8[5-9]|9[0-5]) pod ${g.stablePod} `, 'm'), new RegExp(`^ *([5-9]|1[0-5]) pod ${g.canaryPod} `, 'm')];
  const appCurl = curl(edge.endpoints[80], '/', { host: g.httpHost });
  const webPod = [/pod web-[12] /];
  const ip = (lb: DemoLbView) => escape(lb.ip);
  return [
    { line: `export KUBECONFIG=${shellQuote(d.kubeconfigPath)}` },
    {
      line: 'kubectl get nodes,pods -o wide',
      note: 'READY 1/1 for each ready pod, 0/1 for web-3',
      // With two kinds, kubectl names each row kind/name. Columns: NAME READY STATUS RESTARTS AGE IP NODE.
      expect: [
        ...d.nodes.map((n) => row(`node/${n}`, 'Ready')),
        ...d.pods.map((p) => row(`pod/${escape(p.name)}`, p.ready ? '1/1' : '0/1', 'Running', '0', '\\S+', escape(p.ip), escape(p.node))),
      ],
    },
    {
      line: 'kubectl get svc,ingress',
      expect: [
        ...[web, sticky, db].map((lb) => row(`service/${lb.name}`, 'LoadBalancer', '\\S+', ip(lb))),
        ...[shop, legacy].map((lb) => row(`ingress\\.networking\\.k8s\\.io/${lb.name}`, '\\S+', '\\S+', ip(lb))),
      ],
    },
    {
      line: 'kubectl get gateways,httproutes,tlsroutes',
      note: 'the Gateway PROGRAMMED with its ADDRESS, and its routes',
      // Columns from the CRDs' additionalPrinterColumns: Gateway NAME CLASS ADDRESS PROGRAMMED AGE, HTTPRoute NAME HOSTNAMES AGE, TLSRoute (v1alpha3) NAME AGE.
      expect: [
        row(`gateway\\.gateway\\.networking\\.k8s\\.io/${edge.name}`, escape(g.className), ip(edge), 'True'),
        row(`httproute\\.gateway\\.networking\\.k8s\\.io/${g.httpRoute}`, escape(`["${g.httpHost}"]`)),
        row(`tlsroute\\.gateway\\.networking\\.k8s\\.io/${g.tlsRoute}`, '\\S+'),
      ],
    },
    // Hand-written Endpoints carry no kubernetes.io/service-name label (on a real cluster
    // neither): they are found by the Service's name. The EndpointSlice mirrored from them
    // does carry it: the endpointslicemirroring controller sets kubernetes.io/service-name
    // and endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io
    // (KEP-752 EndpointSlice mirroring; pkg/controller/endpointslicemirroring).
    { line: `kubectl get endpoints ${db.name}`, note: "the Service's hand-written Endpoints: the database outside the cluster", expect: [row(db.name, escape(d.dbEndpoint))] },
    {
      line: `kubectl get endpointslices -l kubernetes.io/service-name=${db.name}`,
      note: 'the EndpointSlice mirrored from them',
      expect: [row(`${db.name}-\\S+`, 'IPv4', escape(d.dbEndpoint.split(':')[1] ?? ''), escape(d.dbEndpoint.split(':')[0] ?? ''))],
    },
    { line: 'kubectl get events --field-selector type=Warning', note: 'what went wrong, if anything did', expect: [new RegExp(`^No resources found in ${escape(d.namespace)} namespace\\.$`, 'm')] },
    { line: curl(web.endpoints[80], '/'), note: 'web-1 and web-2 in turn; web-3 is not ready and gets nothing', expect: webPod },
    { line: curl(web.endpoints[443], '/'), note: "port 443 forwards TCP to the pods' 8443 (plain HTTP there in this demo)", expect: [/pod web-[12] .*port 8443/] },
    { line: curl(sticky.endpoints[80], '/'), note: 'sessionAffinity: ClientIP, always the same pod', expect: [/pod sticky-[12] /] },
    { line: curl(db.endpoints[5432], '/'), note: 'selectorless Service: the address in the hand-written Endpoints', expect: [/external-db \(outside the cluster\)/] },
    { line: curl(shop.endpoints[80], '/web', { host: 'shop.example.com' }), expect: webPod },
    { line: curl(shop.endpoints[80], '/api/orders', { host: 'shop.example.com' }), expect: [/pod api-1 /] },
    { line: curl(shop.endpoints[80], '/', { host: 'api.example.com' }), expect: [/pod api-1 /] },
    { line: curl(shop.endpoints[80], '/anything'), note: 'no rule matches: the defaultBackend', expect: [/pod fallback-1 /] },
    { line: curl(shop.endpoints[443], '/web', { host: 'shop.example.com', scheme: 'https', cacert: d.certFile }), note: "TLS with the Secret's certificate, chosen by SNI", expect: webPod },
    { line: curl(legacy.endpoints[80], '/', { host: 'legacy.example.com' }), note: 'the Ingress with the legacy kubernetes.io/ingress.class annotation', expect: webPod },
    { line: appCurl, note: `Gateway ${edge.name}, HTTPRoute ${g.httpRoute}: ${g.stablePod} 9 times in 10, ${g.canaryPod} once`, expect: [new RegExp(`pod (${g.stablePod}|${g.canaryPod}) `)] },
    {
      line: `for i in $(seq 100); do ${appCurl} --silent; done | sort | uniq -c`,
      note: 'the 90/10 split, counted',
      expect: split,
    },
    { line: curl(edge.endpoints[80], '/', { host: g.httpHost, header: `${g.canaryHeader.name}: ${g.canaryHeader.value}` }), note: 'the header match: always the canary', expect: [canary] },
    {
      line: curl(edge.endpoints[443], '/', { host: g.tlsHost, scheme: 'https', cacert: d.backendCertFile }),
      note: `TLSRoute ${g.tlsRoute}: passthrough by SNI, verified against ${g.tlsPod}'s own certificate (lbc has none for this name)`,
      expect: [new RegExp(`pod ${g.tlsPod} .*\\(TLS\\)`)],
    },
  ];
}
