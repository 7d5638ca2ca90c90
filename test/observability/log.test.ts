// The controller's logs: JSON lines naming the object (kind, namespace, name, provider)
// they are about, and never a credential. The credentials are fed through the paths lbc
// really logs from (a provider error during a reconcile, a failed API write, the
// configuration at load, an Error's stack, a Secret passed as an object), and the
// captured output is searched for them, raw and base64-encoded.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerResolver, runController } from '../../src/cli/run.js';
import type { Logger } from '../../src/kube/logger.js';
import type { WriteClients } from '../../src/kube/client.js';
import { parseConfig } from '../../src/config/config.js';
import { createMemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders } from '../../src/providers/registry.js';
import { componentLogger, createLogger, objectOfMessage, REDACTED, redactCredentials, registerCredentials, SecretScrubber } from '../../src/observability/log.js';
import { E2E, eventually } from '../e2e/harness.js';

// A throwaway RSA key in PKCS#8 form (generated for this test; it protects nothing).
const PEM_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAu1SU1LfVLPHCozMxH2Mo',
  '4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKh',
  'bwIDAQABAkBcJDPsNj5cbY4J7u3bvKs3m0mUB2D8eUJ3XZ+g0v0Nz5y1p1rD0xmKkqhs',
  '-----END PRIVATE KEY-----',
].join('\n');
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const SECRET_TLS_KEY_B64 = Buffer.from(PEM_KEY).toString('base64');

class Capture {
  readonly lines: string[] = [];
  write(s: string): void {
    this.lines.push(s);
  }
  get text(): string {
    return this.lines.join('');
  }
  json(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/** Every secret, and the forms it could be written in. */
function leaks(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    const forms = [s, JSON.stringify(s).slice(1, -1), Buffer.from(s).toString('base64')];
    // A PEM is found by any of its body lines too.
    if (s.includes('\n')) forms.push(...s.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
    for (const f of forms) if (text.includes(f)) found.push(f.slice(0, 24));
  }
  return found;
}

describe('the scrubber', () => {
  const s = new SecretScrubber().add('s3cr3t-value-registered');
  it.each([
    ['a registered value anywhere', 'login with s3cr3t-value-registered failed', 'login with [REDACTED] failed'],
    ['a bearer token', 'Authorization: Bearer abc.def-ghi_123', 'Authorization: Bearer [REDACTED]'],
    ['basic credentials', 'header Basic dXNlcjpwYXNz=', 'header Basic [REDACTED]'],
    ['a JWT', 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl rejected', 'token [REDACTED] rejected'],
    ['a key=value credential', 'aws_secret_access_key=abcdEFGH1234 region=eu', 'aws_secret_access_key=[REDACTED] region=eu'],
    ['a JSON credential field', '{"msg":"x","password":"hunter22","user":"me"}', '{"msg":"x","password":"[REDACTED]","user":"me"}'],
    ['a PEM key with escaped newlines', '{"msg":"key -----BEGIN RSA PRIVATE KEY-----\\nMIIB\\nxyz\\n-----END RSA PRIVATE KEY----- end"}', '{"msg":"key [REDACTED] private key end"}'],
    ['a PEM key cut short', '{"msg":"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE","n":1}', '{"msg":"[REDACTED] private key","n":1}'],
    ['a base64 PEM (Secret data)', 'tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t== ok', 'tls.key: [REDACTED] ok'],
  ])('replaces %s', (_what, input, want) => {
    expect(s.scrub(input)).toBe(want);
  });

  it('leaves ordinary lines alone', () => {
    const line = '{"level":"warn","msg":"Service default/web: Error syncing load balancer: quota exceeded","secretName":"web-tls","tokenFile":"/var/run/token"}';
    expect(s.scrub(line)).toBe(line);
  });
});

describe('user text in a line is bounded', () => {
  it('cuts a 100 KB message and error to a bound with a marker, after scrubbing, so no half credential survives', () => {
    const out = new Capture();
    const secret = 'registered-secret-abcdefghijklmnopqrstuvwxyz';
    const log = componentLogger(createLogger({ level: 'info', destination: out, scrubber: new SecretScrubber().add(secret) }), { component: 'controller' });
    const value = 'v'.repeat(100_000);
    // The secret straddles where the cut falls: cut first, its prefix would escape the scrubber.
    const straddling = `${'p'.repeat(4096 - 20)}${secret}${value}`;
    log.warn(`Service shop/web: invalid annotation lbc.dev/health-check-protocol: ${JSON.stringify(value)}`);
    log.warn('Service shop/web: ensure failed', new Error(straddling));
    log.warn(straddling);
    const lines = out.json();
    expect(lines).toHaveLength(3);
    for (const l of out.lines) expect(Buffer.byteLength(l)).toBeLessThan(3 * 4096 + 1000);
    expect(String(lines[0]!.msg)).toMatch(/^Service shop\/web: invalid annotation lbc\.dev\/health-check-protocol: "v+… \(truncated, 100\d{3} bytes\)$/);
    expect(lines[0]).toMatchObject({ kind: 'Service', namespace: 'shop', name: 'web' });
    const err = lines[1]!.err as { message: string; stack: string };
    expect(err.message).toMatch(/… \(truncated, \d+ bytes\)$/);
    expect(String(lines[2]!.msg)).toMatch(/… \(truncated, \d+ bytes\)$/);
    expect(out.text).not.toContain(secret.slice(0, 12));
  });
});

describe('which object a line is about', () => {
  it.each([
    ['Service default/web: Error syncing load balancer: boom (transient)', { kind: 'Service', namespace: 'default', name: 'web' }],
    ['Ingress shop/front: Error syncing load balancer: bad', { kind: 'Ingress', namespace: 'shop', name: 'front' }],
    ['service/default/web: reconcile failed, retrying: 500', { kind: 'Service', namespace: 'default', name: 'web' }],
    ['ingress/shop/front: reconcile failed, retrying: 500', { kind: 'Ingress', namespace: 'shop', name: 'front' }],
    ['group/public: reconcile failed, retrying: 500', { kind: 'Ingress', name: 'group/public' }],
    ['aws: Service default/web: subnet tag missing', { kind: 'Service', namespace: 'default', name: 'web', provider: 'aws' }],
    ['garbage collection: deleted gce load balancer x of Service a/b (uid 1): no live object wants it', { kind: 'Service', namespace: 'a', name: 'b' }],
    ['garbage collection: provider gce could not list what it owns: 403', undefined],
    ['informer services: watch failed, reconnecting from 12', undefined],
  ])('%s', (msg, want) => {
    expect(objectOfMessage(msg)).toEqual(want);
  });
});

describe('a reconcile failure, a failed API write, an Error and a Secret', () => {
  let e: E2E;
  const out = new Capture();
  let token = '';
  let failWrites = false;

  beforeAll(async () => {
    e = await E2E.start({
      noStart: true,
      wrapWrites: (w: WriteClients): WriteClients => {
        const core = new Proxy(w.core, {
          get(target, prop, recv) {
            const v = Reflect.get(target, prop, recv) as unknown;
            if (prop === 'patchNamespacedServiceStatus' && typeof v === 'function') {
              return (...args: unknown[]) => {
                if (failWrites) {
                  failWrites = false;
                  return Promise.reject(new Error(`request to https://api failed: headers {"Authorization":"Bearer ${token}"} sent`));
                }
                return (v as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return v;
          },
        });
        return { ...w, core } as WriteClients;
      },
    });
    token = e.cluster.kc.getCurrentUser()?.token ?? '';
    const scrubber = new SecretScrubber();
    registerCredentials(scrubber, e.cluster.kc, e.config, { AWS_SECRET_ACCESS_KEY: AWS_SECRET });
    const logger = createLogger({ level: 'debug', destination: out, scrubber });
    const built: { c?: ReturnType<E2E['newController']> } = {};
    const log = componentLogger(logger, { component: 'controller', providerOf: providerResolver(() => built.c, e.config) });
    built.c = e.newController({ log });
    e.controller = built.c;
    await e.controller.start();
  });

  afterAll(async () => {
    await e?.stop();
  });

  it('names the object and provider, and carries none of the credentials', async () => {
    expect(token.length).toBeGreaterThan(8);
    await e.node('n1', '10.0.0.1');
    // A provider error carrying everything a careless SDK could echo.
    e.provider().inject({
      times: 1,
      effect: {
        type: 'fail',
        kind: 'transient',
        message: `upload rejected: key=${AWS_SECRET} cert ${PEM_KEY} data ${SECRET_TLS_KEY_B64} auth Bearer ${token}`,
      },
    });
    await e.lbService('web');
    await eventually('an address', async () => (await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.ip);
    // A failed API write with the request's Authorization header in its message.
    failWrites = true;
    await e.patchService('web', { spec: { ports: [{ name: 'http', port: 81, targetPort: 8080, protocol: 'TCP' }] } });
    await eventually('the write failure logged', () => out.text.includes('reconcile failed, retrying'));
    await eventually('the new port', async () => (await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.ports?.[0]?.port === 81);
    // What other parts pass: an Error (message and stack) and a Secret object.
    const log = componentLogger(createLogger({ level: 'debug', destination: out, scrubber: new SecretScrubber().add(token) }), { component: 'test' });
    log.warn('Ingress default/front: certificate rejected', new Error(`bad key ${PEM_KEY}`));
    log.debug('TLS Secret changed', { secret: { metadata: { name: 'web-tls' }, type: 'kubernetes.io/tls', data: { 'tls.key': SECRET_TLS_KEY_B64, 'tls.crt': 'Y2VydA==' } } });

    const lines = out.json();
    const failure = lines.find((l) => String(l.msg).includes('failed to ensure load balancer'));
    expect(failure).toMatchObject({ level: 'warn', component: 'controller', kind: 'Service', namespace: e.ns, name: 'web', provider: 'mem' });
    expect(String(failure?.msg)).toContain(REDACTED);
    const writeFailure = lines.find((l) => String(l.msg).includes('reconcile failed, retrying'));
    expect(writeFailure).toMatchObject({ kind: 'Service', namespace: e.ns, name: 'web', provider: 'mem' });
    expect(lines.find((l) => l.component === 'test' && l.level === 'warn')).toMatchObject({ kind: 'Ingress', namespace: 'default', name: 'front' });
    expect(lines.find((l) => l.msg === 'TLS Secret changed')).toMatchObject({ secret: { metadata: { name: 'web-tls' }, data: { 'tls.key': REDACTED, 'tls.crt': REDACTED } } });

    expect(leaks(out.text, [token, AWS_SECRET, PEM_KEY, SECRET_TLS_KEY_B64])).toEqual([]);
  });
});

describe('the object a reconcile line is about, as fields', () => {
  let e: E2E;
  const out = new Capture();
  // What the controller handed its Logger, beside the message.
  const passed: unknown[][] = [];

  beforeAll(async () => {
    e = await E2E.start({ noStart: true });
    // No providerOf: a provider in the line can only come from what the reconciler passed.
    const json = componentLogger(createLogger({ level: 'debug', destination: out }), { component: 'controller' });
    const log: Logger = {
      info: (m, ...a) => json.info(m, ...a),
      warn: (m, ...a) => {
        passed.push(a);
        json.warn(m, ...a);
      },
      debug: (m, ...a) => json.debug(m, ...a),
    };
    e.controller = e.newController({ log });
    await e.controller.start();
  });

  afterAll(async () => {
    await e?.stop();
  });

  it('a Service whose provider fails is logged with kind, namespace, name and provider fields', async () => {
    await e.node('n1', '10.0.0.1');
    e.provider().inject({ times: 1, effect: { type: 'fail', kind: 'transient', message: 'quota exceeded' } });
    await e.lbService('web');
    await eventually('an address', async () => (await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.ip);

    expect(passed).toContainEqual([{ kind: 'Service', namespace: e.ns, name: 'web', provider: 'mem' }]);
    const failure = out.json().find((l) => String(l.msg).includes('failed to ensure load balancer'));
    expect(failure).toMatchObject({ level: 'warn', component: 'controller', kind: 'Service', namespace: e.ns, name: 'web', provider: 'mem' });
    // The message alone does not name the provider: the field came from the reconciler, not from parsing.
    expect(objectOfMessage(String(failure?.msg))?.provider).toBeUndefined();
  });
});

describe('a provider warning', () => {
  it('comes out as a JSON line with the provider as a field, scrubbed', async () => {
    const out = new Capture();
    const scrubber = new SecretScrubber().add(AWS_SECRET);
    const log = componentLogger(createLogger({ level: 'info', destination: out, scrubber }), { component: 'provider' });
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const set = await buildProviders(
      parseConfig('clusterName: c\nproviders: [{name: cloud, type: memory}]'),
      {
        // A provider echoing what a careless SDK error carries, through the logger it was given.
        memory: (ctx) => {
          ctx.log?.warn(`credentials rejected: key ${AWS_SECRET}, auth Bearer ${jwt}`);
          ctx.log?.warn('Service default/web: subnet tag missing');
          return createMemoryProvider({ name: ctx.name, clusterName: ctx.clusterName });
        },
      },
      { log },
    );
    await set.close();

    const lines = out.json();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'warn', component: 'provider', provider: 'cloud' });
    expect(String(lines[0]?.msg)).toContain(REDACTED);
    // A warning about an object carries it as well as the provider.
    expect(lines[1]).toMatchObject({ provider: 'cloud', kind: 'Service', namespace: 'default', name: 'web' });
    expect(leaks(out.text, [AWS_SECRET, jwt])).toEqual([]);
  });

  it('without a logger, a provider gets none and keeps its own default', async () => {
    const seen: unknown[] = [];
    const set = await buildProviders(parseConfig('clusterName: c\nproviders: [{name: m, type: memory}]'), {
      memory: (ctx) => {
        seen.push(ctx.log);
        return createMemoryProvider({ name: ctx.name, clusterName: ctx.clusterName });
      },
    });
    await set.close();
    expect(seen).toEqual([undefined]);
  });
});

describe('lbc run', () => {
  it('logs its configuration and its failures as JSON, without the credentials in them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-log-'));
    const config = join(dir, 'lbc.yaml');
    // Credentials in the userinfo of an endpoint URL (#22): valid to the aws provider, and
    // the configuration is logged at debug, before a failure (the metrics port taken) is logged too.
    const accessKey = 'AKIAIOSFODNN7EXAMPLE';
    const secret = encodeURIComponent(AWS_SECRET);
    writeFileSync(
      config,
      [
        'clusterName: logs',
        'providers:',
        '  - name: cloud',
        '    type: aws',
        '    options:',
        '      region: eu-west-1',
        `      endpoint: http://${accessKey}:${secret}@127.0.0.1:4566`,
        'log: { level: debug }',
      ].join('\n'),
    );
    const kubeconfig = join(dir, 'kubeconfig');
    const token = 'kubeconfig-token-0123456789abcdef';
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { token } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const out = new Capture();
    const logger = createLogger({ level: 'info', destination: out });
    const exitCode = process.exitCode;
    try {
      await runController({ config, kubeconfig, metricsBindAddress: `127.0.0.1:${port}`, healthProbeBindAddress: '0' }, { logger, registry: new Registry(), until: new Promise(() => {}) });
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = exitCode;
      taken.close();
    }

    const lines = out.json();
    const loaded = lines.find((l) => l.msg === 'configuration loaded');
    // The file's log level applied, and the configuration is there, minus the credentials.
    expect(loaded).toMatchObject({
      level: 'debug',
      component: 'run',
      config: { clusterName: 'logs', providers: [{ name: 'cloud', options: { region: 'eu-west-1', endpoint: `http://${REDACTED}@127.0.0.1:4566` } }] },
    });
    const failed = lines.find((l) => l.level === 'error');
    expect(String(failed?.msg)).toBe(`lbc run failed: cannot listen on 127.0.0.1:${port} (metrics): address already in use`);
    expect(leaks(out.text, [AWS_SECRET, secret, accessKey, token])).toEqual([]);
  });

  it('logs a configuration with every credential-named value and URL userinfo replaced', () => {
    const redacted = redactCredentials({
      clusterName: 'c',
      providers: [{ name: 'x', options: { secretAccessKey: AWS_SECRET, privateKey: PEM_KEY, apiToken: 'abc', password: 'pw', nested: [{ endpoint: 'https://u:p@h:1/x', url: 'https://h/x' }] } }],
    });
    expect(redacted).toEqual({
      clusterName: 'c',
      providers: [{ name: 'x', options: { secretAccessKey: REDACTED, privateKey: REDACTED, apiToken: REDACTED, password: REDACTED, nested: [{ endpoint: `https://${REDACTED}@h:1/x`, url: 'https://h/x' }] } }],
    });
    // And in any line, whatever logged it: an SDK error quoting its endpoint.
    expect(new SecretScrubber().scrub('connect ECONNREFUSED http://AKIAEXAMPLE:s3cr3t%2Fx@10.0.0.1:4566/ ok')).toBe(`connect ECONNREFUSED http://${REDACTED}@10.0.0.1:4566/ ok`);
  });
});
