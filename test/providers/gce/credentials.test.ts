// A gce provider that finds no Google credentials. @google-cloud/compute discovers
// credentials lazily inside each client's stub and, on every call, chains
// `initialize().catch((err) => { throw err; })` onto it, a promise nobody awaits: when
// discovery fails that rejection is unhandled and Node exits, taking every other
// provider's Services with it. lbc resolves the credentials itself, once, and turns
// their absence into a ProviderError the reconciler reports on the object.
//
// Nothing here may leave loopback: the metadata server (169.254.169.254) is never
// probed (METADATA_SERVER_DETECTION=none, which gcp-metadata reads on each call), no
// well-known ADC file is found (HOME is an empty directory), and the Compute endpoint
// is a closed loopback port.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { GceProvider } from '../../../src/providers/gce/provider.js';
import { CLUSTER, CLUSTER_ID, l4, PROJECT, REGION, rejection } from './fixtures.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

function withoutCredentials(): void {
  vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', undefined);
  vi.stubEnv('METADATA_SERVER_DETECTION', 'none');
  vi.stubEnv('HOME', mkdtempSync(join(tmpdir(), 'lbc-no-adc-')));
}

afterEach(() => {
  vi.unstubAllEnvs();
  unhandled.length = 0;
});

function provider(over: Record<string, unknown> = {}): GceProvider {
  const options = gceOptionsSchema.parse({
    project: PROJECT,
    region: REGION,
    clusterId: CLUSTER_ID,
    apiEndpoint: 'http://127.0.0.1:1',
    retry: { retries: 1, minDelayMs: 1, maxDelayMs: 2 },
    ...over,
  });
  return new GceProvider({ name: 'gce', clusterName: CLUSTER, options });
}

/** Unhandled rejections are reported after the microtask queue drains: give them a turn of the event loop. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

/** Runs fn with a provider, then asks that no rejection was left unhandled meanwhile. */
async function withProvider(over: Record<string, unknown>, fn: (p: GceProvider) => Promise<void>): Promise<void> {
  const p = provider(over);
  try {
    await fn(p);
    await settle();
    expect(unhandled).toEqual([]);
  } finally {
    await p.close();
  }
}

describe('gce provider without findable Google credentials', () => {
  it('ensure rejects with a forbidden ProviderError that says what is missing, and leaves no rejection unhandled', async () => {
    withoutCredentials();
    await withProvider({}, async (p) => {
      const err = await rejection(p.ensure(l4()));
      expect(err.kind).toBe('forbidden');
      expect(err.provider).toBe('gce');
      expect(err.message).toMatch(/no Google credentials found/);
      expect(err.message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
      expect(err.message).toMatch(/keyFilename/);
    });
  });

  it('the garbage collector sweep (listOwned) fails the same way, again on the next sweep, never unhandled', async () => {
    withoutCredentials();
    await withProvider({}, async (p) => {
      for (let sweep = 0; sweep < 2; sweep++) {
        const err = await rejection(p.listOwned());
        expect(err.kind).toBe('forbidden');
        expect(err.message).toMatch(/no Google credentials found/);
      }
    });
  });

  it('a keyFilename without a key in it is a forbidden error saying so (no token request is made)', async () => {
    withoutCredentials();
    const key = join(mkdtempSync(join(tmpdir(), 'lbc-bad-key-')), 'key.json');
    writeFileSync(key, '{"type": "service_account"}');
    await withProvider({ keyFilename: key }, async (p) => {
      const err = await rejection(p.ensure(l4()));
      expect(err.kind).toBe('forbidden');
      expect(err.message).toMatch(/MISSING_CREDENTIALS: private_key and client_email are required/);
    });
  });
});
