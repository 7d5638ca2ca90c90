import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/controller/gateway/durations.js';

describe('parseDuration (GEP-2257)', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1m30s250ms', 90_250],
    ['0s', 0],
    ['1.5s', undefined],
    ['10', undefined],
    ['1d', undefined],
    ['', undefined],
  ])('%s → %s', (d, want) => {
    expect(parseDuration(d)).toBe(want);
  });
});
