// Moved to kube/client.ts: makeClients(kc).writes are these clients, over lbc's own
// connection (HTTP/2 where the server offers it). Kept until the last importers (demo.ts,
// the e2e harness and fault suite) use makeClients; then this file goes.
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiConnection, writeClients, type WriteClients } from '../kube/client.js';

export { ApiError as WriteError, type WriteClients } from '../kube/client.js';

/** Write clients over kc's current cluster; undefined when it needs a proxy, which only client-node's own agents speak. */
export async function leanWriteClients(kc: KubeConfig): Promise<WriteClients | undefined> {
  const api = ApiConnection.for(kc);
  return api ? writeClients(api) : undefined;
}
