// An AWS request with no answer (a connection that died without a reset) is given up at
// the attempt deadline and tried again, through the real SDK client: the SDK's own
// request timeout is none, so without it one lost request held the worker for the whole
// provider timeout (issue #22, a reconcile stuck in flight).
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ACMClient } from '@aws-sdk/client-acm';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AwsApi } from '../../../src/providers/aws/api.js';
import { awsOptionsSchema } from '../../../src/providers/aws/options.js';
import { ProviderError } from '../../../src/providers/types.js';

let server: http.Server;
const requests: http.IncomingMessage[] = [];
const closed: number[] = [];

beforeAll(async () => {
  // Takes every request and never answers.
  server = http.createServer((req) => {
    const i = requests.push(req) - 1;
    req.socket.once('close', () => closed.push(i));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('gives up each unanswered request at attemptTimeoutMs (the SDK aborts it), retries, then fails transient', async () => {
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const common = { region: 'eu-west-1', endpoint, maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret-key' } };
  const api = new AwsApi({
    elbv2: new ElasticLoadBalancingV2Client(common),
    ec2: new EC2Client(common),
    acm: new ACMClient(common),
    options: { ...awsOptionsSchema.parse({ region: 'eu-west-1' }), retry: { attempts: 3, minDelay: 1, maxDelay: 5 } },
    provider: 'aws-test',
    attemptTimeoutMs: 200,
  });
  const t0 = Date.now();
  const err = await api.elbv2('DescribeLoadBalancers', (c, o) => c.send(new DescribeLoadBalancersCommand({}), o)).catch((e: unknown) => e);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).kind).toBe('transient');
  expect(requests).toHaveLength(3);
  // The SDK got the attempt's signal: it closed each request it gave up rather than leave it open.
  await new Promise((r) => setTimeout(r, 100));
  expect(closed.sort()).toEqual([0, 1, 2]);
});
