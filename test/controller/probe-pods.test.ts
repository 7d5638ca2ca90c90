// Reading the Pods whose readiness probes Ingress health checks follow: a 404 is a Pod
// that went away, anything else is the reconcile's failure; each Pod is read once.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podReader, readProbePods } from '../../src/controller/probe-pods.js';

const apiError = (code: number): Error => Object.assign(new Error(`HTTP ${code}`), { code });

describe('podReader', () => {
  it('returns the Pod, undefined for a 404, and throws any other error', async () => {
    const pod: V1Pod = { metadata: { name: 'web-1', namespace: 'shop' } };
    const asked: string[] = [];
    const reader = podReader({
      readNamespacedPod: async ({ namespace, name }: { namespace: string; name: string }) => {
        asked.push(`${namespace}/${name}`);
        if (name === 'web-1') return pod;
        throw apiError(name === 'gone' ? 404 : 403);
      },
    } as Parameters<typeof podReader>[0]);
    expect(await reader.read('shop', 'web-1')).toBe(pod);
    expect(await reader.read('shop', 'gone')).toBeUndefined();
    await expect(reader.read('shop', 'secret')).rejects.toThrow('HTTP 403');
    expect(asked).toEqual(['shop/web-1', 'shop/gone', 'shop/secret']);
  });
});

describe('readProbePods', () => {
  it('reads each named Pod once and leaves out those that are gone', async () => {
    const reads: string[] = [];
    const pods = await readProbePods(
      {
        read: async (namespace, name) => {
          reads.push(`${namespace}/${name}`);
          return name === 'gone' ? undefined : { metadata: { namespace, name } };
        },
      },
      [
        { namespace: 'shop', name: 'web-1' },
        { namespace: 'shop', name: 'gone' },
        { namespace: 'shop', name: 'web-1' },
      ],
    );
    expect(reads).toEqual(['shop/web-1', 'shop/gone']);
    expect(pods.map((p) => p.metadata?.name)).toEqual(['web-1']);
  });
});
