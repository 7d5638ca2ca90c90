import { describe, expect, it } from 'vitest';
import { MetalConfigError, parseMetalOptions, SPEAKER_DEFAULTS } from '../../../src/providers/metal/options.js';
import { parseAddressRange, rangeSize } from '../../../src/providers/metal/pools.js';
import { selectorMatches } from '../../../src/providers/metal/node-selector.js';

function issues(options: unknown): string[] {
  try {
    parseMetalOptions(options, 'providers[0].options');
  } catch (e) {
    if (e instanceof MetalConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('address ranges', () => {
  it.each([
    ['192.168.10.0/24', 4, 256n],
    ['192.168.10.5-192.168.10.9', 4, 5n],
    ['192.168.10.5 - 192.168.10.5', 4, 1n],
    ['fd00::/120', 6, 256n],
    ['fd00::1-fd00::ff', 6, 255n],
    ['10.0.0.7/32', 4, 1n],
  ] as const)('%s', (text, family, size) => {
    const r = parseAddressRange(text);
    if (!r.ok) throw new Error(r.reason);
    expect(r.range.family).toBe(family);
    expect(rangeSize(r.range)).toBe(size);
  });

  it.each([
    ['10.0.0.1', 'neither a CIDR nor a range', '10.0.0.1/32'],
    ['10.0.0.9-10.0.0.1', 'ends before it starts'],
    ['10.0.0.1-fd00::1', 'mixes IPv4 and IPv6'],
    ['10.0.0.1/24', 'host bits set', '10.0.0.0/24'],
    ['10.0.0.0/33', 'prefix length'],
    ['nonsense', 'neither a CIDR nor a range'],
    ['10.0.0.1-x', 'not a range'],
  ])('%s is refused', (text, ...says) => {
    const r = parseAddressRange(text);
    expect(r.ok).toBe(false);
    if (!r.ok) for (const s of says) expect(r.reason).toContain(s);
  });
});

describe('parseMetalOptions', () => {
  it('applies defaults', () => {
    const c = parseMetalOptions({ pools: [{ name: 'p', addresses: ['10.0.0.0/30'] }] });
    expect(c.pools[0]).toMatchObject({
      name: 'p',
      labels: {},
      autoAssign: true,
      avoidBuggyIPs: false,
      l2Advertisements: [{ name: 'pool p', nodeSelectors: [], interfaces: [], serviceSelectors: [] }],
      origin: { kind: 'config', path: 'pools[0]' },
    });
    expect(c.pools[0]?.serviceAllocation).toBeUndefined();
    expect(c.speaker).toEqual({
      leaseNamespace: SPEAKER_DEFAULTS.leaseNamespace,
      gossipPort: SPEAKER_DEFAULTS.gossipPort,
      heartbeatInterval: SPEAKER_DEFAULTS.heartbeatIntervalMs,
      deadAfter: SPEAKER_DEFAULTS.deadAfterMs,
      leaseDuration: SPEAKER_DEFAULTS.leaseDurationMs,
      gratuitousFor: SPEAKER_DEFAULTS.gratuitousForMs,
    });
  });

  it('reads durations as users write them', () => {
    const c = parseMetalOptions({ pools: [{ name: 'p', addresses: ['10.0.0.0/30'] }], speaker: { heartbeatInterval: '100ms', deadAfter: '0.5s' } });
    expect(c.speaker.heartbeatInterval).toBe(100);
    expect(c.speaker.deadAfter).toBe(500);
  });

  it('refuses overlapping pools at start, naming both', () => {
    expect(
      issues({
        pools: [
          { name: 'one', addresses: ['10.0.0.0/24'] },
          { name: 'two', addresses: ['192.168.0.0/24', '10.0.0.128-10.0.1.5'] },
        ],
      }),
    ).toEqual(['providers[0].options.pools[1].addresses[1]: 10.0.0.128-10.0.1.5 of pool "two" overlaps pool "one" (pools[0].addresses[0]: 10.0.0.0/24)']);
  });

  it('refuses overlaps within a pool, and IPv6 overlaps', () => {
    expect(issues({ pools: [{ name: 'one', addresses: ['fd00::/64', 'fd00::5-fd00::9'] }] })).toEqual([
      'providers[0].options.pools[0].addresses[1]: fd00::5-fd00::9 of pool "one" overlaps another entry of the same pool (pools[0].addresses[0])',
    ]);
  });

  it('IPv4 and IPv6 never overlap each other', () => {
    expect(issues({ pools: [{ name: 'a', addresses: ['0.0.0.0/0'] }, { name: 'b', addresses: ['::/0'] }] })).toEqual([]);
  });

  it('reports every problem with its path', () => {
    expect(
      issues({
        pools: [
          { name: 'Bad_Name', addresses: ['10.0.0.1'] },
          { name: 'ok', addresses: [], colour: 'blue' },
        ],
        speaker: { heartbeatInterval: '1s', deadAfter: '1s' },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining('providers[0].options.pools[0].name: must be a DNS label'),
        expect.stringContaining('providers[0].options.pools[1].addresses: must list at least one'),
        'providers[0].options.pools[1].colour: unknown key',
        expect.stringContaining('providers[0].options.speaker.deadAfter: must be at least twice heartbeatInterval'),
      ]),
    );
    expect(issues({ pools: [{ name: 'p', addresses: ['10.0.0.1'] }] })).toEqual([
      'providers[0].options.pools[0].addresses[0]: "10.0.0.1" is neither a CIDR nor a range (write a single address as 10.0.0.1/32)',
    ]);
    expect(issues({ pools: [{ name: 'p', addresses: ['10.0.0.0/30'] }, { name: 'p', addresses: ['10.0.1.0/30'] }] })).toEqual([
      'providers[0].options.pools[1].name: pool "p" is already defined by pools[0]',
    ]);
    // Pools may come from MetalLB's IPAddressPools alone (#20): none in the file is fine, a wrong type is not.
    expect(issues({})).toEqual([]);
    expect(issues({ pools: 'p' })).toEqual(['providers[0].options.pools: expected array, received string']);
  });
});

describe('node selectors', () => {
  it.each([
    [{}, {}, true],
    [{ matchLabels: { edge: 'true' } }, { edge: 'true', x: 'y' }, true],
    [{ matchLabels: { edge: 'true' } }, { edge: 'false' }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a', 'b'] }] }, { zone: 'b' }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }] }, { zone: 'a' }, false],
    [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' as const }] }, { gpu: '' }, true],
    [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' as const }] }, { gpu: '' }, false],
  ])('%j on %j → %s', (sel, labels, want) => {
    expect(selectorMatches(sel, labels)).toBe(want);
  });
});
