import { describe, expect, it } from 'vitest';
import { intersectHostname, routeHostnamesFor } from '../../../src/controller/gateway/hostnames.js';

describe('intersectHostname (the specification: a wildcard stands for one or more labels)', () => {
  it.each([
    ['foo.example.com', undefined, 'foo.example.com'],
    ['Foo.Example.com', 'foo.example.com', 'foo.example.com'],
    ['foo.example.com', '*.example.com', 'foo.example.com'],
    ['a.b.example.com', '*.example.com', 'a.b.example.com'],
    ['example.com', '*.example.com', undefined],
    ['*.example.com', 'foo.example.com', 'foo.example.com'],
    ['*.example.com', '*.example.com', '*.example.com'],
    ['*.a.example.com', '*.example.com', '*.a.example.com'],
    ['*.example.com', '*.a.example.com', '*.a.example.com'],
    ['*.example.com', '*.example.org', undefined],
    ['foo.example.org', 'foo.example.com', undefined],
  ])('%s ∩ %s = %s', (route, listener, want) => {
    expect(intersectHostname(route, listener)).toBe(want);
  });

  it('a route without hostnames takes the listener’s; with hostnames and no match, none', () => {
    expect(routeHostnamesFor([], '*.example.com')).toEqual([]);
    expect(routeHostnamesFor(['b.example.com', 'a.example.com', 'x.org'], '*.example.com')).toEqual(['a.example.com', 'b.example.com']);
    expect(routeHostnamesFor(['x.org'], '*.example.com')).toBeUndefined();
  });
});
