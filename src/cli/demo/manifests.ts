// Applies the YAML manifests in examples/ through the Kubernetes API, as
// `kubectl apply -f examples/` would create them: the demo's objects are the files a
// user reads.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1Endpoints, V1Ingress, V1IngressClass, V1Secret, V1Service } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { KubeClients } from '../../kube/client.js';
import { GATEWAY_GROUP } from '../../kube/gateway-api.js';

/** examples/ at the repository root, from src/cli/demo/ (tsx) or dist/cli/demo/ (built). */
export const EXAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples');

export interface Manifest {
  readonly file: string;
  readonly object: KubernetesObject;
}

/** Every document of every *.yaml file in `dir`, files in name order. */
export async function loadManifests(dir: string = EXAMPLES_DIR): Promise<Manifest[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new Error(`cannot read the demo manifests in ${dir}: ${(e as Error).message}`);
  }
  const out: Manifest[] = [];
  for (const name of names) {
    const file = join(dir, name);
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'YAML error'}`);
      const object = doc.toJS() as KubernetesObject | null;
      if (object) out.push({ file, object });
    }
  }
  return out;
}

/** The host subnet examples/ is written for: Endpoints addresses in it name the demo's own servers. */
export const EXAMPLES_SUBNET = '127.200.0';

/**
 * The manifests with hand-written Endpoints addresses moved from one /24 to another, for
 * a demo whose servers run elsewhere (the tests use their own subnet so that a demo
 * someone runs meanwhile is not disturbed). Everything else is left as written.
 */
export function relocateEndpoints(manifests: readonly Manifest[], from: string, to: string): Manifest[] {
  if (from === to) return [...manifests];
  const move = (ip: string): string => (ip.startsWith(`${from}.`) ? `${to}.${ip.slice(from.length + 1)}` : ip);
  return manifests.map((m) => {
    if (m.object.kind !== 'Endpoints') return m;
    const ep = m.object as V1Endpoints;
    const subsets = (ep.subsets ?? []).map((s) => ({
      ...s,
      ...(s.addresses ? { addresses: s.addresses.map((a) => ({ ...a, ip: move(a.ip) })) } : {}),
      ...(s.notReadyAddresses ? { notReadyAddresses: s.notReadyAddresses.map((a) => ({ ...a, ip: move(a.ip) })) } : {}),
    }));
    return { file: m.file, object: { ...ep, subsets } as KubernetesObject };
  });
}

/** Creates each object with the typed client of its kind; returns `kind/name` per object. */
export async function applyManifests(clients: KubeClients, manifests: readonly Manifest[], defaultNamespace = 'default'): Promise<string[]> {
  const applied: string[] = [];
  // Classes first, the objects that name Services last: lbc would only skip them until the others appear, but it reads better.
  const order = (m: Manifest): number =>
    m.object.kind === 'IngressClass' || m.object.kind === 'GatewayClass' ? 0 : m.object.kind === 'Ingress' || m.object.apiVersion?.startsWith(`${GATEWAY_GROUP}/`) ? 2 : 1;
  for (const { file, object } of [...manifests].sort((a, b) => order(a) - order(b))) {
    const namespace = object.metadata?.namespace ?? defaultNamespace;
    const what = `${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
    try {
      switch (`${object.apiVersion ?? ''} ${object.kind ?? ''}`) {
        case 'v1 Service':
          await clients.core.createNamespacedService({ namespace, body: object as V1Service });
          break;
        case 'v1 Endpoints':
          await clients.core.createNamespacedEndpoints({ namespace, body: object as V1Endpoints });
          break;
        case 'v1 Secret':
          await clients.core.createNamespacedSecret({ namespace, body: object as V1Secret });
          break;
        case 'networking.k8s.io/v1 IngressClass':
          await clients.networking.createIngressClass({ body: object as V1IngressClass });
          break;
        case 'networking.k8s.io/v1 Ingress':
          await clients.networking.createNamespacedIngress({ namespace, body: object as V1Ingress });
          break;
        default:
          if (object.apiVersion?.startsWith(`${GATEWAY_GROUP}/`)) {
            await createGatewayObject(clients, object, namespace);
            break;
          }
          throw new Error(`the demo does not apply ${object.apiVersion ?? '?'} ${object.kind ?? '?'}`);
      }
    } catch (e) {
      const body = (e as { body?: unknown }).body;
      const detail = typeof body === 'string' ? body : (e as Error).message;
      throw new Error(`${file}: ${what}: ${detail}`, { cause: e });
    }
    applied.push(what);
  }
  return applied;
}

/** A Gateway API object through the custom objects API; its plural is the kind's (gatewayclasses, httproutes, ...). */
async function createGatewayObject(clients: KubeClients, object: KubernetesObject, namespace: string): Promise<void> {
  const version = object.apiVersion?.slice(GATEWAY_GROUP.length + 1) ?? '';
  const kind = (object.kind ?? '').toLowerCase();
  const plural = `${kind}${kind.endsWith('s') ? 'es' : 's'}`;
  const base = { group: GATEWAY_GROUP, version, plural, body: object };
  if (object.kind === 'GatewayClass') await clients.custom.createClusterCustomObject(base);
  else await clients.custom.createNamespacedCustomObject({ ...base, namespace });
}
