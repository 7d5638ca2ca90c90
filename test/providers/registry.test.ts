import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders, builtinProviderFactories, type ProviderFactories } from '../../src/providers/registry.js';
import type { Provider } from '../../src/providers/types.js';

const cfg = parseConfig(`
clusterName: prod
providers:
  - name: fast
    type: memory
  - name: dns
    type: memory
    class: example.com/dns
    options: { hostnames: true }
defaultClass: example.com/dns
`);

describe('buildProviders', () => {
  it('builds every provider, reachable by name and by class', async () => {
    const set = await buildProviders(cfg);
    expect(set.all.map((p) => p.name)).toEqual(['fast', 'dns']);
    expect(set.byName('fast')).toBeInstanceOf(MemoryProvider);
    expect(set.byClass('lbc.dev/fast')?.name).toBe('fast');
    expect(set.byClass('example.com/dns')?.name).toBe('dns');
    expect(set.byClass('lbc.dev/dns')).toBeUndefined();
    expect(set.classOf('dns')).toBe('example.com/dns');
    expect(set.defaultProvider?.name).toBe('dns');
    const dns = set.byName('dns') as MemoryProvider;
    expect(dns.clusterName).toBe('prod');
    const status = await dns.ensure({
      layer: 'L4',
      ref: { kind: 'Service', namespace: 'a', name: 'b', uid: 'u' },
      provider: 'dns',
      className: 'example.com/dns',
      clusterName: 'prod',
      listeners: [],
      targetSets: [],
      sourceRanges: [],
      sessionAffinity: { type: 'None' },
      requestedAddresses: [],
      ipFamilies: ['IPv4'],
      tags: {},
      providerOptions: { tier: 'standard' },
    });
    expect(status.ingress[0]?.hostname).toMatch(/\.memory\.lbc\.dev$/);
    await set.close();
  });

  it('has no default provider without defaultClass', async () => {
    const set = await buildProviders(parseConfig('clusterName: c\nproviders: [{name: m, type: memory}]'));
    expect(set.defaultProvider).toBeUndefined();
  });

  it('says which type is missing from this build', async () => {
    const c = parseConfig('clusterName: c\nproviders: [{name: m, type: memory}, {name: cloud, type: aws}]');
    const { aws: _aws, ...withoutAws } = builtinProviderFactories;
    await expect(buildProviders(c, withoutAws)).rejects.toThrow('providers[1] (cloud): provider type "aws" is not available in this build');
  });

  it('takes more provider types from the caller, passing name, class, cluster, options and config path', async () => {
    const seen: unknown[] = [];
    const factories: ProviderFactories = {
      ...builtinProviderFactories,
      aws: (ctx) => {
        seen.push(ctx);
        return new MemoryProvider({ name: ctx.name, clusterName: ctx.clusterName });
      },
    };
    const c = parseConfig('clusterName: c\nproviders: [{name: m, type: memory}, {name: cloud, type: aws, options: {region: x}}]');
    const set = await buildProviders(c, factories);
    expect(set.byClass('lbc.dev/cloud')?.name).toBe('cloud');
    expect(seen).toEqual([{ name: 'cloud', className: 'lbc.dev/cloud', clusterName: 'c', options: { region: 'x' }, configPath: 'providers[1].options' }]);
  });

  it('reports a failing factory with its place, and closes what it had built', async () => {
    let closed = 0;
    const factories: ProviderFactories = {
      memory: (ctx) => {
        const p = new MemoryProvider({ name: ctx.name, clusterName: ctx.clusterName });
        return Object.assign(p, { close: async () => void closed++ });
      },
      gce: () => {
        throw new Error('project is required');
      },
    };
    const c = parseConfig('clusterName: c\nproviders: [{name: m, type: memory}, {name: g, type: gce}]');
    await expect(buildProviders(c, factories)).rejects.toThrow('providers[1] (g): project is required');
    expect(closed).toBe(1);
  });

  it('refuses a factory that names its provider wrongly', async () => {
    const factories: ProviderFactories = { memory: (ctx): Provider => new MemoryProvider({ name: 'other', clusterName: ctx.clusterName }) };
    await expect(buildProviders(parseConfig('clusterName: c\nproviders: [{name: m, type: memory}]'), factories)).rejects.toThrow(/returned provider "other", expected "m"/);
  });
});
