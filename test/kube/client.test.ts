import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiConnection, loadKubeConfig, makeClients } from '../../src/kube/client.js';

const dir = mkdtempSync(join(tmpdir(), 'lbc-kube-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, cluster: string, server: string, current?: string): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: ${cluster}, cluster: {server: "${server}"}}]`,
      `users: [{name: u-${cluster}, user: {token: t}}]`,
      `contexts: [{name: ${cluster}, context: {cluster: ${cluster}, user: u-${cluster}}}]`,
      current ? `current-context: ${current}` : '',
    ].join('\n'),
  );
  return path;
}

describe('loadKubeConfig', () => {
  const a = kubeconfig('a.yaml', 'alpha', 'https://alpha.example:6443', 'alpha');
  const b = kubeconfig('b.yaml', 'beta', 'https://beta.example:6443', 'beta');

  it('prefers --kubeconfig over KUBECONFIG', () => {
    const { kc, origin } = loadKubeConfig({ kubeconfig: a, env: { KUBECONFIG: b } });
    expect(origin).toBe('flag');
    expect(kc.getCurrentCluster()?.server).toBe('https://alpha.example:6443');
  });

  it('merges a KUBECONFIG path list, the first current-context winning, and honours --context', () => {
    const { kc, origin } = loadKubeConfig({ env: { KUBECONFIG: [b, join(dir, 'missing.yaml'), a].join(delimiter) } });
    expect(origin).toBe('env');
    expect(kc.getCurrentCluster()?.name).toBe('beta');
    expect(kc.getClusters().map((c) => c.name).sort()).toEqual(['alpha', 'beta']);
    const other = loadKubeConfig({ env: { KUBECONFIG: [b, a].join(delimiter) }, context: 'alpha' });
    expect(other.kc.getCurrentCluster()?.name).toBe('alpha');
    expect(() => loadKubeConfig({ kubeconfig: a, context: 'nope' })).toThrow(/not found/);
  });

  it('falls back to the pod service account, from the given environment', () => {
    const sa = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(join(sa, 'token'), 'tok');
    writeFileSync(join(sa, 'namespace'), 'lbc-system\n');
    const { kc, origin } = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: sa,
    });
    expect(origin).toBe('in-cluster');
    expect(kc.getCurrentCluster()?.server).toBe('https://[fd00::1]:443');
    expect(kc.getCurrentUser()?.authProvider?.config?.tokenFile).toBe(join(sa, 'token'));
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('lbc-system');
  });

  it('refuses to guess when there are no credentials', () => {
    expect(() => loadKubeConfig({ env: {} })).toThrow(/no Kubernetes credentials/);
    expect(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, 'missing.yaml') } })).toThrow(/no such file/);
  });

  it('builds the typed clients, lbc\'s connection and the write clients from one config', () => {
    const c = makeClients(loadKubeConfig({ kubeconfig: a }).kc);
    expect(Object.keys(c).sort()).toEqual(['api', 'coordination', 'core', 'custom', 'discovery', 'kc', 'networking', 'writes']);
    expect(c.api).toBeInstanceOf(ApiConnection);
  });

  it('leaves a cluster behind a proxy to client-node, which alone speaks proxies', () => {
    const kc = loadKubeConfig({ kubeconfig: a }).kc;
    kc.clusters = kc.clusters.map((c) => ({ ...c, proxyUrl: 'http://proxy.example:3128' }));
    const c = makeClients(kc);
    expect(c.api).toBeUndefined();
    expect(c.writes.core).toBe(c.core);
  });
});
