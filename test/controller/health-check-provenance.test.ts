// The model builders say which health-check values they filled in (TargetSet.healthCheckDefaulted),
// so a provider with its own defaults (AWS: aws-load-balancer-controller's) can tell them from
// the user's, while the values themselves stay lbc's for every other provider.
import { describe, expect, it } from 'vitest';
import { buildServiceModel } from '../../src/controller/service-model.js';
import { trafficPortTcp } from '../../src/controller/health-check.js';
import { probesKubeProxy, type L4Spec } from '../../src/model/spec.js';
import { lbService, modelProvider, node } from './fixtures.js';

const EVERY = { protocol: true, port: true, path: true, intervalSeconds: true, timeoutSeconds: true, healthyThreshold: true, unhealthyThreshold: true };

function spec(extra: Parameters<typeof lbService>[2], annotations?: Record<string, string>): L4Spec {
  const r = buildServiceModel({
    service: lbService('web', [{ port: 80, nodePort: 30080, protocol: 'TCP' }], extra, annotations),
    nodes: [node('n1', { ip: '10.0.0.1' })],
    endpointSlices: [],
    provider: modelProvider(),
    className: 'lbc.dev/test',
    clusterName: 'test',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.spec;
}

describe('health-check provenance', () => {
  it('nothing asked: every field of a TCP check is marked, and no path (a TCP check has none)', () => {
    const ts = spec({})?.targetSets[0];
    const { path: _none, ...tcp } = EVERY;
    expect(ts?.healthCheckDefaulted).toEqual(tcp);
    expect(ts && probesKubeProxy(ts)).toBe(false);
  });

  it("the fields set through lbc.dev/health-check-* are not marked; their values are the user's", () => {
    const ts = spec({}, { 'lbc.dev/health-check-protocol': 'HTTP', 'lbc.dev/health-check-interval': '30s', 'lbc.dev/health-check-healthy-threshold': '4' })?.targetSets[0];
    expect(ts?.healthCheck).toMatchObject({ protocol: 'HTTP', path: '/', intervalSeconds: 30, healthyThreshold: 4 });
    expect(ts?.healthCheckDefaulted).toEqual({ port: true, path: true, timeoutSeconds: true, unhealthyThreshold: true });
  });

  it('every field set: no marker at all (one way to say "none defaulted")', () => {
    const all = {
      'lbc.dev/health-check-protocol': 'HTTPS',
      'lbc.dev/health-check-port': '8443',
      'lbc.dev/health-check-path': '/ready',
      'lbc.dev/health-check-interval': '20s',
      'lbc.dev/health-check-timeout': '4s',
      'lbc.dev/health-check-healthy-threshold': '2',
      'lbc.dev/health-check-unhealthy-threshold': '2',
    };
    const ts = spec({}, all)?.targetSets[0];
    expect(ts).not.toHaveProperty('healthCheckDefaulted');
  });

  it("externalTrafficPolicy Local with instance targets: kube-proxy's healthCheckNodePort is a default the builder chose", () => {
    const ts = spec({ externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 })?.targetSets[0];
    expect(ts?.healthCheck).toMatchObject({ protocol: 'HTTP', port: 32000, path: '/healthz' });
    expect(ts?.healthCheckDefaulted).toEqual(EVERY);
    expect(ts && probesKubeProxy(ts)).toBe(true);
    const asked = spec({ externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }, { 'lbc.dev/health-check-port': '32000' })?.targetSets[0];
    expect(asked && probesKubeProxy(asked)).toBe(false);
  });

  it("a TCP backend: protocol and port become the builder's, the timing keeps its provenance, and no path is marked", () => {
    const hc = { protocol: 'HTTP' as const, port: 8080, path: '/x', intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };
    expect(trafficPortTcp(hc, { path: true, timeoutSeconds: true })).toEqual({
      healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
      defaulted: { protocol: true, port: true, timeoutSeconds: true },
    });
    // A check written by hand stays unmarked.
    expect(trafficPortTcp(hc, undefined)).toEqual({ healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } });
  });
});
