// The Ingress builder on a gce provider: a backend Service with cloud.google.com/neg
// {"ingress": true} gets ip targets (NEGs, ingress-gce's container-native load balancing)
// from its EndpointSlices and no companion NodePort Service; one without keeps instance
// targets, with a companion when it has no node port, as before.
import { describe, expect, it } from 'vitest';
import { buildIngressModel, type IngressModelInput } from '../../src/controller/ingress-model.js';
import { GceProvider } from '../../src/providers/gce/provider.js';
import { gceOptionsSchema } from '../../src/providers/gce/options.js';
import { ingress, node, service, slice } from './fixtures.js';

const gce = new GceProvider({
  clusterName: 'test',
  options: gceOptionsSchema.parse({ project: 'test-project', region: 'us-central1', clusterId: 'cid1', defaultBackendService: 'k8s-default' }),
});
const NEG = { 'cloud.google.com/neg': '{"ingress": true}' };
const ports = [{ name: 'http', port: 80, targetPort: 'http' as const }];
const slices = [
  slice('web', [{ name: 'http', port: 8080 }], [
    { ip: '10.4.0.5', nodeName: 'node-a', zone: 'us-central1-a' },
    { ip: '10.4.1.7', nodeName: 'node-b', zone: 'us-central1-b' },
    { ip: '10.4.1.8', nodeName: 'node-b', zone: 'us-central1-b', ready: false },
  ]),
];
const site = ingress('site', { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] });

function build(annotations: Record<string, string> | undefined, type = 'ClusterIP') {
  const web = service('web', { type, ports: type === 'ClusterIP' ? ports : ports.map((p) => ({ ...p, nodePort: 30080 })) }, annotations);
  const input: IngressModelInput = { ingresses: [site], services: [web], endpointSlices: slices, secrets: [], nodes: [node('node-a')], provider: gce, className: 'lbc', clusterName: 'test' };
  return buildIngressModel(input);
}

describe('buildIngressModel on gce: cloud.google.com/neg', () => {
  it('{"ingress": true} on a ClusterIP Service: ip targets from the ready endpoints, with their nodes and zones, and no companion', () => {
    const r = build(NEG);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.spec.targetSets).toMatchObject([
      {
        name: 'default/web:80',
        type: 'ip',
        port: 'http',
        targets: [
          { ip: '10.4.0.5', port: 8080, nodeName: 'node-a', zone: 'us-central1-a' },
          { ip: '10.4.1.7', port: 8080, nodeName: 'node-b', zone: 'us-central1-b' },
        ],
      },
    ]);
    expect(r.backends).toEqual([expect.objectContaining({ key: 'default/web:80', targetType: 'ip', via: 'endpoints' })]);
  });

  it('{"ingress": true} on a NodePort Service: NEGs rather than its node port', () => {
    const r = build(NEG, 'NodePort');
    expect(r.ok && r.spec.targetSets[0]?.type).toBe('ip');
  });

  it('without it, a NodePort Service keeps instance targets and a ClusterIP one asks for a companion NodePort Service, as before', () => {
    const np = build(undefined, 'NodePort');
    expect(np.ok && np.spec.targetSets[0]).toMatchObject({ type: 'instance', nodePort: 30080 });
    const cip = build({ 'cloud.google.com/neg': '{"ingress": false}' });
    expect(!cip.ok && cip.reason).toBe('needsCompanions');
  });

  it('exposed_ports (standalone NEGs) is refused on the Service, not dropped', () => {
    const r = build({ 'cloud.google.com/neg': '{"ingress": true, "exposed_ports": {"80": {}}}' });
    expect(!r.ok && r.reason === 'invalid' && r.errors).toEqual([
      expect.objectContaining({ annotation: 'cloud.google.com/neg', object: 'Service default/web', reason: expect.stringMatching(/standalone NEGs/) }),
    ]);
  });

  it('a misspelt key or bad JSON is an error naming the annotation', () => {
    for (const value of ['{"ingres": true}', '{ingress: true}', '{"ingress": "yes"}']) {
      const r = build({ 'cloud.google.com/neg': value });
      expect(!r.ok && r.reason === 'invalid' && r.errors.map((e) => 'annotation' in e && e.annotation)).toEqual(['cloud.google.com/neg']);
    }
  });
});
