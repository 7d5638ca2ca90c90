// What examples/07-gateway.yaml promises, for the demo's checks and printed commands: the
// Gateway's name and class, its routes, the hosts they serve and the pods behind them.
import { gatewayClassName } from '../../install/manifests.js';

/** examples/07-gateway.yaml: the Gateway, its routes, and what they promise. */
export const DEMO_GATEWAY = {
  name: 'edge',
  className: gatewayClassName('local'),
  httpRoute: 'app',
  tlsRoute: 'secure',
  /** HTTPRoute app's hostname, and its weighted backends' pods: 90 stable, 10 canary. */
  httpHost: 'app.example.com',
  stablePod: 'stable-1',
  canaryPod: 'canary-1',
  canaryShare: 0.1,
  /** The header match that always picks the canary. */
  canaryHeader: { name: 'x-canary', value: 'always' },
  /** TLSRoute secure's SNI name, and the pod that terminates TLS with its own certificate. */
  tlsHost: 'secure.example.com',
  tlsPod: 'secure-1',
} as const;
