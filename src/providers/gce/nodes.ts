// From the spec's node targets to GCE instances: the Node's providerID names the VM
// (`gce://<project>/<zone>/<instance>`); without one, the node name and zone are
// assumed to be the instance's, as the GCE cloud provider assumes.
import type { NodeTarget, TargetSet } from '../../model/spec.js';
import { zonalLink } from './links.js';

export interface GceInstance {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
}

const PROVIDER_ID = /^gce:\/\/([^/]+)\/([^/]+)\/([^/]+)$/;

export function instanceOf(node: NodeTarget, defaultProject: string): GceInstance | undefined {
  const m = node.providerID !== undefined ? PROVIDER_ID.exec(node.providerID) : null;
  if (m) return { project: m[1] ?? defaultProject, zone: m[2] ?? '', name: m[3] ?? '' };
  if (node.zone !== undefined && node.zone !== '') return { project: defaultProject, zone: node.zone, name: node.name };
  return undefined;
}

export function instanceLink(i: GceInstance): string {
  return zonalLink(i.project, i.zone, 'instances', i.name);
}

/** `zones/<zone>/instances/<name>`: how instance links are compared (hostURLToComparablePath). */
export function comparableInstance(link: string | null | undefined): string {
  if (!link) return '';
  const i = link.indexOf('zones/');
  return i < 0 ? link : link.slice(i);
}

export interface InstancesByZone {
  /** Zone → instances, for the zones of the configured region only. */
  readonly zones: ReadonlyMap<string, readonly GceInstance[]>;
  /** Nodes that could not be placed (no providerID and no zone, or another region). */
  readonly skipped: readonly string[];
}

/** The instances of every instance target set, grouped by zone, de-duplicated and sorted. */
export function instancesByZone(targetSets: readonly TargetSet[], project: string, region: string): InstancesByZone {
  const zones = new Map<string, Map<string, GceInstance>>();
  const skipped = new Set<string>();
  for (const ts of targetSets) {
    if (ts.type !== 'instance') continue;
    for (const node of ts.targets) {
      const i = instanceOf(node, project);
      if (!i || !i.zone.startsWith(`${region}-`)) {
        skipped.add(node.name);
        continue;
      }
      let z = zones.get(i.zone);
      if (!z) zones.set(i.zone, (z = new Map()));
      z.set(i.name, i);
    }
  }
  const sorted = new Map(
    [...zones.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([zone, m]) => [zone, [...m.values()].sort((a, b) => (a.name < b.name ? -1 : 1))] as const),
  );
  return { zones: sorted, skipped: [...skipped].sort() };
}
