// Contract: endpoint addresses kube-apiserver refuses (ValidateNonSpecialIP): loopback and
// link-local addresses in Endpoints and EndpointSlices get 422 with one cause per address,
// and a Pod whose podIP is loopback is accepted but never published by the endpoint
// controllers (their writes are refused, so the Service's slices and Endpoints stay empty).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  consistently,
  corePath,
  eventually,
  expectOk,
  expectStatus,
  groupPath,
  PatchStrategy,
  serviceBody,
  uniqueName,
  useContractCluster,
  type Json,
} from './support.js';

const ctx = useContractCluster('epaddr');
const SETTLE = 45_000;
const TEST_TIMEOUT = 120_000;
const LOOPBACK = 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
const LINK_LOCAL = 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
const slicesPath = () => groupPath('discovery.k8s.io/v1', ctx.ns, 'endpointslices');
const cause = (field: string, value: string, detail: string) => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${value}": ${detail}` });
let node = '';

beforeAll(async () => {
  node = uniqueName('lbc-ct-epaddr-node');
  ctx.defer(() => ctx.core.deleteNode({ name: node }));
  expectOk(await ctx.raw('POST', '/api/v1/nodes', { body: { metadata: { name: node } } }), 201);
});

describe('endpoint addresses in the loopback and link-local ranges are refused', () => {
  it('Endpoints: addresses and notReadyAddresses, IPv4 and IPv6', async () => {
    const res = await ctx.raw('POST', corePath(ctx.ns, 'endpoints'), {
      body: {
        metadata: { name: 'lo' },
        subsets: [{ addresses: [{ ip: '127.0.0.5' }, { ip: '169.254.1.1' }], notReadyAddresses: [{ ip: '::1' }, { ip: 'fe80::1' }], ports: [{ port: 80 }] }],
      },
    });
    const status = expectStatus(res, 422, 'Invalid');
    const causes = [
      cause('subsets[0].addresses[0].ip', '127.0.0.5', LOOPBACK),
      cause('subsets[0].addresses[1].ip', '169.254.1.1', LINK_LOCAL),
      cause('subsets[0].notReadyAddresses[0].ip', '::1', LOOPBACK),
      cause('subsets[0].notReadyAddresses[1].ip', 'fe80::1', LINK_LOCAL),
    ];
    expect(status.details).toEqual({ name: 'lo', kind: 'Endpoints', causes });
    expect(status.message).toBe(`Endpoints "lo" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`);
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'lo')), 404, 'NotFound');
  });

  it('EndpointSlice: IPv4 and IPv6 slices', async () => {
    for (const [addressType, lo, ll] of [
      ['IPv4', '127.0.0.5', '169.254.1.1'],
      ['IPv6', '::1', 'fe80::1'],
    ] as const) {
      const name = `lo-${addressType.toLowerCase()}`;
      const res = await ctx.raw('POST', slicesPath(), {
        body: { metadata: { name }, addressType, endpoints: [{ addresses: [lo] }, { addresses: [ll] }], ports: [{ port: 80 }] },
      });
      const status = expectStatus(res, 422, 'Invalid');
      const causes = [cause('endpoints[0].addresses[0]', lo, LOOPBACK), cause('endpoints[1].addresses[0]', ll, LINK_LOCAL)];
      expect(status.details).toEqual({ name, group: 'discovery.k8s.io', kind: 'EndpointSlice', causes });
      expect(status.message).toBe(`EndpointSlice.discovery.k8s.io "${name}" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`);
    }
  });

  it('an update that adds a loopback address is refused and the object keeps its addresses', async () => {
    const ep = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'endpoints'), {
        body: { metadata: { name: 'ok' }, subsets: [{ addresses: [{ ip: '10.244.7.7' }], ports: [{ port: 80 }] }] },
      }),
      201,
    );
    ep.subsets[0].addresses.push({ ip: '127.0.0.1' });
    const status = expectStatus(await ctx.raw('PUT', corePath(ctx.ns, 'endpoints', 'ok'), { body: ep }), 422, 'Invalid');
    expect(status.details.causes).toEqual([cause('subsets[0].addresses[1].ip', '127.0.0.1', LOOPBACK)]);
    const now = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'ok')));
    expect(now.subsets[0].addresses).toEqual([{ ip: '10.244.7.7' }]);
  });
});

async function readyPod(name: string, ip: string): Promise<void> {
  expectOk(
    await ctx.raw('POST', corePath(ctx.ns, 'pods'), {
      body: {
        metadata: { name, labels: { app: 'lo' } },
        spec: { nodeName: node, containers: [{ name: 'app', image: 'example.invalid/app:1', ports: [{ containerPort: 8080 }] }] },
      },
    }),
    201,
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const pod = expectOk(
    await ctx.raw('PATCH', corePath(ctx.ns, 'pods', name, 'status'), {
      contentType: PatchStrategy.MergePatch,
      body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } },
    }),
  );
  // Pod validation checks only that podIP is an IP: the loopback range is the endpoints' concern.
  expect(pod.status.podIP).toBe(ip);
}

async function publishedAddresses(): Promise<{ slices: string[]; endpoints: string[] }> {
  const list = expectOk(await ctx.raw('GET', slicesPath(), { query: { labelSelector: 'kubernetes.io/service-name=lo' } }));
  const slices = list.items.flatMap((s: Json) => (s.endpoints ?? []).flatMap((e: Json) => e.addresses));
  const ep = await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'lo'));
  const endpoints = ep.status === 200 ? (ep.body.subsets ?? []).flatMap((s: Json) => (s.addresses ?? []).map((a: Json) => a.ip)) : [];
  return { slices: slices.sort(), endpoints: endpoints.sort() };
}

describe('a Pod with a loopback podIP', () => {
  it('is accepted, and the Service it backs publishes nothing until that Pod is gone', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('lo', { selector: { app: 'lo' } }) }), 201);
    await readyPod('lo-loop', '127.0.0.9');
    await readyPod('lo-good', '10.244.9.9');
    // Both addresses go into one slice and one Endpoints subset, and each write is refused whole.
    await consistently(async () => {
      expect(await publishedAddresses()).toEqual({ slices: [], endpoints: [] });
    }, 4000, 250);

    await ctx.raw('DELETE', corePath(ctx.ns, 'pods', 'lo-loop'), { body: { gracePeriodSeconds: 0 } });
    await eventually(async () => {
      expect(await publishedAddresses()).toEqual({ slices: ['10.244.9.9'], endpoints: ['10.244.9.9'] });
    }, SETTLE);
  }, TEST_TIMEOUT);
});
