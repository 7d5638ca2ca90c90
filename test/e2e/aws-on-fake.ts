// The controller in-process with one aws provider on the fake ELBv2/EC2 (nock), the test
// cluster on loopback: what the e2e suites of aws-only kinds (TargetGroupBinding, ALBC's
// Gateway parameters) start from. The caller installs its CRDs, then starts the controller.
import { CustomObjectsApi } from '@kubernetes/client-node';
import nock from 'nock';
import { AwsProvider } from '../../src/providers/aws/provider.js';
import { awsOptionsSchema } from '../../src/providers/aws/options.js';
import { fakeClients, FAST_RATE_LIMITS, fastSleep } from '../providers/aws/support.js';
import { createLbcGatewayClass, installAlbcGatewayCrds, installGatewayApiCrds } from '../support/gateway-crds.js';
import { E2E } from './harness.js';

const AWS_OPTIONS = { region: 'us-east-1', vpcId: 'vpc-1', rateLimits: FAST_RATE_LIMITS, retry: { attempts: 3, minDelay: '1ms', maxDelay: '5ms' } };

export function startAwsOnFake(): Promise<E2E> {
  // ELBv2 and EC2 are the fake's; the test cluster is on loopback.
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));
  return E2E.start({
    config: { providers: [{ name: 'aws', type: 'aws', options: AWS_OPTIONS }], defaultClass: 'lbc.dev/aws' },
    factories: {
      aws: (ctx) =>
        new AwsProvider({ name: ctx.name, clusterName: ctx.clusterName, options: awsOptionsSchema.parse(AWS_OPTIONS), clients: fakeClients(), sleep: fastSleep, logger: { warn: () => undefined } }),
    },
    controller: { slowRetry: { baseMs: 300, maxMs: 1000 } },
    noStart: true,
  });
}

/**
 * startAwsOnFake with the Gateway API CRDs (and ALBC's Gateway CRDs when asked) installed
 * before the controller starts (it discovers the served kinds once), the controller started
 * and an lbc GatewayClass `lbc-<ns>` for the aws provider. The CRDs go in past nock: through
 * it, kube-apiserver's answer to the create of a large CRD ends early ("Premature close").
 */
export async function startAwsGatewayOnFake(opts: { readonly albcCrds?: boolean } = {}): Promise<{ e: E2E; custom: CustomObjectsApi; className: string }> {
  const e = await startAwsOnFake();
  const custom = e.cluster.kc.makeApiClient(CustomObjectsApi);
  nock.restore();
  try {
    await installGatewayApiCrds(e.cluster.kc);
    if (opts.albcCrds) await installAlbcGatewayCrds(e.cluster.kc);
  } finally {
    nock.activate();
  }
  await e.controller.start();
  const className = `lbc-${e.ns}`;
  await createLbcGatewayClass(custom, className, 'aws');
  return { e, custom, className };
}
