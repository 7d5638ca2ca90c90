// The controller in-process with a gce provider on the fake Compute API (the real
// Compute clients, a fixed token), for the gce end-to-end suites; not started, so a
// suite can install what it needs first.
import nock from 'nock';
import { OAuth2Client } from 'google-auth-library';
import { GceProvider } from '../../src/providers/gce/provider.js';
import { gceOptionsSchema, type GceOptionsInput } from '../../src/providers/gce/options.js';
import { FakeCompute } from '../providers/gce/fake-compute.js';
import { E2E } from './harness.js';

export const GCE_E2E = { project: 'test-project', region: 'us-central1', token: 'test-token' } as const;

export async function startGceE2E(options: GceOptionsInput, controller: NonNullable<Parameters<typeof E2E.start>[0]>['controller']): Promise<{ e: E2E; fake: FakeCompute }> {
  const fake = new FakeCompute({ project: GCE_E2E.project, region: GCE_E2E.region, token: GCE_E2E.token }).install();
  // The Compute API is the fake's; the test cluster is on loopback.
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: GCE_E2E.token, expiry_date: Date.now() + 24 * 3600_000 });
  const e = await E2E.start({
    config: { providers: [{ name: 'gce', type: 'gce', options: options as Record<string, unknown> }], defaultClass: 'lbc.dev/gce' },
    factories: { gce: (ctx) => new GceProvider({ name: ctx.name, clusterName: ctx.clusterName, options: gceOptionsSchema.parse(options), clientOptions: { authClient: auth } }) },
    ...(controller ? { controller } : {}),
    noStart: true,
  });
  return { e, fake };
}
