import { describe, expect, it } from 'vitest';
import { isProviderError, ProviderError, toProviderError, type ProviderErrorKind } from '../../src/providers/types.js';

describe('ProviderError', () => {
  it.each<[ProviderErrorKind, boolean]>([
    ['throttled', true],
    ['transient', true],
    ['notFound', true],
    ['conflict', true],
    ['quota', true],
    ['invalid', false],
    ['forbidden', false],
  ])('%s retryable: %s', (kind, retryable) => {
    expect(new ProviderError(kind, 'x').retryable).toBe(retryable);
  });

  it('carries retryAfterMs, provider and cause', () => {
    const cause = new Error('503');
    const e = new ProviderError('throttled', 'slow down', { retryAfterMs: 1200, provider: 'aws', cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'ProviderError', kind: 'throttled', retryAfterMs: 1200, provider: 'aws', message: 'slow down', cause });
    expect(isProviderError(e)).toBe(true);
    expect(isProviderError(cause)).toBe(false);
    expect('retryAfterMs' in new ProviderError('transient', 'x')).toBe(false);
  });

  it('toProviderError keeps ProviderErrors and makes anything else transient', () => {
    const e = new ProviderError('invalid', 'bad');
    expect(toProviderError(e)).toBe(e);
    expect(toProviderError(new Error('socket hang up'), 'gce')).toMatchObject({ kind: 'transient', message: 'socket hang up', provider: 'gce' });
    expect(toProviderError('weird')).toMatchObject({ kind: 'transient', message: 'weird' });
  });
});
