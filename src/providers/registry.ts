// Builds the configured providers and answers "which provider serves this class".
// A provider type is one entry in a factory map; adding aws, gce, metal or local is one
// line in builtinProviderFactories (or a map passed by the caller, as tests do).
import type { LbcConfig, ProviderType } from '../config/config.js';
import type { Logger } from '../kube/logger.js';
import { createMemoryProvider } from './memory/index.js';
import { memoryOptionsSchema } from './memory/options.js';
import type { ClusterFacts, Provider } from './types.js';

export interface ProviderFactoryContext {
  readonly name: string;
  readonly className: string;
  readonly clusterName: string;
  /** The provider's `options` block, not yet validated beyond being an object. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Where the block sits in the config file, for error messages: `providers[1].options`. */
  readonly configPath: string;
  /**
   * Where the provider's warnings go, every line already carrying `{provider: name}`.
   * Absent when the caller gave buildProviders no logger: the provider keeps its own
   * default (console), as the demo and the tests expect.
   */
  readonly log?: Logger;
  /** Read access to cluster-wide facts (lbc run passes it; absent in plan, the demo and most tests). */
  readonly cluster?: ClusterFacts;
}

export interface BuildProvidersOptions {
  /** lbc run passes its (scrubbed, JSON) logger so a provider's warnings are lines like any other. */
  readonly log?: Logger;
  readonly cluster?: ClusterFacts;
}

/** Adds `{provider}` to each line, so a JSON logger writes it as a field rather than reading it from text. */
function providerLogger(log: Logger, provider: string): Logger {
  const about = { provider };
  return {
    info: (m, ...a) => log.info(m, ...a, about),
    warn: (m, ...a) => log.warn(m, ...a, about),
  };
}

export type ProviderFactory = (ctx: ProviderFactoryContext) => Provider | Promise<Provider>;
export type ProviderFactories = Readonly<Partial<Record<ProviderType, ProviderFactory>>>;

export const builtinProviderFactories: ProviderFactories = {
  memory: (ctx) => createMemoryProvider({ ...memoryOptionsSchema.parse(ctx.options), name: ctx.name, clusterName: ctx.clusterName }),
  aws: async (ctx) => (await import('./aws/index.js')).createAwsProviderFromContext(ctx),
  local: async (ctx) => (await import('./local/factory.js')).localProviderFactory(ctx),
  gce: async (ctx) => (await import('./gce/index.js')).createGceProvider(ctx),
  metal: async (ctx) => (await import('./metal/index.js')).createMetalProvider(ctx),
};

export class ProviderRegistryError extends Error {
  override readonly name = 'ProviderRegistryError';
}

export interface ProviderSet {
  /** Providers in config order. */
  readonly all: readonly Provider[];
  byName(name: string): Provider | undefined;
  byClass(className: string): Provider | undefined;
  classOf(providerName: string): string | undefined;
  /** The provider behind config.defaultClass, if one is set. */
  readonly defaultProvider: Provider | undefined;
  close(): Promise<void>;
}

export async function buildProviders(config: LbcConfig, factories: ProviderFactories = builtinProviderFactories, opts: BuildProvidersOptions = {}): Promise<ProviderSet> {
  const byName = new Map<string, Provider>();
  const byClass = new Map<string, Provider>();
  const classOf = new Map<string, string>();
  const built: Provider[] = [];
  try {
    for (const [i, p] of config.providers.entries()) {
      const factory = factories[p.type];
      if (!factory) {
        throw new ProviderRegistryError(`providers[${i}] (${p.name}): provider type "${p.type}" is not available in this build`);
      }
      let provider: Provider;
      try {
        provider = await factory({
          name: p.name,
          className: p.class,
          clusterName: config.clusterName,
          options: p.options,
          configPath: `providers[${i}].options`,
          ...(opts.log ? { log: providerLogger(opts.log, p.name) } : {}),
          ...(opts.cluster ? { cluster: opts.cluster } : {}),
        });
      } catch (e) {
        throw new ProviderRegistryError(`providers[${i}] (${p.name}): ${(e as Error).message}`, { cause: e });
      }
      if (provider.name !== p.name) {
        throw new ProviderRegistryError(`providers[${i}]: factory for type "${p.type}" returned provider "${provider.name}", expected "${p.name}"`);
      }
      built.push(provider);
      byName.set(p.name, provider);
      byClass.set(p.class, provider);
      classOf.set(p.name, p.class);
    }
  } catch (e) {
    // Whatever was built already may hold clients or timers.
    await Promise.allSettled(built.map((p) => p.close?.()));
    throw e;
  }
  return {
    all: built,
    byName: (name) => byName.get(name),
    byClass: (cls) => byClass.get(cls),
    classOf: (name) => classOf.get(name),
    defaultProvider: config.defaultClass === undefined ? undefined : byClass.get(config.defaultClass),
    close: async () => {
      await Promise.allSettled(built.map((p) => p.close?.()));
    },
  };
}
