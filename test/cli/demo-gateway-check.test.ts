// The tolerance of `lbc demo --check`'s canary split: passes what a 90/10 split gives
// (exactly, or with a random draw's spread), fails what a broken one gives.
import { describe, expect, it } from 'vitest';
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
