// IngressClassParams as aws-load-balancer-controller v3.5 documents them
// (docs/guide/ingress/ingress_class.md, "IngressClassParams specification"): each field the
// params set overrides the Ingress's annotation ("If the field is specified, LBC will ignore
// the alb.ingress.kubernetes.io/... annotation"); tags and load-balancer attributes merge,
// the params winning per key ("spec.tags in IngressClassParams will have the middle
// priority, alb.ingress.kubernetes.io/tags annotation will have the lowest");
// group.name puts every Ingress of the class in that group; namespaceSelector refuses the
// Ingresses of namespaces it does not select. Fields lbc does not implement are named.
import type { V1Ingress, V1IngressClass } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  applyClassParams,
  nameParamsField,
  paramsClassOf,
  resolveClassParams,
  someParamsUnreadable,
  type ClassParams,
  type ClassParamsLookups,
  type IngressClassParamsSpec,
} from '../../../src/controller/ingress/class-params.js';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import { groupKeyOf } from '../../../src/controller/ingress-reconciler.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import type { L7Spec } from '../../../src/model/spec.js';
import { INGRESS_PREFIX as A, SERVICE_PREFIX, ingressAnnotationScopes, parseAwsOptions, type AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { ingress, node, service, slice } from '../fixtures.js';

const aws: ModelProvider<AwsLbOptions> = {
  name: 'aws',
  capabilities: { layers: ['L4', 'L7'], targetTypes: ['instance', 'ip'], annotationPrefixes: [SERVICE_PREFIX, A], annotationScopes: ingressAnnotationScopes },
  parseOptions: parseAwsOptions,
};

const params = (spec: IngressClassParamsSpec, name = 'team-a'): ClassParams => ({ name, spec });
const rules = (host: string, svc = 'web') => ({ ingressClassName: 'alb', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] });
const ing = (annotations: Record<string, string> = {}, ns = 'default', name = 'site', host = 'site.example.com'): V1Ingress => ingress(name, rules(host), annotations, ns);

/** The AWS options the provider reads from the Ingress the params make. */
function options(annotations: Record<string, string>, spec: IngressClassParamsSpec): AwsLbOptions {
  const r = applyClassParams(ing(annotations), params(spec), {});
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const parsed = parseAwsOptions(r.ingress.metadata?.annotations ?? {}, 'Ingress');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.options;
}

describe('IngressClassParams fields over the Ingress annotations (ALBC ingress_class.md)', () => {
  const cases: { field: string; spec: IngressClassParamsSpec; annotations: Record<string, string>; want: Partial<AwsLbOptions> }[] = [
    { field: 'scheme', spec: { scheme: 'internal' }, annotations: { [`${A}scheme`]: 'internet-facing' }, want: { scheme: 'internal' } },
    { field: 'ipAddressType', spec: { ipAddressType: 'dualstack' }, annotations: { [`${A}ip-address-type`]: 'ipv4' }, want: { ipAddressType: 'dualstack' } },
    { field: 'inboundCIDRs', spec: { inboundCIDRs: ['10.0.0.0/8'] }, annotations: { [`${A}inbound-cidrs`]: '0.0.0.0/0' }, want: { inboundCidrs: ['10.0.0.0/8'] } },
    {
      field: 'certificateArn',
      spec: { certificateArn: ['arn:aws:acm:us-east-1:123456789012:certificate/a', 'arn:aws:acm:us-east-1:123456789012:certificate/b'] },
      annotations: { [`${A}certificate-arn`]: 'arn:aws:acm:us-east-1:123456789012:certificate/mine' },
      want: { certificateArns: ['arn:aws:acm:us-east-1:123456789012:certificate/a', 'arn:aws:acm:us-east-1:123456789012:certificate/b'] },
    },
    { field: 'sslPolicy', spec: { sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }, annotations: { [`${A}ssl-policy`]: 'ELBSecurityPolicy-2016-08' }, want: { sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' } },
    { field: 'subnets.ids', spec: { subnets: { ids: ['subnet-0aaa', 'subnet-0bbb'] } }, annotations: { [`${A}subnets`]: 'subnet-0ccc' }, want: { subnets: ['subnet-0aaa', 'subnet-0bbb'] } },
    { field: 'prefixListsIDs', spec: { prefixListsIDs: ['pl-0abc'] }, annotations: { [`${A}security-group-prefix-lists`]: 'pl-0def' }, want: { prefixLists: ['pl-0abc'] } },
    { field: 'PrefixListsIDs (the CRD\'s older spelling)', spec: { PrefixListsIDs: ['pl-0abc'] }, annotations: {}, want: { prefixLists: ['pl-0abc'] } },
    { field: 'loadBalancerName', spec: { loadBalancerName: 'team-a-alb' }, annotations: { [`${A}load-balancer-name`]: 'mine' }, want: { name: 'team-a-alb' } },
    { field: 'sslRedirectPort', spec: { sslRedirectPort: '443' }, annotations: {}, want: { sslRedirect: 443 } },
    {
      field: 'wafv2AclArn',
      spec: { wafv2AclArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/team/1111' },
      annotations: { [`${A}wafv2-acl-arn`]: 'none' },
      want: { wafv2AclArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/team/1111' },
    },
    {
      field: 'tags: merged by key, the params winning',
      spec: { tags: [{ key: 'org', value: 'my-org' }, { key: 'env', value: 'prod' }] },
      annotations: { [`${A}tags`]: 'env=dev,team=web' },
      want: { tags: { env: 'prod', team: 'web', org: 'my-org' } },
    },
    {
      field: 'loadBalancerAttributes: merged by key, the params winning',
      spec: { loadBalancerAttributes: [{ key: 'deletion_protection.enabled', value: 'true' }, { key: 'idle_timeout.timeout_seconds', value: '120' }] },
      annotations: { [`${A}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=30,routing.http2.enabled=false' },
      want: { loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '120', 'routing.http2.enabled': 'false', 'deletion_protection.enabled': 'true' } },
    },
  ];
  for (const c of cases) {
    it(`spec.${c.field} overrides the annotation`, () => {
      expect(options(c.annotations, c.spec)).toMatchObject(c.want);
    });
  }

  it('an annotation the params do not set stays the Ingress\'s (spec.scheme unset: the scheme annotation is read)', () => {
    expect(options({ [`${A}scheme`]: 'internet-facing' }, { ipAddressType: 'ipv4' }).scheme).toBe('internet-facing');
  });

  it('spec.group.name puts the Ingress in that group, over both group.name annotations', () => {
    const p = params({ group: { name: 'shared' } });
    const variants: Record<string, string>[] = [{}, { [`${A}group.name`]: 'mine' }, { 'lbc.dev/group.name': 'mine' }];
    for (const annotations of variants) {
      const r = applyClassParams(ing(annotations), p, {});
      if (!r.ok) throw new Error('refused');
      expect(groupKeyOf(r.ingress)).toBe('group/shared');
    }
    expect(groupKeyOf(ing({ [`${A}group.name`]: 'mine' }))).toBe('group/mine');
  });

  it('spec.targetType comes before the backend Service\'s target-type annotation (the administrator\'s setting)', () => {
    const r = applyClassParams(ing({}), params({ targetType: 'ip' }), {});
    if (!r.ok) throw new Error('refused');
    const web = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }, { [`${A}target-type`]: 'instance' });
    const built = buildIngressModel({
      ingresses: [r.ingress],
      services: [web],
      endpointSlices: [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.1' }])],
      secrets: [],
      nodes: [node('n1')],
      provider: aws,
      className: 'alb',
      clusterName: 'test',
    });
    if (!built.ok) throw new Error(JSON.stringify(built));
    expect((built.spec as L7Spec<AwsLbOptions>).targetSets.map((t) => t.type)).toEqual(['ip']);
  });
});

// ALBC ingress_class.md "spec.subnets.tags" (a map of tag filters over the VPC's subnets,
// one chosen per zone), model_build_load_balancer.go buildLoadBalancerSubnetMappings (the
// params' selector over the member's annotation, refused against another member's), and the
// IngressClassParams webhook's checks (ingressclassparams_validator.go checkSubnetSelectors).
describe('spec.subnets.tags (ALBC subnet_resolver.go ResolveViaSelector)', () => {
  const web = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] });
  const build = (ingresses: V1Ingress[]) =>
    buildIngressModel({ ingresses, services: [web], endpointSlices: [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.1' }])], secrets: [], nodes: [node('n1')], provider: aws, className: 'alb', clusterName: 'test' });

  it('reach the provider as subnets by tags, over the Ingress\'s subnets annotation', () => {
    const o = options({ [`${A}subnets`]: 'subnet-0ccc,subnet-0ddd' }, { subnets: { tags: { tier: ['web'], env: ['prod', 'staging'] } } });
    expect(o.subnetTags).toEqual({ env: ['prod', 'staging'], tier: ['web'] });
    expect(o.subnets).toBeUndefined();
  });

  it('are in the load balancer spec the model builder gives the provider', () => {
    const r = applyClassParams(ing(), params({ subnets: { tags: { tier: ['web'] } } }), {});
    if (!r.ok) throw new Error('refused');
    const built = build([r.ingress]);
    if (!built.ok) throw new Error(JSON.stringify(built));
    expect((built.spec as L7Spec<AwsLbOptions>).providerOptions).toMatchObject({ subnetTags: { tier: ['web'] } });
    expect((built.spec as L7Spec<AwsLbOptions>).providerOptions).not.toHaveProperty('subnets');
  });

  it('two classes with the same selector share a group; another member naming subnets is refused ("conflicting subnet specifications")', () => {
    const group = { [`${A}group.name`]: 'shared' };
    const a = applyClassParams(ing(group, 'default', 'a', 'a.example.com'), params({ subnets: { tags: { tier: ['web'], env: ['prod'] } } }, 'one'), {});
    const b = applyClassParams(ing(group, 'default', 'b', 'b.example.com'), params({ subnets: { tags: { env: ['prod'], tier: ['web'] } } }, 'two'), {});
    if (!a.ok || !b.ok) throw new Error('refused');
    expect(build([a.ingress, b.ingress]).ok).toBe(true);
    const c = ing({ ...group, [`${A}subnets`]: 'subnet-0ccc,subnet-0ddd' }, 'default', 'c', 'c.example.com');
    const built = build([a.ingress, c]);
    if (built.ok || built.reason !== 'invalid') throw new Error('expected invalid');
    expect(built.errors.map((e) => ('annotation' in e ? `${e.annotation}: ${e.reason}` : e.reason))).toEqual([
      `${A}subnets: conflicting subnet specifications: IngressClassParams versus annotation (the class's spec.subnets.tags selects the subnets of this group)`,
    ]);
  });

  it.each<[string, NonNullable<IngressClassParamsSpec['subnets']>, { field: string; reason: string }[]]>([
    ['neither ids nor tags', {}, [{ field: 'spec.subnets', reason: 'Required value: must have either `ids` or `tags`' }]],
    ['both ids and tags', { ids: ['subnet-0aaa'], tags: { tier: ['web'] } }, [{ field: 'spec.subnets.tags', reason: 'Forbidden: may not have both `ids` and `tags` set' }]],
    ['tags without a key', { tags: {} }, [{ field: 'spec.subnets.tags', reason: 'Required value: must have at least one tag key' }]],
    ['an ID twice', { ids: ['subnet-0aaa', 'subnet-0bbb', 'subnet-0aaa'] }, [{ field: 'spec.subnets.ids[2]', reason: 'Duplicate value: "subnet-0aaa"' }]],
    ['a value twice', { tags: { Name: ['a'], Other: ['x', 'y', 'x'] } }, [{ field: 'spec.subnets.tags["Other"][2]', reason: 'Duplicate value: "x"' }]],
    ['a key without values', { tags: { tier: [] } }, [{ field: 'spec.subnets.tags["tier"]', reason: 'no values: a subnet must have one of the values listed for each key' }]],
  ])('%s is refused as ALBC\'s IngressClassParams webhook refuses it', (_, subnets, want) => {
    const r = applyClassParams(ing(), params({ subnets }), {});
    expect(r.ok ? [] : r.errors).toEqual(want.map((w) => ({ object: 'IngressClassParams team-a', ...w })));
  });
});

describe('a value the params set that lbc refuses', () => {
  it('is named as the params field, not as an annotation the user never wrote (ipAddressType dualstack-without-public-ipv4)', () => {
    const r = applyClassParams(ing(), params({ ipAddressType: 'dualstack-without-public-ipv4' }), {});
    if (!r.ok) throw new Error('refused');
    const web = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] });
    const built = buildIngressModel({ ingresses: [r.ingress], services: [web], endpointSlices: [], secrets: [], nodes: [node('n1')], provider: aws, className: 'alb', clusterName: 'test' });
    if (built.ok || built.reason !== 'invalid') throw new Error('expected invalid');
    const named = built.errors.map((e) => nameParamsField(e, [r.ingress]));
    expect(named).toEqual([{ object: 'IngressClassParams team-a (class of Ingress default/site)', field: 'spec.ipAddressType', reason: expect.stringContaining('dualstack-without-public-ipv4') }]);
  });
});

describe('spec.namespaceSelector (ALBC class_loader.go: "namespaceSelector of IngressClassParams %v mismatch")', () => {
  const p = params({ namespaceSelector: { matchLabels: { team: 'team-a' } } });

  it('admits an Ingress of a selected namespace', () => {
    expect(applyClassParams(ing({}, 'shop'), p, { team: 'team-a' }).ok).toBe(true);
  });

  it('refuses an Ingress of a namespace it does not select, naming the namespace and the params', () => {
    const r = applyClassParams(ing({}, 'mallory'), p, { team: 'team-b' });
    expect(r).toEqual({
      ok: false,
      refusal: 'namespace',
      errors: [{ object: 'Ingress mallory/site', field: 'metadata.namespace', reason: 'namespace mallory is not allowed: namespaceSelector of IngressClassParams team-a mismatch' }],
    });
  });

  it('refuses when the namespace\'s labels cannot be read', () => {
    expect(applyClassParams(ing({}, 'gone'), p, undefined).ok).toBe(false);
  });

  it('matchExpressions hold as label selectors do; an unknown operator is refused as ALBC\'s LabelSelectorAsSelector refuses it', () => {
    const expr = params({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] } });
    expect(applyClassParams(ing({}, 'x'), expr, { team: 'b' }).ok).toBe(true);
    expect(applyClassParams(ing({}, 'x'), expr, { team: 'c' }).ok).toBe(false);
    const bad = applyClassParams(ing({}, 'x'), params({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Equals', values: ['a'] }] } }), { team: 'a' });
    expect(bad.ok ? [] : bad.errors.map((e) => e.reason)).toEqual(['operator "Equals" is not In, NotIn, Exists or DoesNotExist']);
  });

  it('no namespaceSelector: every namespace may use the class', () => {
    expect(applyClassParams(ing({}, 'anywhere'), params({ scheme: 'internal' }), undefined).ok).toBe(true);
  });
});

describe('fields lbc does not implement are never dropped silently', () => {
  it('spec.wafv2AclName guards the application: the Ingress is refused, not exposed without its WAF', () => {
    const r = applyClassParams(ing(), params({ wafv2AclName: 'team-acl' }), {});
    expect(r.ok ? [] : r.errors.map((e) => 'field' in e && e.field)).toEqual(['spec.wafv2AclName']);
  });

  it('spec.listeners, spec.ipamConfiguration and spec.minimumLoadBalancerCapacity are Warnings naming the field', () => {
    const r = applyClassParams(
      ing(),
      params({ listeners: [{ port: 80, protocol: 'HTTP', listenerAttributes: [{ key: 'routing.http.response.server.enabled', value: 'false' }] }], ipamConfiguration: { ipv4IPAMPoolId: 'ipam-pool-1' }, minimumLoadBalancerCapacity: { capacityUnits: 100 } }),
      {},
    );
    if (!r.ok) throw new Error('refused');
    expect(r.warnings).toEqual([
      'IngressClassParams team-a: field spec.ipamConfiguration (IPAM pool for the load balancer\'s addresses) is not implemented by lbc and has no effect',
      'IngressClassParams team-a: field spec.listeners (listener attributes) is not implemented by lbc and has no effect',
      'IngressClassParams team-a: field spec.minimumLoadBalancerCapacity (load balancer capacity reservation) is not implemented by lbc and has no effect',
    ]);
  });
});

describe('which params an Ingress gets', () => {
  const classes: V1IngressClass[] = [
    { metadata: { name: 'alb' }, spec: { controller: 'lbc.dev/ingress', parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'team-a' } } },
    { metadata: { name: 'plain', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'lbc.dev/ingress' } },
  ];
  const lookups = (known: Record<string, IngressClassParamsSpec>, unavailable?: string): ClassParamsLookups => ({
    classes: () => classes,
    params: (n) => (known[n] ? params(known[n], n) : undefined),
    unavailable: () => unavailable,
    namespaceLabels: () => ({}),
  });

  it('the class spec.ingressClassName names; the default class without one; none through the legacy annotation (ALBC classifyIngress)', () => {
    expect(paramsClassOf(ing(), classes)?.metadata?.name).toBe('alb');
    expect(paramsClassOf(ingress('x', { rules: [] }), classes)?.metadata?.name).toBe('plain');
    expect(paramsClassOf(ingress('x', { rules: [] }, { 'kubernetes.io/ingress.class': 'alb' }), classes)).toBeUndefined();
  });

  it('params that do not exist, or a CRD that is not served: nothing is built (missing), named', () => {
    expect(resolveClassParams(ing(), lookups({}))).toEqual({ kind: 'missing', message: 'IngressClass alb names IngressClassParams team-a, which does not exist' });
    expect(resolveClassParams(ing(), lookups({ 'team-a': {} }, 'the IngressClassParams CRD (elbv2.k8s.aws/v1beta1) is not installed'))).toEqual({
      kind: 'missing',
      message: 'IngressClass alb names IngressClassParams team-a, but the IngressClassParams CRD (elbv2.k8s.aws/v1beta1) is not installed',
    });
  });

  it('groupKeyOf reads the group the class\'s params name', () => {
    const l = lookups({ 'team-a': { group: { name: 'shared' } } });
    expect(groupKeyOf(ing({ [`${A}group.name`]: 'mine' }), l)).toBe('group/shared');
    expect(groupKeyOf(ing({ [`${A}group.name`]: 'mine' }), lookups({ 'team-a': {} }))).toBe('group/mine');
    expect(groupKeyOf(ingress('x', { rules: [] }, {}, 'ns'), l)).toBe('ingress/ns/x');
  });

  it('params deleted: the Ingress stays keyed under the group they last named, so that group\'s load balancer is kept, not left without members', () => {
    const gone: ClassParamsLookups = { ...lookups({}), lastGroup: (n) => (n === 'team-a' ? 'shared' : undefined) };
    expect(groupKeyOf(ing({ [`${A}group.name`]: 'mine' }), gone)).toBe('group/shared');
    expect(resolveClassParams(ing(), gone).kind).toBe('missing');
    expect(someParamsUnreadable([ing()], gone)).toBe(true);
    expect(someParamsUnreadable([ing()], lookups({ 'team-a': {} }))).toBe(false);
  });
});
