// cloud.google.com/neg-status on NEG Services, written by the controller from what the
// providers report, in ingress-gce's NegStatus JSON; the union over the Ingresses that
// share a Service's NEGs, removed when none reports any.
import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { NEG_STATUS_ANNOTATION, NegStatus, negStatusValue } from '../../src/controller/neg-status.js';
import type { BackendGroup } from '../../src/model/status.js';
import { service } from './fixtures.js';

const g = (port: number, zones: string[], svc = 'web'): BackendGroup => ({ namespace: 'default', service: svc, port, name: `k8s1-cid1-default-${svc}-${port}-abcdef01`, zones });

function world(services: V1Service[]) {
  const byKey = new Map(services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  const patches: { service: string; annotations: Record<string, string | null> }[] = [];
  const writer = {
    // As StatusWriter.patchAnnotations: only what differs among the managed names is patched.
    patchAnnotations: (_kind: 'Service', obj: V1Service, want: Readonly<Record<string, string>>, managed: readonly string[]) => {
      const have = obj.metadata?.annotations ?? {};
      const patch: Record<string, string | null> = {};
      for (const n of managed) if ((want[n] ?? null) !== (have[n] ?? null)) patch[n] = want[n] ?? null;
      const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
      if (Object.keys(patch).length > 0) {
        patches.push({ service: key, annotations: patch });
        const annotations = { ...have };
        for (const [k, v] of Object.entries(patch)) if (v === null) delete annotations[k];
        else annotations[k] = v;
        byKey.set(key, { ...obj, metadata: { ...obj.metadata, annotations } });
      }
      return Promise.resolve({ object: obj, written: Object.keys(patch).length > 0 });
    },
  };
  const neg = new NegStatus({ writer: writer as never, services: { get: (k: string) => byKey.get(k) } });
  return { neg, patches, annotation: (k: string) => byKey.get(k)?.metadata?.annotations?.[NEG_STATUS_ANNOTATION] };
}

describe('negStatusValue', () => {
  it('is ingress-gce\'s NegStatus JSON: service port → NEG name, and the zones, sorted', () => {
    expect(negStatusValue([g(443, ['us-central1-b']), g(80, ['us-central1-a', 'us-central1-b'])])).toBe(
      '{"network_endpoint_groups":{"80":"k8s1-cid1-default-web-80-abcdef01","443":"k8s1-cid1-default-web-443-abcdef01"},"zones":["us-central1-a","us-central1-b"]}',
    );
    expect(negStatusValue([])).toBeUndefined();
  });
});

describe('NegStatus', () => {
  it('writes the union of what every Ingress reports for a Service, once, and removes it after the last', async () => {
    const w = world([service('web', { type: 'ClusterIP' })]);
    await w.neg.record('ingress/default/a', [g(80, ['us-central1-a'])]);
    await w.neg.record('ingress/default/b', [g(443, ['us-central1-b'])]);
    expect(JSON.parse(w.annotation('default/web') ?? '{}')).toEqual({
      network_endpoint_groups: { '80': 'k8s1-cid1-default-web-80-abcdef01', '443': 'k8s1-cid1-default-web-443-abcdef01' },
      zones: ['us-central1-a', 'us-central1-b'],
    });
    const before = w.patches.length;
    await w.neg.record('ingress/default/b', [g(443, ['us-central1-b'])]);
    expect(w.patches.length, 'nothing changed: no write').toBe(before);
    await w.neg.record('ingress/default/a', undefined);
    expect(JSON.parse(w.annotation('default/web') ?? '{}').network_endpoint_groups).toEqual({ '443': 'k8s1-cid1-default-web-443-abcdef01' });
    await w.neg.record('ingress/default/b', []);
    expect(w.annotation('default/web')).toBeUndefined();
  });

  it('a Service that left the load balancer loses its entry; a Service no one reported for is never touched', async () => {
    const w = world([service('web', { type: 'ClusterIP' }), service('api', { type: 'ClusterIP' }, { [NEG_STATUS_ANNOTATION]: 'GKE wrote this' })]);
    await w.neg.record('ingress/default/a', [g(80, ['us-central1-a'])]);
    await w.neg.record('ingress/default/a', [g(80, ['us-central1-a'], 'other')]);
    expect(w.annotation('default/web')).toBeUndefined();
    expect(w.annotation('default/api')).toBe('GKE wrote this');
    expect(w.patches.map((p) => p.service)).toEqual(['default/web', 'default/web']);
  });
});
