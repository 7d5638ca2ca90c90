import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/config.js';

function issuesOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const MINIMAL = `
clusterName: prod-1
providers:
  - name: aws
    type: aws
`;

describe('parseConfig', () => {
  it('fills every default', () => {
    expect(parseConfig(MINIMAL)).toEqual({
      clusterName: 'prod-1',
      providers: [{ name: 'aws', type: 'aws', class: 'lbc.dev/aws', options: {} }],
      ingress: { controllerName: 'lbc.dev/ingress-controller', classAnnotationMap: {} },
      gateway: { controllerName: 'lbc.dev/gateway-controller' },
      concurrency: 4,
      resyncPeriodMs: 600_000,
      gc: { intervalMs: 1_800_000, dryRun: false },
      nodeReadyHysteresisMs: 60_000,
    });
  });

  it('reads a full file', () => {
    const cfg = parseConfig(`
clusterName: c
providers:
  - name: aws
    type: aws
    options: { region: eu-west-1, anything: [1, 2] }
  - name: edge
    type: metal
    class: example.com/metal-edge
  - name: mem
    type: memory
    options: { hostnames: true, latencyMs: 5 }
defaultClass: example.com/metal-edge
ingress:
  controllerName: example.com/ingress
  classAnnotationMap: { alb: aws, nginx-old: edge }
gateway: { controllerName: example.com/gateway }
concurrency: 8
resyncPeriod: 90
gc: { interval: 1h, dryRun: true }
nodeReadyHysteresis: 2m30s
`);
    expect(cfg.providers.map((p) => [p.name, p.class])).toEqual([
      ['aws', 'lbc.dev/aws'],
      ['edge', 'example.com/metal-edge'],
      ['mem', 'lbc.dev/mem'],
    ]);
    expect(cfg.providers[0]?.options).toEqual({ region: 'eu-west-1', anything: [1, 2] });
    expect(cfg.defaultClass).toBe('example.com/metal-edge');
    expect(cfg.ingress).toEqual({ controllerName: 'example.com/ingress', classAnnotationMap: { alb: 'aws', 'nginx-old': 'edge' } });
    expect(cfg.gateway).toEqual({ controllerName: 'example.com/gateway' });
    expect(cfg.concurrency).toBe(8);
    expect(cfg.resyncPeriodMs).toBe(90_000);
    expect(cfg.gc).toEqual({ intervalMs: 3_600_000, dryRun: true });
    expect(cfg.nodeReadyHysteresisMs).toBe(150_000);
  });

  it.each<[string, string, RegExp]>([
    ['missing clusterName', 'providers: [{name: a, type: memory}]', /^clusterName: is required$/m],
    ['bad clusterName', 'clusterName: Prod_1\nproviders: [{name: a, type: memory}]', /^clusterName: must be a DNS label/m],
    ['no providers', 'clusterName: c\nproviders: []', /^providers: must list at least one provider$/m],
    ['unknown provider type', 'clusterName: c\nproviders: [{name: a, type: memory}, {name: b, type: azure}]', /^providers\[1\]\.type: expected one of "memory"\|"local"\|"aws"\|"gce"\|"metal"$/m],
    ['unknown top-level key', `${MINIMAL}\nconcurency: 3`, /^concurency: unknown key$/m],
    ['unknown nested key', `${MINIMAL}\ngc: { interval: 1h, dry_run: true }`, /^gc\.dry_run: unknown key$/m],
    ['unknown provider key', 'clusterName: c\nproviders: [{name: a, type: aws, region: x}]', /^providers\[0\]\.region: unknown key$/m],
    ['bad provider name', 'clusterName: c\nproviders: [{name: A!, type: aws}]', /^providers\[0\]\.name: must be a DNS label/m],
    ['bad class', 'clusterName: c\nproviders: [{name: a, type: aws, class: aws}]', /^providers\[0\]\.class: must be a domain-prefixed name/m],
    ['bad duration', `${MINIMAL}\nresyncPeriod: soon`, /^resyncPeriod: "soon" is not a duration/m],
    ['too short gc interval', `${MINIMAL}\ngc: { interval: 1s }`, /^gc\.interval: must be at least 10s$/m],
    ['concurrency 0', `${MINIMAL}\nconcurrency: 0`, /^concurrency: Too small/m],
    ['concurrency text', `${MINIMAL}\nconcurrency: many`, /^concurrency: expected number, received string$/m],
    ['duplicate provider name', 'clusterName: c\nproviders: [{name: a, type: aws}, {name: a, type: gce}]', /^providers\[1\]\.name: "a" is already used by providers\[0\]$/m],
    ['duplicate class', 'clusterName: c\nproviders: [{name: a, type: aws}, {name: b, type: gce, class: lbc.dev/a}]', /^providers\[1\]\.class: "lbc.dev\/a" is already used by providers\[0\]$/m],
    ['defaultClass of nobody', `${MINIMAL}\ndefaultClass: lbc.dev/gce`, /^defaultClass: "lbc.dev\/gce" is not the class of any provider \(lbc.dev\/aws\)$/m],
    ['classAnnotationMap to nobody', `${MINIMAL}\ningress: { classAnnotationMap: { gce: gce } }`, /^ingress\.classAnnotationMap\.gce: "gce" is not a provider name \(aws\)$/m],
    ['classAnnotationMap odd key', `${MINIMAL}\ningress: { classAnnotationMap: { "a.b/c": gce } }`, /^ingress\.classAnnotationMap\["a\.b\/c"\]: "gce" is not a provider name/m],
    ['bad gateway controllerName', `${MINIMAL}\ngateway: { controllerName: gateway-controller }`, /^gateway\.controllerName: must be a domain-prefixed name/m],
    ['YAML syntax', 'clusterName: [c', /^YAML: /m],
    ['duplicate YAML key', 'clusterName: a\nclusterName: b\nproviders: [{name: a, type: aws}]', /^YAML: Map keys must be unique at line 2, column 1$/m],
    ['empty document', '', /^the configuration is empty$/m],
  ])('%s', (_name, text, want) => {
    expect(issuesOf(text).join('\n')).toMatch(want);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf('clusterName: X\nproviders: [{name: a, type: nope, extra: 1}]\nbogus: 1');
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^clusterName: /),
        expect.stringMatching(/^providers\[0\]\.type: /),
        expect.stringMatching(/^providers\[0\]\.extra: unknown key$/),
        expect.stringMatching(/^bogus: unknown key$/),
      ]),
    );
  });

  it('runs the cross checks on the sections that validate, while others do not', () => {
    const issues = issuesOf('clusterName: X\nconcurrency: 0\nproviders: [{name: a, type: memory}, {name: a, type: aws}]\ndefaultClass: lbc.dev/b\ningress: { classAnnotationMap: { alb: nobody } }');
    expect(issues).toEqual([
      expect.stringMatching(/^clusterName: /),
      expect.stringMatching(/^concurrency: /),
      'providers[1].name: "a" is already used by providers[0]',
      'providers[1].class: "lbc.dev/a" is already used by providers[0]',
      'defaultClass: "lbc.dev/b" is not the class of any provider (lbc.dev/a)',
      'ingress.classAnnotationMap.alb: "nobody" is not a provider name (a)',
    ]);
  });

  it('reports for a terminal: the source, how many, one line each', () => {
    try {
      parseConfig('clusterName: X\nconcurrency: 0\nproviders: [{name: a, type: memory}]', 'bad.yaml');
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as ConfigError).report()).toBe('bad.yaml: 2 errors:\n  clusterName: must be a DNS label (lower-case letters, digits and -, starting and ending with a letter or digit)\n  concurrency: Too small: expected number to be >=1');
    }
  });

  it('names the source in the message', () => {
    expect(() => parseConfig('x: 1', '/etc/lbc.yaml')).toThrow(/invalid configuration in \/etc\/lbc.yaml:\n {2}/);
  });
});

describe('loadConfig', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lbc-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, MINIMAL);
    expect((await loadConfig(path)).clusterName).toBe('prod-1');
  });

  it('names the file when it is invalid or missing', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'clusterName: c\nproviders: [{name: a, type: x}]');
    await expect(loadConfig(path)).rejects.toThrow(`invalid configuration in ${path}`);
    await expect(loadConfig(join(dir, 'nope.yaml'))).rejects.toThrow(/cannot read file/);
  });
});
