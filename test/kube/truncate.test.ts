import { describe, expect, it } from 'vitest';
import { mergeConditions } from '../../src/kube/status.js';
import { MAX_CONDITION_MESSAGE, truncate } from '../../src/kube/truncate.js';

describe('truncate', () => {
  it('leaves text that fits alone, byte-exact at the bound', () => {
    expect(truncate('short', 1024)).toBe('short');
    const exact = 'é'.repeat(512); // 1024 bytes
    expect(truncate(exact, 1024)).toBe(exact);
  });

  it('cuts to the byte bound, marker included, never inside a character', () => {
    const text = '€'.repeat(1000); // 3000 bytes
    const cut = truncate(text, 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut).toMatch(/^€+… \(truncated, 3000 bytes\)$/);
    expect(cut).not.toContain('\uFFFD');
  });

  it('bounds a condition message to the 32768 of metav1.Condition', () => {
    const { conditions } = mergeConditions(undefined, [{ type: 'LoadBalancerReady', status: 'False', reason: 'InvalidConfiguration', message: 'x'.repeat(100_000) }], new Date());
    expect(Buffer.byteLength(conditions[0]!.message)).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
    expect(conditions[0]!.message).toMatch(/x… \(truncated, 100000 bytes\)$/);
  });
});
