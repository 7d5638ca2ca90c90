// Ingresses: the exact spec the provider receives for host and path rules, a default
// backend and TLS; companion NodePort Services for ClusterIP backends when the provider
// wants instance targets, gone with their Ingress; groups; class changes.
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPANION_BACKEND_ANNOTATION, COMPANION_OF_ANNOTATION, COMPANION_OWNER_LABEL } from '../../src/controller/companions.js';
import { ingressGroupRef } from '../../src/model/ref.js';
import { ownershipTags, type L7Spec } from '../../src/model/spec.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEtest\n-----END PRIVATE KEY-----\n';
const HC = { protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };
/** Nothing about the health check is asked: the builder filled in, and marks, every field. */
const HC_DEFAULTED = { protocol: true, port: true, path: true, intervalSeconds: true, timeoutSeconds: true, healthyThreshold: true, unhealthyThreshold: true } as const;

let e: E2E;
let classMem: string;
let classInst: string;
let web: V1Service;

beforeAll(async () => {
  e = await E2E.start({
    config: {
      providers: [
        { name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24' } },
        { name: 'inst', type: 'memory', options: { addressPool: '203.0.113.0/24', targetTypes: ['instance'] } },
      ],
    },
  });
  classMem = await e.ingressClass('mem', 'mem');
  classInst = await e.ingressClass('inst', 'inst');
  await e.node('a', '10.9.0.1');
  web = await e.service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
  await e.service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 9090, protocol: 'TCP' }] });
  await e.endpointSlice('api', ['10.30.0.2', '10.30.0.1'], 9090);
  await e.service('cart', { type: 'ClusterIP', selector: { app: 'cart' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
  await e.core.createNamespacedSecret({
    namespace: e.ns,
    body: {
      metadata: { name: 'shop-tls' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(CERT).toString('base64'), 'tls.key': Buffer.from(KEY).toString('base64') },
    },
  });
  // The node must be eligible before the first Ingress is built, or the first spec has no targets.
  await eventually('the node eligible', () => e.controller.stats().eligibleNodes === 1);
});

afterAll(async () => {
  await e?.stop();
});

const ensures = (name: string, provider = 'mem') => e.provider(provider).callsOf('ensure').filter((c) => c.ref.name === name);
const lbOf = (name: string, provider = 'mem') => e.provider(provider).loadBalancers().find((lb) => lb.ref.name === name);

describe('an Ingress', () => {
  it('gives the provider exactly the rules, default backend, TLS and targets it declares', async () => {
    const ing = await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: {
        metadata: { name: 'shop' },
        spec: {
          ingressClassName: classMem,
          defaultBackend: { service: { name: 'web', port: { number: 80 } } },
          tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
          rules: [
            {
              host: 'shop.example.com',
              http: {
                paths: [
                  { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
                  { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } },
                  { path: '/healthz', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http' } } } },
                ],
              },
            },
          ],
        },
      },
    });
    const status = await eventually('the Ingress address', async () => (await e.getIngress('shop'))?.status?.loadBalancer?.ingress?.[0]);
    expect(status).toEqual({ ip: expect.stringMatching(/^198\.51\.100\./), ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] });
    expect(hasOurFinalizer(await e.getIngress('shop'))).toBe(true);

    const calls = ensures('shop');
    expect(calls).toHaveLength(1);
    const ref = { kind: 'Ingress' as const, namespace: e.ns, name: 'shop', uid: ing.metadata?.uid ?? '' };
    const spec: L7Spec = {
      layer: 'L7',
      ref,
      provider: 'mem',
      className: classMem,
      clusterName: e.ns,
      listeners: [
        { protocol: 'HTTP', port: 80 },
        {
          protocol: 'HTTPS',
          port: 443,
          certificates: [{ source: 'secret', secretRef: { namespace: e.ns, name: 'shop-tls' }, hosts: ['shop.example.com'], certPem: CERT, keyPem: KEY }],
        },
      ],
      rules: [
        { host: 'shop.example.com', path: '/', pathType: 'Prefix', targetSet: `${e.ns}/web:80`, source: `${e.ns}/shop` },
        { host: 'shop.example.com', path: '/api', pathType: 'Prefix', targetSet: `${e.ns}/api:8080`, source: `${e.ns}/shop` },
        { host: 'shop.example.com', path: '/healthz', pathType: 'Exact', targetSet: `${e.ns}/web:80`, source: `${e.ns}/shop` },
      ],
      defaultBackend: `${e.ns}/web:80`,
      tlsHosts: ['shop.example.com'],
      targetSets: [
        {
          name: `${e.ns}/api:8080`,
          protocol: 'HTTP',
          healthCheck: HC as L7Spec['targetSets'][number]['healthCheck'],
          healthCheckDefaulted: HC_DEFAULTED,
          backend: { namespace: e.ns, service: 'api', port: 8080 },
          type: 'ip',
          port: 9090,
          targets: [
            { ip: '10.30.0.1', port: 9090 },
            { ip: '10.30.0.2', port: 9090 },
          ],
        },
        {
          name: `${e.ns}/web:80`,
          protocol: 'HTTP',
          healthCheck: HC as L7Spec['targetSets'][number]['healthCheck'],
          healthCheckDefaulted: HC_DEFAULTED,
          backend: { namespace: e.ns, service: 'web', port: 80 },
          type: 'instance',
          nodePort: web.spec?.ports?.[0]?.nodePort ?? -1,
          targets: [{ name: `${e.ns}-a`, addresses: [{ type: 'InternalIP', address: '10.9.0.1' }], labels: { [e.nodeLabel]: 'true' } }],
        },
      ],
      sourceRanges: [],
      requestedAddresses: [],
      ipFamilies: ['IPv4'],
      tags: ownershipTags(e.ns, ref),
      providerOptions: { tier: 'standard' },
    };
    expect(calls[0]?.spec).toEqual(spec);

    await e.settle();
    const reasons = await e.reasons('shop');
    expect(reasons.filter((r) => r !== 'BackendTargets')).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
    const backends = (await e.events('shop')).filter((x) => x.reason === 'BackendTargets').map((x) => x.message);
    expect(backends.sort()).toEqual([
      `${e.ns}/api:8080: ip targets, because the Service is ClusterIP and has no node port`,
      `${e.ns}/web:80: instance targets on the Service's node port ${web.spec?.ports?.[0]?.nodePort}`,
    ]);
  });

  it('follows a changed TLS Secret and a backend Service that changes type', async () => {
    const newCert = CERT.replace('MIIBtest', 'MIIBnext');
    await e.core.patchNamespacedSecret({ namespace: e.ns, name: 'shop-tls', body: [{ op: 'replace', path: '/data/tls.crt', value: Buffer.from(newCert).toString('base64') }] });
    await eventually('the new certificate', () => {
      const l = lbOf('shop')?.spec as L7Spec | undefined;
      const https = l?.listeners.find((x) => x.protocol === 'HTTPS');
      return https?.protocol === 'HTTPS' && https.certificates[0]?.source === 'secret' && https.certificates[0].certPem === newCert;
    });
  });

  it('is removed, with its load balancer and finalizer, when its class stops being lbc\'s', async () => {
    await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: { metadata: { name: 'drifter' }, spec: { ingressClassName: classMem, defaultBackend: { service: { name: 'web', port: { number: 80 } } } } },
    });
    await eventually('an address', async () => (await e.getIngress('drifter'))?.status?.loadBalancer?.ingress?.[0]);
    await e.networking.patchNamespacedIngress({ namespace: e.ns, name: 'drifter', body: [{ op: 'replace', path: '/spec/ingressClassName', value: 'someone-else' }] });
    await eventually('the finalizer gone', async () => !hasOurFinalizer(await e.getIngress('drifter')));
    expect((await e.getIngress('drifter'))?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(lbOf('drifter')).toBeUndefined();
  });
});

describe('a ClusterIP backend behind a provider that only does instance targets', () => {
  it('gets a companion NodePort Service, owned by the Ingress, removed with it', async () => {
    const ing = await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: { metadata: { name: 'legacy' }, spec: { ingressClassName: classInst, defaultBackend: { service: { name: 'cart', port: { number: 80 } } } } },
    });
    await eventually('the Ingress address', async () => (await e.getIngress('legacy'))?.status?.loadBalancer?.ingress?.[0]);
    const companions = (await e.core.listNamespacedService({ namespace: e.ns, labelSelector: `${COMPANION_OWNER_LABEL}=legacy` })).items;
    expect(companions).toHaveLength(1);
    const c = companions[0] as V1Service;
    expect(c.spec?.type).toBe('NodePort');
    expect(c.spec?.selector).toEqual({ app: 'cart' });
    expect(c.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: 8080, protocol: 'TCP' });
    expect(c.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Ingress', name: 'legacy', uid: ing.metadata?.uid })]);
    expect(c.metadata?.annotations).toMatchObject({ [COMPANION_OF_ANNOTATION]: `ingress/${e.ns}/legacy`, [COMPANION_BACKEND_ANNOTATION]: `${e.ns}/cart:80` });

    const spec = lbOf('legacy', 'inst')?.spec as L7Spec;
    expect(spec.targetSets).toEqual([expect.objectContaining({ name: `${e.ns}/cart:80`, type: 'instance', nodePort: c.spec?.ports?.[0]?.nodePort })]);
    await e.settle();
    expect((await e.events('legacy')).filter((x) => x.reason === 'BackendTargets').map((x) => x.message)).toEqual([
      `${e.ns}/cart:80: instance targets on companion NodePort Service port ${c.spec?.ports?.[0]?.nodePort}, because the Service is ClusterIP`,
    ]);

    await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'legacy' });
    await eventually('the Ingress gone', async () => (await e.getIngress('legacy')) === undefined);
    await eventually('the companion gone', async () => (await e.getService(c.metadata?.name ?? '')) === undefined);
    expect(lbOf('legacy', 'inst')).toBeUndefined();
  });
});

describe('an Ingress group', () => {
  it('shares one load balancer, and a member that leaves is released after its rules are gone', async () => {
    const member = (name: string, path: string) =>
      e.networking.createNamespacedIngress({
        namespace: e.ns,
        body: {
          metadata: { name, annotations: { 'lbc.dev/group.name': `${e.ns}-g` } },
          spec: {
            ingressClassName: classMem,
            rules: [{ host: 'g.example.com', http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
          },
        },
      });
    await member('g1', '/one');
    await member('g2', '/two');
    const ref = ingressGroupRef(`${e.ns}-g`);
    await eventually('both members routed', () => {
      const lb = e.provider('mem').get(ref);
      return (lb?.spec as L7Spec | undefined)?.rules.length === 2;
    });
    const ip1 = await eventually('g1 address', async () => (await e.getIngress('g1'))?.status?.loadBalancer?.ingress?.[0]?.ip);
    const ip2 = await eventually('g2 address', async () => (await e.getIngress('g2'))?.status?.loadBalancer?.ingress?.[0]?.ip);
    expect(ip1).toBe(ip2);

    await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'g1' });
    await eventually('g1 gone', async () => (await e.getIngress('g1')) === undefined);
    expect((e.provider('mem').get(ref)?.spec as L7Spec).rules.map((r) => r.path)).toEqual(['/two']);

    await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'g2' });
    await eventually('g2 gone', async () => (await e.getIngress('g2')) === undefined);
    expect(e.provider('mem').get(ref)).toBeUndefined();
  });
});

describe('a backend Pod with an HTTP readiness probe', () => {
  it('gives the health check its path: the controller reads the Pod the EndpointSlice names', async () => {
    await e.service('probed', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    await e.core.createNamespacedPod({
      namespace: e.ns,
      body: {
        metadata: { name: 'probed-1' },
        spec: {
          containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.9', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/ready', port: 'http' } } }],
        },
      },
    });
    await e.discovery.createNamespacedEndpointSlice({
      namespace: e.ns,
      body: {
        metadata: { name: 'probed-manual', labels: { 'kubernetes.io/service-name': 'probed' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [{ addresses: ['10.40.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: e.ns, name: 'probed-1' } }],
      },
    });
    await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: { metadata: { name: 'probed-site' }, spec: { ingressClassName: classMem, defaultBackend: { service: { name: 'probed', port: { number: 80 } } } } },
    });
    const hc = await eventually('the probe path in the spec', () => {
      const ts = lbOf('probed-site')?.spec.targetSets[0];
      return ts?.type === 'ip' && ts.targets.length === 1 && 'readinessProbePath' in ts.healthCheck ? ts.healthCheck : undefined;
    });
    expect(hc).toMatchObject({ protocol: 'HTTP', path: '/', readinessProbePath: '/ready' });
  });
});
