import type { V1IngressSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GroupActions } from '../../../src/controller/ingress/actions.js';
import { BackendResolver } from '../../../src/controller/ingress/backends.js';
import { RouteTable, type Routes } from '../../../src/controller/ingress/rules.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import type { ModelError } from '../../../src/model/validation.js';
import { ingress, modelProvider, service } from '../fixtures.js';
import { backend, member, path } from './members.js';

const services = [
  service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
  service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 8080 }] }),
];
const provider: ModelProvider = { ...modelProvider(), actionServices: () => [] };
const ACTIONS = { 'test.example/actions.redirect': '{}', 'test.example/actions.deny': '{}' };

/** Members a, b, c… in that order, each with its spec; every action of ACTIONS defined for the group. */
function table(...specs: V1IngressSpec[]): { routes: Routes; errors: ModelError[] } {
  const errors: ModelError[] = [];
  const backends = new BackendResolver(services, errors);
  const routes = new RouteTable(new GroupActions(provider, ACTIONS, backends.resolve, errors), backends.resolve, errors);
  specs.forEach((spec, i) => routes.add(member(ingress(String.fromCharCode(97 + i), spec))));
  return { routes: routes.routes(), errors };
}

const web = backend('web', 80);
const api = backend('api', 'http');
const action = (name: string) => backend(name, 'use-annotation');

describe('RouteTable: routes', () => {
  it.each<{ name: string; specs: V1IngressSpec[]; want: Routes }>([
    {
      name: 'host lower-cased, a missing path is /, rules in member order',
      specs: [{ rules: [{ host: 'Shop.Example.com', http: { paths: [path(undefined, web, 'ImplementationSpecific'), path('/api', api, 'Exact')] } }] }, { rules: [{ http: { paths: [path('/b', web)] } }] }],
      want: {
        rules: [
          { host: 'shop.example.com', path: '/', pathType: 'ImplementationSpecific', targetSet: 'default/web:80', source: 'default/a' },
          { host: 'shop.example.com', path: '/api', pathType: 'Exact', targetSet: 'default/api:8080', source: 'default/a' },
          { path: '/b', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/b' },
        ],
        actionRules: [],
      },
    },
    {
      name: 'a one-label wildcard host, and an empty host for any host',
      specs: [{ rules: [{ host: '*.example.com', http: { paths: [path('/', web)] } }, { host: '', http: { paths: [path('/', web)] } }] }],
      want: {
        rules: [
          { host: '*.example.com', path: '/', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/a' },
          { path: '/', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/a' },
        ],
        actionRules: [],
      },
    },
    {
      name: 'a rule another member already has with the same target is kept once, from the first',
      specs: [{ rules: [{ http: { paths: [path('/', web)] } }] }, { rules: [{ http: { paths: [path('/', backend('web', 'http'))] } }] }],
      want: { rules: [{ path: '/', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/a' }], actionRules: [] },
    },
    {
      name: 'a default backend alone; the same default from two members is one',
      specs: [{ defaultBackend: web }, { defaultBackend: backend('web', 'http') }],
      want: { rules: [], actionRules: [], defaultBackend: 'default/web:80' },
    },
    {
      name: 'action rules remember how many plain rules came before them',
      specs: [{ rules: [{ http: { paths: [path('/a', web), path('/r', action('redirect')), path('/b', api)] } }] }, { defaultBackend: action('deny') }],
      want: {
        rules: [
          { path: '/a', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/a' },
          { path: '/b', pathType: 'Prefix', targetSet: 'default/api:8080', source: 'default/a' },
        ],
        actionRules: [{ path: '/r', pathType: 'Prefix', action: 'redirect', source: 'default/a', before: 1 }],
        defaultAction: 'deny',
      },
    },
  ])('$name', ({ specs, want }) => {
    expect(table(...specs)).toEqual({ routes: want, errors: [] });
  });
});

describe('RouteTable: refusals', () => {
  const first = { rules: [{ host: 'a.example.com', http: { paths: [path('/', web)] } }] };
  it.each<{ name: string; specs: V1IngressSpec[]; errors: ModelError[] }>([
    {
      name: 'a host that is no host name',
      specs: [{ rules: [{ host: 'bad_host', http: { paths: [path('/', web)] } }] }],
      errors: [{ field: 'spec.rules[0].host', object: 'Ingress default/a', reason: '"bad_host" is not a host name or *.wildcard' }],
    },
    {
      name: 'a path type the Ingress API does not have',
      specs: [{ rules: [{ http: { paths: [path('/', web, 'Regex')] } }] }],
      errors: [{ field: 'spec.rules[0].http.paths[0].pathType', object: 'Ingress default/a', reason: '"Regex" is not one of Exact, Prefix, ImplementationSpecific' }],
    },
    {
      name: 'a relative path',
      specs: [{ rules: [{ http: { paths: [path('x', web)] } }] }],
      errors: [{ field: 'spec.rules[0].http.paths[0].path', object: 'Ingress default/a', reason: '"x" must start with /' }],
    },
    {
      name: 'the same host and path to another backend, naming the member that had it first',
      specs: [first, { rules: [{ host: 'A.example.com', http: { paths: [path('/', api)] } }] }],
      errors: [{ field: 'spec.rules[0].http.paths[0]', object: 'Ingress default/b', reason: 'a.example.com / (Prefix) already routes to default/web:80 (from Ingress default/a)' }],
    },
    {
      name: 'an action where a backend already routes',
      specs: [first, { rules: [{ host: 'a.example.com', http: { paths: [path('/', action('redirect'))] } }] }],
      errors: [{ field: 'spec.rules[0].http.paths[0]', object: 'Ingress default/b', reason: 'a.example.com / (Prefix) already routes elsewhere (from Ingress default/a)' }],
    },
    {
      name: 'a backend where an action already routes',
      specs: [{ rules: [{ http: { paths: [path('/', action('redirect'))] } }] }, { rules: [{ http: { paths: [path('/', web)] } }] }],
      errors: [{ field: 'spec.rules[0].http.paths[0]', object: 'Ingress default/b', reason: '* / (Prefix) already routes to the action redirect (from Ingress default/a)' }],
    },
    {
      name: 'a second, different default backend',
      specs: [{ defaultBackend: web }, { defaultBackend: api }],
      errors: [{ field: 'spec.defaultBackend', object: 'Ingress default/b', reason: 'the group already has default backend default/web:80 (from Ingress default/a)' }],
    },
    {
      name: 'a default action after a default backend',
      specs: [{ defaultBackend: web }, { defaultBackend: action('deny') }],
      errors: [{ field: 'spec.defaultBackend', object: 'Ingress default/b', reason: 'the group already has a default backend (from Ingress default/a)' }],
    },
    {
      name: 'a default backend after a default action',
      specs: [{ defaultBackend: action('deny') }, { defaultBackend: web }],
      errors: [{ field: 'spec.defaultBackend', object: 'Ingress default/b', reason: 'the group already has default backend deny (from Ingress default/a)' }],
    },
    {
      name: 'a backend that does not resolve, reported once by the resolver',
      specs: [{ rules: [{ http: { paths: [path('/', backend('gone', 80))] } }] }],
      errors: [{ field: 'spec.rules[0].http.paths[0].backend.service.name', object: 'Ingress default/a', reason: 'Service default/gone does not exist' }],
    },
  ])('$name', ({ specs, errors }) => {
    expect(table(...specs).errors).toEqual(errors);
  });
});
