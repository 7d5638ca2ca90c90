// `lbc speaker --node NAME`: the bare-metal provider's per-node announcer (a DaemonSet,
// with hostNetwork and CAP_NET_RAW). It reads the same configuration file as the
// controller, so both agree on the pools; SIGTERM withdraws its announcements before
// it exits, so another node takes over at once. It logs as `lbc run` does: JSON lines
// (pino, scrubbed), the level by --log-level over the file's `log.level`, every line
// carrying the node and provider, and `event` and `address` where it has them.
import type { Logger as Pino } from 'pino';
import { loadConfig } from '../config/config.js';
import { builtinOptionsChecks } from '../providers/options.js';
import { resolveLogLevel } from '../config/operations.js';
import { makeClients } from '../kube/client.js';
import type { Logger } from '../kube/logger.js';
import { createLogger, isLogLevel, registerCredentials, SecretScrubber } from '../observability/log.js';
import { parseBindAddress, startObservabilityServer } from '../observability/server.js';
import { speakerRegistry } from '../observability/speaker-metrics.js';
import { surviveUnhandledRejections } from '../observability/unhandled-rejections.js';
import { parseMetalOptions } from '../providers/metal/options.js';
import { Speaker, type SpeakerLogFields } from '../providers/metal/speaker/speaker.js';
import { connectFromFlags } from './connect.js';
import { untilStopped } from './lifetime.js';

export interface SpeakerCommandOptions {
  /** This node's name as in its Node object (`--node`; in a pod, from the downward API's spec.nodeName). */
  node: string;
  /** The controller's configuration file (`--config`); must define a provider of type metal. */
  config: string;
  /** Which metal provider to announce for (`--provider`), when the config has several. */
  provider?: string;
  kubeconfig?: string;
  inCluster?: boolean;
  context?: string;
  /** `--log-level`, as `lbc run`'s: over the configuration file's `log.level`, default info. */
  logLevel?: string;
  /** Stop after this many seconds (tests, demos). */
  for?: number;
  /** `--metrics-bind-address`: where /metrics listens; `0` turns it off. Off when absent. */
  metricsBindAddress?: string;
  /** The speaker's own Pod (downward API POD_NAME and POD_UID), owner of its ServiceL2Statuses; absent outside a Pod. */
  pod?: { name: string; uid: string };
}

export interface SpeakerDeps {
  /** Where log lines go (tests); stdout by default. */
  readonly logger?: Pino;
  readonly scrubber?: SecretScrubber;
}

/** The speaker's lines through pino: its fields as JSON fields, under the node's and provider's. */
function speakerLogger(log: Pino): Logger & { error(msg: string, fields: SpeakerLogFields & { err?: unknown }): void } {
  return {
    // The speaker passes one argument, its SpeakerLogFields.
    info: (msg: string, fields: SpeakerLogFields = {}) => log.info(fields, msg),
    warn: (msg: string, fields: SpeakerLogFields = {}) => log.warn(fields, msg),
    error: (msg, fields) => log.error(fields, msg),
  };
}

/** `lbc speaker`. Failures are logged (scrubbed) and set a non-zero exit code, as `lbc run`'s. */
export async function runSpeaker(opts: SpeakerCommandOptions, deps: SpeakerDeps = {}): Promise<void> {
  const scrubber = deps.scrubber ?? new SecretScrubber();
  const logger = deps.logger ?? createLogger({ level: opts.logLevel && isLogLevel(opts.logLevel) ? opts.logLevel : 'info', scrubber });
  const base = logger.child({ component: 'speaker', ...(opts.node ? { node: opts.node } : {}) });
  const lifetime = new AbortController();
  // A dependency's stray rejection must not stop the announcements: see unhandled-rejections.ts.
  const stopSurviving = surviveUnhandledRejections(base);
  try {
    await speak(opts, logger, base, scrubber, lifetime.signal);
  } catch (e) {
    speakerLogger(base).error(`lbc speaker failed: ${(e as Error).message}`, { event: 'failed', err: e });
    process.exitCode = 1;
  } finally {
    stopSurviving();
    lifetime.abort();
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  }
}

async function speak(opts: SpeakerCommandOptions, logger: Pino, base: Pino, scrubber: SecretScrubber, lifetime: AbortSignal): Promise<void> {
  if (!opts.node) throw new Error('--node (or NODE_NAME) is required: the name of the Node this speaker runs on');
  if (opts.inCluster && opts.kubeconfig) throw new Error('--in-cluster and --kubeconfig exclude each other');
  // The whole file, every provider's options included: the speaker shares it with lbc run.
  const config = await loadConfig(opts.config, builtinOptionsChecks);
  registerCredentials(scrubber, undefined, config);
  logger.level = resolveLogLevel(config.operations, opts.logLevel);
  const metal = config.providers.map((p, i) => ({ p, i })).filter(({ p }) => p.type === 'metal');
  if (metal.length === 0) throw new Error(`${opts.config}: no provider of type metal`);
  const chosen = opts.provider ? metal.find(({ p }) => p.name === opts.provider) : metal.length === 1 ? metal[0] : undefined;
  if (!chosen) {
    throw new Error(
      opts.provider
        ? `${opts.config}: no metal provider named ${opts.provider} (metal providers: ${metal.map(({ p }) => p.name).join(', ')})`
        : `${opts.config}: several metal providers (${metal.map(({ p }) => p.name).join(', ')}); choose one with --provider`,
    );
  }
  const metalConfig = parseMetalOptions(chosen.p.options, `providers[${chosen.i}].options`);
  // Checked before anything starts: a typo fails the command, not the first scrape.
  const metricsAddr = parseBindAddress(opts.metricsBindAddress ?? '0');
  const { kc, origin } = connectFromFlags(opts);
  registerCredentials(scrubber, kc, config);
  const log = speakerLogger(base.child({ provider: chosen.p.name }));
  const pod = opts.pod ?? (process.env.POD_NAME && process.env.POD_UID ? { name: process.env.POD_NAME, uid: process.env.POD_UID } : undefined);
  const speaker = new Speaker({
    node: opts.node,
    provider: chosen.p.name,
    metal: metalConfig,
    ownership: config,
    clients: makeClients(kc, { fieldManager: 'lbc-speaker' }),
    log,
    ...(pod ? { pod } : {}),
  });
  const server = await startObservabilityServer({ metrics: metricsAddr, health: { kind: 'off' }, registry: speakerRegistry(speaker), readiness: [] });
  log.info(
    `starting: cluster ${kc.getCurrentCluster()?.server ?? '?'} (credentials from ${origin}), pools ${metalConfig.pools.map((p) => p.name).join(', ')}, ` +
      `metrics ${server.metricsUrl ? `${server.metricsUrl}/metrics` : 'off'}`,
    { event: 'starting' },
  );
  const stopped = new AbortController();
  const why = untilStopped(opts.for, lifetime).then((reason) => {
    stopped.abort(new Error(reason));
    return reason;
  });
  try {
    try {
      await speaker.start(stopped.signal);
    } catch (e) {
      if (!stopped.signal.aborted) {
        await speaker.stop({ clean: false });
        throw e;
      }
    }
    const reason = await why;
    log.info(`stopping (${reason}): withdrawing announcements`, { event: 'stopping' });
    await speaker.stop({ clean: true });
    log.info('stopped', { event: 'stopped' });
  } finally {
    await server.close();
  }
}
