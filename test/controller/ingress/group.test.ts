import { describe, expect, it } from 'vitest';
import { groupMembers, groupSettings, mergeGroupAnnotations, type Member } from '../../../src/controller/ingress/group.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import { DEFAULT_HEALTH_CHECK_TIMING } from '../../../src/controller/health-check.js';
import { ingress, modelProvider } from '../fixtures.js';
import { member } from './members.js';

const rules = { rules: [{ http: { paths: [] } }] };
const ing = (name: string, annotations?: Record<string, string>, namespace = 'default') => ingress(name, rules, annotations, namespace);
const noUid = (name: string, annotations?: Record<string, string>) => {
  const i = ing(name, annotations);
  delete i.metadata?.uid;
  return i;
};

describe('groupMembers', () => {
  it.each([
    {
      name: 'a lone Ingress is its own group, under its own ref',
      ingresses: [ing('a')],
      want: { key: 'ingress/default/a', members: ['default/a'], ref: { kind: 'Ingress', namespace: 'default', name: 'a', uid: 'uid-default-a' } },
    },
    {
      name: 'an explicit group is ordered by group.order, then namespace, then name',
      ingresses: [
        ing('z', { 'lbc.dev/group.name': 'g' }, 'a'),
        ing('b', { 'lbc.dev/group.name': 'g', 'lbc.dev/group.order': '-1' }, 'b'),
        ing('a', { 'lbc.dev/group.name': 'g' }, 'b'),
        ing('y', { 'lbc.dev/group.name': 'g' }, 'a'),
      ],
      want: { key: 'group/g', members: ['b/b', 'a/y', 'a/z', 'b/a'], ref: { kind: 'Ingress', namespace: '', name: 'g', uid: 'ingress-group:g' } },
    },
    {
      name: "aws-load-balancer-controller's group annotations join the same group as lbc's",
      ingresses: [ing('a', { 'alb.ingress.kubernetes.io/group.name': 'g', 'alb.ingress.kubernetes.io/group.order': '5' }), ing('b', { 'lbc.dev/group.name': 'g' })],
      want: { key: 'group/g', members: ['default/b', 'default/a'], ref: { kind: 'Ingress', namespace: '', name: 'g', uid: 'ingress-group:g' } },
    },
    {
      name: 'an explicit group needs no uid: its ref is the group name',
      ingresses: [noUid('a', { 'lbc.dev/group.name': 'g' })],
      want: { key: 'group/g', members: ['default/a'], ref: { kind: 'Ingress', namespace: '', name: 'g', uid: 'ingress-group:g' } },
    },
  ])('$name', ({ ingresses, want }) => {
    const r = groupMembers(ingresses);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect({ key: r.group.key, members: r.members.map((m) => `${m.namespace}/${m.name}`), ref: r.ref }).toEqual(want);
  });

  it.each([
    { name: 'no Ingress at all', ingresses: [], errors: [{ field: 'ingresses', reason: 'a group needs at least one Ingress' }] },
    { name: 'a lone Ingress without a uid', ingresses: [noUid('a')], errors: [{ field: 'metadata.uid', object: 'Ingress default/a', reason: 'is required' }] },
    {
      name: 'members of two groups',
      ingresses: [ing('a', { 'lbc.dev/group.name': 'one' }), ing('b', { 'lbc.dev/group.name': 'two' })],
      errors: [{ field: 'metadata.annotations', object: 'Ingress default/b', reason: 'belongs to group/two, not group/one' }],
    },
    {
      name: 'a group name that is no DNS label',
      ingresses: [ing('a', { 'lbc.dev/group.name': 'Not_A_Name' })],
      errors: [{ annotation: 'lbc.dev/group.name', object: 'Ingress default/a', reason: expect.stringContaining('a group name') }],
    },
  ])('refuses $name', ({ ingresses, errors }) => {
    expect(groupMembers(ingresses)).toEqual({ ok: false, errors });
  });
});

describe('mergeGroupAnnotations', () => {
  const prefixes = ['lbc.dev/', 'alb.ingress.kubernetes.io/', 'kubernetes.io/'];
  it.each<{ name: string; members: Member[]; merged: Record<string, string>; errors: unknown[] }>([
    {
      name: 'takes the union of the keys under the prefixes and nothing else',
      members: [member(ing('a', { 'lbc.dev/tags': 'a=b', 'other.io/x': '1' })), member(ing('b', { 'alb.ingress.kubernetes.io/scheme': 'internal' }))],
      merged: { 'lbc.dev/tags': 'a=b', 'alb.ingress.kubernetes.io/scheme': 'internal' },
      errors: [],
    },
    {
      name: 'the same value with other surrounding blanks is no conflict',
      members: [member(ing('a', { 'lbc.dev/tags': 'a=b' })), member(ing('b', { 'lbc.dev/tags': ' a=b\n' }))],
      merged: { 'lbc.dev/tags': 'a=b' },
      errors: [],
    },
    {
      name: 'two values for one key is an error naming both members',
      members: [member(ing('a', { 'lbc.dev/tags': 'a=b' })), member(ing('b', { 'lbc.dev/tags': 'a=c' }))],
      merged: { 'lbc.dev/tags': 'a=b' },
      errors: [{ annotation: 'lbc.dev/tags', object: 'Ingress default/b', reason: 'conflicts within the group: Ingress default/a sets "a=b", this one "a=c"' }],
    },
    {
      name: 'group.name, group.order and the legacy class are per member, even under a prefix',
      members: [
        member(ing('a', { 'alb.ingress.kubernetes.io/group.order': '1', 'kubernetes.io/ingress.class': 'alb', 'lbc.dev/group.name': 'g' })),
        member(ing('b', { 'alb.ingress.kubernetes.io/group.order': '2', 'kubernetes.io/ingress.class': 'other', 'lbc.dev/group.name': 'g' })),
      ],
      merged: {},
      errors: [],
    },
  ])('$name', ({ members, merged, errors }) => {
    expect(mergeGroupAnnotations(members, prefixes)).toEqual({ merged, errors });
  });
});

describe('groupSettings', () => {
  const defaultHc = { protocol: 'HTTP', port: 'traffic-port', path: '/', ...DEFAULT_HEALTH_CHECK_TIMING };
  const optionsProvider: ModelProvider = {
    ...modelProvider(),
    parseOptions: (a) => (a['test.example/mode'] === 'ip' ? { ok: true, options: { mode: 'ip' }, targetType: 'ip' } : { ok: true, options: {} }),
  };
  it.each<{ name: string; provider: ModelProvider; annotations?: Record<string, string>; want: Record<string, unknown> }>([
    { name: "the provider's first target type by default, not explicit", provider: modelProvider(), want: { targetType: 'instance', explicitTargetType: false, healthCheck: defaultHc, options: {} } },
    { name: 'lbc.dev/target-type', provider: modelProvider(), annotations: { 'lbc.dev/target-type': 'ip' }, want: { targetType: 'ip', explicitTargetType: true } },
    { name: "the provider's own annotation", provider: optionsProvider, annotations: { 'test.example/mode': 'ip' }, want: { targetType: 'ip', explicitTargetType: true, options: { mode: 'ip' } } },
    { name: 'health check overrides', provider: modelProvider(), annotations: { 'lbc.dev/health-check-path': '/hz', 'lbc.dev/health-check-interval': '30s' }, want: { healthCheck: { ...defaultHc, path: '/hz', intervalSeconds: 30 } } },
    { name: 'certificate ids, tags and source ranges', provider: modelProvider(), annotations: { 'lbc.dev/certificate-ids': 'c1,c2', 'lbc.dev/tags': 'team=a', 'lbc.dev/load-balancer-source-ranges': '10.0.0.0/8' }, want: { lbc: expect.objectContaining({ certificateIds: ['c1', 'c2'], tags: { team: 'a' }, sourceRanges: ['10.0.0.0/8'] }) } },
  ])('reads $name', ({ provider, annotations, want }) => {
    const r = groupSettings([member(ing('a', annotations))], provider);
    expect(r.errors).toEqual([]);
    expect(r.settings).toMatchObject(want);
  });

  it.each<{ name: string; provider: ModelProvider; annotations?: Record<string, string>; errors: unknown[] }>([
    { name: 'a provider without L7', provider: modelProvider(['instance'], ['L4']), errors: [{ field: 'spec.ingressClassName', object: 'Ingress default/a', reason: 'provider test does not serve Ingresses (no L7 support)' }] },
    {
      name: 'a target type the provider lacks',
      provider: modelProvider(['instance']),
      annotations: { 'lbc.dev/target-type': 'ip' },
      errors: [{ annotation: 'lbc.dev/target-type', reason: 'provider test does not support ip targets (supports instance)' }],
    },
    {
      name: 'a health check timeout longer than its interval',
      provider: modelProvider(),
      annotations: { 'lbc.dev/health-check-timeout': '20s' },
      errors: [{ annotation: 'lbc.dev/health-check-timeout', reason: 'timeout 20s is longer than the interval 10s' }],
    },
  ])('refuses $name, and still hands the rules the merged annotations', ({ provider, annotations, errors }) => {
    const r = groupSettings([member(ing('a', { ...annotations, 'test.example/actions.x': '{}' }))], provider);
    expect(r.errors).toEqual(errors);
    expect(r.settings).toBeUndefined();
    expect(r.annotations).toMatchObject({ 'test.example/actions.x': '{}' });
  });
});
