// Listeners, their certificates, attributes (listener-attributes.ts) and (ALB) their rules.
// Synthesizer (diffListeners) and manager (the ELBv2 calls) for the kind. Listeners are
// matched by port; a listener whose port changed while it still forwards to the same target
// group is modified in place (ModifyListener can change the port), so a port edit is one
// call and no gap. Rules are matched by priority, which is their position in the spec's order.
import {
  AddListenerCertificatesCommand,
  CreateListenerCommand,
  CreateRuleCommand,
  DeleteListenerCommand,
  DeleteRuleCommand,
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  ModifyListenerAttributesCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RemoveListenerCertificatesCommand,
  type Action,
  type Listener,
  type ProtocolEnum,
  type Rule,
  type RuleCondition,
  type RuleTransform,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import { sameAuth, type DesiredAuth } from './authentication.js';
import type { DesiredAction, DesiredCondition, DesiredListener, DesiredRule, DesiredTransform } from './desired.js';
import { hasCode } from './errors.js';
import { fromAwsMutualAuth, sameMutualAuth, toAwsMutualAuth, type DesiredMutualAuth } from './mutual-authentication.js';
import type { ApplyContext, Step } from './plan.js';
import { toAwsTags, type Tags } from './tags.js';

export interface ActualRule {
  readonly arn: string;
  readonly priority: number;
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly conditions: readonly DesiredCondition[];
  /** Conditions lbc cannot read: such a rule never matches a desired one. */
  readonly foreignConditions: boolean;
  readonly auth?: DesiredAuth;
  readonly action: DesiredAction | undefined;
  readonly transforms: readonly DesiredTransform[];
}

export interface ActualListener {
  readonly arn: string;
  readonly port: number;
  readonly protocol: string;
  /** The default certificate first. */
  readonly certificates: readonly string[];
  readonly sslPolicy?: string;
  /** ELBv2's MutualAuthentication; absent reads as off. */
  readonly mutualAuthentication?: DesiredMutualAuth;
  /** TLS listeners: ELBv2's AlpnPolicy; absent reads as None. */
  readonly alpnPolicy?: string;
  /** Read only when the desired listener on its port has attributes (withListenerAttributes). */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly defaultAuth?: DesiredAuth;
  readonly defaultAction: DesiredAction | undefined;
  readonly rules: readonly ActualRule[];
}

const SECURE = new Set(['HTTPS', 'TLS']);
const ALPN_NONE = 'None';

/** AWS's own defaults for redirect fields left out, so an unchanged redirect compares equal. */
function normalizeAction(a: DesiredAction): DesiredAction {
  if (a.type === 'redirect') {
    return {
      type: 'redirect',
      statusCode: a.statusCode,
      protocol: a.protocol ?? '#{protocol}',
      port: a.port ?? '#{port}',
      host: a.host ?? '#{host}',
      path: a.path ?? '/#{path}',
      query: a.query ?? '#{query}',
    };
  }
  if (a.type === 'fixed-response') return { type: 'fixed-response', statusCode: a.statusCode, contentType: a.contentType ?? '', messageBody: a.messageBody ?? '' };
  if (a.type === 'forward-weighted') {
    // Order does not matter to ALB; absent stickiness is ALB's "disabled".
    const targetGroups = [...a.targetGroups].sort((x, y) => (x.targetGroup < y.targetGroup ? -1 : x.targetGroup > y.targetGroup ? 1 : x.weight - y.weight));
    return { type: 'forward-weighted', targetGroups, ...(a.stickinessSeconds !== undefined ? { stickinessSeconds: a.stickinessSeconds } : {}), ...(a.sticky ? { sticky: a.sticky } : {}) };
  }
  return a;
}

export function sameAction(a: DesiredAction | undefined, b: DesiredAction | undefined): boolean {
  if (!a || !b) return false;
  return JSON.stringify(normalizeAction(a)) === JSON.stringify(normalizeAction(b));
}

/** An AWS authenticate action in lbc's form (without the client secret, which ELBv2 never returns). */
function fromAwsAuth(a: Action): DesiredAuth | undefined {
  const common = (c: { Scope?: string; SessionCookieName?: string; SessionTimeout?: number; OnUnauthenticatedRequest?: string; AuthenticationRequestExtraParams?: Record<string, string | undefined> }) => ({
    scope: c.Scope ?? 'openid',
    sessionCookieName: c.SessionCookieName ?? 'AWSELBAuthSessionCookie',
    sessionTimeout: c.SessionTimeout ?? 604800,
    onUnauthenticatedRequest: c.OnUnauthenticatedRequest ?? 'authenticate',
    extraParams: Object.fromEntries(Object.entries(c.AuthenticationRequestExtraParams ?? {}).flatMap(([k, v]) => (v !== undefined ? [[k, v]] : []))),
  });
  const o = a.AuthenticateOidcConfig;
  if (a.Type === 'authenticate-oidc' && o) {
    return {
      type: 'authenticate-oidc',
      ...common(o),
      issuer: o.Issuer ?? '',
      authorizationEndpoint: o.AuthorizationEndpoint ?? '',
      tokenEndpoint: o.TokenEndpoint ?? '',
      userInfoEndpoint: o.UserInfoEndpoint ?? '',
      clientId: o.ClientId ?? '',
    };
  }
  const g = a.AuthenticateCognitoConfig;
  if (a.Type === 'authenticate-cognito' && g) {
    return { type: 'authenticate-cognito', ...common(g), userPoolArn: g.UserPoolArn ?? '', userPoolClientId: g.UserPoolClientId ?? '', userPoolDomain: g.UserPoolDomain ?? '' };
  }
  return undefined;
}

/** An AWS action list as lbc writes them: an optional authenticate action (Order 1), then one other. */
function fromAwsActions(actions: readonly Action[] | undefined, tgNames: ReadonlyMap<string, string>): { auth?: DesiredAuth; action: DesiredAction | undefined } {
  const list = [...(actions ?? [])].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
  if (list.length === 2 && list[0] !== undefined) {
    const auth = fromAwsAuth(list[0]);
    // An unreadable first action leaves no auth and no action: the rule is rewritten.
    return auth ? { auth, action: fromAwsAction(list.slice(1), tgNames) } : { action: undefined };
  }
  return { action: fromAwsAction(list, tgNames) };
}

/** An AWS action in lbc's form; forwards name their group (via tgNames), so names compare across ARNs. */
function fromAwsAction(actions: readonly Action[] | undefined, tgNames: ReadonlyMap<string, string>): DesiredAction | undefined {
  if (!actions || actions.length !== 1) return undefined;
  const a = actions[0];
  if (!a) return undefined;
  if (a.Type === 'forward') {
    const groups = a.ForwardConfig?.TargetGroups ?? [];
    // A group lbc does not own keeps its ARN: it equals a desired ARN (a user's group in an action) and no desired name.
    const ref = (arn: string): string => tgNames.get(arn) ?? arn;
    const sticky = a.ForwardConfig?.TargetGroupStickinessConfig;
    const stickinessSeconds = sticky?.Enabled === true ? sticky.DurationSeconds : undefined;
    // An NLB's stickiness has no duration.
    const stickyWithoutDuration = sticky?.Enabled === true && stickinessSeconds === undefined;
    if (groups.length > 1 || stickinessSeconds !== undefined || stickyWithoutDuration) {
      return {
        type: 'forward-weighted',
        targetGroups: groups.map((g) => ({ targetGroup: ref(g.TargetGroupArn ?? ''), weight: g.Weight ?? 1 })),
        ...(stickinessSeconds !== undefined ? { stickinessSeconds } : {}),
        ...(stickyWithoutDuration ? { sticky: true as const } : {}),
      };
    }
    const arn = a.TargetGroupArn ?? (groups.length === 1 ? groups[0]?.TargetGroupArn : undefined);
    if (arn === undefined) return undefined;
    return { type: 'forward', targetGroup: ref(arn) };
  }
  if (a.Type === 'fixed-response' && a.FixedResponseConfig?.StatusCode) {
    const f = a.FixedResponseConfig;
    return {
      type: 'fixed-response',
      statusCode: f.StatusCode ?? '',
      ...(f.ContentType !== undefined ? { contentType: f.ContentType } : {}),
      ...(f.MessageBody !== undefined ? { messageBody: f.MessageBody } : {}),
    };
  }
  if (a.Type === 'redirect' && a.RedirectConfig?.StatusCode) {
    const r = a.RedirectConfig;
    return {
      type: 'redirect',
      statusCode: r.StatusCode as 'HTTP_301' | 'HTTP_302',
      ...(r.Protocol !== undefined ? { protocol: r.Protocol } : {}),
      ...(r.Port !== undefined ? { port: r.Port } : {}),
      ...(r.Host !== undefined ? { host: r.Host } : {}),
      ...(r.Path !== undefined ? { path: r.Path } : {}),
      ...(r.Query !== undefined ? { query: r.Query } : {}),
    };
  }
  return undefined;
}

function toAwsAuth(a: DesiredAuth): Action {
  const common = {
    Scope: a.scope,
    SessionCookieName: a.sessionCookieName,
    SessionTimeout: a.sessionTimeout,
    OnUnauthenticatedRequest: a.onUnauthenticatedRequest as 'authenticate' | 'allow' | 'deny',
    ...(Object.keys(a.extraParams).length > 0 ? { AuthenticationRequestExtraParams: { ...a.extraParams } } : {}),
  };
  if (a.type === 'authenticate-cognito') {
    return { Type: 'authenticate-cognito', Order: 1, AuthenticateCognitoConfig: { UserPoolArn: a.userPoolArn, UserPoolClientId: a.userPoolClientId, UserPoolDomain: a.userPoolDomain, ...common } };
  }
  return {
    Type: 'authenticate-oidc',
    Order: 1,
    AuthenticateOidcConfig: {
      Issuer: a.issuer,
      AuthorizationEndpoint: a.authorizationEndpoint,
      TokenEndpoint: a.tokenEndpoint,
      UserInfoEndpoint: a.userInfoEndpoint,
      ClientId: a.clientId,
      // Always sent (never UseExistingClientSecret): lbc has it, and a rotated one must reach ELBv2.
      ...(a.clientSecret !== undefined ? { ClientSecret: a.clientSecret } : {}),
      ...common,
    },
  };
}

/** The action list for a rule or a listener's default: authentication first when asked for (Order 1), then the action (Order 2). */
function toAwsActions(auth: DesiredAuth | undefined, a: DesiredAction, ctx: ApplyContext): Action[] {
  if (!auth) return toAwsAction(a, ctx);
  return [toAwsAuth(auth), ...toAwsAction(a, ctx).map((x) => ({ ...x, Order: 2 }))];
}

function toAwsAction(a: DesiredAction, ctx: ApplyContext): Action[] {
  const arnOf = (ref: string): string => {
    const arn = ctx.tgArns.get(ref) ?? (ref.startsWith('arn:') ? ref : undefined);
    if (arn === undefined) throw new ProviderError('transient', `target group ${ref} has no ARN yet`, { provider: ctx.provider });
    return arn;
  };
  if (a.type === 'forward') return [{ Type: 'forward', TargetGroupArn: arnOf(a.targetGroup) }];
  if (a.type === 'forward-weighted') {
    return [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: a.targetGroups.map((g) => ({ TargetGroupArn: arnOf(g.targetGroup), Weight: g.weight })),
          ...(a.stickinessSeconds !== undefined ? { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: a.stickinessSeconds } } : a.sticky ? { TargetGroupStickinessConfig: { Enabled: true } } : {}),
        },
      },
    ];
  }
  if (a.type === 'fixed-response') {
    return [
      {
        Type: 'fixed-response',
        FixedResponseConfig: {
          StatusCode: a.statusCode,
          ...(a.contentType !== undefined ? { ContentType: a.contentType } : {}),
          ...(a.messageBody !== undefined ? { MessageBody: a.messageBody } : {}),
        },
      },
    ];
  }
  return [
    {
      Type: 'redirect',
      RedirectConfig: {
        StatusCode: a.statusCode,
        ...(a.protocol !== undefined ? { Protocol: a.protocol } : {}),
        ...(a.port !== undefined ? { Port: a.port } : {}),
        ...(a.host !== undefined ? { Host: a.host } : {}),
        ...(a.path !== undefined ? { Path: a.path } : {}),
        ...(a.query !== undefined ? { Query: a.query } : {}),
      },
    },
  ];
}

function conditionValues(c: RuleCondition, field: 'host-header' | 'path-pattern'): string[] {
  const config = field === 'host-header' ? c.HostHeaderConfig?.Values : c.PathPatternConfig?.Values;
  return [...new Set([...(config ?? []), ...(c.Values ?? [])])];
}

/** The other conditions in lbc's canonical form; undefined for one lbc cannot read (then the rule never matches). */
function fromAwsCondition(c: RuleCondition): DesiredCondition | undefined {
  const values = (v: readonly string[] | undefined): string[] => [...new Set([...(v ?? []), ...(c.Values ?? [])])].sort();
  switch (c.Field) {
    case 'http-header':
      if (c.HttpHeaderConfig?.HttpHeaderName === undefined) return undefined;
      if ((c.RegexValues ?? []).length > 0) return { field: 'http-header-regex', name: c.HttpHeaderConfig.HttpHeaderName, values: [...(c.RegexValues ?? [])].sort() };
      return { field: 'http-header', name: c.HttpHeaderConfig.HttpHeaderName, values: values(c.HttpHeaderConfig.Values) };
    case 'http-request-method':
      return { field: 'http-request-method', values: values(c.HttpRequestMethodConfig?.Values) };
    case 'source-ip':
      return { field: 'source-ip', values: values(c.SourceIpConfig?.Values) };
    case 'query-string':
      return { field: 'query-string', values: (c.QueryStringConfig?.Values ?? []).map((kv) => ({ ...(kv.Key !== undefined ? { key: kv.Key } : {}), value: kv.Value ?? '' })) };
    default:
      return undefined;
  }
}

function fromAwsRule(r: Rule, tgNames: ReadonlyMap<string, string>): ActualRule {
  const hosts: string[] = [];
  const paths: string[] = [];
  const conditions: DesiredCondition[] = [];
  let foreignConditions = false;
  for (const c of r.Conditions ?? []) {
    if (c.Field === 'host-header') hosts.push(...conditionValues(c, 'host-header'));
    else if (c.Field === 'path-pattern' && (c.RegexValues ?? []).length > 0) conditions.push({ field: 'path-pattern-regex', values: [...(c.RegexValues ?? [])].sort() });
    else if (c.Field === 'path-pattern') paths.push(...conditionValues(c, 'path-pattern'));
    else {
      const d = fromAwsCondition(c);
      if (d) conditions.push(d);
      else foreignConditions = true;
    }
  }
  return { arn: r.RuleArn ?? '', priority: Number(r.Priority), hosts, paths, conditions, foreignConditions, ...fromAwsActions(r.Actions, tgNames), transforms: fromAwsTransforms(r.Transforms) };
}

function toAwsCondition(c: DesiredCondition): RuleCondition {
  switch (c.field) {
    case 'http-header':
      return { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: c.name, Values: [...c.values] } };
    case 'http-request-method':
      return { Field: 'http-request-method', HttpRequestMethodConfig: { Values: [...c.values] } };
    case 'source-ip':
      return { Field: 'source-ip', SourceIpConfig: { Values: [...c.values] } };
    case 'query-string':
      return { Field: 'query-string', QueryStringConfig: { Values: c.values.map((kv) => ({ ...(kv.key !== undefined ? { Key: kv.key } : {}), Value: kv.value })) } };
    case 'path-pattern-regex':
      return { Field: 'path-pattern', RegexValues: [...c.values] };
    case 'http-header-regex':
      return { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: c.name }, RegexValues: [...c.values] };
  }
}

/** Transforms in lbc's form: one rewrite each, as lbc writes them; others (several rewrites) never equal a desired one. */
function fromAwsTransforms(list: readonly RuleTransform[] | undefined): DesiredTransform[] {
  return (list ?? []).map((t) => {
    const rewrites = (t.Type === 'host-header-rewrite' ? t.HostHeaderRewriteConfig : t.UrlRewriteConfig)?.Rewrites ?? [];
    const [first] = rewrites;
    return { type: t.Type === 'host-header-rewrite' ? 'host-header-rewrite' : 'url-rewrite', regex: rewrites.length === 1 ? (first?.Regex ?? '') : '', replace: rewrites.length === 1 ? (first?.Replace ?? '') : '' };
  });
}

function toAwsTransforms(list: readonly DesiredTransform[]): RuleTransform[] {
  return list.map((t) => {
    const config = { Rewrites: [{ Regex: t.regex, Replace: t.replace }] };
    return t.type === 'host-header-rewrite' ? { Type: t.type, HostHeaderRewriteConfig: config } : { Type: t.type, UrlRewriteConfig: config };
  });
}

const transformsKey = (list: readonly DesiredTransform[] | undefined): string => JSON.stringify([...(list ?? [])].map((t) => [t.type, t.regex, t.replace]).sort());

function toAwsConditions(r: DesiredRule): RuleCondition[] {
  const out: RuleCondition[] = [];
  if (r.hosts.length > 0) out.push({ Field: 'host-header', HostHeaderConfig: { Values: [...r.hosts] } });
  if (r.paths.length > 0) out.push({ Field: 'path-pattern', PathPatternConfig: { Values: [...r.paths] } });
  out.push(...r.conditions.map(toAwsCondition));
  return out;
}

const sorted = (xs: readonly string[]): string => JSON.stringify([...xs].sort());
const conditionsKey = (cs: readonly DesiredCondition[]): string => JSON.stringify(cs.map((c) => JSON.stringify(c)).sort());

/** Same authentication; an OIDC one is sent again when its client changed (oidcRotated), which ELBv2 cannot show. */
function sameAuthOf(a: DesiredAuth | undefined, d: DesiredAuth | undefined, oidcRotated: boolean): boolean {
  return sameAuth(a, d) && !(oidcRotated && d?.type === 'authenticate-oidc');
}

function sameRule(a: ActualRule, d: DesiredRule, oidcRotated: boolean): boolean {
  return (
    !a.foreignConditions &&
    sorted(a.hosts) === sorted(d.hosts) &&
    sorted(a.paths) === sorted(d.paths) &&
    conditionsKey(a.conditions) === conditionsKey(d.conditions) &&
    sameAuthOf(a.auth, d.auth, oidcRotated) &&
    sameAction(a.action, d.action) &&
    transformsKey(a.transforms) === transformsKey(d.transforms)
  );
}

/** Listeners of a load balancer, with extra certificates (secure ones) and rules (when `withRules`). */
export async function describeListeners(
  api: AwsApi,
  lbArn: string,
  tgNames: ReadonlyMap<string, string>,
  withRules: boolean,
  signal?: AbortSignal,
): Promise<ActualListener[]> {
  const listeners: Listener[] = [];
  let Marker: string | undefined;
  do {
    const page = await api.elbv2('DescribeListeners', (c, o) => c.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn, ...(Marker ? { Marker } : {}) }), o), { signal });
    listeners.push(...(page.Listeners ?? []));
    Marker = page.NextMarker;
  } while (Marker);
  const out: ActualListener[] = [];
  for (const l of listeners) {
    const arn = l.ListenerArn ?? '';
    const defaults = fromAwsActions(l.DefaultActions, tgNames);
    const defaultCert = l.Certificates?.[0]?.CertificateArn;
    const certificates = defaultCert !== undefined ? [defaultCert] : [];
    if (SECURE.has(l.Protocol ?? '')) {
      const r = await api.elbv2('DescribeListenerCertificates', (c, o) => c.send(new DescribeListenerCertificatesCommand({ ListenerArn: arn }), o), { signal });
      for (const cert of r.Certificates ?? []) {
        if (!cert.IsDefault && cert.CertificateArn !== undefined && !certificates.includes(cert.CertificateArn)) certificates.push(cert.CertificateArn);
      }
    }
    let rules: ActualRule[] = [];
    if (withRules) {
      const r = await api.elbv2('DescribeRules', (c, o) => c.send(new DescribeRulesCommand({ ListenerArn: arn }), o), { signal });
      rules = (r.Rules ?? []).filter((x) => !x.IsDefault).map((x) => fromAwsRule(x, tgNames));
    }
    out.push({
      arn,
      port: l.Port ?? 0,
      protocol: l.Protocol ?? '',
      certificates,
      ...(l.SslPolicy !== undefined ? { sslPolicy: l.SslPolicy } : {}),
      ...(l.MutualAuthentication !== undefined ? { mutualAuthentication: fromAwsMutualAuth(l.MutualAuthentication) } : {}),
      ...(l.AlpnPolicy?.[0] !== undefined ? { alpnPolicy: l.AlpnPolicy[0] } : {}),
      ...(defaults.auth ? { defaultAuth: defaults.auth } : {}),
      defaultAction: defaults.action,
      rules,
    });
  }
  return out.sort((a, b) => a.port - b.port);
}

/**
 * The attributes of the listeners whose desired counterpart (same port) asks for some; the
 * others are returned as they are, unread. A listener moved to another port is matched by
 * neither and so compares as unread: its attributes are all sent, which is correct if not minimal.
 */
export async function withListenerAttributes(api: AwsApi, actual: readonly ActualListener[], desired: readonly DesiredListener[], signal?: AbortSignal): Promise<ActualListener[]> {
  const wanted = new Set(desired.filter((d) => Object.keys(d.attributes ?? {}).length > 0).map((d) => d.port));
  const out: ActualListener[] = [];
  for (const l of actual) {
    if (!wanted.has(l.port)) {
      out.push(l);
      continue;
    }
    const r = await api.elbv2('DescribeListenerAttributes', (c, o) => c.send(new DescribeListenerAttributesCommand({ ListenerArn: l.arn }), o), { signal });
    const attributes: Record<string, string> = {};
    for (const kv of r.Attributes ?? []) if (kv.Key !== undefined) attributes[kv.Key] = kv.Value ?? '';
    out.push({ ...l, attributes });
  }
  return out;
}

/** The listener attribute writes: the wanted keys whose value differs from what the listener has (all of them when it was not read). */
function listenerAttributesSteps(id: string, arnOf: (ctx: ApplyContext) => string, have: Readonly<Record<string, string>> | undefined, want: Readonly<Record<string, string>> | undefined): Step[] {
  const changed = Object.keys(want ?? {})
    .filter((k) => have?.[k] !== want?.[k])
    .sort();
  if (changed.length === 0) return [];
  return [
    {
      change: { op: 'update', resource: 'Listener', id, fields: changed.map((k) => `attributes.${k}`) },
      run: async (ctx) => {
        await ctx.api.elbv2(
          'ModifyListenerAttributes',
          (c, o) => c.send(new ModifyListenerAttributesCommand({ ListenerArn: arnOf(ctx), Attributes: changed.map((Key) => ({ Key, Value: want?.[Key] ?? '' })) }), o),
          { signal: ctx.signal },
        );
      },
    },
  ];
}

const listenerId = (l: { protocol: string; port: number }): string => `${l.protocol}:${l.port}`;

function certificateSteps(id: string, arnOf: (ctx: ApplyContext) => string, have: readonly string[], want: readonly string[]): Step[] {
  const extraHave = have.slice(1);
  const extraWant = want.slice(1);
  const add = extraWant.filter((c) => !extraHave.includes(c));
  const remove = extraHave.filter((c) => !extraWant.includes(c) && c !== want[0]);
  const steps: Step[] = [];
  if (add.length > 0) {
    steps.push({
      change: { op: 'update', resource: 'Listener', id, fields: ['certificates'], detail: `add ${add.join(', ')}` },
      run: async (ctx) => {
        await ctx.api.elbv2(
          'AddListenerCertificates',
          (c, o) => c.send(new AddListenerCertificatesCommand({ ListenerArn: arnOf(ctx), Certificates: add.map((CertificateArn) => ({ CertificateArn })) }), o),
          { signal: ctx.signal },
        );
      },
    });
  }
  if (remove.length > 0) {
    steps.push({
      change: { op: 'update', resource: 'Listener', id, fields: ['certificates'], detail: `remove ${remove.join(', ')}` },
      run: async (ctx) => {
        await ctx.api.elbv2(
          'RemoveListenerCertificates',
          (c, o) => c.send(new RemoveListenerCertificatesCommand({ ListenerArn: arnOf(ctx), Certificates: remove.map((CertificateArn) => ({ CertificateArn })) }), o),
          { signal: ctx.signal },
        );
      },
    });
  }
  return steps;
}

function ruleSteps(listenerKey: string, arnOf: (ctx: ApplyContext) => string, have: readonly ActualRule[], want: readonly DesiredRule[], tags: Tags, oidcRotated: boolean): Step[] {
  const steps: Step[] = [];
  const byPriority = new Map(have.map((r) => [r.priority, r]));
  const wanted = new Set(want.map((r) => r.priority));
  // Deletes first: a priority freed here may be the one a create below needs.
  for (const r of have) {
    if (wanted.has(r.priority)) continue;
    steps.push({
      change: { op: 'delete', resource: 'Rule', id: `${listenerKey}/${r.priority}` },
      run: async (ctx) => {
        await ctx.api.elbv2('DeleteRule', (c, o) => c.send(new DeleteRuleCommand({ RuleArn: r.arn }), o), { signal: ctx.signal }).catch((e: unknown) => {
          if (!hasCode(e, 'RuleNotFound')) throw e;
        });
      },
    });
  }
  for (const d of want) {
    const a = byPriority.get(d.priority);
    const detail = `${d.hosts.join(',') || '*'} ${d.paths.join(',') || '*'} → ${d.auth ? `${d.auth.type}, ` : ''}${d.action.type === 'forward' ? d.action.targetGroup : d.action.type}`;
    if (a && sameRule(a, d, oidcRotated)) continue;
    if (a) {
      steps.push({
        change: { op: 'update', resource: 'Rule', id: `${listenerKey}/${d.priority}`, fields: ['conditions', 'actions'], detail },
        run: async (ctx) => {
          // ModifyRule keeps transforms it is not given: they are sent when wanted, reset when no longer.
          const transforms = d.transforms ?? [];
          const transformFields = transforms.length > 0 ? { Transforms: toAwsTransforms(transforms) } : a.transforms.length > 0 ? { ResetTransforms: true } : {};
          await ctx.api.elbv2(
            'ModifyRule',
            (c, o) => c.send(new ModifyRuleCommand({ RuleArn: a.arn, Conditions: toAwsConditions(d), Actions: toAwsActions(d.auth, d.action, ctx), ...transformFields }), o),
            { signal: ctx.signal },
          );
        },
      });
      continue;
    }
    steps.push({
      change: { op: 'create', resource: 'Rule', id: `${listenerKey}/${d.priority}`, detail },
      run: async (ctx) => {
        await ctx.api.elbv2(
          'CreateRule',
          (c, o) =>
            c.send(
              new CreateRuleCommand({
                ListenerArn: arnOf(ctx),
                Priority: d.priority,
                Conditions: toAwsConditions(d),
                Actions: toAwsActions(d.auth, d.action, ctx),
                ...((d.transforms ?? []).length > 0 ? { Transforms: toAwsTransforms(d.transforms ?? []) } : {}),
                Tags: toAwsTags(tags),
              }),
              o,
            ),
          { signal: ctx.signal },
        );
      },
    });
  }
  return steps;
}

export interface ListenerDiff {
  /** Listeners no longer wanted: first, so their ports are free for the creates. */
  readonly remove: Step[];
  readonly apply: Step[];
}

/**
 * `actual` is empty when the load balancer is new or being replaced. `tags` are put on
 * created listeners and rules (they live and die with the load balancer, so they are
 * not diffed). `oidcRotated`: an OIDC client changed since the actions were written
 * (the load balancer's TAG_OIDC_CLIENTS differs), so every OIDC action is sent again.
 */
export function diffListeners(actual: readonly ActualListener[], desired: readonly DesiredListener[], tags: Tags, oidcRotated = false): ListenerDiff {
  const remove: Step[] = [];
  const apply: Step[] = [];
  const byPort = new Map(actual.map((l) => [l.port, l]));
  const desiredPorts = new Set(desired.map((l) => l.port));
  const unmatchedActual = actual.filter((l) => !desiredPorts.has(l.port));
  const pairs = new Map<DesiredListener, ActualListener>();
  for (const d of desired) {
    const a = byPort.get(d.port);
    if (a) {
      pairs.set(d, a);
      continue;
    }
    // A port edit: same default action on an unwanted listener → move that one.
    const moved = unmatchedActual.find((x) => sameAction(x.defaultAction, d.defaultAction));
    if (moved) {
      pairs.set(d, moved);
      unmatchedActual.splice(unmatchedActual.indexOf(moved), 1);
    }
  }
  for (const a of unmatchedActual) {
    remove.push({
      change: { op: 'delete', resource: 'Listener', id: listenerId(a) },
      run: async (ctx) => {
        await ctx.api.elbv2('DeleteListener', (c, o) => c.send(new DeleteListenerCommand({ ListenerArn: a.arn }), o), { signal: ctx.signal }).catch((e: unknown) => {
          if (!hasCode(e, 'ListenerNotFound')) throw e;
        });
      },
    });
  }
  for (const d of desired) {
    const key = listenerId(d);
    const a = pairs.get(d);
    if (!a) {
      apply.push({
        change: { op: 'create', resource: 'Listener', id: key, detail: d.defaultAction.type === 'forward' ? `→ ${d.defaultAction.targetGroup}` : d.defaultAction.type },
        run: async (ctx) => {
          const lbArn = ctx.lbArn;
          if (lbArn === undefined) throw new ProviderError('transient', 'the load balancer has no ARN yet', { provider: ctx.provider });
          const first = d.certificates[0];
          const out = await ctx.api.elbv2(
            'CreateListener',
            (c, o) =>
              c.send(
                new CreateListenerCommand({
                  LoadBalancerArn: lbArn,
                  Port: d.port,
                  Protocol: d.protocol as ProtocolEnum,
                  DefaultActions: toAwsActions(d.defaultAuth, d.defaultAction, ctx),
                  ...(first !== undefined ? { Certificates: [{ CertificateArn: first }] } : {}),
                  ...(d.sslPolicy !== undefined ? { SslPolicy: d.sslPolicy } : {}),
                  // Off is ELBv2's default: a listener without mutual TLS is created as before.
                  ...(d.mutualAuthentication !== undefined && d.mutualAuthentication.mode !== 'off' ? { MutualAuthentication: toAwsMutualAuth(d.mutualAuthentication) } : {}),
                  // None is ELBv2's default, as off is for mutual TLS.
                  ...(d.alpnPolicy !== undefined && d.alpnPolicy !== ALPN_NONE ? { AlpnPolicy: [d.alpnPolicy] } : {}),
                  Tags: toAwsTags(tags),
                }),
                o,
              ),
            { signal: ctx.signal },
          );
          const arn = out.Listeners?.[0]?.ListenerArn;
          if (arn === undefined) throw new ProviderError('transient', `CreateListener returned no ARN for ${key}`, { provider: ctx.provider });
          ctx.listenerArns.set(d.port, arn);
        },
      });
      const arnOf = (ctx: ApplyContext): string => ctx.listenerArns.get(d.port) ?? '';
      apply.push(...certificateSteps(key, arnOf, d.certificates.slice(0, 1), d.certificates));
      // CreateListener takes no attributes: they follow it, as ALBC sends them.
      apply.push(...listenerAttributesSteps(key, arnOf, undefined, d.attributes));
      apply.push(...ruleSteps(key, arnOf, [], d.rules, tags, oidcRotated));
      continue;
    }
    const fields: string[] = [];
    if (a.port !== d.port) fields.push('port');
    if (a.protocol !== d.protocol) fields.push('protocol');
    if ((a.certificates[0] ?? '') !== (d.certificates[0] ?? '')) fields.push('certificates');
    if (d.sslPolicy !== undefined && a.sslPolicy !== d.sslPolicy) fields.push('sslPolicy');
    if (d.mutualAuthentication !== undefined && !sameMutualAuth(a.mutualAuthentication ?? { mode: 'off' }, d.mutualAuthentication)) fields.push('mutualAuthentication');
    if (d.alpnPolicy !== undefined && (a.alpnPolicy ?? ALPN_NONE) !== d.alpnPolicy) fields.push('alpnPolicy');
    if (!sameAction(a.defaultAction, d.defaultAction) || !sameAuthOf(a.defaultAuth, d.defaultAuth, oidcRotated)) fields.push('defaultAction');
    if (fields.length > 0) {
      apply.push({
        change: { op: 'update', resource: 'Listener', id: key, fields, ...(a.port !== d.port ? { detail: `port ${a.port} → ${d.port}` } : {}) },
        run: async (ctx) => {
          const first = d.certificates[0];
          await ctx.api.elbv2(
            'ModifyListener',
            (c, o) =>
              c.send(
                new ModifyListenerCommand({
                  ListenerArn: a.arn,
                  ...(fields.includes('port') ? { Port: d.port } : {}),
                  ...(fields.includes('protocol') ? { Protocol: d.protocol as ProtocolEnum } : {}),
                  ...(fields.includes('certificates') && first !== undefined ? { Certificates: [{ CertificateArn: first }] } : {}),
                  // A protocol change to a secure one needs the policy in the same call.
                  ...((fields.includes('sslPolicy') || fields.includes('protocol')) && d.sslPolicy !== undefined ? { SslPolicy: d.sslPolicy } : {}),
                  ...(fields.includes('mutualAuthentication') && d.mutualAuthentication !== undefined ? { MutualAuthentication: toAwsMutualAuth(d.mutualAuthentication) } : {}),
                  // As the SSL policy: a protocol change to TLS carries the policy in the same call.
                  ...((fields.includes('alpnPolicy') || (fields.includes('protocol') && d.alpnPolicy !== ALPN_NONE)) && d.alpnPolicy !== undefined ? { AlpnPolicy: [d.alpnPolicy] } : {}),
                  ...(fields.includes('defaultAction') ? { DefaultActions: toAwsActions(d.defaultAuth, d.defaultAction, ctx) } : {}),
                }),
                o,
              ),
            { signal: ctx.signal },
          );
        },
      });
    }
    const arnOf = (): string => a.arn;
    apply.push(...certificateSteps(key, arnOf, a.certificates, d.certificates));
    apply.push(...listenerAttributesSteps(key, arnOf, a.attributes, d.attributes));
    apply.push(...ruleSteps(key, arnOf, a.rules, d.rules, tags, oidcRotated));
  }
  return { remove, apply };
}
