import type { V1IngressClass } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ingressOwnership, serviceOwnership, type IngressOwnership, type ServiceOwnership } from '../../src/config/ownership.js';
import { config, ingress, ingressClass, service } from '../controller/fixtures.js';

const withDefault = config({ defaultClass: 'lbc.dev/aws' });
const noDefault = config();

describe('serviceOwnership', () => {
  it.each<[string, Parameters<typeof service>[1], typeof withDefault, ServiceOwnership]>([
    ['ClusterIP', { type: 'ClusterIP' }, withDefault, { ours: false, reason: 'type is ClusterIP, not LoadBalancer', whose: 'nobody' }],
    ['no type', {}, withDefault, { ours: false, reason: 'type is ClusterIP, not LoadBalancer', whose: 'nobody' }],
    ['NodePort with our class', { type: 'NodePort', loadBalancerClass: 'lbc.dev/aws' }, withDefault, { ours: false, reason: 'type is NodePort, not LoadBalancer', whose: 'nobody' }],
    ['our class', { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/aws' }, noDefault, { ours: true, provider: 'aws', className: 'lbc.dev/aws', via: 'loadBalancerClass' }],
    ['our custom class', { type: 'LoadBalancer', loadBalancerClass: 'example.com/metal' }, withDefault, { ours: true, provider: 'metal', className: 'example.com/metal', via: 'loadBalancerClass' }],
    ['another class', { type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' }, withDefault, { ours: false, reason: "loadBalancerClass service.k8s.aws/nlb is not one of lbc's classes", whose: 'another' }],
    ['unconfigured lbc.dev class', { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/gce' }, withDefault, { ours: false, reason: "loadBalancerClass lbc.dev/gce is not one of lbc's classes", whose: 'another' }],
    ['no class, default set', { type: 'LoadBalancer' }, withDefault, { ours: true, provider: 'aws', className: 'lbc.dev/aws', via: 'defaultClass' }],
    ['empty class, default set', { type: 'LoadBalancer', loadBalancerClass: '' }, withDefault, { ours: true, provider: 'aws', className: 'lbc.dev/aws', via: 'defaultClass' }],
    ['no class, no default', { type: 'LoadBalancer' }, noDefault, { ours: false, reason: 'no loadBalancerClass, and lbc is not configured as the default (defaultClass)', whose: 'another' }],
  ])('%s', (_name, spec, cfg, want) => {
    expect(serviceOwnership(service('s', spec), cfg)).toEqual(want);
  });
});

describe('ingressOwnership', () => {
  const ours = 'lbc.dev/ingress-controller';
  const classes: V1IngressClass[] = [
    ingressClass('lbc-aws', ours, { provider: 'aws' }),
    ingressClass('lbc-metal', ours, { provider: 'metal' }),
    ingressClass('lbc-plain', ours),
    ingressClass('lbc-ghost', ours, { provider: 'gce' }),
    ingressClass('lbc-foreign-params', ours, { parameters: { apiGroup: 'example.com', kind: 'Widget', name: 'x' } }),
    ingressClass('lbc-class-params', ours, { parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'x' } }),
    ingressClass('nginx', 'k8s.io/ingress-nginx'),
  ];
  const defaultOurs = [...classes, ingressClass('lbc-default', ours, { isDefault: true, provider: 'metal' })];
  const defaultTheirs = [...classes, ingressClass('nginx-default', 'k8s.io/ingress-nginx', { isDefault: true })];
  const twoDefaults = [...defaultOurs, ingressClass('nginx-default', 'k8s.io/ingress-nginx', { isDefault: true })];
  const markedFalse = [...classes, ingressClass('lbc-notdefault', ours, { isDefault: false, provider: 'aws' })];

  it.each<[string, Parameters<typeof ingress>[1], Record<string, string> | undefined, V1IngressClass[], typeof noDefault, IngressOwnership]>([
    ['class naming a provider', { ingressClassName: 'lbc-aws' }, undefined, classes, noDefault, { ours: true, provider: 'aws', className: 'lbc-aws', via: 'ingressClassName' }],
    ['class naming another provider', { ingressClassName: 'lbc-metal' }, undefined, classes, noDefault, { ours: true, provider: 'metal', className: 'lbc-metal', via: 'ingressClassName' }],
    ['class of another controller', { ingressClassName: 'nginx' }, undefined, classes, noDefault, { ours: false, reason: 'IngressClass nginx belongs to controller k8s.io/ingress-nginx', whose: 'another' }],
    ['class that does not exist', { ingressClassName: 'nope' }, undefined, classes, noDefault, { ours: false, reason: 'IngressClass nope does not exist', whose: 'nobody' }],
    ['class without parameters, defaultClass set', { ingressClassName: 'lbc-plain' }, undefined, classes, withDefault, { ours: true, provider: 'aws', className: 'lbc-plain', via: 'ingressClassName' }],
    [
      'class without parameters, no default, two providers',
      { ingressClassName: 'lbc-plain' },
      undefined,
      classes,
      noDefault,
      { ours: true, provider: null, reason: 'IngressClass lbc-plain has no spec.parameters naming a provider, and there is no defaultClass to fall back on' },
    ],
    [
      'class without parameters, single provider',
      { ingressClassName: 'lbc-plain' },
      undefined,
      classes,
      config({ providers: [{ name: 'only', type: 'memory', class: 'lbc.dev/only', options: {} }] }),
      { ours: true, provider: 'only', className: 'lbc-plain', via: 'ingressClassName' },
    ],
    [
      'class naming an unconfigured provider',
      { ingressClassName: 'lbc-ghost' },
      undefined,
      classes,
      noDefault,
      { ours: true, provider: null, reason: 'IngressClass lbc-ghost: spec.parameters.name gce is not a configured provider (aws, metal)' },
    ],
    [
      'class with foreign parameters',
      { ingressClassName: 'lbc-foreign-params' },
      undefined,
      classes,
      noDefault,
      {
        ours: true,
        provider: null,
        reason: 'IngressClass lbc-foreign-params: spec.parameters must be {apiGroup: lbc.dev, kind: Provider, name: <provider>}, got {apiGroup: example.com, kind: Widget}',
      },
    ],
    // aws-load-balancer-controller's own parameters kind (docs/guide/ingress/ingress_class.md): the aws provider serves the class.
    ['class with IngressClassParams, one aws provider', { ingressClassName: 'lbc-class-params' }, undefined, classes, noDefault, { ours: true, provider: 'aws', className: 'lbc-class-params', via: 'ingressClassName' }],
    [
      'class with IngressClassParams, no aws provider',
      { ingressClassName: 'lbc-class-params' },
      undefined,
      classes,
      config({ providers: [{ name: 'metal', type: 'metal', class: 'example.com/metal', options: {} }] }),
      { ours: true, provider: null, reason: 'IngressClass lbc-class-params: spec.parameters name IngressClassParams (elbv2.k8s.aws), which only an aws provider serves, and none is configured' },
    ],
    [
      'class with IngressClassParams, two aws providers, the default one serves it',
      { ingressClassName: 'lbc-class-params' },
      undefined,
      classes,
      config({ providers: [{ name: 'east', type: 'aws', class: 'lbc.dev/east', options: {} }, { name: 'west', type: 'aws', class: 'lbc.dev/west', options: {} }], defaultClass: 'lbc.dev/west' }),
      { ours: true, provider: 'west', className: 'lbc-class-params', via: 'ingressClassName' },
    ],
    ['legacy annotation mapped', {}, { 'kubernetes.io/ingress.class': 'alb' }, classes, noDefault, { ours: true, provider: 'aws', className: 'alb', via: 'legacyAnnotation' }],
    ['legacy annotation unmapped', {}, { 'kubernetes.io/ingress.class': 'nginx' }, defaultOurs, noDefault, { ours: false, reason: 'kubernetes.io/ingress.class: nginx is not in ingress.classAnnotationMap', whose: 'another' }],
    ['field wins over annotation', { ingressClassName: 'nginx' }, { 'kubernetes.io/ingress.class': 'alb' }, classes, noDefault, { ours: false, reason: 'IngressClass nginx belongs to controller k8s.io/ingress-nginx', whose: 'another' }],
    ['no class, our default IngressClass', {}, undefined, defaultOurs, noDefault, { ours: true, provider: 'metal', className: 'lbc-default', via: 'defaultIngressClass' }],
    ['no class, their default IngressClass', {}, undefined, defaultTheirs, withDefault, { ours: false, reason: 'the default IngressClass nginx-default belongs to controller k8s.io/ingress-nginx', whose: 'another' }],
    ['no class, two defaults', {}, undefined, twoDefaults, withDefault, { ours: false, reason: 'no ingressClassName, and 2 IngressClasses are marked default (lbc-default, nginx-default)', whose: 'another' }],
    ['no class, default annotation "false"', {}, undefined, markedFalse, withDefault, { ours: false, reason: 'no ingressClassName, no legacy class annotation, and no default IngressClass', whose: 'nobody' }],
    ['no class, no default', {}, undefined, classes, withDefault, { ours: false, reason: 'no ingressClassName, no legacy class annotation, and no default IngressClass', whose: 'nobody' }],
    [
      'custom controller name',
      { ingressClassName: 'nginx' },
      undefined,
      classes,
      config({ ingress: { controllerName: 'k8s.io/ingress-nginx', classAnnotationMap: {} }, defaultClass: 'example.com/metal' }),
      { ours: true, provider: 'metal', className: 'nginx', via: 'ingressClassName' },
    ],
  ])('%s', (_name, spec, annotations, ics, cfg, want) => {
    expect(ingressOwnership(ingress('i', spec, annotations), ics, cfg)).toEqual(want);
  });
});

describe('ingressOwnership with ingress.className (--ingress-class)', () => {
  const ours = 'lbc.dev/ingress-controller';
  const classes = [ingressClass('alb', ours, { provider: 'aws' }), ingressClass('lbc-metal', ours, { provider: 'metal', isDefault: true })];
  const onlyAlb = config({ ingress: { controllerName: ours, classAnnotationMap: { alb: 'aws', edge: 'metal' }, className: 'alb' } });

  // As aws-load-balancer-controller with --ingress-class set: its class only (field or legacy
  // annotation), and class-less Ingresses are not managed (manageIngressesWithoutIngressClass).
  it.each<[string, Parameters<typeof ingress>[1], Record<string, string> | undefined, IngressOwnership]>([
    ['the class served', { ingressClassName: 'alb' }, undefined, { ours: true, provider: 'aws', className: 'alb', via: 'ingressClassName' }],
    ['the class served, legacy annotation', {}, { 'kubernetes.io/ingress.class': 'alb' }, { ours: true, provider: 'aws', className: 'alb', via: 'legacyAnnotation' }],
    ["another of lbc's classes", { ingressClassName: 'lbc-metal' }, undefined, { ours: false, reason: 'ingress class lbc-metal, and lbc serves only alb (ingress.className)', whose: 'another' }],
    ['another mapped legacy value', {}, { 'kubernetes.io/ingress.class': 'edge' }, { ours: false, reason: 'ingress class edge, and lbc serves only alb (ingress.className)', whose: 'another' }],
    ["no class, lbc's default IngressClass", {}, undefined, { ours: false, reason: 'no ingress class, and lbc serves only alb (ingress.className)', whose: 'another' }],
  ])('%s', (_name, spec, annotations, want) => {
    expect(ingressOwnership(ingress('i', spec, annotations), classes, onlyAlb)).toEqual(want);
  });
});
