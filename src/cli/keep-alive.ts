// Moved to kube/client.ts, which applies it in makeClients(). Kept as a re-export until
// the last importers (connect.ts, demo.ts, the e2e harness, the devcluster and metal
// benchmarks) import it from there; then this file goes.
export { reuseConnections } from '../kube/client.js';
