// deploy/gce/role.yaml against the provider's code: every Compute call in
// src/providers/gce (read from the call labels, which are checked against the client
// methods actually invoked) needs its permissions in the role, and the role holds no
// permission no call needs. A scenario run also checks that every call made at run
// time is one the scan found.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CERT_A, CERT_B, KEY_A, KEY_B, l4, l7 } from './fixtures.js';
import { gatewaySpec, GW_REF, seedProxyOnlySubnet } from './gateway-fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const SRC = join(import.meta.dirname, '../../../src/providers/gce');
const ROLE = join(import.meta.dirname, '../../../deploy/gce/role.yaml');

/**
 * What each call needs: the method's own permission, plus the `use` permissions for
 * what the request refers to (GCE checks those on the referenced resources).
 */
const PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  'addresses.get': ['compute.addresses.get'],
  'addresses.list': ['compute.addresses.list'],
  // External and internal addresses have separate permissions; labels on create need setLabels.
  'addresses.insert': ['compute.addresses.create', 'compute.addresses.createInternal', 'compute.addresses.setLabels', 'compute.subnetworks.use'],
  'addresses.delete': ['compute.addresses.delete', 'compute.addresses.deleteInternal'],
  'globalAddresses.get': ['compute.globalAddresses.get'],
  'globalAddresses.list': ['compute.globalAddresses.list'],
  'globalAddresses.insert': ['compute.globalAddresses.create', 'compute.globalAddresses.setLabels'],
  'globalAddresses.delete': ['compute.globalAddresses.delete'],
  'forwardingRules.get': ['compute.forwardingRules.get'],
  'forwardingRules.list': ['compute.forwardingRules.list'],
  'forwardingRules.insert': [
    'compute.forwardingRules.create',
    'compute.forwardingRules.setLabels',
    'compute.addresses.use',
    'compute.addresses.useInternal',
    'compute.regionBackendServices.use',
    'compute.networks.use',
    'compute.subnetworks.use',
    // A regional Gateway's rules point at its regional target proxies.
    'compute.regionTargetHttpProxies.use',
    'compute.regionTargetHttpsProxies.use',
  ],
  'forwardingRules.setTarget': ['compute.forwardingRules.setTarget', 'compute.regionTargetHttpProxies.use', 'compute.regionTargetHttpsProxies.use'],
  'forwardingRules.patch': ['compute.forwardingRules.update'],
  'forwardingRules.delete': ['compute.forwardingRules.delete'],
  'globalForwardingRules.get': ['compute.globalForwardingRules.get'],
  'globalForwardingRules.list': ['compute.globalForwardingRules.list'],
  'globalForwardingRules.insert': [
    'compute.globalForwardingRules.create',
    'compute.globalForwardingRules.setLabels',
    'compute.globalAddresses.use',
    'compute.targetHttpProxies.use',
    'compute.targetHttpsProxies.use',
  ],
  'globalForwardingRules.setTarget': ['compute.globalForwardingRules.setTarget', 'compute.targetHttpProxies.use', 'compute.targetHttpsProxies.use'],
  'globalForwardingRules.delete': ['compute.globalForwardingRules.delete'],
  'regionBackendServices.get': ['compute.regionBackendServices.get'],
  'regionBackendServices.list': ['compute.regionBackendServices.list'],
  // L4 backends are instance groups or GCE_VM_IP NEGs (subsetting); a regional Gateway's are either as an Ingress's.
  'regionBackendServices.insert': ['compute.regionBackendServices.create', 'compute.regionHealthChecks.useReadOnly', 'compute.instanceGroups.use', 'compute.networkEndpointGroups.use'],
  'regionBackendServices.update': ['compute.regionBackendServices.update', 'compute.regionHealthChecks.useReadOnly', 'compute.instanceGroups.use', 'compute.networkEndpointGroups.use'],
  'regionBackendServices.delete': ['compute.regionBackendServices.delete'],
  'backendServices.get': ['compute.backendServices.get'],
  'backendServices.list': ['compute.backendServices.list'],
  // aggregatedList, regional and global at once, needs the kind's list permission (compute v1 backendServices.aggregatedList, "IAM Permissions").
  'backendServices.aggregatedList': ['compute.backendServices.list'],
  // Ingress backends are instance groups or NEGs (container-native load balancing).
  'backendServices.insert': ['compute.backendServices.create', 'compute.healthChecks.useReadOnly', 'compute.instanceGroups.use', 'compute.networkEndpointGroups.use'],
  'backendServices.update': ['compute.backendServices.update', 'compute.healthChecks.useReadOnly', 'compute.instanceGroups.use', 'compute.networkEndpointGroups.use'],
  'backendServices.delete': ['compute.backendServices.delete'],
  'backendServices.setSecurityPolicy': ['compute.backendServices.setSecurityPolicy', 'compute.securityPolicies.use'],
  'regionHealthChecks.get': ['compute.regionHealthChecks.get'],
  'regionHealthChecks.list': ['compute.regionHealthChecks.list'],
  'regionHealthChecks.insert': ['compute.regionHealthChecks.create'],
  'regionHealthChecks.update': ['compute.regionHealthChecks.update'],
  'regionHealthChecks.delete': ['compute.regionHealthChecks.delete'],
  'healthChecks.get': ['compute.healthChecks.get'],
  'healthChecks.list': ['compute.healthChecks.list'],
  'healthChecks.aggregatedList': ['compute.healthChecks.list'],
  'healthChecks.insert': ['compute.healthChecks.create'],
  'healthChecks.update': ['compute.healthChecks.update'],
  'healthChecks.delete': ['compute.healthChecks.delete'],
  'firewalls.get': ['compute.firewalls.get'],
  'firewalls.list': ['compute.firewalls.list'],
  'firewalls.insert': ['compute.firewalls.create', 'compute.networks.updatePolicy'],
  'firewalls.update': ['compute.firewalls.update', 'compute.networks.updatePolicy'],
  'firewalls.delete': ['compute.firewalls.delete', 'compute.networks.updatePolicy'],
  'networkEndpointGroups.get': ['compute.networkEndpointGroups.get'],
  'networkEndpointGroups.aggregatedList': ['compute.networkEndpointGroups.list'],
  // The endpoints of a NEG are read with its get permission (networkEndpointGroups.listNetworkEndpoints).
  'networkEndpointGroups.listNetworkEndpoints': ['compute.networkEndpointGroups.get'],
  'networkEndpointGroups.insert': ['compute.networkEndpointGroups.create', 'compute.networks.use', 'compute.subnetworks.use'],
  'networkEndpointGroups.attachNetworkEndpoints': ['compute.networkEndpointGroups.attachNetworkEndpoints', 'compute.instances.use'],
  'networkEndpointGroups.detachNetworkEndpoints': ['compute.networkEndpointGroups.detachNetworkEndpoints', 'compute.instances.use'],
  'networkEndpointGroups.delete': ['compute.networkEndpointGroups.delete'],
  'instanceGroups.get': ['compute.instanceGroups.get'],
  'instanceGroups.aggregatedList': ['compute.instanceGroups.list'],
  'instanceGroups.listInstances': ['compute.instanceGroups.list'],
  'instanceGroups.insert': ['compute.instanceGroups.create'],
  'instanceGroups.addInstances': ['compute.instanceGroups.update', 'compute.instances.use'],
  'instanceGroups.removeInstances': ['compute.instanceGroups.update', 'compute.instances.use'],
  'instanceGroups.setNamedPorts': ['compute.instanceGroups.update'],
  'instanceGroups.delete': ['compute.instanceGroups.delete'],
  'instances.get': ['compute.instances.get'],
  'urlMaps.get': ['compute.urlMaps.get'],
  'urlMaps.list': ['compute.urlMaps.list'],
  'urlMaps.aggregatedList': ['compute.urlMaps.list'],
  'urlMaps.insert': ['compute.urlMaps.create', 'compute.backendServices.use'],
  'urlMaps.update': ['compute.urlMaps.update', 'compute.backendServices.use'],
  'urlMaps.delete': ['compute.urlMaps.delete'],
  'targetHttpProxies.get': ['compute.targetHttpProxies.get'],
  'targetHttpProxies.list': ['compute.targetHttpProxies.list'],
  'targetHttpProxies.aggregatedList': ['compute.targetHttpProxies.list'],
  'targetHttpProxies.insert': ['compute.targetHttpProxies.create', 'compute.urlMaps.use'],
  'targetHttpProxies.setUrlMap': ['compute.targetHttpProxies.setUrlMap', 'compute.urlMaps.use'],
  'targetHttpProxies.delete': ['compute.targetHttpProxies.delete'],
  'targetHttpsProxies.get': ['compute.targetHttpsProxies.get'],
  'targetHttpsProxies.list': ['compute.targetHttpsProxies.list'],
  'targetHttpsProxies.aggregatedList': ['compute.targetHttpsProxies.list'],
  'targetHttpsProxies.insert': ['compute.targetHttpsProxies.create', 'compute.urlMaps.use', 'compute.sslCertificates.get', 'compute.sslPolicies.use'],
  'targetHttpsProxies.setSslPolicy': ['compute.targetHttpsProxies.setSslPolicy', 'compute.sslPolicies.use'],
  'targetHttpsProxies.setUrlMap': ['compute.targetHttpsProxies.setUrlMap', 'compute.urlMaps.use'],
  'targetHttpsProxies.setSslCertificates': ['compute.targetHttpsProxies.setSslCertificates', 'compute.sslCertificates.get'],
  'targetHttpsProxies.delete': ['compute.targetHttpsProxies.delete'],
  'sslCertificates.get': ['compute.sslCertificates.get'],
  'sslCertificates.list': ['compute.sslCertificates.list'],
  'sslCertificates.aggregatedList': ['compute.sslCertificates.list'],
  'sslCertificates.insert': ['compute.sslCertificates.create'],
  'sslCertificates.delete': ['compute.sslCertificates.delete'],
  'regionUrlMaps.get': ['compute.regionUrlMaps.get'],
  'regionUrlMaps.list': ['compute.regionUrlMaps.list'],
  'regionUrlMaps.insert': ['compute.regionUrlMaps.create', 'compute.regionBackendServices.use'],
  'regionUrlMaps.update': ['compute.regionUrlMaps.update', 'compute.regionBackendServices.use'],
  'regionUrlMaps.delete': ['compute.regionUrlMaps.delete'],
  'regionTargetHttpProxies.get': ['compute.regionTargetHttpProxies.get'],
  'regionTargetHttpProxies.list': ['compute.regionTargetHttpProxies.list'],
  'regionTargetHttpProxies.insert': ['compute.regionTargetHttpProxies.create', 'compute.regionUrlMaps.use'],
  'regionTargetHttpProxies.setUrlMap': ['compute.regionTargetHttpProxies.setUrlMap', 'compute.regionUrlMaps.use'],
  'regionTargetHttpProxies.delete': ['compute.regionTargetHttpProxies.delete'],
  'regionTargetHttpsProxies.get': ['compute.regionTargetHttpsProxies.get'],
  'regionTargetHttpsProxies.list': ['compute.regionTargetHttpsProxies.list'],
  'regionTargetHttpsProxies.insert': ['compute.regionTargetHttpsProxies.create', 'compute.regionUrlMaps.use', 'compute.regionSslCertificates.get'],
  'regionTargetHttpsProxies.setUrlMap': ['compute.regionTargetHttpsProxies.setUrlMap', 'compute.regionUrlMaps.use'],
  'regionTargetHttpsProxies.setSslCertificates': ['compute.regionTargetHttpsProxies.setSslCertificates', 'compute.regionSslCertificates.get'],
  'regionTargetHttpsProxies.delete': ['compute.regionTargetHttpsProxies.delete'],
  'regionSslCertificates.get': ['compute.regionSslCertificates.get'],
  'regionSslCertificates.list': ['compute.regionSslCertificates.list'],
  'regionSslCertificates.insert': ['compute.regionSslCertificates.create'],
  'regionSslCertificates.delete': ['compute.regionSslCertificates.delete'],
  // The proxy-only subnet a regional Gateway needs is only looked for (proxy-only-subnet.ts).
  'subnetworks.list': ['compute.subnetworks.list'],
  'regionOperations.wait': ['compute.regionOperations.get'],
  'globalOperations.wait': ['compute.globalOperations.get'],
  'zoneOperations.wait': ['compute.zoneOperations.get'],
};

async function sources(): Promise<string> {
  const files = (await readdir(SRC)).filter((f) => f.endsWith('.ts'));
  return (await Promise.all(files.map((f) => readFile(join(SRC, f), 'utf8')))).join('\n');
}

/** `client.method` from the labels of the Compute wrapper's calls. */
async function labelledCalls(): Promise<Set<string>> {
  const text = await sources();
  return new Set(
    [...text.matchAll(/\b(?:(?:read|readOptional|list|collect|write)\(|listBothScopes\(\s*\w+,)\s*'([a-zA-Z]+\.[a-zA-Z]+)'/g)].map((m) => m[1] ?? ''),
  );
}

/** `client.method` from the client methods actually invoked (`compute.forwardingRules.insert(`). */
async function invokedMethods(): Promise<Set<string>> {
  const text = await sources();
  const clients = new Set(Object.keys(PERMISSIONS).map((k) => k.split('.')[0]));
  return new Set(
    [...text.matchAll(/\b(?:compute|this)\.([a-zA-Z]+)\.([a-zA-Z]+)\(/g)].filter((m) => clients.has(m[1])).map((m) => `${m[1] ?? ''}.${(m[2] ?? '').replace(/Async$/, '')}`),
  );
}

const harness = harnessPerTest();

describe('deploy/gce/role.yaml', () => {
  it('every call is labelled with the client method it invokes', async () => {
    expect([...(await invokedMethods())].sort()).toEqual([...(await labelledCalls())].sort());
  });

  it('holds exactly the permissions the calls need', async () => {
    const calls = [...(await labelledCalls())].sort();
    const unmapped = calls.filter((c) => PERMISSIONS[c] === undefined);
    expect(unmapped, 'calls without a permission mapping (add them to PERMISSIONS here and to the role)').toEqual([]);
    const stale = Object.keys(PERMISSIONS).filter((c) => !calls.includes(c));
    expect(stale, 'mapped calls the code no longer makes').toEqual([]);
    const needed = new Set(calls.flatMap((c) => PERMISSIONS[c] ?? []));
    const role = parse(await readFile(ROLE, 'utf8')) as { includedPermissions?: string[]; stage?: string; title?: string };
    const granted = new Set(role.includedPermissions ?? []);
    expect([...needed].filter((p) => !granted.has(p)).sort(), 'missing from the role').toEqual([]);
    expect([...granted].filter((p) => !needed.has(p)).sort(), 'in the role but unused').toEqual([]);
    expect(role.includedPermissions).toEqual([...granted].sort());
    expect(role.stage).toBe('GA');
  });

  it('every call a scenario makes at run time is one the scan found', async () => {
    const h = harness({ nodeTags: undefined });
    h.fake.seed('zones/us-central1-a/instances/node-a', { tags: { items: ['node', 'http-server'] } });
    h.fake.seed('zones/us-central1-b/instances/node-b', { tags: { items: ['node'] } });
    await h.provider.ensure(l4());
    await h.provider.ensure(l4({}, { scheme: 'Internal', allowGlobalAccess: true }));
    await h.provider.ensure(l4({}, { scheme: 'Internal' }));
    await h.provider.ensure(l7());
    const spec = l7();
    await h.provider.ensure({ ...spec, rules: spec.rules.slice(1) });
    // A Gateway finds its per-port resources by list (gateway-l7.ts).
    await h.provider.ensure(gatewaySpec({ targetType: 'instance', https: { cert: CERT_A, key: KEY_A } }));
    // The same Gateway moved to a regional class: its global load balancer goes, a regional one is built.
    seedProxyOnlySubnet(h.fake);
    await h.provider.ensure(gatewaySpec({ className: 'gke-l7-rilb', targetType: 'instance', https: { cert: CERT_B, key: KEY_B } }));
    await h.provider.ensure(gatewaySpec({ className: 'gke-l7-rilb', targetType: 'instance', https: { cert: CERT_A, key: KEY_A } }));
    await h.provider.listOwned();
    await h.provider.delete(l4().ref);
    await h.provider.delete(l7().ref);
    await h.provider.delete(GW_REF);
    const scanned = await labelledCalls();
    const used = new Set(h.calls.map((c) => c.call));
    expect([...used].filter((c) => !scanned.has(c))).toEqual([]);
    // Node tags were read from the instances (the longest tag that prefixes the name).
    expect(used.has('instances.get')).toBe(true);
  });
});
