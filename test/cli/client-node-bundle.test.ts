// The built client-node bundle (dist/kube/client-node.js, after `npm run build`) loads
// OpenID Connect, the proxy agents and jsonpath-plus at their first use instead of at its
// top (client-node.build.mjs). These kubeconfigs reach each of those uses, and the
// credentials and agents must come out as client-node's own make them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execPath } from 'node:process';
import { describe, expect, it } from 'vitest';
import type { KubeConfig as KubeConfigType } from '@kubernetes/client-node';

const BUNDLE = new URL('../../dist/kube/client-node.js', import.meta.url).href;

async function kubeConfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): Promise<KubeConfigType> {
  const { KubeConfig } = (await import(BUNDLE)) as { KubeConfig: new () => KubeConfigType };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', ...cluster }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function httpsOptions(kc: KubeConfigType): Promise<{ headers: Record<string, string>; agent?: object }> {
  const opts: { headers: Record<string, string>; agent?: object } = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

const b64url = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (exp: number): string => `${b64url({ alg: 'none' })}.${b64url({ exp })}.sig`;

describe('client-node bundle: packages loaded at first use still work', () => {
  it('an oidc auth-provider with a live id-token sends it (rfc4648 decodes its expiry)', async () => {
    const token = jwt(Math.floor(Date.now() / 1000) + 3600);
    const kc = await kubeConfig({ authProvider: { name: 'oidc', config: { 'id-token': token, 'client-id': 'lbc', 'refresh-token': 'r', 'idp-issuer-url': 'https://127.0.0.1:1' } } });
    expect((await httpsOptions(kc)).headers.Authorization).toBe(`Bearer ${token}`);
  });

  it('an oidc auth-provider with an expired id-token reaches openid-client discovery, as the package does', async () => {
    const user = { authProvider: { name: 'oidc', config: { 'id-token': jwt(1), 'client-id': 'lbc', 'refresh-token': 'r', 'idp-issuer-url': 'https://127.0.0.1:1' } } };
    // client-node 1.4 hands openid-client 6 the issuer as a string, which openid-client refuses
    // before any request: the same refusal from the bundle shows openid-client loaded and called.
    const { KubeConfig } = await import('@kubernetes/client-node');
    const plain = new KubeConfig();
    plain.loadFromString((await kubeConfig(structuredClone(user))).exportConfig());
    const expected = await httpsOptions(plain).then(
      () => 'resolved',
      (e: unknown) => String(e),
    );
    expect(expected).toMatch(/must be an instance of URL|fetch failed|ECONNREFUSED/);
    await expect(httpsOptions(await kubeConfig(structuredClone(user))).catch((e: unknown) => String(e))).resolves.toBe(expected);
  });

  it('a gcp auth-provider token command: jsonpath-plus picks the token out of its output', async () => {
    const out = JSON.stringify({ credential: { access_token: 'from-command', token_expiry: new Date(Date.now() + 3600_000).toISOString() } });
    const file = join(mkdtempSync(join(tmpdir(), 'lbc-gcp-token-')), 'token.json');
    writeFileSync(file, out);
    const kc = await kubeConfig({ authProvider: { name: 'gcp', config: { 'cmd-path': 'cat', 'cmd-args': file, 'token-key': '{.credential.access_token}', 'expiry-key': '{.credential.token_expiry}' } } });
    expect((await httpsOptions(kc)).headers.Authorization).toBe('Bearer from-command');
  });

  it('an exec credential plugin supplies the token', async () => {
    const cred = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } });
    const kc = await kubeConfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: execPath, args: ['-e', `process.stdout.write(${JSON.stringify(cred)})`], interactiveMode: 'Never' } });
    expect((await httpsOptions(kc)).headers.Authorization).toBe('Bearer from-exec');
  });

  it.each([
    ['http://127.0.0.1:3128', 'https://127.0.0.1:1', 'HttpsProxyAgent'],
    ['http://127.0.0.1:3128', 'http://127.0.0.1:1', 'HttpProxyAgent'],
    ['socks5://127.0.0.1:1080', 'https://127.0.0.1:1', 'SocksProxyAgent'],
  ])('proxy-url %s to %s: a %s', async (proxyUrl, server, agent) => {
    const kc = await kubeConfig({ token: 't' }, { proxyUrl, server });
    expect((await httpsOptions(kc)).agent?.constructor.name).toBe(agent);
  });
});
