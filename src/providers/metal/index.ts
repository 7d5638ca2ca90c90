// The bare-metal provider: address pools and the allocator (controller side), and the
// speaker that announces the addresses over ARP and NDP (speaker/, one per node).
import type { ProviderFactoryContext } from '../registry.js';
import { MetalProvider } from './metal-provider.js';
import { parseMetalOptions } from './options.js';

export * from './metal-provider.js';
export * from './options.js';
export * from './annotations.js';
export type { Allocation, AllocationRequest, RestoreReport } from './allocator.js';

/** The registry's factory: validates the options block (pools overlapping, bad ranges: each error names its path). */
export function createMetalProvider(ctx: Pick<ProviderFactoryContext, 'name' | 'clusterName' | 'options' | 'configPath'>): MetalProvider {
  return new MetalProvider({ name: ctx.name, clusterName: ctx.clusterName, config: parseMetalOptions(ctx.options, ctx.configPath) });
}
