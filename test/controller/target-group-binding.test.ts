// The TargetGroupBinding model builder (pure) and reconciler with a recording provider and
// writer: what ALBC's webhooks refuse is refused with the field named; fields lbc does
// not implement are refused, never ignored; a rerun with nothing changed calls neither
// the provider nor the API server; delete unbinds before the finalizer goes.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TargetGroupBinding } from '../../src/kube/target-group-bindings.js';
import type { TargetBinding, TargetBindingResult } from '../../src/model/target-binding.js';
import { ProviderError } from '../../src/providers/types.js';
import { buildTargetBinding } from '../../src/controller/target-group-binding-model.js';
import { TargetGroupBindingReconciler, TGB_FINALIZER } from '../../src/controller/target-group-binding-reconciler.js';
import { Flight } from '../../src/controller/reconcile.js';

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users/0123456789abcdef';

const svc: V1Service = {
  metadata: { namespace: 'shop', name: 'web' },
  spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31080 }] },
};
const slices: V1EndpointSlice[] = [
  {
    metadata: { namespace: 'shop', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.0.1.11'] }, { addresses: ['10.0.1.10'] }, { addresses: ['10.0.1.12'], conditions: { ready: false } }],
  },
];
const node = (name: string, pool: string): V1Node => ({ metadata: { name, labels: { pool } }, spec: { providerID: `aws:///us-east-1a/i-0${name}` } });
const fargate: V1Node = { metadata: { name: 'fargate-1', labels: { pool: 'a', 'eks.amazonaws.com/compute-type': 'fargate' } }, spec: { providerID: 'aws:///us-east-1a/fargate-1' } };
const nodes = [node('aaa', 'a'), node('bbb', 'b'), fargate];

function tgb(spec: NonNullable<TargetGroupBinding['spec']>, meta: Partial<NonNullable<TargetGroupBinding['metadata']>> = {}): TargetGroupBinding {
  return { metadata: { namespace: 'shop', name: 'web-tgb', uid: 'uid-1', generation: 1, resourceVersion: '1', ...meta }, spec };
}
const build = (t: TargetGroupBinding, service: V1Service | undefined = svc) => buildTargetBinding(t, { clusterName: 'prod', service, endpointSlices: slices, nodes });

describe('buildTargetBinding', () => {
  it('ready endpoints of the serviceRef port (by number or name), the node port with the selected nodes, the rules with ports as numbers', () => {
    const r = build(
      tgb({
        targetGroupARN: ARN,
        serviceRef: { name: 'web', port: 'http' },
        nodeSelector: { matchLabels: { pool: 'a' } },
        networking: { ingress: [{ from: [{ securityGroup: { groupID: 'sg-0alb' } }, { ipBlock: { cidr: '10.1.2.3/16' } }], ports: [{ protocol: 'UDP', port: 8080 }, { protocol: 'TCP' }] }] },
      }),
    );
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.binding.podTargets.map((p) => `${p.ip}:${p.port}`)).toEqual(['10.0.1.10:8080', '10.0.1.11:8080']);
    expect(r.binding.nodeTargets?.nodePort).toBe(31080);
    // Fargate nodes are out too, as ALBC's default node selector has them.
    expect(r.binding.nodeTargets?.nodes.map((n) => n.name)).toEqual(['aaa']);
    expect(r.binding.targetType).toBeUndefined();
    expect(r.binding.access).toEqual([
      { from: { securityGroup: 'sg-0alb' }, protocol: 'udp', fromPort: 8080, toPort: 8080 },
      { from: { securityGroup: 'sg-0alb' }, protocol: 'tcp', fromPort: 0, toPort: 65535 },
      { from: { cidr: '10.1.0.0/16' }, protocol: 'udp', fromPort: 8080, toPort: 8080 },
      { from: { cidr: '10.1.0.0/16' }, protocol: 'tcp', fromPort: 0, toPort: 65535 },
    ]);
  });

  it('refuses, naming each field: no group, nodeSelector with ip (ALBC checkNodeSelector), a named networking port, a peer with neither source, a bad CIDR, multiClusterTargetGroup and another account (not implemented)', () => {
    const r = build(
      tgb({
        serviceRef: { name: 'web', port: 80 },
        targetType: 'ip',
        nodeSelector: { matchLabels: { pool: 'a' } },
        multiClusterTargetGroup: true,
        iamRoleArnToAssume: 'arn:aws:iam::1:role/x',
        networking: { ingress: [{ from: [{}, { ipBlock: { cidr: '10.0.0.0/40' } }, { securityGroup: { groupID: 'sg-1' } }], ports: [{ port: 'http' }] }] },
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems).toEqual([
      'spec: must provide either targetGroupARN or targetGroupName',
      'spec.nodeSelector: TargetGroupBinding cannot set NodeSelector when TargetType is ip',
      expect.stringMatching(/^spec\.multiClusterTargetGroup: not implemented by lbc/),
      expect.stringMatching(/^spec\.iamRoleArnToAssume: target groups in another account are not implemented/),
      'spec.networking.ingress[0].from[0]: either ipBlock or securityGroup should be specified',
      expect.stringMatching(/^spec\.networking\.ingress\[0\]\.from\[1\]\.ipBlock\.cidr: "10\.0\.0\.0\/40" is not a CIDR/),
      expect.stringMatching(/^spec\.networking\.ingress\[0\]\.ports\[0\]\.port: named port "http" is not supported by lbc/),
    ]);
  });

  it('a serviceRef port the Service does not have is named', () => {
    const r = build(tgb({ targetGroupARN: ARN, serviceRef: { name: 'web', port: 81 } }));
    expect(r.ok ? [] : r.problems).toEqual(['spec.serviceRef.port: Service shop/web has no port 81']);
  });
});

const okResult = (registered: number): TargetBindingResult => ({ targetGroupArn: ARN, targetType: 'ip', registered, deregistered: 0, targets: 2, warnings: [] });

function harness(initial: TargetGroupBinding, opts: { bind?: (b: TargetBinding) => Promise<TargetBindingResult> } = {}) {
  let current = initial;
  const calls: string[] = [];
  const events: string[] = [];
  const r = new TargetGroupBindingReconciler({
    clusterName: 'prod',
    provider: {
      name: 'aws',
      type: 'aws',
      capabilities: { layers: ['L4'], targetTypes: ['ip'], annotationPrefixes: [] },
      plan: () => Promise.resolve([]),
      ensure: () => Promise.reject(new Error('unused')),
      delete: () => Promise.resolve(),
      listOwned: () => Promise.resolve([]),
      bindTargets: (b) => {
        calls.push(`bind ${b.podTargets.map((p) => p.ip).join(',')}`);
        return opts.bind ? opts.bind(b) : Promise.resolve(okResult(2));
      },
      unbindTargets: (ref, group) => {
        calls.push(`unbind ${ref.name} ${group && 'arn' in group ? group.arn : ''}`);
        return Promise.resolve();
      },
    },
    bindings: { get: () => current },
    services: { get: (k) => (k === 'shop/web' ? svc : undefined) },
    endpointSlices: { byIndex: () => slices },
    nodes: () => nodes,
    writer: {
      setFinalizer: (t, f, present) => {
        const has = t.metadata?.finalizers?.includes(f) ?? false;
        if (has === present) return Promise.resolve(t);
        calls.push(`${present ? 'add' : 'remove'} finalizer ${f}`);
        current = { ...t, metadata: { ...t.metadata, finalizers: present ? [f] : [] } };
        return Promise.resolve(current);
      },
      observe: (t) => {
        if (t.status?.observedGeneration === t.metadata?.generation) return Promise.resolve(t);
        calls.push(`observedGeneration ${t.metadata?.generation ?? ''}`);
        current = { ...t, status: { observedGeneration: t.metadata?.generation ?? 0 } };
        return Promise.resolve(current);
      },
    },
    events: { event: (_t, type, reason, message) => events.push(`${type} ${reason}: ${message}`) },
    log: { info: () => {}, warn: () => {} },
    providerTimeoutMs: 1000,
  });
  return {
    r,
    calls,
    events,
    set: (t: TargetGroupBinding) => {
      current = t;
    },
    get: () => current,
  };
}

describe('TargetGroupBindingReconciler', () => {
  it('finalizer, bind, observedGeneration, SuccessfullyReconciled; a rerun with nothing changed makes no call and no write', async () => {
    const h = harness(tgb({ targetGroupARN: ARN, serviceRef: { name: 'web', port: 80 } }));
    expect(await h.r.reconcile('shop/web-tgb', new Flight())).toEqual({ kind: 'done' });
    expect(h.calls).toEqual([`add finalizer ${TGB_FINALIZER}`, 'bind 10.0.1.10,10.0.1.11', 'observedGeneration 1']);
    expect(h.events).toEqual(['Normal SuccessfullyReconciled: Successfully reconciled']);
    h.calls.length = 0;
    h.events.length = 0;
    expect(await h.r.reconcile('shop/web-tgb', new Flight())).toEqual({ kind: 'done' });
    expect(h.calls).toEqual([]);
    expect(h.events).toEqual([]);
    expect(h.r.followsEndpoints('shop/web-tgb')).toBe(true);
  });

  it('a provider refusal is a Warning (once) and a slow retry; delete unbinds, then the finalizer goes', async () => {
    const h = harness(tgb({ targetGroupARN: ARN, serviceRef: { name: 'web', port: 80 }, targetType: 'ip' }), {
      bind: () => Promise.reject(new ProviderError('invalid', 'spec.targetType is ip but target group x has target type instance', { provider: 'aws' })),
    });
    expect(await h.r.reconcile('shop/web-tgb', new Flight())).toEqual({ kind: 'slow' });
    expect(h.events).toEqual(['Warning FailedReconcile: spec.targetType is ip but target group x has target type instance']);
    await h.r.reconcile('shop/web-tgb', new Flight());
    expect(h.events).toHaveLength(1);
    h.calls.length = 0;
    h.set({ ...h.get(), metadata: { ...h.get().metadata, deletionTimestamp: new Date() } });
    expect(await h.r.reconcile('shop/web-tgb', new Flight())).toEqual({ kind: 'done' });
    expect(h.calls).toEqual([`unbind web-tgb ${ARN}`, `remove finalizer ${TGB_FINALIZER}`]);
  });

  it('spec.targetGroupARN changed (ALBC refuses it at admission): the group last filled is emptied before the new one is filled', async () => {
    const h = harness(tgb({ targetGroupARN: ARN, serviceRef: { name: 'web', port: 80 } }));
    await h.r.reconcile('shop/web-tgb', new Flight());
    h.calls.length = 0;
    const next = `${ARN.slice(0, -1)}0`;
    h.set(tgb({ targetGroupARN: next, serviceRef: { name: 'web', port: 80 } }, { generation: 2, finalizers: [TGB_FINALIZER] }));
    await h.r.reconcile('shop/web-tgb', new Flight());
    expect(h.calls).toEqual([`unbind web-tgb ${ARN}`, 'bind 10.0.1.10,10.0.1.11', 'observedGeneration 2']);
  });

  it('the Service gone: every target out (ALBC Cleanup) and BackendNotFound, once', async () => {
    const h = harness(tgb({ targetGroupARN: ARN, serviceRef: { name: 'gone', port: 80 } }));
    await h.r.reconcile('shop/web-tgb', new Flight());
    await h.r.reconcile('shop/web-tgb', new Flight());
    expect(h.calls).toEqual([`add finalizer ${TGB_FINALIZER}`, `unbind web-tgb ${ARN}`]);
    expect(h.events).toEqual(['Warning BackendNotFound: Service shop/gone not found']);
  });

  it('a spec lbc cannot serve: a Warning naming the fields, no finalizer, no provider call', async () => {
    const h = harness(tgb({ serviceRef: { name: 'web', port: 80 } }));
    expect(await h.r.reconcile('shop/web-tgb', new Flight())).toEqual({ kind: 'slow' });
    expect(h.calls).toEqual([]);
    expect(h.events).toEqual(['Warning FailedReconcile: spec: must provide either targetGroupARN or targetGroupName']);
  });
});
