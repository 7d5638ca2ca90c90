import type { V1IngressBackend } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { actionServicesOf, GroupActions } from '../../../src/controller/ingress/actions.js';
import { BackendResolver } from '../../../src/controller/ingress/backends.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import type { ModelError } from '../../../src/model/validation.js';
import type { ActionServiceRef } from '../../../src/providers/types.js';
import { ingress, modelProvider, service } from '../fixtures.js';
import { backend, member } from './members.js';

// The test provider's action format: `service:port,service:port`, the port as written.
const readActions = (v: string): ActionServiceRef[] =>
  v.split(',').map((x) => {
    const [svc = '', port] = x.split(':');
    return { service: svc, ...(port !== undefined ? { port } : {}) };
  });
const withActions = (prefixes: string[] = ['test.example/', 'alt.example/']): ModelProvider => ({
  name: 'acts',
  capabilities: { ...modelProvider().capabilities, annotationPrefixes: prefixes },
  actionServices: readActions,
});

describe('actionServicesOf', () => {
  it.each<{ name: string; providers: ModelProvider[]; annotations: Record<string, string>; want: string[] }>([
    { name: 'every action under every prefix of a provider with actions', providers: [withActions()], annotations: { 'test.example/actions.a': 'web:80,api:http', 'alt.example/actions.b': 'shop', 'test.example/other': 'x:1' }, want: ['web', 'api', 'shop'] },
    { name: 'nothing from a provider without actions, even under its prefix', providers: [modelProvider()], annotations: { 'test.example/actions.a': 'web:80' }, want: [] },
    { name: 'each provider reads only its own prefixes', providers: [withActions(['alt.example/']), modelProvider()], annotations: { 'test.example/actions.a': 'web:80', 'alt.example/actions.b': 'api' }, want: ['api'] },
  ])('$name', ({ providers, annotations, want }) => {
    expect(actionServicesOf(providers)(ingress('a', {}, annotations))).toEqual(want);
  });
});

const services = ['default', 'other'].flatMap((ns) => [
  service('web', { ports: [{ name: 'http', port: 80 }] }, undefined, ns),
  service('api', { ports: [{ name: 'http', port: 8080 }] }, undefined, ns),
]);

function actions(provider: ModelProvider, annotations: Record<string, string>): { actions: GroupActions; errors: ModelError[] } {
  const errors: ModelError[] = [];
  const resolver = new BackendResolver(services, errors);
  return { actions: new GroupActions(provider, annotations, resolver.resolve, errors), errors };
}

describe('GroupActions.nameOf', () => {
  it.each<{ name: string; provider: ModelProvider; annotations: Record<string, string>; backend: V1IngressBackend | undefined; want: string | null | undefined; errors: ModelError[] }>([
    { name: 'a Service backend is no action', provider: withActions(), annotations: {}, backend: backend('web', 80), want: null, errors: [] },
    { name: 'no backend is no action', provider: withActions(), annotations: {}, backend: undefined, want: null, errors: [] },
    { name: 'an action defined under any of the prefixes', provider: withActions(), annotations: { 'alt.example/actions.go': 'web:80' }, backend: backend('go', 'use-annotation'), want: 'go', errors: [] },
    {
      name: 'an undefined action, naming the prefix the group already uses for actions',
      provider: withActions(),
      annotations: { 'alt.example/actions.other': 'web:80' },
      backend: backend('go', 'use-annotation'),
      want: undefined,
      errors: [{ field: 'f.service.name', object: 'o', reason: 'port use-annotation refers to the action go, but no alt.example/actions.go annotation defines it' }],
    },
    {
      name: 'an undefined action, naming every prefix when the group uses none',
      provider: withActions(),
      annotations: {},
      backend: backend('go', 'use-annotation'),
      want: undefined,
      errors: [{ field: 'f.service.name', object: 'o', reason: 'port use-annotation refers to the action go, but no test.example/actions.go or alt.example/actions.go annotation defines it' }],
    },
    {
      name: 'an action on a provider that reads no annotations',
      provider: withActions([]),
      annotations: {},
      backend: backend('go', 'use-annotation'),
      want: undefined,
      errors: [{ field: 'f.service.name', object: 'o', reason: 'port use-annotation needs a provider with annotation actions; acts has none' }],
    },
  ])('$name', ({ provider, annotations, backend: b, want, errors }) => {
    const a = actions(provider, annotations);
    expect(a.actions.nameOf(b, 'f', 'o')).toBe(want);
    expect(a.errors).toEqual(errors);
  });
});

describe('GroupActions.use and targetSets', () => {
  const ing = (name: string, namespace = 'default') => member(ingress(name, {}, undefined, namespace));
  it.each<{ name: string; annotations: Record<string, string>; uses: [ReturnType<typeof ing>, string][]; want: Record<string, Record<string, string>> | undefined; errors: ModelError[] }>([
    {
      name: "resolves the Services an action forwards to in the using member's namespace, a numeric string as the port number",
      annotations: { 'test.example/actions.split': 'web:80,api:http' },
      uses: [[ing('a', 'other'), 'split']],
      want: { split: { 'web:80': 'other/web:80', 'api:http': 'other/api:8080' } },
      errors: [],
    },
    {
      name: 'once per action, in action order',
      annotations: { 'test.example/actions.b': 'web:80', 'test.example/actions.a': 'api:8080' },
      uses: [[ing('x'), 'b'], [ing('y'), 'a'], [ing('z'), 'b']],
      want: { a: { 'api:8080': 'default/api:8080' }, b: { 'web:80': 'default/web:80' } },
      errors: [],
    },
    {
      name: 'a missing Service is an error at the forward, and the others still resolve',
      annotations: { 'test.example/actions.split': 'gone:80,web:80' },
      uses: [[ing('a'), 'split']],
      want: { split: { 'web:80': 'default/web:80' } },
      errors: [{ field: 'metadata.annotations[test.example/actions.split].forwardConfig.targetGroups[0].service.name', object: 'Ingress default/a', reason: 'Service default/gone does not exist' }],
    },
    {
      name: 'one action used from two namespaces is refused',
      annotations: { 'test.example/actions.split': 'web:80' },
      uses: [[ing('a'), 'split'], [ing('b', 'other'), 'split']],
      want: { split: { 'web:80': 'default/web:80' } },
      errors: [{ annotation: 'test.example/actions.split', object: 'Ingress other/b', reason: 'forwards to Services by name, and Ingresses of namespaces default and other both use it; give each namespace its own action' }],
    },
    { name: 'no forward at all: no target sets', annotations: {}, uses: [], want: undefined, errors: [] },
  ])('$name', ({ annotations, uses, want, errors }) => {
    const a = actions(withActions(), annotations);
    for (const [m, name] of uses) a.actions.use(m, name, `Ingress ${m.namespace}/${m.name}`);
    expect(a.actions.targetSets()).toEqual(want);
    expect(a.errors).toEqual(errors);
  });

  it('a provider that cannot say which Services an action forwards to resolves none', () => {
    const a = actions(modelProvider(), { 'test.example/actions.split': 'web:80' });
    a.actions.use(ing('a'), 'split', 'o');
    expect(a.actions.targetSets()).toBeUndefined();
    expect(a.errors).toEqual([]);
  });
});
