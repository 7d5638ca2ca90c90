// The demo's backend "pods": small HTTP servers bound for real on loopback addresses
// (127.0.0.0/8 routes to lo as a whole on Linux), one address per pod, each answering
// on every port of its Services with which pod answered. They are registered as Pods in
// devcluster so that its endpoints controller builds EndpointSlices from them.
// External hosts (the "database" that hand-written Endpoints name) answer the same way
// but are not Pods: nothing in the cluster knows them except those Endpoints.
import { createHash } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Store } from '../../devcluster/store.js';

export interface PodSpec {
  readonly name: string;
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  /** A port where the pod terminates TLS itself, with the certificate startPods is given for it (plain HTTP on the others). */
  readonly tlsPort?: number;
}

/** A certificate and its key, PEM. */
export interface PodCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface RunningPod extends PodSpec {
  readonly ip: string;
  readonly ports: readonly number[];
  /** Requests this pod has answered, by port. */
  readonly hits: Map<number, number>;
}

/** A server outside the cluster, at `${subnet}.${host}`. */
export interface ExternalSpec {
  readonly name: string;
  readonly host: number;
  readonly ports: readonly number[];
}

export interface RunningExternal extends ExternalSpec {
  readonly ip: string;
  readonly hits: Map<number, number>;
}

export interface Pods {
  readonly pods: readonly RunningPod[];
  readonly external: readonly RunningExternal[];
  /** Total requests answered by the named pod. */
  hits(name: string): number;
  close(): Promise<void>;
}

const CONTAINER = 'app';
const IMAGE = 'lbc-demo/echo';
// Written as the kubelet reports a pulled image: the fully qualified reference, and its digest.
const IMAGE_REF = `docker.io/${IMAGE}:latest`;
const IMAGE_DIGEST = `sha256:${createHash('sha256').update(IMAGE_REF).digest('hex')}`;

/**
 * A running pod's status as the kubelet writes it: its conditions, and one
 * containerStatus per container (kubectl's READY, STATUS and RESTARTS columns are
 * computed from containerStatuses, not from the Ready condition). A replica kept not
 * ready is one whose container runs, started, but fails its readiness probe: the
 * kubelet then reports ContainersNotReady naming the container.
 */
function kubeletStatus(p: RunningPod, now: string, hostIP: string | undefined): Record<string, unknown> {
  const notReady = { reason: 'ContainersNotReady', message: `containers with unready status: [${CONTAINER}]` };
  const ready = (type: string) => ({ type, status: p.ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now, ...(p.ready ? {} : notReady) });
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), ready('Ready'), ready('ContainersReady'), cond('PodScheduled')],
    ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
    podIP: p.ip,
    podIPs: [{ ip: p.ip }],
    startTime: now,
    containerStatuses: [
      {
        name: CONTAINER,
        state: { running: { startedAt: now } },
        lastState: {},
        ready: p.ready,
        restartCount: 0,
        image: IMAGE_REF,
        imageID: `docker.io/${IMAGE}@${IMAGE_DIGEST}`,
        containerID: `containerd://${createHash('sha256').update(`${p.name}/${CONTAINER}/${now}`).digest('hex')}`,
        started: true,
      },
    ],
    qosClass: 'BestEffort',
  };
}

/** What a pod answers: `pod web-1 (node-a)`; an external host: `external-db (outside the cluster)`. */
export const podAnswer = (p: Pick<PodSpec, 'name' | 'node'>): string => `pod ${p.name} (${p.node})`;
const externalAnswer = (e: Pick<ExternalSpec, 'name'>): string => `${e.name} (outside the cluster)`;

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
 * and the status a kubelet writes for it. External hosts get their servers only.
 */
export async function startPods(
  store: Store,
  opts: {
    subnet: string;
    namespace: string;
    ports: readonly number[];
    pods: readonly PodSpec[];
    external?: readonly ExternalSpec[];
    /** By pod name: the certificate of each pod with a tlsPort. */
    certificates?: Readonly<Record<string, PodCertificate>>;
  },
): Promise<Pods> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const running: RunningPod[] = [];
  const external: RunningExternal[] = [];
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
  /** Serves `answer` on ip:port, counting hits per port; the x-pod header names who answered. */
  const serve = async (ip: string, port: number, name: string, answer: string, hits: Map<number, number>, tls?: PodCertificate): Promise<void> => {
    const handler: RequestListener = (req, res) => {
      hits.set(port, (hits.get(port) ?? 0) + 1);
      req.resume();
      const body = `${answer} port ${port}${tls ? ' (TLS)' : ''}: ${req.method ?? 'GET'} ${req.headers.host ?? ''}${req.url ?? '/'}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'x-pod': name, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const server: Server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler) : createServer(handler);
    server.keepAliveTimeout = 1000;
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await listen(server, ip, port);
    servers.push(server);
  };
  try {
    for (const [i, spec] of opts.pods.entries()) {
      const ip = `${opts.subnet}.${i + 1}`;
      const pod: RunningPod = { ...spec, ip, ports: opts.ports, hits: new Map() };
      const cert = opts.certificates?.[spec.name];
      if (spec.tlsPort !== undefined && (!cert || !opts.ports.includes(spec.tlsPort))) throw new Error(`pod ${spec.name}: TLS on port ${spec.tlsPort} needs a certificate and one of the ports ${opts.ports.join(', ')}`);
      for (const port of opts.ports) await serve(ip, port, pod.name, podAnswer(pod), pod.hits, port === spec.tlsPort ? cert : undefined);
      running.push(pod);
    }
    for (const spec of opts.external ?? []) {
      if (spec.host <= opts.pods.length || spec.host > 254) throw new Error(`external host ${spec.name}: .${spec.host} must be above the pods' .1-.${opts.pods.length} and at most .254`);
      const host: RunningExternal = { ...spec, ip: `${opts.subnet}.${spec.host}`, hits: new Map() };
      for (const port of spec.ports) await serve(host.ip, port, host.name, externalAnswer(host), host.hits);
      external.push(host);
    }
  } catch (e) {
    await close();
    throw e;
  }

  const podsRt = store.find('', 'pods')!;
  const nodesRt = store.find('', 'nodes')!;
  // RFC 3339 in whole seconds, as the API server serializes metav1.Time.
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const p of running) {
    const created = store.create(podsRt, {
      metadata: { name: p.name, namespace: opts.namespace, labels: { ...p.labels } },
      spec: {
        nodeName: p.node,
        containers: [{ name: CONTAINER, image: IMAGE, ports: opts.ports.map((containerPort) => ({ containerPort, protocol: 'TCP' })) }],
      },
    });
    const node = store.get(nodesRt, undefined, p.node);
    const hostIP = (node?.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    // Pods have a status subresource: create drops status, so it is written separately, as a kubelet does.
    store.update(podsRt, { ...created, status: kubeletStatus(p, now, hostIP) }, { subresource: 'status' });
  }

  return {
    pods: running,
    external,
    hits: (name) => [...((running.find((p) => p.name === name) ?? external.find((x) => x.name === name))?.hits.values() ?? [])].reduce((a, b) => a + b, 0),
    close,
  };
}
