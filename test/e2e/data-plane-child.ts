// The data plane of data-plane.ts in a network namespace of the test's own
// (test/support/netns-api-relay.ts): lbc's controller with the providers it is given, the
// backends, and the client, all inside the namespace, so that backends can listen on
// addresses kube-apiserver accepts in EndpointSlices (not loopback) without any address
// being added to the host. Driven over IPC.
import { KubeConfig } from '@kubernetes/client-node';
import { createServer as createHttpServer, request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { relayApiInside } from '../support/netns-api-relay.js';
import type { LbcConfig } from '../../src/config/config.js';
import { Controller } from '../../src/controller/controller.js';
import { makeClients } from '../../src/kube/client.js';
import { buildProviders } from '../../src/providers/registry.js';

export interface ChildInit {
  readonly kubeconfig: string;
  /** The Unix socket the test process relays to the API server. */
  readonly apiSocket: string;
  readonly namespace: string;
  readonly nodeLabel: string;
  readonly config: LbcConfig;
}

export type ChildCommand =
  | { cmd: 'start' }
  | { cmd: 'stop' }
  | { cmd: 'httpBackend' | 'tcpBackend'; name: string; host: string }
  | { cmd: 'httpName'; address: string; port: number; host: string; path: string; headers: Record<string, string> }
  | { cmd: 'tcpName' | 'connect'; address: string; port: number };

function httpBackend(name: string, host: string): Promise<number> {
  const s = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name }));
    });
  });
  return listen(s, host);
}

function tcpBackend(name: string, host: string): Promise<number> {
  const s = createServer((c) => {
    c.on('error', () => c.destroy());
    c.write(`${name}\n`);
    c.pipe(c);
  });
  return listen(s, host);
}

function listen(s: ReturnType<typeof createServer> | ReturnType<typeof createHttpServer>, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => resolve((s.address() as { port: number }).port));
  });
}

/** The answering backend's name, or the status code. */
function httpName(address: string, port: number, host: string, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: { ...headers, host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as { name: string }).name : String(res.statusCode ?? 0)));
    });
    req.setTimeout(3000, () => req.destroy(new Error(`no answer from ${address}:${port}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Connects, reads the backend's name line, closes. */
function tcpName(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: address, port });
    let data = '';
    c.setTimeout(3000, () => c.destroy(new Error(`no answer from ${address}:${port}`)));
    c.on('data', (d) => {
      data += d.toString();
      const nl = data.indexOf('\n');
      if (nl >= 0) {
        c.end();
        resolve(data.slice(0, nl));
      }
    });
    c.on('error', reject);
    c.on('close', () => reject(new Error('closed without an answer')));
  });
}

/** 'connected', or the error code of the attempt. */
function tryConnect(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c: Socket = connect({ host: address, port });
    c.once('connect', () => {
      c.destroy();
      resolve('connected');
    });
    c.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

async function main(init: ChildInit): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(init.kubeconfig);
  await relayApiInside(init.kubeconfig, init.apiSocket);
  const providers = await buildProviders(init.config);
  const controller = new Controller({
    clients: makeClients(kc),
    config: init.config,
    providers,
    namespace: init.namespace,
    nodeLabelSelector: init.nodeLabel,
    log: { info: () => {}, warn: (m) => console.warn(`data plane controller: ${m}`), debug: () => {} },
    gcIntervalMs: 0,
    resyncPeriodMs: 0,
    retry: { baseMs: 50, maxMs: 500 },
  });
  const run = async (m: ChildCommand): Promise<unknown> => {
    switch (m.cmd) {
      case 'start':
        return controller.start();
      case 'stop':
        await controller.stop({ drainTimeoutMs: 1000 });
        return providers.close();
      case 'httpBackend':
        return httpBackend(m.name, m.host);
      case 'tcpBackend':
        return tcpBackend(m.name, m.host);
      case 'httpName':
        return httpName(m.address, m.port, m.host, m.path, m.headers);
      case 'tcpName':
        return tcpName(m.address, m.port);
      case 'connect':
        return tryConnect(m.address, m.port);
    }
  };
  process.on('message', (raw) => {
    const { id, ...m } = raw as ChildCommand & { id: number };
    run(m as ChildCommand).then(
      (result) => process.send?.({ id, result: result ?? null }),
      (e: unknown) => process.send?.({ id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

process.once('message', (init) => void main(init as ChildInit).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
}));
