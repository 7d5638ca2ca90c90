// How `lbc run` and `lbc plan` get their configuration: the file named by --config, with
// the flags aws-load-balancer-controller users already pass laid over it (flags win),
// validated as a whole, every provider's options block included, before anything starts.
// A configuration problem is the operator's to fix, not a crash: it is reported in plain
// text, every problem of the file at once, with its key path (configurationFailure).
import { ConfigError, readConfigFile, validateConfig, type ConfigIssue, type LbcConfig } from '../config/config.js';
import { OperationsError } from '../config/operations.js';
import { builtinOptionsChecks } from '../providers/options.js';

/** A command line that cannot work as given (flags that exclude each other, a missing --config). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const SAMPLE_CONFIGS = 'examples/config/{aws,gce,metal,local}.yaml';

/**
 * The aws-load-balancer-controller flags lbc maps onto its configuration, with ALBC's
 * meaning (its pkg/config/controller_config.go, pkg/aws/cloud_config.go and
 * docs/deploy/configurations.md).
 */
export interface ConfigFlags {
  /** `--config`: the configuration file; required. */
  config?: string;
  /** `--cluster-name` → clusterName: what every cloud resource lbc creates is tagged with. */
  clusterName?: string;
  /** `--aws-region` → the aws provider's options.region. */
  awsRegion?: string;
  /** `--aws-vpc-id` → the aws provider's options.vpcId. */
  awsVpcId?: string;
  /** `--ingress-class` → ingress.className: the one class whose Ingresses lbc serves. */
  ingressClass?: string;
  /** `--default-tags k=v,...` → the aws provider's options.defaultTags, key by key over the file's. */
  defaultTags?: Readonly<Record<string, string>>;
}

interface FlagSetting {
  readonly flag: string;
  /** The key path the flag sets, as ConfigIssue paths name it. */
  readonly path: string;
}

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The document with the flags applied, which keys they set, and the flags that could not be applied. */
function applyFlags(doc: unknown, flags: ConfigFlags, source: string): { doc: unknown; set: FlagSetting[]; issues: ConfigIssue[] } {
  // A document that is not a map is refused by validation whatever the flags say.
  if (!isMap(doc)) return { doc, set: [], issues: [] };
  const out: Doc = { ...doc };
  const set: FlagSetting[] = [];
  const issues: ConfigIssue[] = [];
  if (flags.clusterName !== undefined) {
    out.clusterName = flags.clusterName;
    set.push({ flag: '--cluster-name', path: 'clusterName' });
  }
  // An `ingress` that is not a map stays as it is, for validation to refuse.
  if (flags.ingressClass !== undefined && (doc.ingress === undefined || isMap(doc.ingress))) {
    out.ingress = { ...doc.ingress, className: flags.ingressClass };
    set.push({ flag: '--ingress-class', path: 'ingress.className' });
  }
  const awsFlags = [
    ['--aws-region', flags.awsRegion !== undefined],
    ['--aws-vpc-id', flags.awsVpcId !== undefined],
    ['--default-tags', flags.defaultTags !== undefined],
  ] as const;
  const given = awsFlags.filter(([, on]) => on).map(([flag]) => flag);
  if (given.length === 0) return { doc: out, set, issues };
  const providers = Array.isArray(doc.providers) ? doc.providers : [];
  const aws = providers.flatMap((p: unknown, i) => (isMap(p) && p.type === 'aws' ? [i] : []));
  const [only, ...more] = aws;
  if (only === undefined || more.length > 0) {
    const why =
      only === undefined
        ? `${source} configures no provider of type aws`
        : `${source} configures several aws providers (${aws.map((i) => `providers[${i}]`).join(', ')}): set it in the options of the one meant`;
    for (const flag of given) issues.push({ path: flag, message: `sets an aws provider option, but ${why}` });
    return { doc: out, set, issues };
  }
  const entry = providers[only] as Doc;
  const options: Doc = { ...(isMap(entry.options) ? entry.options : {}) };
  const at = `providers[${only}].options`;
  if (flags.awsRegion !== undefined) {
    options.region = flags.awsRegion;
    set.push({ flag: '--aws-region', path: `${at}.region` });
  }
  if (flags.awsVpcId !== undefined) {
    options.vpcId = flags.awsVpcId;
    set.push({ flag: '--aws-vpc-id', path: `${at}.vpcId` });
  }
  if (flags.defaultTags !== undefined) {
    options.defaultTags = { ...(isMap(options.defaultTags) ? options.defaultTags : {}), ...flags.defaultTags };
    set.push({ flag: '--default-tags', path: `${at}.defaultTags` });
  }
  out.providers = providers.map((p: unknown, i) => (i === only ? { ...entry, options } : p));
  return { doc: out, set, issues };
}

const within = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** Reads --config, lays the flags over it and validates the result; throws UsageError or ConfigError. */
export async function loadControllerConfig(flags: ConfigFlags, command = 'lbc run'): Promise<LbcConfig> {
  if (!flags.config) {
    // Without a file lbc would not know its cluster name nor which Services it may claim,
    // and on a real cluster a built-in guess claims what another controller should serve.
    throw new UsageError(`${command} needs --config FILE: the cluster name, the providers and which Services and Ingresses are lbc's (samples: ${SAMPLE_CONFIGS})`);
  }
  const source = flags.config;
  const applied = applyFlags(await readConfigFile(source), flags, source);
  let config: LbcConfig | undefined;
  let issues: ConfigIssue[] = [];
  try {
    config = validateConfig(applied.doc, source, builtinOptionsChecks);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // A bad value that came from a flag is reported under the key it set, naming the flag.
    issues = e.issues.map((i) => {
      const by = applied.set.find((s) => within(i.path, s.path));
      return by ? { ...i, message: `${i.message} (set by ${by.flag})` } : i;
    });
  }
  issues.push(...applied.issues);
  if (issues.length > 0 || !config) throw new ConfigError(issues, source);
  return config;
}

/** The plain-text report of a problem the operator must fix in the file or the flags; undefined for any other failure. */
export function configurationFailure(e: unknown): string | undefined {
  if (e instanceof ConfigError) return e.report();
  if (e instanceof UsageError || e instanceof OperationsError) return e.message;
  return undefined;
}

/** `--default-tags k1=v1,k2=v2`, pflag's stringToString as ALBC reads it. */
export function parseTagList(v: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of v.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`"${pair}" is not key=value`);
    tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return tags;
}
