// The controller configuration file. Every key is checked (unknown keys are errors, so
// a typo never silently falls back to a default) and every error names its key path,
// e.g. `providers[1].type: expected one of "memory"|"local"|...`. What a provider's
// `options` block may hold is the provider's own business: the layer that knows the
// providers hands validateConfig their checks (ProviderOptionsChecks), so this file
// names no provider option.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { LOG_LEVELS, resolveOperations, type OperationsFile } from './operations.js';

export const PROVIDER_TYPES = ['memory', 'local', 'aws', 'gce', 'metal'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const DEFAULT_INGRESS_CONTROLLER = 'lbc.dev/ingress-controller';
/** GatewayClass spec.controllerName lbc serves unless the configuration names another. */
export const DEFAULT_GATEWAY_CONTROLLER = 'lbc.dev/gateway-controller';
export const CLASS_PREFIX = 'lbc.dev/';

export interface ProviderConfig {
  readonly name: string;
  readonly type: ProviderType;
  /** The loadBalancerClass that selects this provider. */
  readonly class: string;
  /** Type-specific: checked by the provider's own ProviderOptionsCheck (when given) and by its factory. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface LbcConfig {
  readonly clusterName: string;
  readonly providers: readonly ProviderConfig[];
  /** When set, Services with no loadBalancerClass are served by the provider with this class. */
  readonly defaultClass?: string;
  readonly ingress: {
    readonly controllerName: string;
    /** Legacy `kubernetes.io/ingress.class` value → provider name. */
    readonly classAnnotationMap: Readonly<Record<string, string>>;
    /**
     * When set, the one class whose Ingresses lbc serves (ingressClassName, or the legacy
     * annotation), as aws-load-balancer-controller's --ingress-class: Ingresses of lbc's
     * other IngressClasses, and Ingresses without a class, are left alone.
     */
    readonly className?: string;
  };
  readonly gateway: {
    /**
     * The GatewayClass spec.controllerName this instance serves, and the controllerName of
     * the route status entries it writes: two lbc installs with different names each keep
     * to their own classes and entries instead of overwriting each other's.
     */
    readonly controllerName: string;
    /**
     * controllerNames of other controllers' GatewayClasses this instance serves as a
     * provider declares them (ProviderCapabilities.gatewayControllerNames: aws-load-balancer-
     * controller's gateway.k8s.aws/alb and gateway.k8s.aws/nlb). Absent: every name the
     * configured providers declare, so an ALBC user's classes work unchanged; `[]`: none, for
     * a cluster where that controller still serves its own classes.
     */
    readonly compatibleControllerNames?: readonly string[];
  };
  readonly concurrency: number;
  readonly resyncPeriodMs: number;
  readonly gc: { readonly intervalMs: number; readonly dryRun: boolean };
  /** How long a node may be NotReady before it leaves the load balancers' target sets. */
  readonly nodeReadyHysteresisMs: number;
  /** The leaderElection / metrics / health / log sections, when the file has any (operations.ts). */
  readonly operations?: OperationsFile;
}

export interface ConfigIssue {
  /** `providers[1].type`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

const issueLine = (i: ConfigIssue): string => `  ${i.path ? `${i.path}: ` : ''}${i.message}`;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly source?: string,
  ) {
    super(`invalid configuration${source ? ` in ${source}` : ''}:\n` + issues.map(issueLine).join('\n'));
  }

  /** For a person at a terminal: `bad.yaml: 2 errors:` and one indented line per issue, no stack. */
  report(): string {
    const n = this.issues.length;
    return [`${this.source ?? 'configuration'}: ${n} error${n === 1 ? '' : 's'}:`, ...this.issues.map(issueLine)].join('\n');
  }
}

/**
 * One provider type's check of its `options` block: its problems, each path relative to
 * the block (`region`, `pools[1].addresses[0]`), none when the block is valid. Must not
 * load the provider itself (a cloud SDK), only the schema of its options.
 */
export type ProviderOptionsCheck = (options: unknown) => readonly ConfigIssue[];
export type ProviderOptionsChecks = Readonly<Partial<Record<ProviderType, ProviderOptionsCheck>>>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Kubernetes wants loadBalancerClass and IngressClass controller as a domain-prefixed path.
const PREFIXED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and -, starting and ending with a letter or digit)');
const prefixedName = z.string().max(253).regex(PREFIXED_NAME, 'must be a domain-prefixed name such as lbc.dev/aws');

const durationSchema = (minMs: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const d = parseDuration(v);
    if (!d.ok) {
      ctx.issues.push({ code: 'custom', message: d.reason, input: v });
      return z.NEVER;
    }
    if (d.ms < minMs) {
      ctx.issues.push({ code: 'custom', message: `must be at least ${minMs / 1000}s`, input: v });
      return z.NEVER;
    }
    return d.ms;
  });

const providerSchema = z.strictObject({
  name: dnsLabel,
  type: z.enum(PROVIDER_TYPES),
  class: prefixedName.optional(),
  options: z.record(z.string(), z.unknown()).default({}),
});

const fileSchema = z.strictObject({
  clusterName: dnsLabel,
  providers: z.array(providerSchema).min(1, 'must list at least one provider'),
  defaultClass: prefixedName.optional(),
  ingress: z
    .strictObject({
      controllerName: prefixedName.default(DEFAULT_INGRESS_CONTROLLER),
      classAnnotationMap: z.record(z.string(), z.string()).default({}),
      className: z
        .string()
        .max(253)
        .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be an IngressClass name (DNS subdomain)')
        .optional(),
    })
    .default({ controllerName: DEFAULT_INGRESS_CONTROLLER, classAnnotationMap: {} }),
  gateway: z
    .strictObject({
      controllerName: prefixedName.default(DEFAULT_GATEWAY_CONTROLLER),
      compatibleControllerNames: z
        .array(prefixedName)
        .refine((names) => new Set(names).size === names.length, 'must not name a controllerName twice')
        .optional(),
    })
    .refine((g) => !g.compatibleControllerNames?.includes(g.controllerName), { path: ['compatibleControllerNames'], message: 'must not name gateway.controllerName, lbc\'s own' })
    .default({ controllerName: DEFAULT_GATEWAY_CONTROLLER }),
  concurrency: z.number().int().min(1).max(256).default(4),
  resyncPeriod: durationSchema(1000).default(600_000),
  gc: z
    .strictObject({
      interval: durationSchema(10_000).default(1_800_000),
      dryRun: z.boolean().default(false),
    })
    .default({ interval: 1_800_000, dryRun: false }),
  nodeReadyHysteresis: durationSchema(0).default(60_000),
  leaderElection: z
    .strictObject({
      enabled: z.boolean().optional(),
      namespace: dnsLabel.optional(),
      id: z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Lease name (DNS subdomain)').optional(),
      leaseDuration: durationSchema(1000).optional(),
      renewDeadline: durationSchema(1).optional(),
      retryPeriod: durationSchema(1).optional(),
    })
    .optional(),
  metrics: z.strictObject({ bindAddress: z.string().optional() }).optional(),
  health: z.strictObject({ bindAddress: z.string().optional() }).optional(),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).optional() }).optional(),
});

function operationsOf(f: z.infer<typeof fileSchema>): OperationsFile | undefined {
  if (!f.leaderElection && !f.metrics && !f.health && !f.log) return undefined;
  const le = f.leaderElection;
  return {
    ...(le
      ? {
          leaderElection: {
            ...(le.enabled !== undefined ? { enabled: le.enabled } : {}),
            ...(le.namespace !== undefined ? { namespace: le.namespace } : {}),
            ...(le.id !== undefined ? { id: le.id } : {}),
            ...(le.leaseDuration !== undefined ? { leaseDurationMs: le.leaseDuration } : {}),
            ...(le.renewDeadline !== undefined ? { renewDeadlineMs: le.renewDeadline } : {}),
            ...(le.retryPeriod !== undefined ? { retryPeriodMs: le.retryPeriod } : {}),
          },
        }
      : {}),
    ...(f.metrics ? { metrics: f.metrics } : {}),
    ...(f.health ? { health: f.health } : {}),
    ...(f.log ? { log: f.log } : {}),
  };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** A zod error as issues naming their key path (`unknown key` for each key a strict object refused). */
export function zodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  return error.issues.flatMap((i): ConfigIssue[] => {
    const path = [...prefix, ...i.path];
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: formatPath([...path, k]), message: 'unknown key' }));
    }
    let message = i.message.replace(/^Invalid (input|option): /, '');
    if (i.code === 'invalid_type' && /received undefined$/.test(i.message)) message = 'is required';
    return [{ path: formatPath(path), message }];
  });
}

/** The sections the cross checks read; any may be missing when it did not validate itself. */
interface CrossCheckParts {
  readonly providers?: readonly Pick<ProviderConfig, 'name' | 'class'>[];
  readonly defaultClass?: string;
  readonly classAnnotationMap?: Readonly<Record<string, string>>;
  readonly leaderElection?: OperationsFile['leaderElection'];
}

/** Checks that need the whole document: uniqueness and references between sections. */
function crossCheck(parts: CrossCheckParts): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const classes = new Map<string, number>();
  parts.providers?.forEach((p, i) => {
    const sameName = names.get(p.name);
    if (sameName !== undefined) issues.push({ path: `providers[${i}].name`, message: `"${p.name}" is already used by providers[${sameName}]` });
    else names.set(p.name, i);
    const sameClass = classes.get(p.class);
    if (sameClass !== undefined) issues.push({ path: `providers[${i}].class`, message: `"${p.class}" is already used by providers[${sameClass}]` });
    else classes.set(p.class, i);
  });
  const le = parts.leaderElection;
  if (le && (le.leaseDurationMs !== undefined || le.renewDeadlineMs !== undefined || le.retryPeriodMs !== undefined)) {
    try {
      resolveOperations({ leaderElection: { ...le, enabled: true } }, {}, '/nonexistent');
    } catch (e) {
      issues.push({ path: 'leaderElection', message: (e as Error).message.replace(/^leader election: /, '') });
    }
  }
  // References into providers are only checked when the providers themselves validated.
  if (!parts.providers) return issues;
  if (parts.defaultClass !== undefined && !classes.has(parts.defaultClass)) {
    issues.push({ path: 'defaultClass', message: `"${parts.defaultClass}" is not the class of any provider (${[...classes.keys()].join(', ')})` });
  }
  for (const [legacy, provider] of Object.entries(parts.classAnnotationMap ?? {})) {
    if (!names.has(provider)) {
      issues.push({
        path: formatPath(['ingress', 'classAnnotationMap', legacy]),
        message: `"${provider}" is not a provider name (${[...names.keys()].join(', ')})`,
      });
    }
  }
  return issues;
}

const withClass = (p: z.infer<typeof providerSchema>): ProviderConfig => ({ name: p.name, type: p.type, class: p.class ?? `${CLASS_PREFIX}${p.name}`, options: p.options });

/**
 * The cross checks over whatever sections of an invalid document validate by themselves,
 * so that one run reports every problem of the file, not the first layer of them.
 */
function crossCheckSections(doc: unknown): ConfigIssue[] {
  if (typeof doc !== 'object' || doc === null) return [];
  const d = doc as Record<string, unknown>;
  const section = <T extends z.ZodType>(schema: T, v: unknown): z.output<T> | undefined => {
    const r = schema.safeParse(v);
    return r.success ? r.data : undefined;
  };
  const { shape } = fileSchema;
  const providers = section(shape.providers, d.providers);
  const defaultClass = section(shape.defaultClass, d.defaultClass);
  const ingress = section(shape.ingress, d.ingress);
  const leaderElection = section(shape.leaderElection, d.leaderElection);
  return crossCheck({
    ...(providers ? { providers: providers.map(withClass) } : {}),
    ...(defaultClass !== undefined ? { defaultClass } : {}),
    ...(ingress ? { classAnnotationMap: ingress.classAnnotationMap } : {}),
    ...(leaderElection ? { leaderElection: operationsOf({ leaderElection } as z.infer<typeof fileSchema>)?.leaderElection } : {}),
  });
}

/** Where a provider's own issue sits in the file: `providers[0].options` joined with `region` or `[2]`. */
const underOptions = (i: number, rel: string): string => `providers[${i}].options${rel === '' || rel.startsWith('[') ? rel : `.${rel}`}`;

/**
 * Each provider entry's options, checked by its type's own check, whether or not the rest
 * of the document validates: a typo in a region is reported with the top-level problems.
 */
function providerOptionIssues(doc: unknown, checks: ProviderOptionsChecks): ConfigIssue[] {
  const providers = (doc as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(providers)) return [];
  return providers.flatMap((p: unknown, i): ConfigIssue[] => {
    if (typeof p !== 'object' || p === null) return [];
    const { type, options = {} } = p as { type?: unknown; options?: unknown };
    const check = typeof type === 'string' ? checks[type as ProviderType] : undefined;
    // An options block that is not an object is the file schema's to report.
    if (!check || typeof options !== 'object' || options === null || Array.isArray(options)) return [];
    return check(options).map((issue) => ({ path: underOptions(i, issue.path), message: issue.message }));
  });
}

/**
 * Validates an already-decoded document (YAML or JSON). Throws ConfigError with every
 * problem found. `checks` are the providers' own checks of their options blocks (the
 * registry's builtinOptionsChecks); without them an options block need only be an object,
 * and the provider's factory refuses it when the providers are built.
 */
export function validateConfig(doc: unknown, source?: string, checks: ProviderOptionsChecks = {}): LbcConfig {
  if (doc === null || doc === undefined) throw new ConfigError([{ path: '', message: 'the configuration is empty' }], source);
  const r = fileSchema.safeParse(doc);
  const optionIssues = providerOptionIssues(doc, checks);
  if (!r.success) throw new ConfigError([...zodIssues(r.error), ...optionIssues, ...crossCheckSections(doc)], source);
  const f = r.data;
  const cfg: LbcConfig = {
    clusterName: f.clusterName,
    providers: f.providers.map(withClass),
    ...(f.defaultClass !== undefined ? { defaultClass: f.defaultClass } : {}),
    ingress: {
      controllerName: f.ingress.controllerName,
      classAnnotationMap: f.ingress.classAnnotationMap,
      ...(f.ingress.className !== undefined ? { className: f.ingress.className } : {}),
    },
    gateway: { controllerName: f.gateway.controllerName, ...(f.gateway.compatibleControllerNames !== undefined ? { compatibleControllerNames: f.gateway.compatibleControllerNames } : {}) },
    concurrency: f.concurrency,
    resyncPeriodMs: f.resyncPeriod,
    gc: { intervalMs: f.gc.interval, dryRun: f.gc.dryRun },
    nodeReadyHysteresisMs: f.nodeReadyHysteresis,
  };
  const operations = operationsOf(f);
  if (operations) (cfg as { operations?: OperationsFile }).operations = operations;
  const issues = [
    ...optionIssues,
    ...crossCheck({
      providers: cfg.providers,
      ...(cfg.defaultClass !== undefined ? { defaultClass: cfg.defaultClass } : {}),
      classAnnotationMap: cfg.ingress.classAnnotationMap,
      ...(operations?.leaderElection ? { leaderElection: operations.leaderElection } : {}),
    }),
  ];
  if (issues.length > 0) throw new ConfigError(issues, source);
  return cfg;
}

/** Decodes YAML (JSON is YAML too) without validating it. Throws ConfigError naming the line. */
export function decodeConfig(text: string, source?: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ path: '', message: `YAML: ${(e.message.split('\n')[0] ?? e.code).replace(/:$/, '')}` })),
      source,
    );
  }
  return doc.toJS();
}

/** Parses YAML (JSON is YAML too). Throws ConfigError naming the line or the key path. */
export function parseConfig(text: string, source?: string, checks?: ProviderOptionsChecks): LbcConfig {
  return validateConfig(decodeConfig(text, source), source, checks);
}

/** Reads and decodes a configuration file, not yet validated. Throws ConfigError naming the file. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read file: ${(e as Error).message}` }], path);
  }
  return decodeConfig(text, path);
}

export async function loadConfig(path: string, checks?: ProviderOptionsChecks): Promise<LbcConfig> {
  return validateConfig(await readConfigFile(path), path, checks);
}
