// `lbc run`: the controller as a long-running process, against the cluster named by
// --kubeconfig (or KUBECONFIG), or the one it runs in (--in-cluster). SIGTERM and
// SIGINT stop it gracefully: no new work is taken, the reconciles in progress finish
// (or are aborted after --drain-timeout), and every Event recorded is written.
import { defaultConfig, loadConfig } from '../config/config.js';
import { Controller } from '../controller/controller.js';
import { leanWriteClients } from '../controller/write-client.js';
import { makeClients } from '../kube/client.js';
import { buildProviders } from '../providers/registry.js';
import { connectFromFlags } from './connect.js';
import { untilStopped } from './lifetime.js';

export interface RunOptions {
  kubeconfig?: string;
  inCluster?: boolean;
  context?: string;
  config?: string;
  namespace?: string;
  workers?: number;
  drainTimeout?: number;
  for?: number;
}

export async function runController(opts: RunOptions): Promise<void> {
  if (opts.inCluster && opts.kubeconfig) throw new Error('--in-cluster and --kubeconfig exclude each other');
  const config = opts.config ? await loadConfig(opts.config) : defaultConfig();
  const { kc, origin } = connectFromFlags(opts);
  const providers = await buildProviders(config);
  const writes = await leanWriteClients(kc);
  const controller = new Controller({
    clients: makeClients(kc),
    ...(writes ? { writes } : {}),
    config,
    providers,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.workers ? { workers: opts.workers } : {}),
  });
  console.log(
    `lbc: cluster ${kc.getCurrentCluster()?.server ?? '?'} (credentials from ${origin}), cluster name ${config.clusterName}, ` +
      `providers ${config.providers.map((p) => `${p.name} (${p.type}, class ${p.class})`).join(', ')}`,
  );
  const stopped = new AbortController();
  const why = untilStopped(opts.for).then((reason) => {
    stopped.abort(new Error(reason));
    return reason;
  });
  try {
    await controller.start(stopped.signal);
  } catch (e) {
    if (!stopped.signal.aborted) {
      await controller.stop({ drainTimeoutMs: 0 });
      await providers.close();
      throw e;
    }
  }
  const reason = await why;
  console.log(`lbc: stopping (${reason}): finishing the work in progress`);
  await controller.stop({ drainTimeoutMs: (opts.drainTimeout ?? 30) * 1000 });
  await providers.close();
  console.log('lbc: stopped');
}
