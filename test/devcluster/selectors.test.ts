import { describe, expect, it } from 'vitest';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from '../../src/devcluster/selectors.js';
import { ApiError } from '../../src/devcluster/errors.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'lbc.dev/owner': 'x' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db)', true],
    ['app notin (web, db)', false],
    ['missing notin (a)', true],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['app in (web),!missing,lbc.dev/owner=x', true],
  ])('%s → %s', (sel, want) => {
    expect(matchLabels(parseLabelSelector(sel), labels)).toBe(want);
  });

  it.each(['app=', 'app in ()', 'a b', '=x', 'app in (a', 'app=web,', 'Bad Key=1'])('rejects %s with 400', (sel) => {
    if (sel === 'app=') {
      // An empty value is legal: it matches the label with an empty value.
      expect(matchLabels(parseLabelSelector(sel), { app: '' })).toBe(true);
      return;
    }
    try {
      parseLabelSelector(sel);
      expect.fail(`no error for ${sel}`);
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe(400);
      expect((e as ApiError).reason).toBe('BadRequest');
    }
  });
});

describe('field selectors', () => {
  const obj = { metadata: { name: 'a', namespace: 'ns1' }, involvedObject: { kind: 'Service' } };
  it('matches by path, = and !=', () => {
    const supported = ['metadata.name', 'metadata.namespace', 'involvedObject.kind'];
    expect(matchFields(parseFieldSelector('metadata.name=a', supported), obj)).toBe(true);
    expect(matchFields(parseFieldSelector('metadata.name!=a', supported), obj)).toBe(false);
    expect(matchFields(parseFieldSelector('metadata.namespace==ns1,involvedObject.kind=Service', supported), obj)).toBe(true);
    expect(matchFields(parseFieldSelector('metadata.namespace=ns2', supported), obj)).toBe(false);
  });
  it('refuses unsupported fields as the API server does', () => {
    expect(() => parseFieldSelector('spec.type=x', ['metadata.name'])).toThrow(/field label not supported: spec.type/);
  });
});
