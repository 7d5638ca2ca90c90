// Contract: Service defaulting, ClusterIP and NodePort allocation, type changes and validation.
import { describe, expect, it } from 'vitest';
import { causeFields, corePath, expectOk, expectStatus, serviceBody, useContractCluster, type Json } from './support.js';

const ctx = useContractCluster('svc');

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const inNodePortRange = (p: unknown) => typeof p === 'number' && p >= 30000 && p <= 32767;

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

async function create(name: string, spec: Json = {}): Promise<Json> {
  return ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody(name, spec) });
}

async function createOk(name: string, spec: Json = {}): Promise<Json> {
  return expectOk(await create(name, spec), 201);
}

async function mergePatch(name: string, body: Json): Promise<Json> {
  return ctx.raw('PATCH', corePath(ctx.ns, 'services', name), { body, contentType: 'application/merge-patch+json' });
}

async function del(name: string): Promise<void> {
  expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'services', name)));
}

function expectInvalid(res: Json, name: string, field: string): Json {
  const st = expectStatus(res, 422, 'Invalid');
  expect(st.details.name).toBe(name);
  expect(st.details.kind).toBe('Service');
  expect(causeFields(st)).toContain(field);
  expect(st.message.startsWith(`Service "${name}" is invalid: `)).toBe(true);
  return st;
}

describe('defaults and ClusterIP allocation', () => {
  it('a ClusterIP Service gets defaults and a single IPv4 cluster IP', async () => {
    const svc = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: { metadata: { name: 'defaults' }, spec: { ports: [{ port: 80 }] } },
      }),
      201,
    );
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.sessionAffinity).toBe('None');
    expect(svc.spec.ports).toEqual([{ protocol: 'TCP', port: 80, targetPort: 80 }]);
    expect(svc.spec.clusterIP).toMatch(IPV4);
    expect(svc.spec.clusterIPs).toEqual([svc.spec.clusterIP]);
    expect(svc.spec.ipFamilies).toEqual(['IPv4']);
    expect(svc.spec.ipFamilyPolicy).toBe('SingleStack');
    expect(svc.spec.internalTrafficPolicy).toBe('Cluster');
    expect(svc.spec.externalTrafficPolicy).toBeUndefined();
    expect(svc.spec.ports[0].nodePort).toBeUndefined();
    expect(svc.status).toEqual({ loadBalancer: {} });
  });

  it('allocates distinct cluster IPs from one service range', async () => {
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) ips.push((await createOk(`ip-${i}`)).spec.clusterIP);
    for (const ip of ips) expect(ip).toMatch(IPV4);
    expect(new Set(ips).size).toBe(ips.length);
    // All inside one /12 at most (a real cluster's default range is 10.96.0.0/12).
    const prefixes = new Set(ips.map((ip) => ipToInt(ip) >>> 20));
    expect(prefixes.size).toBe(1);
  });

  it('an explicitly requested cluster IP is honoured, refused while taken, and released on delete', async () => {
    const a = await createOk('ip-owner');
    const ip = a.spec.clusterIP as string;
    const st = expectInvalid(await create('ip-thief', { clusterIP: ip }), 'ip-thief', 'spec.clusterIPs');
    expect(st.details.causes[0].message).toBe(
      `Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated`,
    );
    await del('ip-owner');
    const b = await createOk('ip-thief', { clusterIP: ip });
    expect(b.spec.clusterIP).toBe(ip);
    expect(b.spec.clusterIPs).toEqual([ip]);
  });

  it('a cluster IP outside the range or not an IP is a 422', async () => {
    const out = expectInvalid(await create('ip-out', { clusterIP: '192.0.2.1' }), 'ip-out', 'spec.clusterIPs');
    expect(out.details.causes[0].message).toMatch(/^Invalid value: \[\]string\{"192\.0\.2\.1"\}: failed to allocate IP 192\.0\.2\.1: the provided IP \(192\.0\.2\.1\) is not in the valid range\. The range of valid IPs is /);
    const bad = expectInvalid(await create('ip-bad', { clusterIP: 'not-an-ip' }), 'ip-bad', 'spec.clusterIPs[0]');
    expect(bad.details.causes[0].reason).toBe('FieldValueInvalid');
  });

  it('the cluster IP is immutable', async () => {
    const svc = await createOk('ip-fixed');
    const other = (await createOk('ip-other')).spec.clusterIP as string;
    await del('ip-other');
    const st = expectInvalid(
      await mergePatch('ip-fixed', { spec: { clusterIP: other, clusterIPs: [other] } }),
      'ip-fixed',
      'spec.clusterIPs[0]',
    );
    expect(st.details.causes[0].message).toBe(`Invalid value: []string{"${other}"}: may not change once set`);
    const cur = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'ip-fixed')));
    expect(cur.spec.clusterIP).toBe(svc.spec.clusterIP);
  });

  it('clusterIP None makes a headless Service', async () => {
    const svc = await createOk('headless', { clusterIP: 'None', selector: { app: 'x' } });
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.clusterIPs).toEqual(['None']);
  });
});

describe('node ports', () => {
  it('NodePort and LoadBalancer Services get a node port per port in 30000-32767', async () => {
    const np = await createOk('np', {
      type: 'NodePort',
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 443 },
      ],
    });
    const lb = await createOk('lb', { type: 'LoadBalancer' });
    const all = [...np.spec.ports, ...lb.spec.ports].map((p: Json) => p.nodePort);
    for (const p of all) expect(inNodePortRange(p)).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');
    expect(lb.spec.externalTrafficPolicy).toBe('Cluster');
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    expect(lb.spec.clusterIP).toMatch(IPV4);
    expect(lb.status).toEqual({ loadBalancer: {} });
  });

  it('a node port in use is refused with 422 on spec.ports[0].nodePort', async () => {
    const taken = (await createOk('np-holder', { type: 'NodePort' })).spec.ports[0].nodePort as number;
    const st = expectInvalid(
      await create('np-taker', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: taken }] }),
      'np-taker',
      'spec.ports[0].nodePort',
    );
    expect(st.message).toBe(
      `Service "np-taker" is invalid: spec.ports[0].nodePort: Invalid value: ${taken}: provided port is already allocated`,
    );
    expect(st.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${taken}: provided port is already allocated`,
        field: 'spec.ports[0].nodePort',
      },
    ]);
    // Also within one Service (same protocol).
    const free = (await createOk('np-probe', { type: 'NodePort' })).spec.ports[0].nodePort as number;
    await del('np-probe');
    expectInvalid(
      await create('np-twice', {
        type: 'NodePort',
        ports: [
          { name: 'a', port: 80, nodePort: free },
          { name: 'b', port: 81, nodePort: free },
        ],
      }),
      'np-twice',
      'spec.ports[1].nodePort',
    );
  });

  it.each([29999, 32768])('node port %i out of range is a 422 on spec.ports[0].nodePort', async (port) => {
    const st = expectInvalid(
      await create(`np-range-${port}`, { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: port }] }),
      `np-range-${port}`,
      'spec.ports[0].nodePort',
    );
    expect(st.details.causes[0].message).toBe(
      `Invalid value: ${port}: provided port is not in the valid range. The range of valid ports is 30000-32767`,
    );
  });

  it('node ports are released on delete', async () => {
    const port = (await createOk('np-release', { type: 'NodePort' })).spec.ports[0].nodePort as number;
    await del('np-release');
    const again = await createOk('np-release-2', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: port }] });
    expect(again.spec.ports[0].nodePort).toBe(port);
  });

  it('changing LoadBalancer to ClusterIP drops node ports, healthCheckNodePort and LB fields, and releases the ports', async () => {
    const lb = await createOk('lb-to-cip', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    const port = lb.spec.ports[0].nodePort as number;
    const hc = lb.spec.healthCheckNodePort as number;
    const cip = expectOk(await mergePatch('lb-to-cip', { spec: { type: 'ClusterIP' } }), 200);
    expect(cip.spec.type).toBe('ClusterIP');
    expect(cip.spec.ports[0].nodePort).toBeUndefined();
    expect(cip.spec.healthCheckNodePort).toBeUndefined();
    expect(cip.spec.allocateLoadBalancerNodePorts).toBeUndefined();
    expect(cip.spec.externalTrafficPolicy).toBeUndefined();
    expect(cip.spec.clusterIP).toBe(lb.spec.clusterIP);
    const reuse = await createOk('np-reuse', {
      type: 'NodePort',
      ports: [
        { name: 'a', port: 80, nodePort: port },
        { name: 'b', port: 81, nodePort: hc },
      ],
    });
    expect(reuse.spec.ports.map((p: Json) => p.nodePort)).toEqual([port, hc]);
  });

  it('a ClusterIP Service may not ask for a node port', async () => {
    const st = expectInvalid(
      await create('cip-np', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, nodePort: 31000 }] }),
      'cip-np',
      'spec.ports[0].nodePort',
    );
    expect(st.details.causes[0]).toEqual({
      reason: 'FieldValueForbidden',
      message: "Forbidden: may not be used when `type` is 'ClusterIP'",
      field: 'spec.ports[0].nodePort',
    });
  });

  it('allocateLoadBalancerNodePorts=false allocates no node ports', async () => {
    const svc = await createOk('lb-no-np', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false });
    expect(svc.spec.allocateLoadBalancerNodePorts).toBe(false);
    expect(svc.spec.ports[0].nodePort).toBeUndefined();
    expect(svc.spec.clusterIP).toMatch(IPV4);
  });

  it('externalTrafficPolicy Local on a LoadBalancer allocates a healthCheckNodePort; on a NodePort it does not', async () => {
    const lb = await createOk('lb-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    expect(lb.spec.externalTrafficPolicy).toBe('Local');
    expect(inNodePortRange(lb.spec.healthCheckNodePort)).toBe(true);
    expect(lb.spec.healthCheckNodePort).not.toBe(lb.spec.ports[0].nodePort);
    const np = await createOk('np-local', { type: 'NodePort', externalTrafficPolicy: 'Local' });
    expect(np.spec.healthCheckNodePort).toBeUndefined();
    // Switching the LoadBalancer back to Cluster drops it.
    const cluster = expectOk(await mergePatch('lb-local', { spec: { externalTrafficPolicy: 'Cluster' } }), 200);
    expect(cluster.spec.healthCheckNodePort).toBeUndefined();
    expect(cluster.spec.ports[0].nodePort).toBe(lb.spec.ports[0].nodePort);
  });
});

describe('type changes', () => {
  it('ClusterIP → ExternalName drops the cluster IP (released); ExternalName → ClusterIP allocates one', async () => {
    const svc = await createOk('to-en', { selector: { app: 'x' } });
    const ip = svc.spec.clusterIP as string;
    const en = expectOk(await mergePatch('to-en', { spec: { type: 'ExternalName', externalName: 'example.com' } }), 200);
    expect(en.spec.type).toBe('ExternalName');
    expect(en.spec.externalName).toBe('example.com');
    expect(en.spec.clusterIP).toBeUndefined();
    expect(en.spec.clusterIPs).toBeUndefined();
    expect((await createOk('takes-ip', { clusterIP: ip })).spec.clusterIP).toBe(ip);

    const back = expectOk(await mergePatch('to-en', { spec: { type: 'ClusterIP', externalName: null } }), 200);
    expect(back.spec.type).toBe('ClusterIP');
    expect(back.spec.clusterIP).toMatch(IPV4);
    expect(back.spec.clusterIP).not.toBe(ip);
  });

  it('an ExternalName Service with a different cluster IP is a 422 on spec.clusterIPs', async () => {
    await createOk('en-ip');
    const spare = (await createOk('en-spare')).spec.clusterIP as string;
    await del('en-spare');
    const st = expectInvalid(
      await mergePatch('en-ip', {
        spec: { type: 'ExternalName', externalName: 'example.com', clusterIP: spare, clusterIPs: [spare] },
      }),
      'en-ip',
      'spec.clusterIPs',
    );
    expect(st.details.causes).toContainEqual({
      reason: 'FieldValueForbidden',
      message: 'Forbidden: may not be set for ExternalName services',
      field: 'spec.clusterIPs',
    });
  });

  it('ExternalName requires externalName; ClusterIP requires ports', async () => {
    await createOk('en-req');
    expectInvalid(await mergePatch('en-req', { spec: { type: 'ExternalName' } }), 'en-req', 'spec.externalName');
    const en = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: { metadata: { name: 'en-only' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
      }),
      201,
    );
    expect(en.spec.clusterIP).toBeUndefined();
    expect(en.spec.ports).toBeUndefined();
    expectInvalid(await mergePatch('en-only', { spec: { type: 'ClusterIP', externalName: null } }), 'en-only', 'spec.ports');
  });
});

describe('validation', () => {
  it.each([0, 70000])('port %i is a 422 on spec.ports[0].port', async (port) => {
    const st = expectInvalid(await create(`port-${port}`, { ports: [{ port }] }), `port-${port}`, 'spec.ports[0].port');
    expect(st.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${port}: must be between 1 and 65535, inclusive`,
      field: 'spec.ports[0].port',
    });
  });

  it('a ClusterIP Service without ports is a 422 on spec.ports', async () => {
    const st = expectInvalid(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: { metadata: { name: 'no-ports' }, spec: {} } }),
      'no-ports',
      'spec.ports',
    );
    expect(st.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' }]);
  });

  it('a name that is not a DNS-1035 label is a 422 on metadata.name', async () => {
    const st = expectInvalid(await create('Bad_Name'), 'Bad_Name', 'metadata.name');
    expect(st.details.causes[0].message).toMatch(/^Invalid value: "Bad_Name": a DNS-1035 label must consist of/);
    expectInvalid(await create('1starts-with-digit'), '1starts-with-digit', 'metadata.name');
  });

  it('a missing name is a 422 on metadata.name', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: { metadata: {}, spec: { ports: [{ port: 80 }] } } }),
      422,
      'Invalid',
    );
    expect(st.details.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
    ]);
  });

  it('several ports need distinct names and distinct port/protocol pairs', async () => {
    const unnamed = expectInvalid(
      await create('unnamed', { ports: [{ port: 80 }, { port: 81 }] }),
      'unnamed',
      'spec.ports[0].name',
    );
    expect(causeFields(unnamed)).toEqual(['spec.ports[0].name', 'spec.ports[1].name']);
    expectInvalid(
      await create('dup-name', {
        ports: [
          { name: 'a', port: 80 },
          { name: 'a', port: 81 },
        ],
      }),
      'dup-name',
      'spec.ports[1].name',
    );
    expectInvalid(
      await create('dup-port', {
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 80 },
        ],
      }),
      'dup-port',
      'spec.ports[1]',
    );
    // The same port number with different protocols is fine.
    const mixed = await createOk('tcp-udp', {
      ports: [
        { name: 'a', port: 53, protocol: 'TCP' },
        { name: 'b', port: 53, protocol: 'UDP' },
      ],
    });
    expect(mixed.spec.ports.map((p: Json) => p.protocol)).toEqual(['TCP', 'UDP']);
  });

  it('an unknown type or protocol is a 422 NotSupported', async () => {
    const t = expectInvalid(await create('bad-type', { type: 'Weird' }), 'bad-type', 'spec.type');
    expect(t.details.causes[0]).toEqual({
      reason: 'FieldValueNotSupported',
      message: 'Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      field: 'spec.type',
    });
    const p = expectInvalid(
      await create('bad-proto', { ports: [{ name: 'a', port: 80, protocol: 'XYZ' }] }),
      'bad-proto',
      'spec.ports[0].protocol',
    );
    expect(p.details.causes[0].reason).toBe('FieldValueNotSupported');
  });
});
