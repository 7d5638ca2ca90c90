// cloud.google.com/backend-config as ingress-gce reads it (pkg/annotations/service.go
// GetBackendConfigs, pkg/backendconfig/utils.go BackendConfigName), and a Google-managed
// certificate's state in GKE's words (gke-managed-certs pkg/config/config.go).
import { describe, expect, it } from 'vitest';
import { backendConfigNameFor, backendConfigNames, backendConfigRefs } from '../../../src/providers/gce/backend-config.js';
import { managedCertificateState } from '../../../src/providers/gce/managed-certificate.js';

describe('cloud.google.com/backend-config', () => {
  it('port name first, then port number, then default (BackendConfigName)', () => {
    const r = backendConfigRefs({ 'cloud.google.com/backend-config': '{"default":"d","ports":{"http":"by-name","80":"by-number","8443":"tls"}}' });
    expect(r.ok).toBe(true);
    const refs = r.ok ? r.refs : undefined;
    if (!refs) throw new Error('no refs');
    expect(backendConfigNameFor(refs, { name: 'http', port: 80 })).toBe('by-name');
    expect(backendConfigNameFor(refs, { name: 'other', port: 80 })).toBe('by-number');
    expect(backendConfigNameFor(refs, { port: 8443 })).toBe('tls');
    expect(backendConfigNameFor(refs, { name: 'x', port: 9 })).toBe('d');
    expect(backendConfigNames(refs).sort()).toEqual(['by-name', 'by-number', 'd', 'tls']);
    const noDefault = backendConfigRefs({ 'cloud.google.com/backend-config': '{"ports":{"http":"a"}}' });
    expect(noDefault.ok && noDefault.refs && backendConfigNameFor(noDefault.refs, { name: 'grpc', port: 90 })).toBeUndefined();
  });

  it('the GA key wins over the beta key; the beta key alone is read; no annotation is no refs', () => {
    const both = backendConfigRefs({ 'cloud.google.com/backend-config': '{"default":"ga"}', 'beta.cloud.google.com/backend-config': '{"default":"beta"}' });
    expect(both).toEqual({ ok: true, refs: { default: 'ga', ports: {} } });
    expect(backendConfigRefs({ 'beta.cloud.google.com/backend-config': '{"default":"beta"}' })).toEqual({ ok: true, refs: { default: 'beta', ports: {} } });
    expect(backendConfigRefs({})).toEqual({ ok: true });
  });

  it('refuses what ingress-gce cannot read, the annotation named: not JSON, naming nothing, wrong shapes', () => {
    for (const [raw, reason] of [
      ['{"ports":', /is not JSON/],
      ['{}', /names no BackendConfig/],
      ['{"ports":{}}', /names no BackendConfig/],
      ['"x"', /JSON object/],
      ['{"default":3}', /"default" must be/],
      ['{"ports":{"80":""}}', /"ports" must map/],
      ['{"port":{"80":"a"}}', /unknown field "port"/],
    ] as const) {
      const r = backendConfigRefs({ 'beta.cloud.google.com/backend-config': raw });
      expect(r.ok, raw).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatchObject({ annotation: 'beta.cloud.google.com/backend-config' });
        expect(r.error.reason).toMatch(reason);
      }
    }
  });
});

describe('a Google-managed certificate in GKE words', () => {
  it('certificate and domain states translated as gke-managed-certs does, domains sorted, expireTime kept', () => {
    const state = managedCertificateState({ source: 'ns/c', domains: ['b.example.com', 'a.example.com'] }, 'k8s2-cr-x', {
      managed: { status: 'PROVISIONING_FAILED', domainStatus: { 'b.example.com': 'FAILED_NOT_VISIBLE', 'a.example.com': 'ACTIVE' } },
      expireTime: '2027-01-01T00:00:00Z',
    });
    expect(state).toEqual({
      source: 'ns/c',
      certificateName: 'k8s2-cr-x',
      certificateStatus: 'ProvisioningFailed',
      domainStatus: [
        { domain: 'a.example.com', status: 'Active' },
        { domain: 'b.example.com', status: 'FailedNotVisible' },
      ],
      expireTime: '2027-01-01T00:00:00Z',
    });
    expect(managedCertificateState({ source: 'ns/c', domains: [] }, 'n', { managed: { status: 'MANAGED_CERTIFICATE_STATUS_UNSPECIFIED' } }).certificateStatus).toBe('');
  });
});
