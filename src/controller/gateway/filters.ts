// HTTPRoute and GRPCRoute filters into the model's HttpFilter, each checked against the
// features the provider declares: a filter the provider cannot apply makes the route
// UnsupportedValue (the specification forbids skipping a filter), and a mirror whose
// backend does not resolve is a ResolvedRefs problem that mirrors nothing.
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { HeaderModifier, HttpFilter, HttpHeader, PathModifier } from '../../model/gateway.js';
import type { HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter } from '../../kube/gateway-api.js';
import type { BackendResolution, RefProblem } from './backend-refs.js';

export interface FilterContext {
  readonly features: ReadonlySet<GatewayFeature>;
  /** Resolves a mirror's backendRef (an HTTP backend of the route). */
  resolveMirror(ref: NonNullable<HTTPRouteFilter['requestMirror']>['backendRef'], field: string): BackendResolution;
  /** An ExtensionRef the provider reads (attached-parameters.ts extensionFilter); absent: none is served. */
  resolveExtension?(ref: NonNullable<HTTPRouteFilter['extensionRef']>, field: string): { readonly filter: HttpFilter } | { readonly problem: string };
  readonly unsupported: string[];
  readonly refs: RefProblem[];
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function headers(list: readonly { name: string; value: string }[] | undefined): HttpHeader[] {
  return (list ?? []).map((h) => ({ name: h.name, value: h.value }));
}

function modifier(m: HTTPHeaderFilter | undefined): HeaderModifier {
  return { set: headers(m?.set), add: headers(m?.add), remove: [...(m?.remove ?? [])] };
}

function pathModifier(p: HTTPPathModifier | undefined, field: string, ctx: FilterContext): PathModifier | undefined {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: p.replaceFullPath ?? '/' };
  if (p.type === 'ReplacePrefixMatch') return { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '/' };
  ctx.unsupported.push(`${field}.type: ${String((p as { type?: unknown }).type)} is not a path modifier`);
  return undefined;
}

/** Whether the provider serves `feature`; records the refusal when not. */
function needs(ctx: FilterContext, feature: GatewayFeature, field: string, what: string): boolean {
  if (ctx.features.has(feature)) return true;
  ctx.unsupported.push(`${field}: ${what} is not supported by this provider (${feature})`);
  return false;
}

/**
 * `filters` as HttpFilters, in order. `perBackend`: an HTTPBackendRef's filters, where
 * only header modifiers are portable.
 */
export function convertFilters(filters: readonly HTTPRouteFilter[] | undefined, field: string, ctx: FilterContext, perBackend = false): HttpFilter[] {
  const out: HttpFilter[] = [];
  let mirrors = 0;
  (filters ?? []).forEach((f, i) => {
    const at = `${field}[${i}]`;
    if (perBackend && f.type !== 'RequestHeaderModifier' && f.type !== 'ResponseHeaderModifier') {
      ctx.unsupported.push(`${at}: ${f.type} is not supported on a backendRef`);
      return;
    }
    if (perBackend && f.type === 'RequestHeaderModifier' && !needs(ctx, 'HTTPRouteBackendRequestHeaderModification', at, 'a backendRef RequestHeaderModifier')) return;
    switch (f.type) {
      case 'RequestHeaderModifier':
        out.push({ type: 'RequestHeaderModifier', ...modifier(f.requestHeaderModifier) });
        return;
      case 'ResponseHeaderModifier':
        if (needs(ctx, 'HTTPRouteResponseHeaderModification', at, 'ResponseHeaderModifier')) out.push({ type: 'ResponseHeaderModifier', ...modifier(f.responseHeaderModifier) });
        return;
      case 'RequestRedirect': {
        const r = f.requestRedirect ?? {};
        if (r.scheme !== undefined && !needs(ctx, 'HTTPRouteSchemeRedirect', `${at}.requestRedirect.scheme`, 'a scheme redirect')) return;
        if (r.port !== undefined && !needs(ctx, 'HTTPRoutePortRedirect', `${at}.requestRedirect.port`, 'a port redirect')) return;
        if (r.path !== undefined && !needs(ctx, 'HTTPRoutePathRedirect', `${at}.requestRedirect.path`, 'a path redirect')) return;
        const statusCode = r.statusCode ?? 302;
        if (!REDIRECT_CODES.has(statusCode)) {
          ctx.unsupported.push(`${at}.requestRedirect.statusCode: ${statusCode} is not a redirect status`);
          return;
        }
        if (r.scheme !== undefined && r.scheme !== 'http' && r.scheme !== 'https') {
          ctx.unsupported.push(`${at}.requestRedirect.scheme: ${r.scheme} is not http or https`);
          return;
        }
        const path = pathModifier(r.path, `${at}.requestRedirect.path`, ctx);
        out.push({
          type: 'RequestRedirect',
          statusCode: statusCode as 301 | 302 | 303 | 307 | 308,
          ...(r.scheme !== undefined ? { scheme: r.scheme as 'http' | 'https' } : {}),
          ...(r.hostname !== undefined ? { hostname: r.hostname } : {}),
          ...(path ? { path } : {}),
          ...(r.port !== undefined ? { port: r.port } : {}),
        });
        return;
      }
      case 'URLRewrite': {
        const u = f.urlRewrite ?? {};
        if (u.hostname !== undefined && !needs(ctx, 'HTTPRouteHostRewrite', `${at}.urlRewrite.hostname`, 'a host rewrite')) return;
        if (u.path !== undefined && !needs(ctx, 'HTTPRoutePathRewrite', `${at}.urlRewrite.path`, 'a path rewrite')) return;
        const path = pathModifier(u.path, `${at}.urlRewrite.path`, ctx);
        out.push({ type: 'URLRewrite', ...(u.hostname !== undefined ? { hostname: u.hostname } : {}), ...(path ? { path } : {}) });
        return;
      }
      case 'RequestMirror': {
        const m = f.requestMirror;
        if (!m || !needs(ctx, 'HTTPRouteRequestMirror', at, 'RequestMirror')) return;
        mirrors++;
        if (mirrors === 2 && !needs(ctx, 'HTTPRouteRequestMultipleMirrors', at, 'more than one RequestMirror')) return;
        const partial = m.percent !== undefined || m.fraction !== undefined;
        if (partial && !needs(ctx, 'HTTPRouteRequestPercentageMirror', at, 'a percentage mirror')) return;
        const percent = m.percent ?? (m.fraction ? (100 * m.fraction.numerator) / (m.fraction.denominator ?? 100) : 100);
        const target = ctx.resolveMirror(m.backendRef, `${at}.requestMirror.backendRef`);
        if ('problem' in target) ctx.refs.push(target.problem);
        if ('unsupported' in target) ctx.unsupported.push(target.unsupported);
        out.push({ type: 'RequestMirror', percent, ...('targetSet' in target ? { targetSet: target.targetSet } : {}) });
        return;
      }
      case 'ExtensionRef': {
        // The specification: a filter that cannot be applied is never skipped; lbc does not serve the route.
        const r = f.extensionRef && ctx.resolveExtension ? ctx.resolveExtension(f.extensionRef, `${at}.extensionRef`) : { problem: `${at}: filter type ExtensionRef is not supported` };
        if ('problem' in r) ctx.unsupported.push(r.problem);
        else out.push(r.filter);
        return;
      }
      default:
        ctx.unsupported.push(`${at}: filter type ${f.type} is not supported`);
    }
  });
  return out;
}
