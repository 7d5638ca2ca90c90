// The headline of `npm run bench controller`: the figures issue #21 sets goals for, each
// read against its goal. Time is a ratio to the API floor measured in the same run, so
// that the verdict does not depend on how fast (or how loaded) the machine is.

export interface ControllerFigures {
  readonly services: number;
  /** From the controller's start to the last address seen, with every Service waiting (cold start). */
  readonly coldStartMs: number;
  /** The controller's API writes in the cold start, divided by the Services. */
  readonly writesPerService: number;
  /** Services lacking an Ensuring or Ensured Event after the cold start, plus Events the recorder gave up on. */
  readonly eventsMissing: number;
  /** The controller process's peak RSS over the whole run. */
  readonly peakRssMb: number;
  /** The controller process's RSS once its modules are loaded and its provider built. */
  readonly rssAfterStartMb: number;
  /** Nodes in the cluster during the cold start. */
  readonly nodes?: number;
  /** More Nodes joining at once after the cold start (the `scale` bench). */
  readonly joined?: { readonly nodes: number; readonly batches: number; readonly maxUpdatesPerLb: number; readonly meanUpdatesPerLb: number };
  /** The controller process's CPU time (user + system) from its start to settled, cold start. */
  readonly cpuMs: number;
}

export interface FloorFigures {
  /** Finalizer patches then status patches for every Service, with no controller. */
  readonly addressesMs: number;
}

export const GOALS = { coldStartRatio: 1.15, writesPerService: 4, eventsMissing: 0, peakRssMb: 120, peakRssAtScaleMb: 250, rssAfterStartMb: 80, updatesPerLbPerJoin: 1, cpuRatio: 1.1 } as const;

/** Issue #21 sets the peak at two sizes: 1000 Services (and 10 Nodes), and 5000 Services with 500 Nodes. */
const peakGoalMb = (services: number): number => (services > 1000 ? GOALS.peakRssAtScaleMb : GOALS.peakRssMb);

/**
 * Upstream's service controller (v1.26, 4 workers, QPS 1000) on the same cold start, as
 * issue #21 measured it on this machine class: 2.1 s of CPU for 1000 Services. It cannot
 * be measured in the same run: ../shared/kube is built without cloud providers, so its
 * service controller does not run there. The ratio is read against that figure, and says so.
 */
export const UPSTREAM_CPU_MS_PER_SERVICE = 2.1;

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

export function headlineLines(c: ControllerFigures, floor: FloorFigures): string[] {
  const ratio = c.coldStartMs / floor.addressesMs;
  const perService = c.cpuMs / c.services;
  const cpuRatio = perService / UPSTREAM_CPU_MS_PER_SERVICE;
  // Judged on the exact figures: a value that only rounds onto its goal is past it.
  const writes = Number.isInteger(c.writesPerService) ? String(c.writesPerService) : c.writesPerService.toFixed(2);
  return [
    `time to all addresses (cold start) / API floor = ${ratio.toFixed(2)}× (goal ≤ ${GOALS.coldStartRatio.toFixed(2)}×) ${verdict(ratio <= GOALS.coldStartRatio)}`,
    `API writes per Service = ${writes} (goal ≤ ${GOALS.writesPerService}) ${verdict(c.writesPerService <= GOALS.writesPerService)}`,
    `Events missing = ${c.eventsMissing} (goal ${GOALS.eventsMissing}) ${verdict(c.eventsMissing <= GOALS.eventsMissing)}`,
    `peak RSS at ${c.services} Services${c.nodes === undefined ? '' : ` and ${c.nodes} Nodes`} = ${c.peakRssMb} MB (goal ≤ ${peakGoalMb(c.services)} MB) ${verdict(c.peakRssMb <= peakGoalMb(c.services))}`,
    `RSS after start = ${c.rssAfterStartMb} MB (goal ≤ ${GOALS.rssAfterStartMb} MB) ${verdict(c.rssAfterStartMb <= GOALS.rssAfterStartMb)}`,
    ...(c.joined
      ? [
          `provider updates per LB when ${c.joined.nodes} Nodes join = max ${c.joined.maxUpdatesPerLb} (mean ${c.joined.meanUpdatesPerLb.toFixed(2)}, ${c.joined.batches} node batch${c.joined.batches === 1 ? '' : 'es'}) ` +
            `(goal ≤ ${GOALS.updatesPerLbPerJoin}) ${verdict(c.joined.maxUpdatesPerLb <= GOALS.updatesPerLbPerJoin)}`,
        ]
      : []),
    `controller CPU per Service (cold start) = ${perService.toFixed(2)} ms = ${cpuRatio.toFixed(2)}× upstream's ${UPSTREAM_CPU_MS_PER_SERVICE.toFixed(2)} ms ` +
      `(issue #21's figure, not measured in this run: ../shared/kube has no cloud providers) (goal ≤ ${GOALS.cpuRatio.toFixed(2)}×) ${verdict(cpuRatio <= GOALS.cpuRatio)}`,
  ];
}
