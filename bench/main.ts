// `npm run bench [devcluster] [controller] [scale] [api-floor] [local] [gateway] [gateway-match] [metal] [gce] [aws]`: prints the figures behind lbc's performance claims.
import { benchApiFloor } from './api-floor.js';
import { benchAws } from './aws.js';
import { benchController } from './controller.js';
import { benchDevcluster } from './devcluster.js';
import { benchGatewayDataPath } from './gateway.js';
import { benchGatewayController } from './gateway-controller.js';
import { benchGatewayMatch } from './gateway-match.js';
import { benchGce } from './gce.js';
import { headlineLines } from './headline.js';
import { benchLocal } from './local.js';
import { benchMetal } from './metal.js';

const which = new Set(process.argv.slice(2));
const all = which.size === 0;

if (all || which.has('devcluster')) await benchDevcluster();
const controller = all || which.has('controller') ? await benchController() : undefined;
// `api-floor` (also run with `controller`): the finalizer and status writes for 1000 Services with no controller, the least any controller can take here.
const floor = all || which.has('controller') || which.has('api-floor') ? await benchApiFloor() : undefined;
if (controller && floor) {
  console.log('\ncontroller against its goals (issue #21; time against the API floor of this run):');
  for (const line of headlineLines(controller, floor)) console.log(`  ${line}`);
}
// `scale` (not in the default run): a cold start with 5000 LoadBalancer Services over 500
// Nodes, then 100 Nodes joining, against the API floor for 5000 Services.
// LBC_BENCH_SERVICES and LBC_BENCH_NODES change the size: a cluster whose node-port range
// is kube-apiserver's default (30000-32767, as ../shared/kube's) admits 2768 such Services;
// bench/wide-node-ports.sh runs it on ../shared/kube with room for 12768.
if (which.has('scale')) {
  const services = Number(process.env.LBC_BENCH_SERVICES ?? 5000);
  const scale = await benchController({ services, nodes: Number(process.env.LBC_BENCH_NODES ?? 500), joining: 100 });
  const scaleFloor = await benchApiFloor(services);
  console.log(`\ncontroller at scale against its goals (issue #21; time against the API floor for ${services} Services of this run):`);
  for (const line of headlineLines(scale, scaleFloor)) console.log(`  ${line}`);
}
// `gce`: Compute calls per external Service create, no-op ensure and delete, per NEG Ingress create, endpoint change, no-op and delete, and per Gateway create, route change, no-op and delete, against the fake Compute API.
if (all || which.has('gce')) await benchGce();
// `local`: L4 throughput and L7 requests/s through the local provider vs straight to the backend.
if (all || which.has('local')) await benchLocal();
// `gateway`: the Gateway data path through the local provider: 1000 HTTPRoutes × 10 rules vs 1 route vs direct, route update → data path.
// `gateway-match` (also run with `gateway`): the Gateway lookup's CPU per request in-process, 1 route vs 1000 routes × 10 rules.
if (all || which.has('gateway') || which.has('gateway-match')) benchGatewayMatch();
if (all || which.has('gateway')) {
  await benchGatewayDataPath();
  // The controller's part: 1000 HTTPRoutes to Accepted and served, writes per route, update → data path.
  await benchGatewayController();
}
// `aws`: AWS calls per NLB Service create, no-op resync and delete (moto when AWS_ENDPOINT_URL is set, else the nock fake).
if (all || which.has('aws')) await benchAws();
// `metal [writes|failover|bgp]`: speaker liveness at 100 nodes, failover on virtual wires, BGP against bird (root).
if (all || which.has('metal')) await benchMetal([...which]);
