// `lbc speaker --node NAME`: the bare-metal provider's per-node announcer (a DaemonSet,
// with hostNetwork and CAP_NET_RAW). It reads the same configuration file as the
// controller, so both agree on the pools; SIGTERM withdraws its announcements before
// it exits, so another node takes over at once.
import { loadConfig } from '../config/config.js';
import { makeClients } from '../kube/client.js';
import { parseMetalOptions } from '../providers/metal/options.js';
import { Speaker } from '../providers/metal/speaker/speaker.js';
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
  /** Stop after this many seconds (tests, demos). */
  for?: number;
}

export async function runSpeaker(opts: SpeakerCommandOptions): Promise<void> {
  if (!opts.node) throw new Error('--node (or NODE_NAME) is required: the name of the Node this speaker runs on');
  if (opts.inCluster && opts.kubeconfig) throw new Error('--in-cluster and --kubeconfig exclude each other');
  const config = await loadConfig(opts.config);
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
  const { kc, origin } = connectFromFlags(opts);
  const speaker = new Speaker({ node: opts.node, provider: chosen.p.name, metal: metalConfig, ownership: config, clients: makeClients(kc) });
  console.log(
    `lbc speaker: node ${opts.node}, provider ${chosen.p.name}, cluster ${kc.getCurrentCluster()?.server ?? '?'} (credentials from ${origin}), ` +
      `pools ${metalConfig.pools.map((p) => p.name).join(', ')}`,
  );
  const stopped = new AbortController();
  const why = untilStopped(opts.for).then((reason) => {
    stopped.abort(new Error(reason));
    return reason;
  });
  try {
    await speaker.start(stopped.signal);
  } catch (e) {
    if (!stopped.signal.aborted) {
      await speaker.stop({ clean: false });
      throw e;
    }
  }
  const reason = await why;
  console.log(`lbc speaker: stopping (${reason}): withdrawing announcements`);
  await speaker.stop({ clean: true });
  console.log('lbc speaker: stopped');
}
