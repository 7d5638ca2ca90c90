import type { ProviderFactoryContext } from '../registry.js';
import { awsOptionsSchema } from './options.js';
import { AwsProvider } from './provider.js';

export * from './annotations.js';
export * from './options.js';
export * from './provider.js';
export { instanceIdOf, pathPatterns } from './desired.js';

/** The registry's factory: validates the `options` block, naming the key of every problem. */
export function createAwsProviderFromContext(ctx: ProviderFactoryContext): AwsProvider {
  const r = awsOptionsSchema.safeParse(ctx.options);
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      const path = [ctx.configPath, ...i.path.map(String)].join('.');
      return i.code === 'unrecognized_keys' ? `${path}: unknown key(s) ${i.keys.join(', ')}` : `${path}: ${i.message}`;
    });
    throw new Error(`invalid aws options: ${issues.join('; ')}`);
  }
  return new AwsProvider({ name: ctx.name, clusterName: ctx.clusterName, options: r.data, ...(ctx.log ? { logger: ctx.log } : {}) });
}
