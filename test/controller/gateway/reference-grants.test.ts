import { describe, expect, it } from 'vitest';
import { ReferenceGrants } from '../../../src/controller/gateway/reference-grants.js';

describe('ReferenceGrants', () => {
  const grants = new ReferenceGrants([
    {
      metadata: { name: 'g', namespace: 'backends' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service', name: 'web' }] },
    },
  ]);
  const from = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' };

  it('allows the same namespace without a grant, and exactly what a grant in the target namespace lists', () => {
    expect(grants.allows(from, { group: '', kind: 'Service', namespace: 'apps', name: 'any' })).toBe(true);
    expect(grants.allows(from, { group: '', kind: 'Service', namespace: 'backends', name: 'web' })).toBe(true);
    expect(grants.allows(from, { group: '', kind: 'Service', namespace: 'backends', name: 'db' })).toBe(false);
    expect(grants.allows({ ...from, kind: 'GRPCRoute' }, { group: '', kind: 'Service', namespace: 'backends', name: 'web' })).toBe(false);
    expect(grants.allows({ ...from, namespace: 'other' }, { group: '', kind: 'Service', namespace: 'backends', name: 'web' })).toBe(false);
    expect(grants.allows(from, { group: '', kind: 'Secret', namespace: 'backends', name: 'web' })).toBe(false);
  });
});
