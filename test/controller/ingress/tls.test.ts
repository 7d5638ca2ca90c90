import type { V1IngressTLS } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GroupTls } from '../../../src/controller/ingress/tls.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import type { TlsCertificate } from '../../../src/model/spec.js';
import type { ModelError } from '../../../src/model/validation.js';
import { CERT_PEM, KEY_PEM, ingress, modelProvider, tlsSecret } from '../fixtures.js';
import { member } from './members.js';

const secrets = [tlsSecret('site'), tlsSecret('other'), tlsSecret('site', undefined, undefined, 'shop'), tlsSecret('opaque', undefined, 'Opaque'), tlsSecret('nokey', { crt: CERT_PEM })];
const fromSecret = (namespace: string, name: string, hosts: string[]): TlsCertificate => ({ source: 'secret', secretRef: { namespace, name }, hosts, certPem: CERT_PEM, keyPem: KEY_PEM });
const byHost: ModelProvider = { ...modelProvider(), capabilities: { ...modelProvider().capabilities, certificatesByHost: true } };

/** Members a, b… of the default namespace unless a namespace is given, each with its spec.tls. */
function build(members: { tls: V1IngressTLS[]; namespace?: string }[], opts: { provider?: ModelProvider; ids?: string[] } = {}) {
  const errors: ModelError[] = [];
  const tls = new GroupTls(secrets, opts.provider ?? modelProvider(), errors);
  members.forEach((m, i) => tls.add(member(ingress(String.fromCharCode(97 + i), { tls: m.tls }, undefined, m.namespace))));
  return { certificates: tls.certificates(opts.ids ?? []), hosts: tls.hosts(), errors };
}

describe('GroupTls', () => {
  it.each<{ name: string; members: { tls: V1IngressTLS[]; namespace?: string }[]; provider?: ModelProvider; ids?: string[]; want: { certificates: TlsCertificate[]; hosts: string[]; errors: ModelError[] } }>([
    {
      name: "a Secret's certificate for its hosts, lower-cased and sorted",
      members: [{ tls: [{ hosts: ['Shop.example.com', 'a.example.com'], secretName: 'site' }] }],
      want: { certificates: [fromSecret('default', 'site', ['a.example.com', 'shop.example.com'])], hosts: ['a.example.com', 'shop.example.com'], errors: [] },
    },
    {
      name: 'one Secret named by two members is one certificate for the union of their hosts',
      members: [{ tls: [{ hosts: ['b.example.com'], secretName: 'site' }] }, { tls: [{ hosts: ['a.example.com', 'b.example.com'], secretName: 'site' }] }],
      want: { certificates: [fromSecret('default', 'site', ['a.example.com', 'b.example.com'])], hosts: ['a.example.com', 'b.example.com'], errors: [] },
    },
    {
      name: "the same Secret name in two namespaces is two certificates, each from its member's namespace",
      members: [{ tls: [{ hosts: ['s.example.com'], secretName: 'site' }], namespace: 'shop' }, { tls: [{ hosts: ['d.example.com'], secretName: 'site' }] }],
      want: { certificates: [fromSecret('default', 'site', ['d.example.com']), fromSecret('shop', 'site', ['s.example.com'])], hosts: ['d.example.com', 's.example.com'], errors: [] },
    },
    {
      name: "the provider's certificates by id join the Secrets', in key order",
      members: [{ tls: [{ secretName: 'site' }] }],
      ids: ['arn:b', 'arn:a'],
      want: {
        certificates: [fromSecret('default', 'site', []), { source: 'provider', id: 'arn:a', hosts: [] }, { source: 'provider', id: 'arn:b', hosts: [] }],
        hosts: [],
        errors: [],
      },
    },
    {
      name: 'a provider that finds certificates by host takes hosts without a Secret',
      members: [{ tls: [{ hosts: ['a.example.com'] }] }],
      provider: byHost,
      want: { certificates: [], hosts: ['a.example.com'], errors: [] },
    },
    {
      // aws-load-balancer-controller never reads spec.tls[].secretName (ACM by host): a missing Secret is no error there.
      name: 'a provider that finds certificates by host does not need the named Secret to exist',
      members: [{ tls: [{ hosts: ['a.example.com'], secretName: 'missing' }] }],
      provider: byHost,
      want: { certificates: [], hosts: ['a.example.com'], errors: [] },
    },
    {
      name: 'no spec.tls: nothing',
      members: [{ tls: [] }],
      want: { certificates: [], hosts: [], errors: [] },
    },
  ])('$name', ({ members, provider, ids, want }) => {
    expect(build(members, { ...(provider ? { provider } : {}), ...(ids ? { ids } : {}) })).toEqual(want);
  });

  it.each<{ name: string; tls: V1IngressTLS; reason: string; field?: string }>([
    { name: 'no secretName, on a provider that needs one', tls: { hosts: ['a.example.com'] }, reason: 'is required (lbc has no default certificate)' },
    { name: 'a Secret that does not exist', tls: { secretName: 'gone' }, reason: 'Secret default/gone does not exist' },
    { name: 'a Secret of another type', tls: { secretName: 'opaque' }, reason: 'Secret default/opaque is of type Opaque, not kubernetes.io/tls' },
    { name: 'a Secret without its key', tls: { secretName: 'nokey' }, reason: 'Secret default/nokey has no tls.key' },
  ])('refuses $name, and still counts its hosts', ({ tls, reason }) => {
    const got = build([{ tls: [{ secretName: 'other' }, tls] }]);
    expect(got.errors).toEqual([{ field: 'spec.tls[1].secretName', object: 'Ingress default/a', reason }]);
    expect(got.certificates).toEqual([fromSecret('default', 'other', [])]);
    expect(got.hosts).toEqual(tls.hosts ?? []);
  });
});
