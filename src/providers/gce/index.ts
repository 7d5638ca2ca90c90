import { z } from 'zod';
import type { ProviderFactoryContext } from '../registry.js';
import { gceOptionsSchema } from './options.js';
import { GceProvider } from './provider.js';

export * from './annotations.js';
export { gceOptionsSchema, type GceOptions, type GceOptionsInput } from './options.js';
export { GceProvider, type GceProviderInit } from './provider.js';
export { l4LoadBalancerName, l4Names, l7Names } from './names.js';

/** The registry's factory: validates the `options` block, naming each bad key by its config path. */
export function createGceProvider(ctx: ProviderFactoryContext): GceProvider {
  const r = gceOptionsSchema.safeParse(ctx.options);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${[ctx.configPath, ...i.path.map(String)].join('.')}: ${i.code === 'unrecognized_keys' ? `unknown key ${i.keys.join(', ')}` : i.message}`);
    throw new Error(`invalid gce options:\n  ${issues.join('\n  ')}`, { cause: z.prettifyError(r.error) });
  }
  return new GceProvider({ name: ctx.name, clusterName: ctx.clusterName, options: r.data, ...(ctx.cluster ? { cluster: ctx.cluster } : {}) });
}
