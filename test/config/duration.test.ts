import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  it.each<[string | number, number]>([
    ['10m', 600_000],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1m0.5s', 60_500],
    ['45', 45_000],
    ['0', 0],
    [' 5s ', 5000],
    [90, 90_000],
    [0.25, 250],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, ms });
  });

  it.each<string | number>(['', 'x', '10d', '-5s', '5 s', 's', '1h-5m', '1.s', -1, Number.NaN, Infinity])('rejects %j', (input) => {
    const r = parseDuration(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/duration|seconds/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [600_000, '10m'],
    [5_400_500, '1h30m500ms'],
    [61_000, '1m1s'],
  ])('%d → %s, and back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });
});
