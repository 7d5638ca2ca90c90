// Which rule serves a request, per the Ingress API:
// - host: an exact host beats a `*.` wildcard, which beats a rule with no host. A
//   wildcard matches exactly one more label (`*.foo.com` matches `a.foo.com`, not
//   `foo.com` or `a.b.foo.com`). Hosts compare case-insensitively, without port.
// - the host tier is chosen first and there is no fall-through to a less specific
//   tier when none of its paths match: the request goes to the default backend, as
//   with ingress-nginx's per-host server and a GCE URL map's host rule.
// - path: the longest match wins; at equal length Exact beats Prefix; then the rule
//   listed first. Prefix matches by path element (`/foo` matches `/foo` and `/foo/bar`,
//   not `/foobar`) and ignores a trailing slash in the rule. ImplementationSpecific is
//   treated as Prefix.
import type { PathType } from './spec.js';

export interface RouteRule {
  readonly host?: string;
  readonly path: string;
  readonly pathType: PathType;
}

/** A Host header as routes compare it: lower case, without port or trailing dot. */
export function normalizeRequestHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end >= 0 ? h.slice(0, end + 1) : h;
  } else {
    const colon = h.lastIndexOf(':');
    if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** 0: exact host, 1: wildcard, 2: any host, undefined: no match. */
function hostTier(ruleHost: string | undefined, host: string): number | undefined {
  if (ruleHost === undefined || ruleHost === '') return 2;
  const rule = ruleHost.toLowerCase();
  if (rule.startsWith('*.')) {
    const suffix = rule.slice(1);
    const label = host.endsWith(suffix) ? host.slice(0, -suffix.length) : undefined;
    return label !== undefined && label !== '' && !label.includes('.') ? 1 : undefined;
  }
  return rule === host ? 0 : undefined;
}

/** The matched length of the rule's path, or undefined. */
function pathScore(rule: RouteRule, path: string): number | undefined {
  if (rule.pathType === 'Exact') return path === rule.path ? rule.path.length : undefined;
  const prefix = rule.path.replace(/\/+$/, '');
  if (prefix === '') return 0;
  return path === prefix || path.startsWith(`${prefix}/`) ? prefix.length : undefined;
}

function normalizeRequestPath(path: string): string {
  const cut = path.search(/[?#]/);
  const p = cut >= 0 ? path.slice(0, cut) : path;
  return p === '' ? '/' : p;
}

/** The rule that serves host + path, or undefined (the default backend's turn). */
export function matchRoute<R extends RouteRule>(rules: readonly R[], host: string, path: string): R | undefined {
  const h = normalizeRequestHost(host);
  const p = normalizeRequestPath(path);
  const tiers = rules.map((r) => hostTier(r.host, h));
  const present = tiers.filter((t): t is number => t !== undefined);
  if (present.length === 0) return undefined;
  const tier = Math.min(...present);
  let best: { rule: R; score: number; exact: boolean } | undefined;
  rules.forEach((rule, i) => {
    if (tiers[i] !== tier) return;
    const score = pathScore(rule, p);
    if (score === undefined) return;
    const exact = rule.pathType === 'Exact';
    if (!best || score > best.score || (score === best.score && exact && !best.exact)) best = { rule, score, exact };
  });
  return best?.rule;
}
