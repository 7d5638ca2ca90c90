#!/usr/bin/env node
// lbc's command line: one binary for the controller, its demo and its dev tools.
import { Command, InvalidArgumentError } from 'commander';
import { runDevcluster } from './devcluster.js';
import { runDemo } from './demo.js';
import { runController } from './run.js';

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
  .action(async (opts: { port: number; kubeconfig: string; for?: number }) => {
    await runDevcluster(opts);
  });

program
  .command('demo')
  .description('start devcluster with a few Nodes and example objects, and print how to reach it')
  .option('--port <n>', 'devcluster port (0 picks a free one)', port, 0)
  .option('--kubeconfig <file>', 'where to write the kubeconfig', './.lbc/kubeconfig')
  .option('--for <seconds>', 'stop after this long instead of running until interrupted', seconds)
  .action(async (opts: { port: number; kubeconfig: string; for?: number }) => {
    await runDemo(opts);
  });

program
  .command('run')
  .description('run the controller against a cluster: --kubeconfig FILE (or KUBECONFIG), or --in-cluster')
  .option('--kubeconfig <file>', 'kubeconfig of the cluster to manage')
  .option('--in-cluster', "use the pod's service account")
  .option('--context <name>', 'kubeconfig context (default: its current-context)')
  .option('--config <file>', 'controller configuration (YAML); without it, one in-memory provider serves class-less Services')
  .option('--namespace <ns>', 'watch this namespace only (Nodes and IngressClasses stay cluster-wide)')
  .option('--workers <n>', 'reconciles in parallel (default: the config concurrency)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('must be an integer 1-256');
    return n;
  })
  .option('--drain-timeout <seconds>', 'on SIGTERM, how long reconciles in progress may take before they are aborted', seconds, 30)
  .option('--for <seconds>', 'stop after this long instead of running until SIGTERM', seconds)
  .action(async (opts: { kubeconfig?: string; inCluster?: boolean; context?: string; config?: string; namespace?: string; workers?: number; drainTimeout: number; for?: number }) => {
    await runController(opts);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`lbc: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
