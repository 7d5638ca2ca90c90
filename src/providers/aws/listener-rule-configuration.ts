// aws-load-balancer-controller's ListenerRuleConfiguration (gateway.k8s.aws/v1,
// ../shared/crds/aws-load-balancer-controller-v3.5.0/gateway; docs/guide/gateway/
// listenerruleconfig.md), named by an HTTPRoute or GRPCRoute rule's ExtensionRef filter in
// the route's namespace, → what the ALB rules of that route rule get besides the route's
// own matches and backends, as ALBC's model_build_listener.go buildListenerRules applies it:
// - an authenticate-oidc or authenticate-cognito action before the routing action
//   (routeutils BuildRulePreRoutingAction), the OIDC client from a Secret in the LRC's
//   namespace (keys clientID and clientSecret, as for an Ingress);
// - a fixed-response action in place of the route's forward or redirect; a forward's
//   target group stickiness; a redirect's query (only with a RequestRedirect filter);
// - source-ip conditions, ANDed to the rule's, for the match indexes listed (all when none).
//
// Where lbc differs, towards not exposing what the user meant to close: ALBC puts the
// authenticate action on HTTPS listeners only and leaves an HTTP listener's rule open; lbc
// refuses an authenticating rule on an HTTP listener (gateway-rules.ts). jwt-validation,
// useExistingClientSecret and tags (per-rule tags, which lbc does not diff) are refused by
// name, so a route naming them is not served.
import type { GatewayParameterKind } from '../../model/gateway.js';
import type { AlbAuth } from './authentication.js';
import type { DesiredAction } from './desired.js';
import type { Parsed } from './target-group-configuration.js';

export const LISTENER_RULE_CONFIGURATION: GatewayParameterKind = { group: 'gateway.k8s.aws', kind: 'ListenerRuleConfiguration' };

export interface SourceIpCondition {
  readonly values: readonly string[];
  /** Indexes of the route rule's matches it applies to; absent: every match. */
  readonly matchIndexes?: readonly number[];
}

export interface ListenerRuleConfigurationOptions {
  readonly auth?: AlbAuth;
  /** Replaces the rule's forward or redirect (fixed-response). */
  readonly fixedResponse?: Extract<DesiredAction, { type: 'fixed-response' }>;
  /** forwardConfig.targetGroupStickinessConfig, when enabled: its duration. */
  readonly stickinessSeconds?: number;
  /** redirectConfig.query: the query of the rule's RequestRedirect. */
  readonly redirectQuery?: string;
  readonly sourceIp: readonly SourceIpCondition[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringMap = (v: unknown): v is Record<string, string> => isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
const CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;
const URL_FIELDS = ['authorizationEndpoint', 'issuer', 'tokenEndpoint', 'userInfoEndpoint'] as const;
const AUTH_TYPES = new Set(['authenticate-oidc', 'authenticate-cognito', 'jwt-validation']);
const CONTENT_TYPES = new Set(['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json']);

/** The fields ALBC's AuthenticateOidcActionConfig and AuthenticateCognitoActionConfig share, with the CRD's defaults. */
function authCommon(c: Record<string, unknown>, at: string, errors: string[]): Omit<AlbAuth, 'type' | 'secretName' | 'issuer' | 'authorizationEndpoint' | 'tokenEndpoint' | 'userInfoEndpoint' | 'userPoolArn' | 'userPoolClientId' | 'userPoolDomain'> {
  const on = c.onUnauthenticatedRequest ?? 'authenticate';
  if (on !== 'authenticate' && on !== 'allow' && on !== 'deny') errors.push(`${at}.onUnauthenticatedRequest: ${String(on)} is not authenticate, allow or deny`);
  const timeout = c.sessionTimeout ?? 604800;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 604800) errors.push(`${at}.sessionTimeout: ${String(timeout)} is not 1-604800 seconds`);
  const scope = c.scope ?? 'openid';
  if (typeof scope !== 'string' || scope === '') errors.push(`${at}.scope: not a string`);
  const cookie = c.sessionCookieName ?? 'AWSELBAuthSessionCookie';
  if (typeof cookie !== 'string' || cookie === '') errors.push(`${at}.sessionCookieName: not a string`);
  const extra = c.authenticationRequestExtraParams;
  if (extra !== undefined && !stringMap(extra)) errors.push(`${at}.authenticationRequestExtraParams: not a map of strings`);
  return {
    scope: String(scope),
    sessionCookieName: String(cookie),
    sessionTimeout: Number(timeout),
    onUnauthenticatedRequest: on as AlbAuth['onUnauthenticatedRequest'],
    ...(stringMap(extra) && Object.keys(extra).length > 0 ? { extraParams: extra } : {}),
  };
}

function oidc(c: unknown, at: string, errors: string[]): AlbAuth | undefined {
  if (!isRecord(c)) {
    errors.push(`${at}: required for type authenticate-oidc`);
    return undefined;
  }
  const known = new Set([...URL_FIELDS, 'secret', 'useExistingClientSecret', 'onUnauthenticatedRequest', 'scope', 'sessionCookieName', 'sessionTimeout', 'authenticationRequestExtraParams']);
  for (const f of Object.keys(c).filter((k) => !known.has(k)).sort()) errors.push(`${at}.${f}: not a field of AuthenticateOidcActionConfig`);
  const urls: Partial<Record<(typeof URL_FIELDS)[number], string>> = {};
  for (const f of URL_FIELDS) {
    const v = c[f];
    if (typeof v === 'string' && /^https:\/\/\S+$/.test(v) && v.length <= 2000) urls[f] = v;
    else errors.push(`${at}.${f}: ${v === undefined ? 'required' : `${String(v)} is not an https URL`}`);
  }
  const secret = isRecord(c.secret) && typeof c.secret.name === 'string' && c.secret.name !== '' ? c.secret.name : undefined;
  if (secret === undefined) errors.push(`${at}.secret.name: required (a Secret in the ListenerRuleConfiguration's namespace with clientID and clientSecret)`);
  // ELBv2's UseExistingClientSecret keeps a secret lbc never sees; lbc always sends the Secret's.
  if (c.useExistingClientSecret === true) errors.push(`${at}.useExistingClientSecret: not implemented by lbc (it sends the client secret from secret.name)`);
  const common = authCommon(c, at, errors);
  const { issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint } = urls;
  if (secret === undefined || issuer === undefined || authorizationEndpoint === undefined || tokenEndpoint === undefined || userInfoEndpoint === undefined) return undefined;
  return { type: 'oidc', ...common, issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, secretName: secret };
}

function cognito(c: unknown, at: string, errors: string[]): AlbAuth | undefined {
  if (!isRecord(c)) {
    errors.push(`${at}: required for type authenticate-cognito`);
    return undefined;
  }
  const known = new Set(['userPoolArn', 'userPoolClientId', 'userPoolDomain', 'onUnauthenticatedRequest', 'scope', 'sessionCookieName', 'sessionTimeout', 'authenticationRequestExtraParams']);
  for (const f of Object.keys(c).filter((k) => !known.has(k)).sort()) errors.push(`${at}.${f}: not a field of AuthenticateCognitoActionConfig`);
  const { userPoolArn, userPoolClientId, userPoolDomain } = c;
  if (typeof userPoolArn !== 'string' || !/^arn:aws[a-z-]*:cognito-idp:/.test(userPoolArn)) errors.push(`${at}.userPoolArn: ${String(userPoolArn)} is not a Cognito user pool ARN (arn:aws:cognito-idp:...)`);
  if (typeof userPoolClientId !== 'string' || userPoolClientId === '') errors.push(`${at}.userPoolClientId: required`);
  if (typeof userPoolDomain !== 'string' || userPoolDomain === '') errors.push(`${at}.userPoolDomain: required`);
  const common = authCommon(c, at, errors);
  if (typeof userPoolArn !== 'string' || typeof userPoolClientId !== 'string' || typeof userPoolDomain !== 'string') return undefined;
  return { type: 'cognito', ...common, userPoolArn, userPoolClientId, userPoolDomain };
}

function fixedResponse(c: unknown, at: string, errors: string[]): ListenerRuleConfigurationOptions['fixedResponse'] {
  if (!isRecord(c)) {
    errors.push(`${at}: required for type fixed-response`);
    return undefined;
  }
  for (const f of Object.keys(c).filter((k) => k !== 'statusCode' && k !== 'contentType' && k !== 'messageBody').sort()) errors.push(`${at}.${f}: not a field of FixedResponseActionConfig`);
  const { statusCode, contentType = 'text/plain', messageBody } = c;
  // The CRD's rule: 2XX, 4XX or 5XX (ELBv2 FixedResponseActionConfig.StatusCode).
  const code = typeof statusCode === 'number' && Number.isInteger(statusCode) && ((statusCode >= 200 && statusCode <= 299) || (statusCode >= 400 && statusCode <= 599)) ? statusCode : undefined;
  if (code === undefined) errors.push(`${at}.statusCode: ${String(statusCode)} is not 2XX, 4XX or 5XX`);
  if (typeof contentType !== 'string' || !CONTENT_TYPES.has(contentType)) errors.push(`${at}.contentType: ${String(contentType)} is not one of ${[...CONTENT_TYPES].join(', ')}`);
  if (messageBody !== undefined && (typeof messageBody !== 'string' || messageBody.length > 1024)) errors.push(`${at}.messageBody: not a string of at most 1024 characters`);
  if (code === undefined) return undefined;
  return { type: 'fixed-response', statusCode: String(code), contentType: String(contentType), ...(typeof messageBody === 'string' ? { messageBody } : {}) };
}

function actions(list: unknown, out: { -readonly [K in keyof ListenerRuleConfigurationOptions]: ListenerRuleConfigurationOptions[K] }, errors: string[]): void {
  if (!Array.isArray(list) || list.length === 0 || list.length > 2) {
    errors.push('spec.actions: a list of one or two actions');
    return;
  }
  const auths = list.filter((a) => isRecord(a) && AUTH_TYPES.has(String(a.type)));
  // The CRD's rules: at most one pre-routing (authenticate) and one routing action.
  if (auths.length > 1) errors.push('spec.actions: at most one of authenticate-oidc, authenticate-cognito and jwt-validation');
  if (list.length - auths.length > 1) errors.push('spec.actions: at most one of forward, fixed-response and redirect');
  for (const [i, a] of list.entries()) {
    const at = `spec.actions[${i}]`;
    if (!isRecord(a)) {
      errors.push(`${at}: not an object`);
      continue;
    }
    const configField = { 'authenticate-oidc': 'authenticateOIDCConfig', 'authenticate-cognito': 'authenticateCognitoConfig', 'jwt-validation': 'jwtValidationConfig', 'fixed-response': 'fixedResponseConfig', forward: 'forwardConfig', redirect: 'redirectConfig' }[String(a.type)];
    if (configField === undefined) {
      errors.push(`${at}.type: ${String(a.type)} is not forward, fixed-response, redirect, authenticate-oidc, authenticate-cognito or jwt-validation`);
      continue;
    }
    for (const f of Object.keys(a).filter((k) => k !== 'type' && k !== configField).sort()) errors.push(`${at}.${f}: does not go with type ${String(a.type)}`);
    const c = a[configField];
    const cat = `${at}.${configField}`;
    switch (a.type) {
      case 'authenticate-oidc': {
        const auth = oidc(c, cat, errors);
        if (auth) out.auth = auth;
        break;
      }
      case 'authenticate-cognito': {
        const auth = cognito(c, cat, errors);
        if (auth) out.auth = auth;
        break;
      }
      case 'jwt-validation':
        errors.push(`${at}: jwt-validation is not implemented by lbc, which will not serve the route without it`);
        break;
      case 'fixed-response': {
        const f = fixedResponse(c, cat, errors);
        if (f) out.fixedResponse = f;
        break;
      }
      case 'forward': {
        const cfg = c === undefined ? {} : c;
        const s = isRecord(cfg) ? cfg.targetGroupStickinessConfig : undefined;
        if (!isRecord(cfg) || Object.keys(cfg).some((k) => k !== 'targetGroupStickinessConfig')) errors.push(`${cat}: only targetGroupStickinessConfig is a field of ForwardActionConfig`);
        if (s === undefined) break;
        const st = isRecord(s) ? s : {};
        // The CRD's defaults: disabled, 3600 s; ELBv2 takes 1-604800 s.
        const enabled = st.enabled ?? false;
        const duration = st.durationSeconds ?? 3600;
        if (typeof enabled !== 'boolean') errors.push(`${cat}.targetGroupStickinessConfig.enabled: not a boolean`);
        if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1 || duration > 604800) errors.push(`${cat}.targetGroupStickinessConfig.durationSeconds: ${String(duration)} is not 1-604800 seconds`);
        else if (enabled === true) out.stickinessSeconds = duration;
        break;
      }
      case 'redirect': {
        const cfg = isRecord(c) ? c : {};
        for (const f of Object.keys(cfg).filter((k) => k !== 'query').sort()) errors.push(`${cat}.${f}: not a field of RedirectActionConfig`);
        // The CRD's default is #{query}, ELBv2's own: the request's query, kept.
        const query = cfg.query ?? '#{query}';
        if (typeof query !== 'string' || query.length > 128) errors.push(`${cat}.query: not a string of at most 128 characters`);
        else out.redirectQuery = query;
        break;
      }
    }
  }
}

function conditions(list: unknown, errors: string[]): SourceIpCondition[] {
  if (!Array.isArray(list) || list.length === 0) {
    errors.push('spec.conditions: a non-empty list');
    return [];
  }
  const out: SourceIpCondition[] = [];
  for (const [i, c] of list.entries()) {
    const at = `spec.conditions[${i}]`;
    if (!isRecord(c) || c.field !== 'source-ip') {
      errors.push(`${at}.field: ${isRecord(c) ? String(c.field) : '(none)'} is not source-ip`);
      continue;
    }
    for (const f of Object.keys(c).filter((k) => k !== 'field' && k !== 'sourceIPConfig' && k !== 'matchIndexes').sort()) errors.push(`${at}.${f}: not a field of a source-ip condition`);
    const values = isRecord(c.sourceIPConfig) ? c.sourceIPConfig.values : undefined;
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string' && CIDR.test(v))) {
      errors.push(`${at}.sourceIPConfig.values: a non-empty list of CIDRs`);
      continue;
    }
    const idx = c.matchIndexes;
    if (idx !== undefined && !(Array.isArray(idx) && idx.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0))) {
      errors.push(`${at}.matchIndexes: not a list of match indexes`);
      continue;
    }
    out.push({ values: [...(values as string[])].sort(), ...(idx !== undefined ? { matchIndexes: idx as number[] } : {}) });
  }
  return out;
}

export function parseListenerRuleConfiguration(object: unknown): Parsed<ListenerRuleConfigurationOptions> {
  const spec = isRecord(object) ? (object.spec ?? {}) : undefined;
  if (!isRecord(spec)) return { ok: false, errors: ['spec: not an object'] };
  const errors: string[] = [];
  for (const f of Object.keys(spec).filter((k) => k !== 'actions' && k !== 'conditions' && k !== 'tags').sort()) errors.push(`spec.${f}: not a field of ListenerRuleConfiguration`);
  // Rules are created with the load balancer's tags and never re-tagged: a rule's own would not follow a change.
  if (spec.tags !== undefined && !(isRecord(spec.tags) && Object.keys(spec.tags).length === 0)) errors.push('spec.tags: not implemented by lbc (its listener rules carry the load balancer\'s tags)');
  const out: { -readonly [K in keyof ListenerRuleConfigurationOptions]: ListenerRuleConfigurationOptions[K] } = { sourceIp: [] };
  if (spec.actions !== undefined) actions(spec.actions, out, errors);
  if (spec.conditions !== undefined) out.sourceIp = conditions(spec.conditions, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}
