// Names, ownership descriptions, annotations and options: the pure parts.
import { describe, expect, it } from 'vitest';
import { backendProtocolOf, parseGceAnnotations } from '../../../src/providers/gce/annotations.js';
import { toGceError, operationError, parseRetryAfter } from '../../../src/providers/gce/errors.js';
import { portRanges } from '../../../src/providers/gce/firewall.js';
import { createGceProvider } from '../../../src/providers/gce/index.js';
import { contentHash, l4LoadBalancerName, l4Names, l7Names, pathMatcherName, trimFieldsEvenly } from '../../../src/providers/gce/names.js';
import { instancesByZone } from '../../../src/providers/gce/nodes.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { ownerRef, ownershipOf, ownedDescription, sharedDescription } from '../../../src/providers/gce/ownership.js';
import { buildProviders } from '../../../src/providers/registry.js';
import { validateConfig } from '../../../src/config/config.js';

const ref = { kind: 'Service' as const, namespace: 'default', name: 'web', uid: '3f1c2b7e-1111-4a2b-9c3d-0123456789ab' };

describe('gce names', () => {
  it('L4 names as the GCE cloud provider makes them', () => {
    expect(l4LoadBalancerName('3f1c2b7e-1111-4a2b-9c3d-0123456789ab')).toBe('a3f1c2b7e11114a2b9c3d0123456789a');
    const n = l4Names(ref.uid, 'cid1');
    expect(n.firewall).toBe('k8s-fw-a3f1c2b7e11114a2b9c3d0123456789a');
    expect(n.nodeHealthCheck).toBe('k8s-cid1-node');
    expect(n.instanceGroup).toBe('k8s-ig--cid1');
    expect(n.healthCheckFirewall('External', true)).toBe('k8s-cid1-node-http-hc');
    expect(n.healthCheckFirewall('External', false)).toBe('k8s-a3f1c2b7e11114a2b9c3d0123456789a-http-hc');
    expect(n.healthCheckFirewall('Internal', true)).toBe('k8s-cid1-node-hc');
    expect(n.healthCheckFirewall('Internal', false)).toBe('a3f1c2b7e11114a2b9c3d0123456789a-hc');
  });

  it('L7 names as ingress-gce v2 makes them (its own test vectors, kube-system UID kubesystem-uid1)', () => {
    const simple = l7Names({ kind: 'Ingress', namespace: 'namespace', name: 'name', uid: 'x' }, 'kubesystem-uid1');
    expect(simple.lb).toBe('7kpbhpki-namespace-name-uhmwf5xi');
    expect(simple.httpForwardingRule).toBe('k8s2-fr-7kpbhpki-namespace-name-uhmwf5xi');
    expect(simple.httpsForwardingRule).toBe('k8s2-fs-7kpbhpki-namespace-name-uhmwf5xi');
    expect(simple.httpProxy).toBe('k8s2-tp-7kpbhpki-namespace-name-uhmwf5xi');
    expect(simple.httpsProxy).toBe('k8s2-ts-7kpbhpki-namespace-name-uhmwf5xi');
    expect(simple.urlMap).toBe('k8s2-um-7kpbhpki-namespace-name-uhmwf5xi');
    expect(simple.sslCertificatePrefix).toBe('k8s2-cr-7kpbhpki-fvix6gj3ge1emsdj-');
    const long = '01234567890123456789012345678901234567890123456789';
    expect(l7Names({ kind: 'Ingress', namespace: long.slice(0, 24), name: long.slice(0, 25), uid: 'x' }, 'kubesystem-uid1').lb).toBe(
      '7kpbhpki-012345678901234567-012345678901234567-sxo4pxda',
    );
    expect(l7Names({ kind: 'Ingress', namespace: long, name: '0', uid: 'x' }, 'kubesystem-uid1').lb).toBe('7kpbhpki-012345678901234567890123456789012345--v8ajgbg3');
    expect(l7Names({ kind: 'Ingress', namespace: '0', name: long, uid: 'x' }, 'kubesystem-uid1').lb).toBe('7kpbhpki-0-01234567890123456789012345678901234-fyhus2f6');
  });

  it('every generated name is a valid GCE name of at most 63 characters', () => {
    const long = 'a'.repeat(63);
    const n = l7Names({ kind: 'Ingress', namespace: long, name: `${long}.x`, uid: 'u' }, 'k');
    for (const name of [n.httpForwardingRule, n.httpsForwardingRule, n.httpProxy, n.httpsProxy, n.urlMap, n.legacyFirewall, n.backendService('t', long, long, 65535), n.sslCertificate('c')]) {
      expect(name.length, name).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('helpers: contentHash, trimFieldsEvenly, pathMatcherName, portRanges', () => {
    expect(contentHash('kubesystem-uid1', 8)).toBe('7kpbhpki');
    expect(trimFieldsEvenly(10, 'aaaaaaaa', 'bb')).toEqual(['aaaaaaaa', 'bb']);
    expect(trimFieldsEvenly(6, 'aaaaaaaa', 'bb').join('').length).toBeLessThanOrEqual(6);
    expect(pathMatcherName('*')).toBe('host3389dae361af79b04c9c8e7057f60cc6');
    expect(portRanges([80, 81, 82, 443, 8080, 8081])).toEqual(['80-82', '443', '8080-8081']);
    expect(portRanges([53])).toEqual(['53']);
  });

  it('nodes: providerID gives the instance; other regions and unplaceable nodes are skipped', () => {
    const r = instancesByZone(
      [
        {
          name: 't',
          type: 'instance',
          protocol: 'TCP',
          nodePort: 30000,
          backend: { namespace: 'a', service: 'b', port: 1 },
          healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 1 },
          targets: [
            { name: 'n1', addresses: [], providerID: 'gce://p/us-central1-a/vm-1' },
            { name: 'n2', addresses: [], zone: 'us-central1-b' },
            { name: 'n3', addresses: [], providerID: 'gce://p/europe-west1-b/vm-3' },
            { name: 'n4', addresses: [] },
          ],
        },
      ],
      'p',
      'us-central1',
    );
    expect([...r.zones.entries()]).toEqual([
      ['us-central1-a', [{ project: 'p', zone: 'us-central1-a', name: 'vm-1' }]],
      ['us-central1-b', [{ project: 'p', zone: 'us-central1-b', name: 'n2' }]],
    ]);
    expect(r.skipped).toEqual(['n3', 'n4']);
  });
});

describe('gce ownership', () => {
  it('descriptions carry the upstream key and lbc cluster and owner; only ours, shared or foreign', () => {
    const d = ownedDescription('c1', ref);
    expect(JSON.parse(d)).toEqual({
      'kubernetes.io/service-name': 'default/web',
      'lbc.dev/cluster': 'c1',
      'lbc.dev/owner-kind': 'Service',
      'lbc.dev/owner-namespace': 'default',
      'lbc.dev/owner-name': 'web',
      'lbc.dev/owner-uid': ref.uid,
    });
    expect(ownershipOf(d, 'c1', ref.uid)).toBe('ours');
    expect(ownershipOf(d, 'c1', 'other-uid')).toBe('sibling');
    expect(ownershipOf(d, 'c2', ref.uid)).toBe('foreign');
    expect(ownershipOf('{"kubernetes.io/service-name":"default/web"}', 'c1', ref.uid)).toBe('foreign');
    expect(ownershipOf('not json', 'c1', ref.uid)).toBe('foreign');
    expect(ownershipOf(sharedDescription('c1', 'cid'), 'c1', ref.uid)).toBe('shared');
    expect(ownerRef(d, 'c1')).toEqual(ref);
    const group = { kind: 'Ingress' as const, namespace: '', name: 'g', uid: 'ingress-group:g' };
    expect(JSON.parse(ownedDescription('c1', group))['kubernetes.io/ingress-name']).toBe('g');
  });
});

describe('gce annotations', () => {
  it('Service: type (both spellings, new one first), subnet, global access, tier', () => {
    expect(parseGceAnnotations({}, 'Service')).toEqual({ ok: true, options: { scheme: 'External', networkTier: 'PREMIUM', allowGlobalAccess: false, preSharedCerts: [], allowHttp: true } });
    const internal = parseGceAnnotations(
      {
        'networking.gke.io/load-balancer-type': 'Internal',
        'networking.gke.io/internal-load-balancer-subnet': 'ilb-subnet',
        'networking.gke.io/internal-load-balancer-allow-global-access': 'true',
      },
      'Service',
    );
    expect(internal).toMatchObject({ ok: true, options: { scheme: 'Internal', subnet: 'ilb-subnet', allowGlobalAccess: true } });
    expect(parseGceAnnotations({ 'cloud.google.com/load-balancer-type': 'internal' }, 'Service')).toMatchObject({ ok: true, options: { scheme: 'Internal' } });
    expect(parseGceAnnotations({ 'networking.gke.io/load-balancer-type': 'External', 'cloud.google.com/load-balancer-type': 'Internal' }, 'Service')).toMatchObject({
      ok: true,
      options: { scheme: 'External' },
    });
    expect(parseGceAnnotations({ 'cloud.google.com/network-tier': 'Standard' }, 'Service')).toMatchObject({ ok: true, options: { networkTier: 'STANDARD' } });
    // Upstream ignores subnet and global access on external LBs.
    expect(parseGceAnnotations({ 'networking.gke.io/internal-load-balancer-subnet': 'x' }, 'Service')).toMatchObject({ ok: true, options: { scheme: 'External' } });
  });

  it('cloud.google.com/l4-rbs: "enabled" is how lbc builds every external LB; another value (a target pool) is refused, not ignored', () => {
    expect(parseGceAnnotations({ 'cloud.google.com/l4-rbs': 'enabled' }, 'Service')).toMatchObject({ ok: true, options: { scheme: 'External' } });
    const r = parseGceAnnotations({ 'cloud.google.com/l4-rbs': 'disabled' }, 'Service');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ annotation: 'cloud.google.com/l4-rbs' });
    expect(parseGceAnnotations({ 'cloud.google.com/l4-rbs': 'enabled' }, 'Service')).not.toHaveProperty('options.unimplemented');
  });

  it('records which lbc.dev/health-check timing fields the user set, so the rest take upstream\'s L4 timing', () => {
    expect(parseGceAnnotations({ 'lbc.dev/health-check-interval': '20s', 'lbc.dev/health-check-healthy-threshold': '2' }, 'Service')).toMatchObject({
      ok: true,
      options: { userHealthCheckTiming: ['interval', 'healthy'] },
    });
    expect(parseGceAnnotations({}, 'Service')).not.toHaveProperty('options.userHealthCheckTiming');
  });

  it('names every annotation under GKE\'s prefixes it does not implement, for the Warning; GKE\'s own status and the class annotation are not requests', () => {
    const svc = parseGceAnnotations(
      {
        'cloud.google.com/neg': '{"ingress": true, "exposed_ports": {"80": {}}}',
        'cloud.google.com/neg-status': '{}',
        'networking.gke.io/weighted-load-balancing': 'pods-per-node',
        'cloud.google.com/network-tier': 'Standard',
        'lbc.dev/health-check-path': '/x',
      },
      'Service',
    );
    expect(svc).toMatchObject({ ok: true, options: { unimplemented: ['cloud.google.com/neg exposed_ports (standalone NEGs)', 'networking.gke.io/weighted-load-balancing'] } });
    // {"ingress": true} alone concerns the Ingresses the Service backs (container-native load balancing): no Warning.
    expect(parseGceAnnotations({ 'cloud.google.com/neg': '{"ingress": true}' }, 'Service')).not.toHaveProperty('options.unimplemented');
    const ing = parseGceAnnotations(
      {
        'kubernetes.io/ingress.class': 'gce',
        'kubernetes.io/ingress.regional-static-ip-name': 'ip',
        'ingress.gcp.kubernetes.io/pre-shared-cert': 'a',
        'networking.gke.io/internal-load-balancer-subnet': 'x',
        'networking.gke.io/suppress-firewall-xpn-error': 'true',
      },
      'Ingress',
    );
    expect(ing).toMatchObject({
      ok: true,
      options: { unimplemented: ['kubernetes.io/ingress.regional-static-ip-name', 'networking.gke.io/internal-load-balancer-subnet', 'networking.gke.io/suppress-firewall-xpn-error'] },
    });
  });

  it('an Ingress naming a FrontendConfig and managed certificates parses (the controller resolves them); a bad value beside them is still named', () => {
    const r = parseGceAnnotations({ 'networking.gke.io/v1beta1.FrontendConfig': 'fc', 'networking.gke.io/managed-certificates': 'cert', 'kubernetes.io/ingress.allow-http': 'nope' }, 'Ingress');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toEqual(['kubernetes.io/ingress.allow-http']);
    expect(parseGceAnnotations({ 'networking.gke.io/v1beta1.FrontendConfig': 'fc', 'networking.gke.io/managed-certificates': 'cert' }, 'Ingress')).toMatchObject({ ok: true });
  });

  it('cloud.google.com/backend-config (and the beta key) on a Service are read, not warned about; other GKE annotations are', () => {
    const svc = parseGceAnnotations({ 'cloud.google.com/backend-config': '{"default":"x"}', 'beta.cloud.google.com/backend-config': '{"default":"x"}', 'networking.gke.io/weighted-load-balancing': 'pods-per-node' }, 'Service');
    expect(svc).toMatchObject({ ok: true, options: { unimplemented: ['networking.gke.io/weighted-load-balancing'] } });
  });

  it('cloud.google.com/app-protocols: the protocol of the backend port by its name, as ingress-gce keys it; a bad value is an error', () => {
    const a = { 'cloud.google.com/app-protocols': '{"https-port":"HTTPS","h2":"HTTP2"}' };
    expect(backendProtocolOf(a, { name: 'https-port', port: 443 })).toEqual({ ok: true, protocol: 'HTTPS' });
    expect(backendProtocolOf(a, { name: 'h2', port: 8443 })).toEqual({ ok: true, protocol: 'HTTP2' });
    expect(backendProtocolOf(a, { name: 'other', port: 80 })).toEqual({ ok: true });
    expect(backendProtocolOf(a, { port: 443 })).toEqual({ ok: true });
    expect(backendProtocolOf({ 'service.alpha.kubernetes.io/app-protocols': '{"p":"HTTPS"}' }, { name: 'p', port: 1 })).toEqual({ ok: true, protocol: 'HTTPS' });
    expect(backendProtocolOf({ 'cloud.google.com/app-protocols': '{"p":"GRPC"}' }, { name: 'p', port: 1 })).toEqual({
      ok: false,
      errors: [{ annotation: 'cloud.google.com/app-protocols', reason: 'port p: "GRPC" is not HTTP, HTTPS or HTTP2' }],
    });
    expect(backendProtocolOf({ 'cloud.google.com/app-protocols': 'HTTPS' }, { name: 'p', port: 1 }).ok).toBe(false);
    // Read where the Service backs an Ingress, so not a Warning on a LoadBalancer Service.
    expect(parseGceAnnotations(a, 'Service')).not.toHaveProperty('options.unimplemented');
  });

  it('reports every bad value at once, naming the annotation', () => {
    const r = parseGceAnnotations(
      {
        'networking.gke.io/load-balancer-type': 'Interal',
        'cloud.google.com/network-tier': 'premium',
        'networking.gke.io/internal-load-balancer-allow-global-access': 'yes',
        'networking.gke.io/internal-load-balancer-subnet': 'Bad_Subnet',
      },
      'Service',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toEqual([
      'networking.gke.io/load-balancer-type',
      'networking.gke.io/internal-load-balancer-subnet',
      'networking.gke.io/internal-load-balancer-allow-global-access',
      'cloud.google.com/network-tier',
    ]);
  });

  it('Ingress: static IP, allow-http, pre-shared certificates', () => {
    expect(
      parseGceAnnotations(
        {
          'kubernetes.io/ingress.global-static-ip-name': 'web-ip',
          'kubernetes.io/ingress.allow-http': 'false',
          'ingress.gcp.kubernetes.io/pre-shared-cert': 'cert-a, cert-b,cert-a',
        },
        'Ingress',
      ),
    ).toEqual({ ok: true, targetType: 'instance', options: { scheme: 'External', networkTier: 'PREMIUM', allowGlobalAccess: false, staticIpName: 'web-ip', allowHttp: false, preSharedCerts: ['cert-a', 'cert-b'] } });
    const bad = parseGceAnnotations({ 'kubernetes.io/ingress.allow-http': 'nope', 'ingress.gcp.kubernetes.io/pre-shared-cert': 'Cert_A' }, 'Ingress');
    expect(bad.ok).toBe(false);
  });
});

describe('gce options and errors', () => {
  it('options are strict and defaulted', () => {
    const o = gceOptionsSchema.parse({ project: 'my-project', region: 'us-central1', clusterId: 'abc' });
    expect(o).toMatchObject({ network: 'default', retry: { retries: 6, minDelayMs: 500, maxDelayMs: 30000 }, operationTimeout: 600000 });
    expect(gceOptionsSchema.safeParse({ project: 'my-project', region: 'us-central1', clusterId: 'abc', netwrok: 'x' }).success).toBe(false);
    expect(gceOptionsSchema.safeParse({ project: 'P', region: 'us-central1', clusterId: 'abc' }).success).toBe(false);
    expect(gceOptionsSchema.parse({ project: 'my-project', region: 'us-central1', clusterId: 'abc', operationTimeout: '5m' }).operationTimeout).toBe(300000);
  });

  it('the registry builds a gce provider from config, and names a bad key by its path', async () => {
    const cfg = validateConfig({ clusterName: 'c1', providers: [{ name: 'gce', type: 'gce', options: { project: 'my-project', region: 'us-central1', clusterId: 'abc' } }] });
    const set = await buildProviders(cfg);
    expect(set.byName('gce')?.type).toBe('gce');
    expect(set.byName('gce')?.capabilities.targetTypes).toEqual(['instance', 'ip']);
    await set.close();
    // Absent is allowed (GKE's uid is read from kube-system/ingress-uid); a bad value is not.
    expect(() =>
      createGceProvider({ name: 'g', className: 'lbc.dev/g', clusterName: 'c', options: { project: 'my-project', region: 'us-central1', clusterId: 'Not_An_Id' }, configPath: 'providers[0].options' }),
    ).toThrow(/providers\[0\]\.options\.clusterId/);
  });

  it('classifies Compute errors', () => {
    const http = (status: number, reason: string, headers: Record<string, string> = {}) =>
      Object.assign(new Error(JSON.stringify({ error: { code: status, message: 'm', errors: [{ reason }] } })), { status, response: { status, headers } });
    expect(toGceError(http(429, 'rateLimitExceeded', { 'retry-after': '3' }), 'x', 'gce')).toMatchObject({ kind: 'throttled', retryAfterMs: 3000 });
    expect(toGceError(http(403, 'userRateLimitExceeded'), 'x', 'gce').kind).toBe('throttled');
    expect(toGceError(http(403, 'quotaExceeded'), 'x', 'gce').kind).toBe('quota');
    expect(toGceError(http(403, 'forbidden'), 'x', 'gce').kind).toBe('forbidden');
    expect(toGceError(http(400, 'resourceInUseByAnotherResource'), 'x', 'gce').kind).toBe('conflict');
    expect(toGceError(http(404, 'notFound'), 'x', 'gce').kind).toBe('notFound');
    expect(toGceError(http(503, 'backendError'), 'x', 'gce').kind).toBe('transient');
    expect(toGceError(http(400, 'invalid'), 'x', 'gce').kind).toBe('invalid');
    expect(toGceError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'x', 'gce').kind).toBe('transient');
    expect(operationError('x', 'gce', { error: { errors: [{ code: 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE', message: 'used' }] } })).toMatchObject({
      kind: 'conflict',
      reason: 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE',
    });
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
  });
});
