// Hostname matching as the Gateway API specifies it for listeners and routes: a
// `*.` wildcard stands for one or more leading labels (`*.example.com` matches
// `a.example.com` and `a.b.example.com`, not `example.com`); names compare without case.

const isWildcard = (h: string): boolean => h.startsWith('*.');

/** Whether the concrete or wildcard name `h` falls under the wildcard `w` (both lower case). */
function under(h: string, w: string): boolean {
  const suffix = w.slice(1); // `.example.com`
  return h.length > suffix.length && h.endsWith(suffix);
}

/**
 * The names a route hostname and a listener hostname both match, as one name: the more
 * specific of the two, or undefined when they share none. An absent listener hostname
 * matches every name.
 */
export function intersectHostname(route: string, listener: string | undefined): string | undefined {
  const r = route.toLowerCase();
  if (listener === undefined) return r;
  const l = listener.toLowerCase();
  if (r === l) return r;
  if (isWildcard(l) && under(r, l)) return r;
  if (isWildcard(r) && under(l, r)) return l;
  return undefined;
}

/**
 * The route's hostnames a listener serves (route ∩ listener, de-duplicated, sorted), or
 * undefined when the route names hostnames and none intersects. A route without
 * hostnames takes the listener's: the empty list.
 */
export function routeHostnamesFor(routeHostnames: readonly string[], listener: string | undefined): string[] | undefined {
  if (routeHostnames.length === 0) return [];
  const out = new Set<string>();
  for (const h of routeHostnames) {
    const i = intersectHostname(h, listener);
    if (i !== undefined) out.add(i);
  }
  return out.size === 0 ? undefined : [...out].sort();
}
