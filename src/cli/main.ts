#!/usr/bin/env node
// lbc's command line: one binary for the controller, its demo and its dev tools.
import { Command, InvalidArgumentError } from 'commander';
import { runDevcluster } from './devcluster.js';
import { runDemo } from './demo.js';

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

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`lbc: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
