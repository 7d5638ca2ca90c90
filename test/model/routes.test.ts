import { describe, expect, it } from 'vitest';
import { matchRoute, type RouteRule } from '../../src/model/routes.js';

type R = RouteRule & { id: string };
const r = (id: string, path: string, pathType: RouteRule['pathType'], host?: string): R => ({ id, path, pathType, ...(host ? { host } : {}) });

describe('matchRoute: paths (Ingress API examples)', () => {
  // The table in the Kubernetes Ingress docs, "Examples".
  it.each([
    [[r('a', '/', 'Prefix')], '/anything', 'a'],
    [[r('a', '/foo', 'Exact')], '/foo', 'a'],
    [[r('a', '/foo', 'Exact')], '/bar', undefined],
    [[r('a', '/foo', 'Exact')], '/foo/', undefined],
    [[r('a', '/foo/', 'Exact')], '/foo', undefined],
    [[r('a', '/foo', 'Prefix')], '/foo', 'a'],
    [[r('a', '/foo', 'Prefix')], '/foo/', 'a'],
    [[r('a', '/foo/', 'Prefix')], '/foo', 'a'],
    [[r('a', '/aaa/bb', 'Prefix')], '/aaa/bbb', undefined],
    [[r('a', '/aaa/bbb', 'Prefix')], '/aaa/bbb', 'a'],
    [[r('a', '/aaa/bbb/', 'Prefix')], '/aaa/bbb', 'a'],
    [[r('a', '/aaa/bbb', 'Prefix')], '/aaa/bbb/', 'a'],
    [[r('a', '/aaa/bbb', 'Prefix')], '/aaa/bbb/ccc', 'a'],
    [[r('a', '/aaa/bbb', 'Prefix')], '/aaa/bbbxyz', undefined],
    [[r('a', '/', 'Prefix'), r('b', '/aaa', 'Prefix')], '/aaa/ccc', 'b'],
    [[r('a', '/aaa', 'Prefix'), r('b', '/aaa/bbb', 'Prefix')], '/aaa/bbb', 'b'],
    [[r('a', '/aaa', 'Prefix'), r('b', '/aaa/bbb', 'Prefix')], '/aaa/ccc', 'a'],
    [[r('a', '/', 'Prefix'), r('b', '/aaa', 'Prefix')], '/ccc', 'a'],
    [[r('a', '/aaa', 'Prefix')], '/ccc', undefined],
    [[r('a', '/aaa', 'Prefix'), r('b', '/aaa', 'Exact')], '/aaa', 'b'],
    [[r('a', '/aaa', 'Exact'), r('b', '/aaa', 'Prefix')], '/aaa', 'a'],
    [[r('a', '/aaa', 'Prefix'), r('b', '/aaa', 'Exact')], '/aaa/x', 'a'],
  ] as const)('%j %s → %s', (rules, path, want) => {
    expect(matchRoute(rules, 'example.com', path)?.id).toBe(want);
  });

  it('treats ImplementationSpecific as Prefix', () => {
    const rules = [r('a', '/api', 'ImplementationSpecific')];
    expect(matchRoute(rules, 'h', '/api/v1')?.id).toBe('a');
    expect(matchRoute(rules, 'h', '/apiv1')).toBeUndefined();
  });

  it('keeps the first of two equally good rules', () => {
    expect(matchRoute([r('a', '/x', 'Prefix'), r('b', '/x/', 'Prefix')], 'h', '/x/y')?.id).toBe('a');
  });

  it('ignores the query string and treats an empty path as /', () => {
    expect(matchRoute([r('a', '/q', 'Exact')], 'h', '/q?x=1')?.id).toBe('a');
    expect(matchRoute([r('a', '/', 'Exact')], 'h', '')?.id).toBe('a');
  });
});

describe('matchRoute: hosts', () => {
  const rules = [r('any', '/', 'Prefix'), r('wild', '/', 'Prefix', '*.foo.com'), r('exact', '/', 'Prefix', 'bar.foo.com')];
  it.each([
    ['bar.foo.com', 'exact'],
    ['BAR.Foo.COM', 'exact'],
    ['bar.foo.com:8443', 'exact'],
    ['bar.foo.com.', 'exact'],
    ['baz.foo.com', 'wild'],
    ['foo.com', 'any'],
    ['a.baz.foo.com', 'any'],
    ['other.org', 'any'],
  ])('%s → %s', (host, want) => {
    expect(matchRoute(rules, host, '/x')?.id).toBe(want);
  });

  it('a wildcard matches exactly one label', () => {
    const w = [r('w', '/', 'Prefix', '*.foo.com')];
    expect(matchRoute(w, 'a.foo.com', '/')?.id).toBe('w');
    expect(matchRoute(w, 'foo.com', '/')).toBeUndefined();
    expect(matchRoute(w, '.foo.com', '/')).toBeUndefined();
    expect(matchRoute(w, 'a.b.foo.com', '/')).toBeUndefined();
    expect(matchRoute(w, 'afoo.com', '/')).toBeUndefined();
  });

  it('does not fall through to a less specific host when the host matched but no path did', () => {
    const rs = [r('api', '/api', 'Prefix', 'foo.com'), r('catchall', '/', 'Prefix')];
    expect(matchRoute(rs, 'foo.com', '/api/x')?.id).toBe('api');
    expect(matchRoute(rs, 'foo.com', '/other')).toBeUndefined();
    expect(matchRoute(rs, 'bar.com', '/other')?.id).toBe('catchall');
  });

  it('chooses the host tier before comparing path lengths', () => {
    const rs = [r('long', '/a/b/c', 'Prefix'), r('short', '/a', 'Prefix', 'foo.com')];
    expect(matchRoute(rs, 'foo.com', '/a/b/c')?.id).toBe('short');
  });

  it('handles IPv6 literal hosts with ports', () => {
    expect(matchRoute([r('a', '/', 'Prefix')], '[::1]:8080', '/')?.id).toBe('a');
  });
});
