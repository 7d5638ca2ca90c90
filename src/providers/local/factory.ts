// The registry's entry for `type: local`: options validated here, with errors that name
// their key under the provider's config block.
import type { ProviderFactoryContext } from '../registry.js';
import { localOptionsSchema } from './options.js';
import { createLocalProvider, type LocalProvider } from './provider.js';

export async function localProviderFactory(ctx: ProviderFactoryContext): Promise<LocalProvider> {
  const r = localOptionsSchema.safeParse(ctx.options);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const path = [ctx.configPath, ...i.path.map(String)].join('.');
      return i.code === 'unrecognized_keys' ? i.keys.map((k) => `${path}.${k}: unknown key`).join('; ') : `${path}: ${i.message}`;
    });
    throw new Error(lines.join('; '));
  }
  return createLocalProvider({ ...r.data, name: ctx.name, clusterName: ctx.clusterName, ...(ctx.log ? { log: ctx.log } : {}) });
}
