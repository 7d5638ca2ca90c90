// Ingress backend health checks follow the backing Pods' HTTP readiness probe, as
// ingress-gce does: which Pod stands for a backend, which probes qualify, how the
// builder carries the path, and the health check the gce provider then makes.
import type { V1Container, V1EndpointSlice, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { probePodOf, readinessProbePath } from '../../../src/controller/endpoints.js';
import { buildIngressModel, type IngressModelInput } from '../../../src/controller/ingress-model.js';
import type { L7Spec } from '../../../src/model/spec.js';
import type { GceLbOptions } from '../../../src/providers/gce/annotations.js';
import { GceProvider } from '../../../src/providers/gce/provider.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { HTTP_HC, l7 } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

function pod(name: string, containers: V1Container[], namespace = 'shop'): V1Pod {
  return { metadata: { name, namespace }, spec: { containers } };
}

const probe = (port: number | string, extra: Record<string, unknown> = {}) => ({ readinessProbe: { httpGet: { port, path: '/ready', ...extra } } });

function slice(service: string, endpoints: { pod?: string; ready?: boolean; kind?: string }[], portName = 'http', namespace = 'shop'): V1EndpointSlice {
  return {
    metadata: { name: `${service}-x`, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: portName, port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e, i) => ({
      addresses: [`10.1.0.${i + 1}`],
      ...(e.ready !== undefined ? { conditions: { ready: e.ready } } : {}),
      ...(e.pod !== undefined ? { targetRef: { kind: e.kind ?? 'Pod', namespace, name: e.pod } } : {}),
    })),
  };
}

describe('readinessProbePath: which probes a load balancer can follow', () => {
  const web: V1Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9000 }] };
  it.each([
    ['numeric targetPort, probe on the port number', 8080, { ...web, ...probe(8080) }, '/ready'],
    ['named targetPort, probe on the port name', 'http', { ...web, ...probe('http') }, '/ready'],
    ['numeric targetPort, probe on the port name', 8080, { ...web, ...probe('http') }, '/ready'],
    ['a probe with no path probes /', 8080, { ...web, readinessProbe: { httpGet: { port: 8080 } } }, '/'],
    ['a probe on another port', 8080, { ...web, ...probe(9000) }, undefined],
    ['HTTPS probe (the backend speaks HTTP)', 8080, { ...web, ...probe(8080, { scheme: 'HTTPS' }) }, undefined],
    ['a probe with a Host', 8080, { ...web, ...probe(8080, { host: 'example.com' }) }, undefined],
    ['a probe with headers', 8080, { ...web, ...probe(8080, { httpHeaders: [{ name: 'X-A', value: '1' }] }) }, undefined],
    ['a TCP probe', 8080, { ...web, readinessProbe: { tcpSocket: { port: 8080 } } }, undefined],
    ['a port the container does not declare', 8081, { ...web, ...probe(8081) }, undefined],
  ] as const)('%s', (_, targetPort, container, want) => {
    expect(readinessProbePath(pod('p', [container as V1Container]), targetPort)).toBe(want);
  });

  it('takes the container that serves the port, not the first one', () => {
    const sidecar: V1Container = { name: 'proxy', ports: [{ containerPort: 15000 }], readinessProbe: { httpGet: { port: 15000, path: '/sidecar' } } };
    expect(readinessProbePath(pod('p', [sidecar, { ...web, ...probe(8080) }]), 8080)).toBe('/ready');
  });
});

describe('probePodOf: one ready Pod stands for the backend', () => {
  it('the ready endpoint whose Pod name sorts first, on the Service port by name', () => {
    const slices = [slice('api', [{ pod: 'api-c' }, { pod: 'api-a', ready: false }, { pod: 'api-b', ready: true }, { pod: 'x', kind: 'Node' }, {}])];
    expect(probePodOf(slices, { name: 'http' })).toEqual({ namespace: 'shop', name: 'api-b' });
    expect(probePodOf(slices, { name: 'metrics' })).toBeUndefined();
    expect(probePodOf([slice('api', [{ pod: 'api-a', ready: false }])], { name: 'http' })).toBeUndefined();
  });
});

describe('the Ingress builder carries the probe path on the backend health check', () => {
  const svc: V1Service = {
    metadata: { name: 'api', namespace: 'shop', uid: 'uid-api' },
    spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 31001 }] },
  };
  const ing = (annotations?: Record<string, string>): V1Ingress => ({
    metadata: { name: 'site', namespace: 'shop', uid: 'uid-site', ...(annotations ? { annotations } : {}) },
    spec: { defaultBackend: { service: { name: 'api', port: { number: 80 } } } },
  });
  const provider = new GceProvider({
    clusterName: 'test',
    options: gceOptionsSchema.parse({ project: 'test-project', region: 'us-central1', clusterId: 'cid1', nodeTags: ['n'] }),
  });
  const input = (over: Partial<IngressModelInput<GceLbOptions>>): IngressModelInput<GceLbOptions> => ({
    ingresses: [ing()],
    services: [svc],
    endpointSlices: [slice('api', [{ pod: 'api-2' }, { pod: 'api-1' }])],
    secrets: [],
    nodes: [],
    provider,
    className: 'lbc.dev/gce',
    clusterName: 'test',
    ...over,
  });
  const build = (over: Partial<IngressModelInput<GceLbOptions>>) => {
    const r = buildIngressModel(input(over));
    if (!r.ok) throw new Error(`expected a spec, got ${JSON.stringify(r)}`);
    return r;
  };
  const api1 = pod('api-1', [{ name: 'api', ports: [{ name: 'http', containerPort: 8080 }], ...probe('http', { path: '/healthz/ready' }) }]);

  it('names the Pod to read; with it, the health check gets the probe path', () => {
    const first = build({});
    expect(first.probePods).toEqual([{ namespace: 'shop', name: 'api-1' }]);
    expect(first.spec.targetSets[0]?.healthCheck).toEqual({ ...HTTP_HC, path: '/' });
    const second = build({ pods: [api1] });
    expect(second.spec.targetSets[0]?.healthCheck).toEqual({ ...HTTP_HC, path: '/', readinessProbePath: '/healthz/ready' });
  });

  it('a path the user set wins; a Pod without a usable probe leaves the default', () => {
    const annotated = build({ ingresses: [ing({ 'lbc.dev/health-check-path': '/custom' })], pods: [api1] });
    expect(annotated.spec.targetSets[0]?.healthCheck).toEqual({ ...HTTP_HC, path: '/custom' });
    const noProbe = build({ pods: [pod('api-1', [{ name: 'api', ports: [{ name: 'http', containerPort: 8080 }] }])] });
    expect(noProbe.spec.targetSets[0]?.healthCheck).toEqual({ ...HTTP_HC, path: '/' });
  });
});

describe('gce L7: the backend health check requests the probe path', () => {
  const harness = harnessPerTest();

  it('uses readinessProbePath, and a later change of it updates the check in place', async () => {
    const h = harness();
    const withProbe = (path: string): L7Spec<GceLbOptions> => {
      const base = l7();
      return { ...base, targetSets: base.targetSets.map((t, i) => (i === 0 ? { ...t, healthCheck: { ...HTTP_HC, readinessProbePath: path } } : t)) };
    };
    await h.provider.ensure(withProbe('/ready'));
    const checks = h.fake.paths().filter((p) => p.startsWith('global/healthChecks/'));
    const paths = checks.map((p) => (h.fake.get(p)?.httpHealthCheck as { requestPath?: string } | undefined)?.requestPath).sort();
    expect(paths).toEqual(['/', '/ready']);
    h.fake.clearLog();
    await h.provider.ensure(withProbe('/live'));
    expect(h.fake.writes()).toEqual([expect.stringMatching(/^HealthChecks\.Update k8s2-be-/)]);
  });
});
