// Whether the API server serves a custom resource type: asked over lbc's own connection
// where there is one (no TLS connection of client-node's own at start-up, #21), else
// through client-node; a 404 from either says "not installed".
import { describe, expect, it } from 'vitest';
import { ApiError, type ApiConnection } from '../../src/kube/client.js';
import type { CustomObjectsApi } from '../../src/kube/client-node.js';
import { probeCustomResource } from '../../src/kube/custom-resources.js';
import { discoverGatewayApi } from '../../src/kube/gateway-resources.js';

function connection(answer: (path: string) => unknown): { api: ApiConnection; paths: string[] } {
  const paths: string[] = [];
  const api = {
    request: async (method: string, path: string) => {
      paths.push(`${method} ${path}`);
      const a = answer(path);
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as ApiConnection;
  return { api, paths };
}

const unusedCustom = new Proxy({}, { get: () => () => Promise.reject(new Error('client-node used although lbc has its own connection')) }) as unknown as CustomObjectsApi;

describe('probeCustomResource', () => {
  it('lists one object over lbc’s connection when there is one', async () => {
    const { api, paths } = connection(() => ({ items: [] }));
    await probeCustomResource({ api, custom: unusedCustom }, { group: 'example.com', version: 'v1', plural: 'things' });
    expect(paths).toEqual(['GET /apis/example.com/v1/things?limit=1']);
  });

  it('through client-node without one', async () => {
    const asked: unknown[] = [];
    const custom = { listClusterCustomObject: async (p: unknown) => (asked.push(p), { items: [] }) } as unknown as CustomObjectsApi;
    await probeCustomResource({ api: undefined, custom }, { group: 'example.com', version: 'v1', plural: 'things' });
    expect(asked).toEqual([{ group: 'example.com', version: 'v1', plural: 'things', limit: 1 }]);
  });

  it('a 404 over lbc’s connection reads as "not installed"; other errors are thrown', async () => {
    const missing = connection(() => new ApiError(404, {}, 'not found'));
    expect(await discoverGatewayApi({ api: missing.api, custom: unusedCustom })).toBeUndefined();
    expect(missing.paths).toContain('GET /apis/gateway.networking.k8s.io/v1/gateways?limit=1');
    const forbidden = connection(() => new ApiError(403, {}, 'forbidden'));
    await expect(discoverGatewayApi({ api: forbidden.api, custom: unusedCustom })).rejects.toThrow('forbidden');
  });
});
