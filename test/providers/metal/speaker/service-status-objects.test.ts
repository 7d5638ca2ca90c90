import { describe, expect, it } from 'vitest';
import { ServiceStatusObjects, type StatusObject, type StatusObjectWrites } from '../../../../src/providers/metal/speaker/service-status-objects.js';

/** The server side of the writes: objects by name, every call recorded; `fail` makes the next call throw. */
function server(initial: StatusObject[] = []) {
  const objects = new Map(initial.map((o) => [o.metadata?.name ?? '', o]));
  const calls: string[] = [];
  let n = 0;
  const state = { fail: false };
  const check = (): void => {
    if (state.fail) {
      state.fail = false;
      throw Object.assign(new Error('the server is unavailable'), { code: 503 });
    }
  };
  const writes: StatusObjectWrites = {
    create: async (ns, body) => {
      check();
      const name = `${body.metadata?.generateName ?? ''}${++n}`;
      const o = { ...body, metadata: { ...body.metadata, name, namespace: ns } };
      objects.set(name, o);
      calls.push(`create ${name}`);
      return o;
    },
    patchStatus: async (_ns, name, status) => {
      check();
      const o = objects.get(name);
      if (!o) throw Object.assign(new Error('not found'), { code: 404 });
      objects.set(name, { ...o, status });
      calls.push(`status ${name}`);
      return o;
    },
    delete: async (_ns, name) => {
      check();
      calls.push(`delete ${name}`);
      if (!objects.delete(name)) throw Object.assign(new Error('not found'), { code: 404 });
    },
  };
  return { objects, calls, writes, state };
}

function writer(s: ReturnType<typeof server>, failures: Error[] = []) {
  return new ServiceStatusObjects<readonly string[]>({
    type: { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceBGPStatus' },
    writes: s.writes,
    generateName: 'bgp-',
    node: 'n1',
    namespace: 'metallb-system',
    pod: { name: 'speaker-x', uid: 'u-1' },
    existing: () => [...s.objects.values()],
    status: ({ namespace, name }, peers) => ({ node: 'n1', serviceName: name, serviceNamespace: namespace, peers }),
    failed: (e) => failures.push(e),
  });
}

const labels = (svc: string, node = 'n1') => ({ 'metallb.io/node': node, 'metallb.io/service-name': svc, 'metallb.io/service-namespace': 'default' });

describe('ServiceStatusObjects: one status object per announced Service, as MetalLB keeps ServiceL2Status/ServiceBGPStatus', () => {
  it('creates by generateName with the labels and the Pod as owner, then writes the status through the subresource', async () => {
    const s = server();
    const w = writer(s);
    w.update(new Map([['default/web', ['r1']]]));
    await w.settled();
    expect(s.calls).toEqual(['create bgp-1', 'status bgp-1']);
    const o = s.objects.get('bgp-1');
    expect(o?.metadata?.labels).toEqual(labels('web'));
    expect(o?.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'speaker-x', uid: 'u-1' }]);
    expect(o?.status).toEqual({ node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] });
  });

  it('writes nothing when the status is already what it says, and patches only what changed', async () => {
    const s = server([{ metadata: { name: 'bgp-a', labels: labels('web') }, status: { node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] } }]);
    const w = writer(s);
    w.update(new Map([['default/web', ['r1']]]));
    await w.settled();
    expect(s.calls).toEqual([]);
    w.update(new Map([['default/web', ['r1', 'r2']]]));
    await w.settled();
    expect(s.calls).toEqual(['status bgp-a']);
  });

  it('deletes the object of a Service no longer announced, and a second object for one Service, and leaves other nodes alone', async () => {
    const s = server([
      { metadata: { name: 'bgp-a', labels: labels('web') }, status: { node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] } },
      { metadata: { name: 'bgp-b', labels: labels('web') } },
      { metadata: { name: 'bgp-c', labels: labels('old') } },
      { metadata: { name: 'bgp-d', labels: labels('old', 'n2') } },
    ]);
    const w = writer(s);
    w.update(new Map([['default/web', ['r1']]]));
    await w.settled();
    expect(s.calls.sort()).toEqual(['delete bgp-b', 'delete bgp-c']);
    expect([...s.objects.keys()].sort()).toEqual(['bgp-a', 'bgp-d']);
  });

  it('does not create twice for a Service whose object the informer has not shown yet, and deletes it when it goes', async () => {
    const s = server();
    // The informer never shows what was created: only what this process remembers prevents a second create.
    const w = new ServiceStatusObjects<readonly string[]>({
      type: { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status' },
      writes: s.writes,
      generateName: 'l2-',
      node: 'n1',
      namespace: 'metallb-system',
      existing: () => [],
      status: ({ name }) => ({ serviceName: name }),
      failed: () => undefined,
    });
    w.update(new Map([['default/web', []]]));
    await w.settled();
    w.update(new Map([['default/web', []]]));
    await w.settled();
    expect(s.calls.filter((c) => c.startsWith('create'))).toEqual(['create l2-1']);
    expect(s.objects.get('l2-1')?.metadata?.ownerReferences).toBeUndefined();
    w.update(new Map());
    await w.settled();
    expect(s.objects.size).toBe(0);
  });

  it('a failed pass is told and retried at the next update, so nothing is lost', async () => {
    const s = server();
    const failures: Error[] = [];
    const w = writer(s, failures);
    s.state.fail = true;
    w.update(new Map([['default/web', ['r1']]]));
    await w.settled();
    expect(failures.map((e) => e.message)).toEqual(['the server is unavailable']);
    expect(s.objects.size).toBe(0);
    w.update(new Map([['default/web', ['r1']]]));
    await w.settled();
    expect([...s.objects.values()].map((o) => o.status)).toEqual([{ node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] }]);
  });

  it('a change that comes while a pass runs is written by one more pass', async () => {
    const s = server();
    const w = writer(s);
    w.update(new Map([['default/web', ['r1']]]));
    w.update(new Map([['default/web', ['r1']], ['default/api', ['r2']]]));
    await w.settled();
    expect([...s.objects.values()].map((o) => o.metadata?.labels?.['metallb.io/service-name']).sort()).toEqual(['api', 'web']);
  });
});
