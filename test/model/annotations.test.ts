import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  annotation,
  annotationNames,
  bool,
  cidrList,
  duration,
  httpPath,
  int,
  json,
  keyValueList,
  oneOf,
  parseAnnotation,
  parseAnnotations,
  port,
  string,
  stringList,
  type ValueParser,
} from '../../src/model/annotations.js';
import { healthCheckPort, seconds } from '../../src/model/lbc-annotations.js';

type Case<T> = [string, T];

function good<T>(parser: ValueParser<T>, cases: Case<T>[]): void {
  it.each(cases)('accepts %j', (raw, want) => {
    expect(parser(raw)).toEqual({ ok: true, value: want });
  });
}

function badValues(parser: ValueParser<unknown>, cases: [string, RegExp][]): void {
  it.each(cases)('rejects %j', (raw, reason) => {
    const r = parser(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
}

describe('bool', () => {
  good(bool(), [['true', true], ['True', true], ['TRUE', true], ['1', true], ['t', true], ['false', false], ['F', false], ['0', false]]);
  badValues(bool(), [['yes', /not a boolean/], ['', /not a boolean/], ['tRuE', /not a boolean/]]);
});

describe('int', () => {
  good(int({ min: -5, max: 10 }), [['0', 0], ['10', 10], ['-5', -5], ['007', 7]]);
  badValues(int({ min: -5, max: 10 }), [
    ['11', /above the maximum 10/],
    ['-6', /below the minimum -5/],
    ['1.5', /not an integer/],
    ['+1', /not an integer/],
    ['1e3', /not an integer/],
    ['', /not an integer/],
    ['99999999999999999999', /out of range/],
  ]);
  good(port(), [['1', 1], ['65535', 65535]]);
  badValues(port(), [['0', /minimum 1/], ['65536', /maximum 65535/]]);
});

describe('duration', () => {
  good(duration({ minMs: 1000, maxMs: 60_000 }), [['1s', 1000], ['1m', 60_000], ['30', 30_000], ['1500ms', 1500]]);
  badValues(duration({ minMs: 1000, maxMs: 60_000 }), [
    ['999ms', /shorter than the minimum 1000ms/],
    ['2m', /longer than the maximum 60000ms/],
    ['soon', /not a duration/],
  ]);
  good(seconds({ min: 1, max: 300 }), [['10', 10], ['10s', 10], ['1m', 60]]);
  badValues(seconds({ min: 1, max: 300 }), [['1500ms', /whole number of seconds/], ['0', /minimum/], ['6m', /maximum/]]);
});

describe('oneOf', () => {
  good(oneOf(['instance', 'ip'] as const), [['instance', 'instance'], ['ip', 'ip']]);
  badValues(oneOf(['instance', 'ip'] as const), [['IP', /"IP" is not one of "instance", "ip"/], ['', /not one of/]]);
  good(oneOf(['TCP', 'HTTP'] as const, { caseInsensitive: true }), [['tcp', 'TCP'], ['Http', 'HTTP']]);
  good(healthCheckPort(), [['traffic-port', 'traffic-port'], ['8080', 8080]]);
  badValues(healthCheckPort(), [['traffic', /not an integer/], ['0', /minimum 1/]]);
});

describe('string and httpPath', () => {
  good(string({ pattern: /^[a-z]+$/, maxLength: 5 }), [['abc', 'abc']]);
  badValues(string({ pattern: /^[a-z]+$/, maxLength: 5, expected: 'lower-case' }), [
    ['', /must not be empty/],
    ['abcdef', /longer than 5/],
    ['ABC', /"ABC" is not lower-case/],
  ]);
  good(httpPath(), [['/', '/'], ['/healthz', '/healthz'], ['/a/b-c', '/a/b-c']]);
  badValues(httpPath(), [['healthz', /must start with \//], ['/a b', /whitespace/], ['/a?b', /\?/], ['', /must start with/]]);
});

describe('cidrList', () => {
  good(cidrList(), [
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['10.0.0.0/8, 192.168.1.7/24', ['10.0.0.0/8', '192.168.1.0/24']],
    ['2001:DB8::/32,10.0.0.0/8', ['2001:db8::/32', '10.0.0.0/8']],
    ['10.0.0.0/8,10.1.0.0/8', ['10.0.0.0/8']],
    ['', []],
  ]);
  badValues(cidrList(), [
    ['10.0.0.0/8,', /item 2 .* is empty/],
    ['10.0.0.0', /missing \/prefix/],
    ['10.0.0.0/8,300.0.0.0/8,1.2.3.4/40', /"300.0.0.0\/8" is not a CIDR .*; "1.2.3.4\/40" is not a CIDR/],
    ['10.0.0.0/8 192.168.0.0/16', /not a CIDR/],
  ]);
  badValues(cidrList({ family: 4 }), [['::/0', /not an IPv4 CIDR/]]);
});

describe('keyValueList', () => {
  good(keyValueList(), [
    ['a=1,b=2', { a: '1', b: '2' }],
    [' a = 1 , b= ', { a: '1', b: '' }],
    ['url=http://x/?q=1', { url: 'http://x/?q=1' }],
    ['', {}],
  ]);
  badValues(keyValueList(), [['a', /"a" is not key=value/], ['=1', /empty key/], ['a=1,a=2', /key "a" appears twice/], ['a=1,,b=2', /item 2/]]);
  badValues(keyValueList({ key: string({ pattern: /^[a-z]+$/, expected: 'lower-case' }) }), [['A=1', /key "A": "A" is not lower-case/]]);
});

describe('stringList', () => {
  good(stringList(), [['a,b , c', ['a', 'b', 'c']], ['', []], ['one', ['one']]]);
  badValues(stringList(), [['a,,b', /item 2/], [',', /item 1/]]);
  badValues(stringList(httpPath()), [['/a,b', /item 2: "b" is not an absolute path/]]);
});

describe('json', () => {
  good<unknown>(json(), [['{"a":[1]}', { a: [1] }], ['3', 3]]);
  badValues(json(), [['{a:1}', /not valid JSON/]]);
  const schema = z.object({ weight: z.number().int().min(0), name: z.string() });
  good(json(schema), [['{"weight":2,"name":"x"}', { weight: 2, name: 'x' }]]);
  badValues(json(schema), [['{"weight":-1,"name":3}', /weight: .*; name: /]]);
});

describe('parseAnnotation', () => {
  it('absent is undefined, present is parsed after trimming, bad names the annotation', () => {
    expect(parseAnnotation(undefined, 'a', int())).toEqual({ ok: true, value: undefined });
    expect(parseAnnotation({ a: ' 5\n' }, 'a', int())).toEqual({ ok: true, value: 5 });
    expect(parseAnnotation({ a: 'x' }, 'a', int())).toEqual({ ok: false, annotation: 'a', reason: '"x" is not an integer' });
  });
});

describe('parseAnnotations', () => {
  const schema = {
    targetType: annotation('lbc.dev/target-type', oneOf(['instance', 'ip'] as const)),
    interval: annotation('lbc.dev/interval', seconds({ min: 1, max: 60 })).withDefault(10),
    ranges: annotation(['lbc.dev/ranges', 'service.beta.kubernetes.io/load-balancer-source-ranges'], cidrList()),
    tags: annotation('lbc.dev/tags', keyValueList()).withDefault({}),
  };

  it('gives a typed object with defaults', () => {
    const r = parseAnnotations(schema, { 'lbc.dev/target-type': 'ip', unrelated: 'x' });
    expect(r).toEqual({ ok: true, value: { targetType: 'ip', interval: 10, ranges: undefined, tags: {} } });
    if (r.ok) {
      // Type-level check: defaults make the field non-optional.
      const n: number = r.value.interval;
      expect(n).toBe(10);
    }
  });

  it('reads an alias', () => {
    const r = parseAnnotations(schema, { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8' });
    expect(r.ok && r.value.ranges).toEqual(['10.0.0.0/8']);
  });

  it('accepts two aliases with the same value and refuses different ones', () => {
    expect(parseAnnotations(schema, { 'lbc.dev/ranges': '10.0.0.0/8', 'service.beta.kubernetes.io/load-balancer-source-ranges': ' 10.0.0.0/8' }).ok).toBe(true);
    const r = parseAnnotations(schema, { 'lbc.dev/ranges': '10.0.0.0/8', 'service.beta.kubernetes.io/load-balancer-source-ranges': '0.0.0.0/0' });
    expect(r).toEqual({
      ok: false,
      errors: [{ annotation: 'lbc.dev/ranges', reason: 'conflicts with service.beta.kubernetes.io/load-balancer-source-ranges, which is set to a different value; set only one' }],
    });
  });

  it('collects every error, each naming its annotation', () => {
    const r = parseAnnotations(schema, { 'lbc.dev/target-type': 'pod', 'lbc.dev/interval': '5m', 'lbc.dev/ranges': 'nope', 'lbc.dev/tags': 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.annotation)).toEqual(['lbc.dev/target-type', 'lbc.dev/interval', 'lbc.dev/ranges', 'lbc.dev/tags']);
      expect(r.errors.every((e) => e.reason.length > 0)).toBe(true);
    }
  });

  it('lists the annotation names a schema reads', () => {
    expect(annotationNames(schema)).toEqual([
      'lbc.dev/target-type',
      'lbc.dev/interval',
      'lbc.dev/ranges',
      'service.beta.kubernetes.io/load-balancer-source-ranges',
      'lbc.dev/tags',
    ]);
  });
});
