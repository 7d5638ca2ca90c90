import { describe, expect, it } from 'vitest';
import { cidrContains, normalizeIp, parseCidr } from '../../src/model/ip.js';

describe('normalizeIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ])('%s → %s', (input, want) => {
    expect(normalizeIp(input)).toBe(want);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', ' 1.2.3.4', 'a.b.c.d', '1::2::3', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', 'g::1', ':::'])(
    'rejects %j',
    (input) => {
      expect(normalizeIp(input)).toBeUndefined();
    },
  );
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.129/25', '192.168.1.128/25'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['1.2.3.4/32', '1.2.3.4/32'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['2001:db8:ffff::/33', '2001:db8:8000::/33'],
    ['::/0', '::/0'],
  ])('%s → %s', (input, want) => {
    const r = parseCidr(input);
    expect(r).toMatchObject({ ok: true, cidr: want });
  });

  it.each([
    ['10.0.0.0', /missing \/prefix/],
    ['10.0.0.0/33', /0-32/],
    ['10.0.0.0/-1', /0-32/],
    ['10.0.0.0/08', /0-32/],
    ['10.0.0.0/', /0-32/],
    ['10.0.0/8', /not an IP/],
    ['::/129', /0-128/],
    ['10.0.0.0/8/8', /0-32/],
    ['x/8', /not an IP/],
  ])('rejects %s', (input, reason) => {
    const r = parseCidr(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.1', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['192.0.2.0/30', '192.0.2.3', true],
    ['192.0.2.0/30', '192.0.2.4', false],
    ['2001:db8::/32', '2001:db8:1::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['0.0.0.0/0', '::1', false],
    ['10.0.0.0/8', 'nonsense', false],
  ])('%s contains %s: %s', (cidr, ip, want) => {
    expect(cidrContains(cidr, ip)).toBe(want);
  });
});
