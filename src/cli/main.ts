#!/usr/bin/env node
// lbc's command line: one binary for the controller, its demo and its dev tools.
import { Command, InvalidArgumentError } from 'commander';
// Each subcommand's module is imported when that subcommand runs: `lbc run` is a
// long-lived pod whose RSS is the sum of what it loaded, and the devcluster, the demo
// (with its pods and certificates), plan and the speaker are no part of it.
import type { DevclusterCliOptions } from './devcluster.js';
import type { RunOptions } from './run.js';
import { manifestsCommand } from './manifests.js';
import { configurationFailure, parseTagList, SAMPLE_CONFIGS } from './configuration.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

const program = new Command()
  .name('lbc')
  .description('One Kubernetes load-balancer controller for AWS, GCE, bare metal and a local demo')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('devcluster')
  .description('serve an in-process Kubernetes API (in memory) on 127.0.0.1 and write a kubeconfig for it')
  .option('--port <n>', 'port to listen on (0 picks a free one)', port, 0)
  .option('--kubeconfig <file>', 'where to write the kubeconfig', './.lbc/kubeconfig')
  .option('--for <seconds>', 'stop after this long instead of running until interrupted', seconds)
  .option('--allow-loopback-endpoints', 'accept loopback addresses (127.0.0.0/8, ::1) in Endpoints and EndpointSlices, which kube-apiserver refuses', false)
  .action(async (opts: DevclusterCliOptions) => {
    await (await import('./devcluster.js')).runDevcluster(opts);
  });

program
  .command('demo')
  .description('start devcluster, backend pods and the controller with the local provider on the examples, and print how to reach them')
  .option('--port <n>', 'devcluster port (0 picks a free one)', port, 0)
  .option('--kubeconfig <file>', 'where to write the kubeconfig', './.lbc/kubeconfig')
  .option('--for <seconds>', 'stop after this long instead of running until interrupted', seconds)
  .option('--check', 'make the requests, print PASS/FAIL per expectation, exit non-zero if any fails')
  .option('--address-pool <cidr>', "the local provider's load balancer addresses", '127.240.0.0/16')
  .option('--pod-subnet <a.b.c>', "first three octets of the backend pods' loopback addresses", '127.200.0')
  .option('--examples <dir>', 'the manifests to apply (default: examples/)')
  .action(async (opts: { port: number; kubeconfig: string; for?: number; check?: boolean; addressPool: string; podSubnet: string; examples?: string }) => {
    if (!(await (await import('./demo.js')).runDemo(opts))) process.exitCode = 1;
  });

program
  .command('run')
  .description('run the controller against a cluster: --kubeconfig FILE (or KUBECONFIG), or --in-cluster')
  .option('--kubeconfig <file>', 'kubeconfig of the cluster to manage')
  .option('--in-cluster', "use the pod's service account")
  .option('--context <name>', 'kubeconfig context (default: its current-context)')
  .option('--config <file>', `controller configuration (YAML), required; samples: ${SAMPLE_CONFIGS}`)
  .option('--namespace <ns>', 'watch this namespace only (Nodes and IngressClasses stay cluster-wide)')
  .option('--watch-namespace <ns>', "the same as --namespace, aws-load-balancer-controller's name for it")
  // aws-load-balancer-controller's flags, laid over the configuration file (flags win).
  .option('--cluster-name <name>', "the configuration's clusterName: what lbc's cloud resources are tagged with")
  .option('--aws-region <region>', "the aws provider's options.region")
  .option('--aws-vpc-id <id>', "the aws provider's options.vpcId")
  .option('--ingress-class <name>', 'serve only the Ingresses of this class (ingress.className); class-less ones are left alone')
  .option('--default-tags <k=v,...>', "tags on every AWS resource lbc creates, over the aws provider's options.defaultTags", (v) => {
    try {
      return parseTagList(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  })
  .option('--workers <n>', 'reconciles in parallel (default: the config concurrency)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('must be an integer 1-256');
    return n;
  })
  .option('--drain-timeout <seconds>', 'on SIGTERM, how long reconciles in progress may take before they are aborted', seconds, 30)
  .option('--for <seconds>', 'stop after this long instead of running until SIGTERM', seconds)
  .option('--leader-elect', 'elect one active replica through a coordination.k8s.io Lease (the others stand by)')
  .option('--leader-election-namespace <ns>', "namespace of the Lease (default: the pod's namespace, else kube-system)")
  .option('--leader-election-id <name>', 'name of the Lease (default lbc-leader)')
  .option('--leader-elect-lease-duration <seconds>', 'how long standbys wait after the last renewal before taking over (default 15)', seconds)
  .option('--leader-elect-renew-deadline <seconds>', 'how long the leader keeps leading without renewing (default 10)', seconds)
  .option('--leader-elect-retry-period <seconds>', 'interval between attempts to acquire or renew (default 2)', seconds)
  .option('--metrics-bind-address <host:port>', 'where /metrics is served; 0 disables (default :8080)')
  .option('--health-probe-bind-address <host:port>', 'where /healthz and /readyz are served; 0 disables (default :8081)')
  .option('--log-level <level>', 'trace, debug, info, warn or error (default info)')
  .action(async (opts: RunOptions) => {
    await (await import('./run.js')).runController(opts);
  });

program
  .command('plan')
  .description('show what the controller would change in the cloud now, without changing anything; exit 0: nothing, 2: changes, 1: errors')
  .argument('[object]', 'plan only this object: svc/NAME, ingress/NAME or gateway/NAME')
  .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: KUBECONFIG)')
  .option('--in-cluster', "use the pod's service account")
  .option('--context <name>', 'kubeconfig context (default: its current-context)')
  .option('--config <file>', 'controller configuration (YAML), as given to lbc run')
  .option('-n, --namespace <ns>', 'plan the objects of this namespace only')
  .option('-o, --output <format>', 'text or json', (v) => {
    if (v !== 'text' && v !== 'json') throw new InvalidArgumentError('must be text or json');
    return v;
  }, 'text')
  .action(async (object: string | undefined, opts: { kubeconfig?: string; inCluster?: boolean; context?: string; config?: string; namespace?: string; output: 'text' | 'json' }) => {
    // exitCode, not exit(): let a large plan finish writing to a pipe.
    process.exitCode = await (await import('./plan.js')).runPlan({ ...opts, ...(object !== undefined ? { target: object } : {}) });
  });

program.addCommand(manifestsCommand());

// The install manifests' speaker DaemonSet runs exactly these flags: keep them stable.
program
  .command('speaker')
  .description("bare metal: announce this node's share of the metal provider's addresses (ARP/NDP); one per node, with hostNetwork and CAP_NET_RAW")
  .option('--node <name>', 'the Node this speaker runs on (default: $NODE_NAME, from the downward API spec.nodeName)', process.env.NODE_NAME)
  .requiredOption('--config <file>', "the controller's configuration (YAML), with the metal provider's pools and speaker settings")
  .option('--provider <name>', 'the metal provider to announce for, when the configuration has several')
  .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: KUBECONFIG)')
  .option('--in-cluster', "use the pod's service account")
  .option('--context <name>', 'kubeconfig context (default: its current-context)')
  .option('--for <seconds>', 'stop after this long instead of running until SIGTERM', seconds)
  .option('--log-level <level>', 'trace, debug, info, warn or error (default: the config file\'s log.level, else info)')
  .option('--metrics-bind-address <addr>', 'where /metrics listens: host:port, :port, or 0 for off (MetalLB\'s speaker uses 7472)', ':7473')
  .action(async (opts: { node?: string; config: string; provider?: string; kubeconfig?: string; inCluster?: boolean; context?: string; for?: number; logLevel?: string; metricsBindAddress?: string }) => {
    await (await import('./speaker.js')).runSpeaker({ ...opts, node: opts.node ?? '' });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const usage = configurationFailure(err);
  console.error(`lbc: ${usage ?? (err instanceof Error ? err.message : String(err))}`);
  process.exit(usage === undefined ? 1 : 2);
});
