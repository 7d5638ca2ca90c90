// The tolerance of `lbc demo --check`'s canary split: passes what a 90/10 split gives
// (exactly, or with a random draw's spread), fails what a broken one gives. And the CRDs
// the demo vendors are upstream's files as released.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_API_CRDS_DIR } from '../../src/cli/demo/crds.js';
import { judgeSplit, SPLIT_REQUESTS } from '../../src/cli/demo/gateway-check.js';

const answers = (stable: number, canary: number, extra: string[] = []): string[] => [
  ...Array.from({ length: stable }, () => 'stable-1'),
  ...Array.from({ length: canary }, () => 'canary-1'),
  ...extra,
];

describe('lbc demo --check: the 90/10 split', () => {
  it('passes 900/100 and what a random 10% draw gives five standard deviations out (σ ≈ 9.5 of 1000)', () => {
    expect(SPLIT_REQUESTS).toBe(1000);
    expect(judgeSplit(answers(900, 100))).toEqual({ ok: true, detail: 'stable-1×900, canary-1×100 over 1000 requests: 10.0% canary-1 (want 5–15%)' });
    expect(judgeSplit(answers(948, 52)).ok).toBe(true);
    expect(judgeSplit(answers(852, 148)).ok).toBe(true);
  });

  it('fails 50/50, 100/0, 0/100, and answers from anyone else or errors', () => {
    expect(judgeSplit(answers(500, 500))).toMatchObject({ ok: false, detail: expect.stringContaining('50.0% canary-1') });
    expect(judgeSplit(answers(1000, 0)).ok).toBe(false);
    expect(judgeSplit(answers(0, 1000)).ok).toBe(false);
    expect(judgeSplit(answers(800, 200)).ok).toBe(false);
    expect(judgeSplit(answers(899, 100, ['web-1'])).ok).toBe(false);
    expect(judgeSplit(answers(899, 100, ['503'])).ok).toBe(false);
    expect(judgeSplit([]).ok).toBe(false);
  });
});

describe('examples/gateway-api: the CRDs the demo installs', () => {
  const upstream = resolve('../shared/crds/gateway-api-v1.4.0');
  it.skipIf(!existsSync(upstream))("are upstream's v1.4.0 experimental-channel files, unmodified, with upstream's LICENSE", () => {
    const files = readdirSync(GATEWAY_API_CRDS_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'tlsroutes'].map((k) => `gateway.networking.k8s.io_${k}.yaml`));
    for (const f of files) expect(readFileSync(join(GATEWAY_API_CRDS_DIR, f), 'utf8'), f).toBe(readFileSync(join(upstream, 'experimental', f), 'utf8'));
    expect(readFileSync(join(GATEWAY_API_CRDS_DIR, 'LICENSE'), 'utf8')).toBe(readFileSync(join(upstream, 'LICENSE'), 'utf8'));
  });
});
