// Where an L7 load balancer's resources live. Ingresses and the global Gateway class
// (gke-l7-global-external-managed) build the global external Application Load Balancer
// from global resources; the regional Gateway classes (gke-l7-rilb,
// gke-l7-regional-external-managed) build the same chain — forwarding rule, target proxy,
// URL map, backend services, health checks, SSL certificates — from the regional
// collections of the provider's region
// (https://cloud.google.com/load-balancing/docs/l7-internal, "Components"). Each resource
// kind takes the scope and calls the matching client; nothing else differs per scope.
import type { GceOptions } from './options.js';
import { globalLink, regionalLink } from './links.js';

export type L7Scope = 'global' | 'region';

/** The self link of a resource of the scope's collection. */
export function scopedLink(options: GceOptions, scope: L7Scope, collection: string, name: string): string {
  return scope === 'region' ? regionalLink(options.project, options.region, collection, name) : globalLink(options.project, collection, name);
}
