// ALB user authentication (OIDC or Cognito) in front of an Ingress's routes, read as
// aws-load-balancer-controller v3.5 reads it: pkg/ingress/auth_config_builder.go for the
// annotations and their defaults, pkg/ingress/model_build_actions.go buildActions for
// where the authenticate action goes (before the rule's own action, HTTPS listeners only)
// and buildAuthenticateOIDCAction for the client read from a Secret (keys clientID, or
// the older clientId, and clientSecret; the id trimmed of trailing space).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { annotation, int, json, oneOf, string, type AnnotationError } from '../../model/annotations.js';

const A = 'alb.ingress.kubernetes.io/';

/** The tag on the load balancer that records which OIDC clients its actions were given: ELBv2 never returns a client secret, so this is how a rotated one is seen. */
export const TAG_OIDC_CLIENTS = 'lbc.dev/oidc-clients';

const extraParams = z.record(z.string(), z.string()).optional();
const url = z.string().url().max(2000);
const oidcSchema = z.strictObject({
  issuer: url,
  authorizationEndpoint: url,
  tokenEndpoint: url,
  userInfoEndpoint: url,
  secretName: z.string().min(1).max(253),
  authenticationRequestExtraParams: extraParams,
});
const cognitoSchema = z.strictObject({
  userPoolARN: z.string().regex(/^arn:aws[a-z-]*:cognito-idp:/, 'must be a Cognito user pool ARN (arn:aws:cognito-idp:...)'),
  userPoolClientID: z.string().min(1).max(128),
  userPoolDomain: z.string().min(1).max(253),
  authenticationRequestExtraParams: extraParams,
});

export const authAnnotationSchema = {
  authType: annotation(`${A}auth-type`, oneOf(['none', 'oidc', 'cognito'] as const)),
  authOidc: annotation(`${A}auth-idp-oidc`, json(oidcSchema)),
  authCognito: annotation(`${A}auth-idp-cognito`, json(cognitoSchema)),
  // Defaults as ALBC's auth_config_builder.go: openid, AWSELBAuthSessionCookie, 604800 s, authenticate.
  authScope: annotation(`${A}auth-scope`, string({ maxLength: 4096 })).withDefault('openid'),
  authSessionCookie: annotation(`${A}auth-session-cookie`, string({ maxLength: 256 })).withDefault('AWSELBAuthSessionCookie'),
  // ELBv2's AuthenticateOidcActionConfig.SessionTimeout: at most 7 days.
  authSessionTimeout: annotation(`${A}auth-session-timeout`, int({ min: 1, max: 604800 })).withDefault(604800),
  authOnUnauthenticated: annotation(`${A}auth-on-unauthenticated-request`, oneOf(['authenticate', 'allow', 'deny'] as const)).withDefault('authenticate'),
};

interface AuthCommon {
  readonly scope: string;
  readonly sessionCookieName: string;
  readonly sessionTimeout: number;
  readonly onUnauthenticatedRequest: 'authenticate' | 'allow' | 'deny';
  readonly extraParams?: Readonly<Record<string, string>>;
}

/** What the annotations ask for; the OIDC client itself is in a Secret the controller reads (spec.secrets). */
export type AlbAuth =
  | (AuthCommon & {
      readonly type: 'oidc';
      readonly issuer: string;
      readonly authorizationEndpoint: string;
      readonly tokenEndpoint: string;
      readonly userInfoEndpoint: string;
      readonly secretName: string;
    })
  | (AuthCommon & { readonly type: 'cognito'; readonly userPoolArn: string; readonly userPoolClientId: string; readonly userPoolDomain: string });

interface AuthValues {
  authType?: 'none' | 'oidc' | 'cognito' | undefined;
  authOidc?: z.output<typeof oidcSchema> | undefined;
  authCognito?: z.output<typeof cognitoSchema> | undefined;
  authScope: string;
  authSessionCookie: string;
  authSessionTimeout: number;
  authOnUnauthenticated: 'authenticate' | 'allow' | 'deny';
}

/** The auth the annotations ask for (undefined for none), or why they cannot be applied. */
export function authOf(v: AuthValues, errors: AnnotationError[]): AlbAuth | undefined {
  const type = v.authType ?? 'none';
  if (type === 'none') return undefined;
  const common: AuthCommon = { scope: v.authScope, sessionCookieName: v.authSessionCookie, sessionTimeout: v.authSessionTimeout, onUnauthenticatedRequest: v.authOnUnauthenticated };
  const params = (p: Readonly<Record<string, string>> | undefined): { extraParams?: Readonly<Record<string, string>> } => (p && Object.keys(p).length > 0 ? { extraParams: p } : {});
  if (type === 'oidc') {
    const o = v.authOidc;
    if (!o) {
      errors.push({ annotation: `${A}auth-type`, reason: `is oidc, which needs ${A}auth-idp-oidc` });
      return undefined;
    }
    return { type, ...common, ...params(o.authenticationRequestExtraParams), issuer: o.issuer, authorizationEndpoint: o.authorizationEndpoint, tokenEndpoint: o.tokenEndpoint, userInfoEndpoint: o.userInfoEndpoint, secretName: o.secretName };
  }
  const c = v.authCognito;
  if (!c) {
    errors.push({ annotation: `${A}auth-type`, reason: `is cognito, which needs ${A}auth-idp-cognito` });
    return undefined;
  }
  return { type, ...common, ...params(c.authenticationRequestExtraParams), userPoolArn: c.userPoolARN, userPoolClientId: c.userPoolClientID, userPoolDomain: c.userPoolDomain };
}

/** The Secret names an object's annotations make the controller read (auth-idp-oidc's secretName), in the object's namespace. */
export function authSecretNames(annotations: Readonly<Record<string, string>>): string[] {
  const raw = annotations[`${A}auth-idp-oidc`];
  if (raw === undefined || (annotations[`${A}auth-type`] ?? '').trim() !== 'oidc') return [];
  const r = json(oidcSchema)(raw.trim());
  return r.ok ? [r.value.secretName] : [];
}

// ---- ELBv2 side ------------------------------------------------------------------

interface DesiredAuthCommon {
  readonly scope: string;
  readonly sessionCookieName: string;
  readonly sessionTimeout: number;
  readonly onUnauthenticatedRequest: string;
  readonly extraParams: Readonly<Record<string, string>>;
}

/** The authenticate action that goes before a rule's (or a listener's default) action. */
export type DesiredAuth =
  | (DesiredAuthCommon & {
      readonly type: 'authenticate-oidc';
      readonly issuer: string;
      readonly authorizationEndpoint: string;
      readonly tokenEndpoint: string;
      readonly userInfoEndpoint: string;
      readonly clientId: string;
      /** Never returned by ELBv2: absent on what was read back. */
      readonly clientSecret?: string;
    })
  | (DesiredAuthCommon & { readonly type: 'authenticate-cognito'; readonly userPoolArn: string; readonly userPoolClientId: string; readonly userPoolDomain: string });

/** The OIDC client in a Secret's data (decoded), as ALBC reads it; a string is why it cannot be used. */
export function oidcClient(data: Readonly<Record<string, string>> | undefined, where: string): { clientId: string; clientSecret: string } | string {
  if (data === undefined) return `Secret ${where} does not exist (or is not an Opaque Secret)`;
  const id = data['clientID'] ?? data['clientId'];
  if (id === undefined) return `Secret ${where} has no clientID key`;
  const secret = data['clientSecret'];
  if (secret === undefined) return `Secret ${where} has no clientSecret key`;
  return { clientId: id.replace(/\s+$/, ''), clientSecret: secret };
}

/** The desired authenticate action for `auth`, the client read from `secrets` (`namespace/name` → data) in `namespace`. */
export function desiredAuth(auth: AlbAuth, namespace: string, secrets: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined): DesiredAuth | string {
  const common: DesiredAuthCommon = {
    scope: auth.scope,
    sessionCookieName: auth.sessionCookieName,
    sessionTimeout: auth.sessionTimeout,
    onUnauthenticatedRequest: auth.onUnauthenticatedRequest,
    extraParams: auth.extraParams ?? {},
  };
  if (auth.type === 'cognito') return { type: 'authenticate-cognito', ...common, userPoolArn: auth.userPoolArn, userPoolClientId: auth.userPoolClientId, userPoolDomain: auth.userPoolDomain };
  const key = `${namespace}/${auth.secretName}`;
  const client = oidcClient(secrets?.[key], key);
  if (typeof client === 'string') return `${A}auth-idp-oidc: ${client}`;
  return {
    type: 'authenticate-oidc',
    ...common,
    issuer: auth.issuer,
    authorizationEndpoint: auth.authorizationEndpoint,
    tokenEndpoint: auth.tokenEndpoint,
    userInfoEndpoint: auth.userInfoEndpoint,
    ...client,
  };
}

/** Whether two authenticate actions are the same, the client secret aside (ELBv2 never returns it; TAG_OIDC_CLIENTS tracks it). */
export function sameAuth(a: DesiredAuth | undefined, b: DesiredAuth | undefined): boolean {
  const strip = (x: DesiredAuth | undefined): string => {
    if (!x) return '';
    const { extraParams, ...rest } = x;
    const copy: Record<string, unknown> = { ...rest, extraParams: Object.fromEntries(Object.entries(extraParams).sort(([k1], [k2]) => (k1 < k2 ? -1 : 1))) };
    delete copy['clientSecret'];
    return JSON.stringify(Object.fromEntries(Object.entries(copy).sort(([k1], [k2]) => (k1 < k2 ? -1 : 1))));
  };
  return strip(a) === strip(b);
}

/**
 * The TAG_OIDC_CLIENTS value for the OIDC clients in use: a digest, never the secret. A
 * different value means some client changed, so every OIDC action is sent again.
 */
export function oidcClientsDigest(auths: readonly (DesiredAuth | undefined)[]): string | undefined {
  const clients = [...new Set(auths.flatMap((a) => (a?.type === 'authenticate-oidc' ? [`${a.clientId}\u0000${a.clientSecret ?? ''}`] : [])))].sort();
  if (clients.length === 0) return undefined;
  return createHash('sha256').update(`lbc-oidc-clients\u0000${clients.join('\u0001')}`).digest('hex').slice(0, 32);
}
