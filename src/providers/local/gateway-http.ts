// A Gateway's HTTP or HTTPS port as the L7 listener asks it (http-router.ts's L7Route):
// model/gateway-match.ts picks listener, rule and match, then the rule's filters run in
// the order declared (HTTPRouteRule.filters: "implementations SHOULD implement filters in
// the order they are specified"), a backend is chosen by weight, and that backend's own
// filters (HTTPBackendRef.filters) run last.
//
// - No listener for the host, or no rule: 404 (HTTPRouteRule.matches: "When no rules
//   matching a request have been successfully attached ... a HTTP 404").
// - A rule with no backend left, weights all 0, or the chosen backend invalid: 500
//   (HTTPRouteRule.backendRefs: "requests that would have been sent to [an invalid]
//   backend ... MUST receive a 500 status code"); a RequestRedirect needs no backend.
// - RequestRedirect: scheme, hostname, port and path as HTTPRequestRedirectFilter says
//   (no port → the scheme's well-known port when the scheme is set, else the listener's;
//   80 with http and 443 with https are left out of Location); the query string is kept.
// - URLRewrite: Host and path (ReplaceFullPath, ReplacePrefixMatch by element).
// - RequestHeaderModifier / ResponseHeaderModifier: set overwrites, add appends with `,`,
//   remove deletes; names compare case-insensitively.
// - RequestMirror: a copy goes to the mirror's target set for `percent` of requests; its
//   answer is dropped, the client gets the primary's.
import type { OutgoingHttpHeaders } from 'node:http';
import type { GatewayPort, HeaderModifier, HttpFilter, HttpGatewayListener, HttpRequestMatch, HttpRouteRule, PathModifier, WeightedBackend } from '../../model/gateway.js';
import { HttpPortMatcher, matchedPrefix, normalizeHost, replacePrefix, type HttpRequestFacts } from '../../model/gateway-match.js';
import { notFound, requestHost, type L7Decision, type L7Request } from './http-router.js';
import type { TargetSetRuntime } from './target-set.js';
import { WeightedPicker } from './weighted.js';

type HttpPort = Extract<GatewayPort, { protocol: 'HTTP' | 'HTTPS' }>;

const noBackend: L7Decision = { kind: 'respond', status: 500, body: '500 Internal Server Error: no valid backend for this route\n' };

function headerValue(req: L7Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function modifyHeaders(m: HeaderModifier): (h: OutgoingHttpHeaders) => void {
  return (h) => {
    for (const { name, value } of m.set) h[name.toLowerCase()] = value;
    for (const { name, value } of m.add) {
      const key = name.toLowerCase();
      const have = h[key];
      h[key] = have === undefined ? value : `${Array.isArray(have) ? have.join(',') : String(have)},${value}`;
    }
    for (const name of m.remove) delete h[name.toLowerCase()];
  };
}

function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q >= 0 ? { path: url.slice(0, q), query: url.slice(q) } : { path: url, query: '' };
}

function modifiedPath(path: string, mod: PathModifier, match: HttpRequestMatch): string {
  if (mod.type === 'ReplaceFullPath') return mod.value;
  const prefix = matchedPrefix(match);
  // The builder refuses ReplacePrefixMatch on a rule without a PathPrefix match; were one to arrive, the path stays.
  return prefix === undefined ? path : replacePrefix(path, prefix, mod.value);
}

/** Edits gathered from the filters that apply to one request. */
interface Edits {
  url?: string;
  host?: string;
  readonly request: ((h: OutgoingHttpHeaders) => void)[];
  readonly response: ((h: OutgoingHttpHeaders) => void)[];
  readonly mirrors: TargetSetRuntime[];
}

/** What the matcher reads of one request: a class, so a request costs one object and no closure. */
class RequestFacts implements HttpRequestFacts {
  constructor(
    private readonly req: L7Request,
    readonly host: string,
    readonly url: string,
    readonly sni: string | undefined,
  ) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }

  header(name: string): string | undefined {
    return headerValue(this.req, name);
  }
}

/** The TLS server name of the request's connection (HTTP/2's compat socket forwards it too). */
function serverName(req: L7Request): string | undefined {
  const name = (req.socket as { servername?: unknown } | null | undefined)?.servername;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export class GatewayHttpRoutes {
  private readonly matcher: HttpPortMatcher<HttpGatewayListener>;
  private readonly pickers = new Map<HttpRouteRule, WeightedPicker<WeightedBackend>>();

  constructor(
    private readonly port: HttpPort,
    private readonly targetSet: (name: string) => TargetSetRuntime | undefined,
  ) {
    this.matcher = new HttpPortMatcher<HttpGatewayListener>(port.listeners);
    for (const l of port.listeners) for (const r of l.rules) this.pickers.set(r, new WeightedPicker(r.backends.map((b) => ({ item: b, weight: b.weight }))));
  }

  resolve(req: L7Request, proto: 'http' | 'https'): L7Decision {
    const url = req.url ?? '/';
    const host = requestHost(req);
    const m = this.matcher.match(new RequestFacts(req, host, url, proto === 'https' ? serverName(req) : undefined));
    if (m.kind !== 'rule') return notFound;
    const { rule, match } = m;
    // Most rules have no filter: they gather no edits, and the answer is built without them.
    let edits: Edits | undefined;
    if (rule.filters.length > 0) {
      edits = { request: [], response: [], mirrors: [] };
      const redirect = this.apply(rule.filters, edits, url, host, match, proto);
      if (redirect) return redirect;
    }
    const backend = this.pickers.get(rule)?.pick();
    const ts = backend?.targetSet === undefined ? undefined : this.targetSet(backend.targetSet);
    if (!backend || !ts) return noBackend;
    if (backend.filters.length > 0) {
      edits ??= { request: [], response: [], mirrors: [] };
      const late = this.apply(backend.filters, edits, edits.url ?? url, host, match, proto);
      if (late) return late;
    }
    const requestMs = rule.timeouts?.requestMs;
    const backendRequestMs = rule.timeouts?.backendRequestMs;
    if (edits === undefined && !requestMs && !backendRequestMs) return { kind: 'forward', targetSet: ts, protocol: rule.backendProtocol };
    edits ??= { request: [], response: [], mirrors: [] };
    return {
      kind: 'forward',
      targetSet: ts,
      ...(edits.url !== undefined ? { url: edits.url } : {}),
      ...(edits.host !== undefined ? { host: edits.host } : {}),
      ...(edits.request.length > 0 ? { requestHeaders: (h: OutgoingHttpHeaders) => edits.request.forEach((f) => f(h)) } : {}),
      ...(edits.response.length > 0 ? { responseHeaders: (h: OutgoingHttpHeaders) => edits.response.forEach((f) => f(h)) } : {}),
      ...(edits.mirrors.length > 0 ? { mirrors: edits.mirrors } : {}),
      ...(requestMs ? { requestTimeoutMs: requestMs } : {}),
      ...(backendRequestMs ? { backendTimeoutMs: backendRequestMs } : {}),
      protocol: rule.backendProtocol,
    };
  }

  /** Runs filters into edits; returns the answer when one of them answers itself (RequestRedirect). */
  private apply(filters: readonly HttpFilter[], edits: Edits, url: string, host: string, match: HttpRequestMatch, proto: 'http' | 'https'): L7Decision | undefined {
    for (const f of filters) {
      switch (f.type) {
        case 'RequestHeaderModifier':
          edits.request.push(modifyHeaders(f));
          break;
        case 'ResponseHeaderModifier':
          edits.response.push(modifyHeaders(f));
          break;
        case 'URLRewrite': {
          if (f.hostname !== undefined) edits.host = f.hostname;
          if (f.path) {
            const { path, query } = splitUrl(url);
            edits.url = `${modifiedPath(path, f.path, match)}${query}`;
          }
          break;
        }
        case 'RequestMirror': {
          const ts = f.targetSet === undefined ? undefined : this.targetSet(f.targetSet);
          if (ts && (f.percent >= 100 || Math.random() * 100 < f.percent)) edits.mirrors.push(ts);
          break;
        }
        case 'RequestRedirect': {
          const { path, query } = splitUrl(url);
          const scheme = f.scheme ?? proto;
          const port = f.port ?? (f.scheme !== undefined ? (scheme === 'https' ? 443 : 80) : this.port.port);
          const wellKnown = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
          const hostname = f.hostname ?? normalizeHost(host);
          const location = `${scheme}://${hostname}${wellKnown ? '' : `:${port}`}${f.path ? modifiedPath(path, f.path, match) : path}${query}`;
          const headers: OutgoingHttpHeaders = { location };
          for (const r of edits.response) r(headers);
          return { kind: 'respond', status: f.statusCode, headers, body: '' };
        }
      }
    }
    return undefined;
  }
}
