// The pods lbc runs as: the controller Deployment (two replicas, one leading) and, for
// bare metal, the speaker DaemonSet. Both run the same image and read the same
// ConfigMap, so the controller and the speakers always agree on the pools.
import { SPEAKER_DEFAULTS } from '../providers/metal/options.js';
import type { KubeObject } from './manifests.js';

export const CONFIG_DIR = '/etc/lbc';
export const CONFIG_FILE = `${CONFIG_DIR}/config.yaml`;
export const METRICS_PORT = 8080;
export const HEALTH_PORT = 8081;
/** Above the controller's default --drain-timeout (30 s), so SIGTERM's drain and Lease release finish before SIGKILL. */
export const TERMINATION_GRACE_SECONDS = 45;
/** The distroless "nonroot" uid; the image's USER is the same number so kubelet can check runAsNonRoot. */
export const NONROOT_UID = 65532;

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { memory: string };
}

// Measured with `npm run bench controller` (controller in its own process, devcluster):
// peak RSS 200 MB over the whole 1000-Service run (at once, resyncs, restart, 100 Nodes,
// cold start, deletion), 255 MB for a cold start with 5000 Services over 500 Nodes
// (LBC_BENCH_PHASES=cold LBC_BENCH_SERVICES=5000 LBC_BENCH_NODES=500). The request is that
// peak; the limit leaves twice it, for objects fatter than the bench's and for GC slack.
export const CONTROLLER_RESOURCES: Resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } };
export const SPEAKER_RESOURCES: Resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } };

/**
 * The controller's V8 heap limit, from its container's memory limit. Node 20 sizes its
 * old space from the host's memory, not the cgroup's, so without a flag the heap may grow
 * past the limit and the kernel OOM-kills the pod where V8 would have collected harder.
 * Three quarters of the limit: the rest is what lives outside the old space (code, the
 * young generation, socket buffers, the TLS and zlib state of the API connections).
 */
/** The Dockerfile's ENTRYPOINT (test/install/dockerfile.test.ts holds them equal). */
export const IMAGE_ENTRYPOINT = ['node', 'dist/cli/main.js'];

/**
 * The cap on each of V8's two young-generation semi-spaces, in MB. On a 64-bit host V8
 * grows them to 16 MB while lbc loads its modules and keeps them committed: ~25 MB of RSS
 * holding garbage. A scavenge costs what survives it, not the space's size, but a young
 * generation too small for a burst's objects in flight promotes them to the old one, where
 * collecting them is dear. Measured on `lbc run` (memory provider, devcluster): RSS 5 s
 * after start 89-92 MB with V8's default, 76 with 2. On the cold-start bench (1000
 * Services, 100 Nodes, ../shared/kube, #21), by cap: 2 MB: 1.87-1.89 ms CPU per Service,
 * every address 2253-2295 ms after start, peak RSS 96-97 MB; 4: 1.70-1.75 ms, 2106-2129 ms,
 * 101-104 MB; 8: 1.63-1.66 ms, 1998-2013 ms, 107-108 MB (72-74 MB after loading); 12 and
 * 16: no faster than 8, peak 123-124 MB, over the 120 MB goal.
 */
export const CONTROLLER_SEMI_SPACE_MB = 8;

/**
 * glibc's malloc arenas, as the image's environment sets them (Dockerfile ENV, read by
 * glibc before node starts, so no flag or code can set it later). Node's threads (V8's GC
 * helpers, libuv's pool, HTTP/2) each get an arena of their own by default (8 per core),
 * and freed memory scattered over them stays in RSS. Measured on the cold-start bench
 * (1000 Services, 100 Nodes, ../shared/kube): peak RSS 133-160 MB with glibc's default,
 * 118-119 MB with 2, 130 MB with 1 (one arena contended and fragmented), CPU unchanged.
 */
export const CONTROLLER_MALLOC_ARENA_MAX = 2;

/**
 * How far V8 lets the old generation grow past what survived the last full collection,
 * in percent. V8's own factor goes up to 4x when collections are cheap: in a burst (a cold
 * start with thousands of Services) the heap grew from 35 MB live to 135 MB before it
 * collected, though never more than 48 MB was live. Measured on the cold-start bench
 * (2500 Services, 500 Nodes, ../shared/kube): peak RSS 209 MB with V8's default,
 * 160 MB with 100, 141 MB with 50, for 12 full collections instead of 4 (CPU per Service
 * 2.75 / 2.66 / 3.01 ms at load average 19-21, within the noise of this machine).
 */
export const CONTROLLER_HEAP_GROWING_PERCENT = 50;

/** node's flags for the controller but the heap limit: the young generation's cap and the old generation's growth. */
export const CONTROLLER_GC_FLAGS: readonly string[] = [`--max-semi-space-size=${CONTROLLER_SEMI_SPACE_MB}`, `--heap-growing-percent=${CONTROLLER_HEAP_GROWING_PERCENT}`];

/** node's flags for the controller: its heap limit from the pod's memory limit, then CONTROLLER_GC_FLAGS. */
export function controllerNodeFlags(memoryLimit: string): string[] {
  return [`--max-old-space-size=${controllerHeapMb(memoryLimit)}`, ...CONTROLLER_GC_FLAGS];
}

export function controllerHeapMb(memoryLimit: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(memoryLimit);
  if (!m) throw new Error(`controller memory limit ${JSON.stringify(memoryLimit)}: expected a whole number of Mi or Gi, from which its heap limit is derived`);
  const mb = Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
  return Math.floor((mb * 3) / 4);
}

export interface WorkloadOptions {
  readonly namespace: string;
  readonly image: string;
  readonly replicas: number;
  readonly labels: Record<string, string>;
  readonly configMap: string;
  readonly serviceAccount: string;
  readonly resources: Resources;
}

const configVolume = (configMap: string) => ({ name: 'config', configMap: { name: configMap } });
const configMount = { name: 'config', mountPath: CONFIG_DIR, readOnly: true };

export function controllerArgs(namespace: string): string[] {
  return [
    'run',
    '--in-cluster',
    '--config',
    CONFIG_FILE,
    '--leader-elect',
    '--leader-election-namespace',
    namespace,
    '--metrics-bind-address',
    `:${METRICS_PORT}`,
    '--health-probe-bind-address',
    `:${HEALTH_PORT}`,
  ];
}

export function controllerDeployment(o: WorkloadOptions): KubeObject {
  const selector = { ...o.labels, 'app.kubernetes.io/component': 'controller' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'lbc-controller', namespace: o.namespace, labels: selector },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          serviceAccountName: o.serviceAccount,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NONROOT_UID,
            runAsGroup: NONROOT_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          // Two replicas on one node would fail over nothing when that node goes.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
              ],
            },
          },
          containers: [
            {
              name: 'controller',
              image: o.image,
              // The image's ENTRYPOINT with the heap limit in front: a flag, not NODE_OPTIONS, so that the pod's env keeps no values.
              command: ['node', ...controllerNodeFlags(o.resources.limits.memory), ...IMAGE_ENTRYPOINT.slice(1)],
              args: controllerArgs(o.namespace),
              // The leader-election identity starts with it, so `kubectl get lease` names the leading pod.
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              ports: [
                { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                { name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' },
              ],
              livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 5, failureThreshold: 3 },
              resources: o.resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [configMount],
            },
          ],
          volumes: [configVolume(o.configMap)],
        },
      },
    },
  };
}

export function speakerDaemonSet(o: Omit<WorkloadOptions, 'replicas'>): KubeObject {
  const selector = { ...o.labels, 'app.kubernetes.io/component': 'speaker' };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'lbc-speaker', namespace: o.namespace, labels: selector },
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          serviceAccountName: o.serviceAccount,
          // ARP and NDP are answered on the node's own interfaces.
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          terminationGracePeriodSeconds: 10,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'speaker',
              image: o.image,
              args: ['speaker', '--in-cluster', '--config', CONFIG_FILE, '--node', '$(NODE_NAME)'],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                // The owner of the ServiceL2Statuses it writes, as MetalLB's speaker Pod is of its own.
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
              ],
              // On the host network this is the node's port: declared so the scheduler sees who holds it.
              ports: [{ name: 'gossip', containerPort: SPEAKER_DEFAULTS.gossipPort, protocol: 'UDP' }],
              resources: o.resources,
              // Root, but with NET_RAW only: Kubernetes sets no ambient capabilities, so a
              // non-root process would not hold the NET_RAW its packet sockets need (as MetalLB's speaker).
              securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
              },
              volumeMounts: [configMount],
            },
          ],
          volumes: [configVolume(o.configMap)],
        },
      },
    },
  };
}
