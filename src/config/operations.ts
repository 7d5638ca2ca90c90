// How lbc runs as a process, apart from what it reconciles: leader election, the
// metrics and health endpoints, the log level. Set in the configuration file (the
// `leaderElection`, `metrics`, `health` and `log` sections, all optional) and by `lbc
// run` flags, which win; resolveOperations() merges both over the defaults and checks
// the result as a whole (a flag can make the file's timings unsafe).
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_LEASE_TIMINGS, leaseTimingProblems, type LeaseTimings } from '../kube/leader-election.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The file's sections as validated; every key optional, absent means "default or flag". */
export interface OperationsFile {
  readonly leaderElection?: {
    readonly enabled?: boolean;
    readonly namespace?: string;
    readonly id?: string;
    readonly leaseDurationMs?: number;
    readonly renewDeadlineMs?: number;
    readonly retryPeriodMs?: number;
  };
  readonly metrics?: { readonly bindAddress?: string };
  readonly health?: { readonly bindAddress?: string };
  readonly log?: { readonly level?: LogLevel };
}

/** `lbc run`'s flags for the same settings; undefined when not given. */
export interface OperationsFlags {
  readonly leaderElect?: boolean;
  readonly leaderElectionNamespace?: string;
  readonly leaderElectionId?: string;
  readonly leaderElectLeaseDuration?: number;
  readonly leaderElectRenewDeadline?: number;
  readonly leaderElectRetryPeriod?: number;
  readonly metricsBindAddress?: string;
  readonly healthProbeBindAddress?: string;
  readonly logLevel?: string;
}

export type LeaderElectionSettings =
  | { readonly enabled: false }
  | ({ readonly enabled: true; readonly namespace: string; readonly id: string } & LeaseTimings);

export interface OperationsSettings {
  readonly leaderElection: LeaderElectionSettings;
  readonly metricsBindAddress: string;
  readonly healthProbeBindAddress: string;
  readonly logLevel: LogLevel;
}

export const DEFAULT_LEADER_ELECTION_ID = 'lbc-leader';
export const DEFAULT_METRICS_BIND_ADDRESS = ':8080';
export const DEFAULT_HEALTH_PROBE_BIND_ADDRESS = ':8081';
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The pod's namespace (its service account says), else kube-system, as controller-runtime. */
export function defaultLeaderElectionNamespace(file = SERVICE_ACCOUNT_NAMESPACE): string {
  try {
    if (existsSync(file)) {
      const ns = readFileSync(file, 'utf8').trim();
      if (ns) return ns;
    }
  } catch {
    // unreadable: not in a pod as we know it
  }
  return 'kube-system';
}

export class OperationsError extends Error {
  override readonly name = 'OperationsError';
}

/** The log level: `--log-level` over the file's `log.level` over info (lbc run and lbc speaker alike). */
export function resolveLogLevel(file: OperationsFile | undefined, flag: string | undefined): LogLevel {
  const logLevel = flag ?? file?.log?.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new OperationsError(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return logLevel as LogLevel;
}

/** File over defaults, flags over file; throws OperationsError naming the setting at fault. */
export function resolveOperations(file: OperationsFile | undefined, flags: OperationsFlags = {}, namespaceFile?: string): OperationsSettings {
  const le = file?.leaderElection;
  const logLevel = resolveLogLevel(file, flags.logLevel);
  const sec = (v: number | undefined): number | undefined => (v === undefined ? undefined : Math.round(v * 1000));
  const timings: LeaseTimings = {
    leaseDurationMs: sec(flags.leaderElectLeaseDuration) ?? le?.leaseDurationMs ?? DEFAULT_LEASE_TIMINGS.leaseDurationMs,
    renewDeadlineMs: sec(flags.leaderElectRenewDeadline) ?? le?.renewDeadlineMs ?? DEFAULT_LEASE_TIMINGS.renewDeadlineMs,
    retryPeriodMs: sec(flags.leaderElectRetryPeriod) ?? le?.retryPeriodMs ?? DEFAULT_LEASE_TIMINGS.retryPeriodMs,
  };
  const enabled = flags.leaderElect ?? le?.enabled ?? false;
  if (enabled) {
    const problems = leaseTimingProblems(timings);
    if (problems.length > 0) throw new OperationsError(`leader election: ${problems.join('; ')}`);
  }
  return {
    leaderElection: enabled
      ? {
          enabled: true,
          namespace: flags.leaderElectionNamespace ?? le?.namespace ?? defaultLeaderElectionNamespace(namespaceFile),
          id: flags.leaderElectionId ?? le?.id ?? DEFAULT_LEADER_ELECTION_ID,
          ...timings,
        }
      : { enabled: false },
    metricsBindAddress: flags.metricsBindAddress ?? file?.metrics?.bindAddress ?? DEFAULT_METRICS_BIND_ADDRESS,
    healthProbeBindAddress: flags.healthProbeBindAddress ?? file?.health?.bindAddress ?? DEFAULT_HEALTH_PROBE_BIND_ADDRESS,
    logLevel,
  };
}
