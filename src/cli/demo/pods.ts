// The demo's backend "pods": small HTTP servers bound for real on loopback addresses
// (127.0.0.0/8 routes to lo as a whole on Linux), one address per pod, each answering
// on every port of its Services with which pod answered. They are registered as Pods in
// devcluster so that its endpoints controller builds EndpointSlices from them.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Store } from '../../devcluster/store.js';

export interface PodSpec {
  readonly name: string;
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
}

export interface RunningPod extends PodSpec {
  readonly ip: string;
  readonly ports: readonly number[];
  /** Requests this pod has answered, by port. */
  readonly hits: Map<number, number>;
}

export interface Pods {
  readonly pods: readonly RunningPod[];
  /** Total requests answered by the named pod. */
  hits(name: string): number;
  close(): Promise<void>;
}

/** What a pod answers: `pod web-1 (node-a)`, the first word of the body names the pod. */
export const podAnswer = (p: Pick<PodSpec, 'name' | 'node'>): string => `pod ${p.name} (${p.node})`;

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`pod backend cannot listen on ${host}:${port}: ${e.message}`));
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Starts one HTTP server per pod and port on `${subnet}.${i + 1}` (subnet such as
 * `127.201.0`), and registers each pod in the store with spec.nodeName, its labels,
 * status.podIP and a Ready condition.
 */
export async function startPods(store: Store, opts: { subnet: string; namespace: string; ports: readonly number[]; pods: readonly PodSpec[] }): Promise<Pods> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const running: RunningPod[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
          }),
      ),
    );
    for (const s of sockets) s.destroy();
  };
  try {
    for (const [i, spec] of opts.pods.entries()) {
      const ip = `${opts.subnet}.${i + 1}`;
      const pod: RunningPod = { ...spec, ip, ports: opts.ports, hits: new Map() };
      for (const port of opts.ports) {
        const server = createServer((req, res) => {
          pod.hits.set(port, (pod.hits.get(port) ?? 0) + 1);
          req.resume();
          const body = `${podAnswer(pod)} port ${port}: ${req.method ?? 'GET'} ${req.headers.host ?? ''}${req.url ?? '/'}\n`;
          res.writeHead(200, { 'content-type': 'text/plain', 'x-pod': pod.name, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
        server.keepAliveTimeout = 1000;
        server.on('connection', (s) => {
          sockets.add(s);
          s.once('close', () => sockets.delete(s));
        });
        await listen(server, ip, port);
        servers.push(server);
      }
      running.push(pod);
    }
  } catch (e) {
    await close();
    throw e;
  }

  const podsRt = store.find('', 'pods')!;
  const now = new Date().toISOString();
  for (const p of running) {
    const created = store.create(podsRt, {
      metadata: { name: p.name, namespace: opts.namespace, labels: { ...p.labels } },
      spec: {
        nodeName: p.node,
        containers: [{ name: 'app', image: 'lbc-demo/echo', ports: opts.ports.map((containerPort) => ({ containerPort, protocol: 'TCP' })) }],
      },
    });
    // Pods have a status subresource: create drops status, so it is written separately, as a kubelet does.
    store.update(
      podsRt,
      {
        ...created,
        status: {
          phase: 'Running',
          podIP: p.ip,
          podIPs: [{ ip: p.ip }],
          startTime: now,
          conditions: [
            { type: 'Ready', status: p.ready ? 'True' : 'False', lastTransitionTime: now, ...(p.ready ? {} : { reason: 'ReadinessProbeFailed', message: 'demo: this replica is kept not ready' }) },
            { type: 'ContainersReady', status: p.ready ? 'True' : 'False', lastTransitionTime: now },
          ],
        },
      },
      { subresource: 'status' },
    );
  }

  return {
    pods: running,
    hits: (name) => [...(running.find((p) => p.name === name)?.hits.values() ?? [])].reduce((a, b) => a + b, 0),
    close,
  };
}
