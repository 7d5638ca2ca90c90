// Structured JSON logs (pino) for the controller: one JSON object per line, the level by
// --log-level, and every line about an object carrying kind, namespace, name and
// provider so that a log pipeline can follow one Service.
//
// Credentials must never reach a line. Three layers, because lbc logs error messages
// written by libraries it does not control (client-node, cloud SDKs), where a token or
// a key can appear anywhere:
// 1. pino's redact paths blank known credential fields in logged objects, and
//    Secret-shaped objects lose their data;
// 2. the values lbc itself holds (the kubeconfig's token, password and client key,
//    cloud keys from the environment or the config) are registered with the scrubber
//    and replaced wherever they appear;
// 3. the finished line is scrubbed for what credentials look like: PEM private keys
//    (also base64-encoded, as in a Secret's data), bearer/basic authorization, JWTs
//    (service-account tokens), `token=…`/`"password":"…"` pairs, and the userinfo of a
//    URL (`http://KEY:SECRET@host`, as an endpoint option may carry).
import type { KubeConfig } from '@kubernetes/client-node';
import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';

import type { LbcConfig } from '../config/config.js';
import { LOG_LEVELS, type LogLevel } from '../config/operations.js';
import type { Logger } from '../kube/logger.js';
import { MAX_LOG_FIELD, truncate } from '../kube/truncate.js';

export { LOG_LEVELS, type LogLevel };

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

export const REDACTED = '[REDACTED]';

// Field names whose values are credentials wherever they appear in a JSON line.
const CREDENTIAL_KEY =
  /"([A-Za-z_-]*(?:token|password|passwd|secret|secretaccesskey|secret_access_key|apikey|api_key|privatekey|private_key|client-key-data|clientkeydata|authorization|credentials?))"(\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
// The same in free text: `token=abc`, `password: abc`, `aws_secret_access_key = abc`.
const CREDENTIAL_PAIR = /\b((?:[A-Za-z_-]*[_-])?(?:token|password|passwd|secret[_-]?access[_-]?key|api[_-]?key|client[_-]?secret))(\s*[=:]\s*)(?!\[REDACTED\])([^\s"',;&]+)/gi;
// A PEM private key, raw or inside a JSON string (newlines escaped); ends at its END line,
// or where the string ends if it was cut short.
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|(?="|$))/g;
// "-----BEGIN" base64-encoded, as it starts a Secret's tls.key (or any PEM) in `data`.
const BASE64_PEM = /LS0tLS1CRUdJT[A-Za-z0-9+/]*={0,2}/g;
const AUTHORIZATION = /\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
// `scheme://user:password@host`: everything between `//` and the `@` that ends the authority.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>\\]+@/gi;

// Values shorter than this are not registered: replacing "ab" everywhere would garble
// every line and protect nothing worth protecting.
const MIN_SECRET_LENGTH = 6;

/** Replaces credentials in text: the registered values, and anything shaped like one. */
export class SecretScrubber {
  private values: string[] = [];

  /** Registers a credential lbc holds; its JSON-escaped form (as it appears inside a line) too. */
  add(value: string | undefined | null): this {
    if (!value || value.length < MIN_SECRET_LENGTH) return this;
    const escaped = JSON.stringify(value).slice(1, -1);
    for (const v of new Set([value, escaped, value.trim()])) {
      if (v.length >= MIN_SECRET_LENGTH && !this.values.includes(v)) this.values.push(v);
    }
    // Longest first, so a value that contains another is replaced whole.
    this.values.sort((a, b) => b.length - a.length);
    return this;
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out
      .replace(PEM_PRIVATE_KEY, `${REDACTED} private key`)
      .replace(BASE64_PEM, REDACTED)
      .replace(AUTHORIZATION, `$1$2${REDACTED}`)
      .replace(JWT, REDACTED)
      .replace(URL_USERINFO, `$1${REDACTED}@`)
      .replace(CREDENTIAL_KEY, `"$1"$2"${REDACTED}"`)
      .replace(CREDENTIAL_PAIR, `$1$2${REDACTED}`);
  }
}

// Option names whose values are credentials, in a configuration about to be logged.
const CREDENTIAL_OPTION = /(secret|token|password|passwd|private|credential|key)$/i;

/**
 * A copy of a configuration fit for a log line: the value of every key named like a
 * credential (`secretAccessKey`, `apiToken`, `password`…) and the userinfo of every URL
 * replaced, however deep they sit.
 */
export function redactCredentials<T>(value: T): T {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') return CREDENTIAL_OPTION.test(key) ? REDACTED : v.replace(URL_USERINFO, `$1${REDACTED}@`);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value, '') as T;
}

/** Registers every credential lbc holds with the scrubber, so no log line can carry one. */
export function registerCredentials(scrubber: SecretScrubber, kc: KubeConfig | undefined, config: LbcConfig | undefined, env: NodeJS.ProcessEnv = process.env): void {
  for (const u of kc?.getUsers() ?? []) {
    scrubber.add(u.token).add(u.password).add(u.keyData);
    if (u.keyData) scrubber.add(Buffer.from(u.keyData, 'base64').toString('utf8'));
    const ap = (u.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    for (const k of ['access-token', 'id-token', 'refresh-token', 'client-secret']) scrubber.add(typeof ap[k] === 'string' ? ap[k] : undefined);
  }
  for (const k of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'GOOGLE_OAUTH_ACCESS_TOKEN', 'LBC_GOSSIP_KEY']) scrubber.add(env[k]);
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string' && CREDENTIAL_OPTION.test(key)) scrubber.add(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const p of config?.providers ?? []) walk(p.options, '');
}

// Known credential fields of objects that may be logged (config, kubeconfig users,
// SDK errors that carry their request), one and two levels down.
const REDACT_KEYS = ['token', 'password', 'authorization', 'Authorization', 'secretAccessKey', 'sessionToken', 'privateKey', 'private_key', 'client_secret', 'keyData', 'client-key-data'];
const REDACT_PATHS = REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.headers.${k}`, `*.*.headers.${k}`]);

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; stdout by default. */
  readonly destination?: DestinationStream;
  readonly scrubber?: SecretScrubber;
}

export function createLogger(opts: LoggerOptions = {}): Pino {
  const scrubber = opts.scrubber ?? new SecretScrubber();
  return pino(
    {
      name: 'lbc',
      level: opts.level ?? 'info',
      timestamp: stdTimeFunctions.isoTime,
      // "level":"warn" rather than 40: read by people as often as by machines.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: (e: Error) => boundedError(stdSerializers.err(e), scrubber), secret: secretSerializer },
      hooks: {
        // Messages quote user input (a 100 KB annotation value): each is cut to a bound,
        // after scrubbing, so a cut never leaves half a credential the scrubber would miss.
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? truncate(scrubber.scrub(a), MAX_LOG_FIELD) : a)) as Parameters<typeof method>);
        },
        streamWrite: (line) => scrubber.scrub(line),
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

function boundedError<E extends { message: string; stack?: string }>(e: E, scrubber: SecretScrubber): E {
  e.message = truncate(scrubber.scrub(e.message), MAX_LOG_FIELD);
  if (typeof e.stack === 'string') e.stack = truncate(scrubber.scrub(e.stack), MAX_LOG_FIELD);
  return e;
}

/** A Secret (or anything shaped like one) logged as an object keeps its name, never its data. */
function secretSerializer(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const s = v as { data?: unknown; stringData?: unknown };
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const k of ['data', 'stringData'] as const) {
    if (s[k] && typeof s[k] === 'object') out[k] = Object.fromEntries(Object.keys(s[k] as object).map((key) => [key, REDACTED]));
  }
  return out;
}

/** The fields every line about an object carries. */
export interface ObjectFields {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly provider?: string;
}

// How lbc's messages name an object: `Service ns/name`, `Ingress ns/name`,
// `Ingress group name`, or a queue key (`service/ns/name`, `ingress/ns/name`,
// `group/name`) at the start; a provider's own lines start `<provider>: `.
const NAMED = /(?:^|\s)(Service|Ingress) ([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9.]*)(?=[:\s,;)]|$)/;
const NAMED_GROUP = /(?:^|\s)Ingress group ([^\s:]+)/;
const QUEUE_KEY = /^(service|ingress)\/([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9.]*):/;
const GROUP_KEY = /^group\/([^\s:]+):/;
const PROVIDER_PREFIX = /^([a-z0-9][-a-z0-9]*): (?:Service|Ingress) /;
const PROVIDER_NAMED = /\bprovider ([a-z0-9][-a-z0-9]*)\b/;

/** What object a message of lbc's is about, read from the way lbc's messages name one. */
export function objectOfMessage(msg: string): ObjectFields | undefined {
  let m = QUEUE_KEY.exec(msg);
  if (m) return { kind: m[1] === 'service' ? 'Service' : 'Ingress', namespace: m[2] ?? '', name: m[3] ?? '' };
  m = GROUP_KEY.exec(msg);
  if (m) return { kind: 'Ingress', name: `group/${m[1] ?? ''}` };
  m = NAMED.exec(msg);
  const provider = PROVIDER_PREFIX.exec(msg)?.[1] ?? PROVIDER_NAMED.exec(msg)?.[1];
  if (m) return { kind: m[1] ?? '', namespace: m[2] ?? '', name: m[3] ?? '', ...(provider ? { provider } : {}) };
  m = NAMED_GROUP.exec(msg);
  if (m) return { kind: 'Ingress', name: `group/${m[1] ?? ''}`, ...(provider ? { provider } : {}) };
  return undefined;
}

/** lbc's Logger (kube/logger.ts) over pino, with every level there. */
export interface ComponentLogger extends Required<Logger> {
  error(msg: string, ...args: unknown[]): void;
}

export interface ComponentLoggerOptions {
  /** Names the part of lbc (`controller`, `informer`, `leader-election`…) in every line. */
  readonly component: string;
  /** The provider serving an object, when its line does not say (the controller knows). */
  readonly providerOf?: (obj: ObjectFields) => string | undefined;
}

const isObjectFields = (v: unknown): v is ObjectFields =>
  typeof v === 'object' && v !== null && !(v instanceof Error) && typeof (v as ObjectFields).kind === 'string' && typeof (v as ObjectFields).name === 'string';

/**
 * Adapts pino to the `(message, ...args)` loggers lbc's parts take: an Error argument
 * becomes `err` (message and stack, scrubbed like everything else), an ObjectFields
 * argument names the object, other arguments are appended to the message as text.
 * Without an explicit object, the message's own `Kind ns/name` is used.
 */
export function componentLogger(base: Pino, opts: ComponentLoggerOptions): ComponentLogger {
  const log = base.child({ component: opts.component });
  const write =
    (level: 'info' | 'warn' | 'debug' | 'error') =>
    (msg: string, ...args: unknown[]): void => {
      if (!log.isLevelEnabled(level)) return;
      let err: unknown;
      let about: ObjectFields | undefined;
      const extra: string[] = [];
      const fields: Record<string, unknown> = {};
      for (const a of args) {
        if (a instanceof Error && err === undefined) err = a;
        else if (isObjectFields(a) && about === undefined) about = a;
        // Objects stay structured, so the redact paths and the key rule see their fields.
        else if (a !== null && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Error)) Object.assign(fields, a);
        else extra.push(typeof a === 'string' ? a : safeText(a));
      }
      // Parsing the message is the fallback for callers that pass no object (libraries, old lines).
      about ??= objectOfMessage(msg);
      // A `{provider}` argument (a provider's own line, see providers/registry.ts) names it outright.
      if (about && about.provider === undefined && typeof fields.provider === 'string') about = { ...about, provider: fields.provider };
      if (about && about.provider === undefined) {
        const provider = opts.providerOf?.(about);
        if (provider) about = { ...about, provider };
      }
      const text = extra.length > 0 ? `${msg} ${extra.join(' ')}` : msg;
      if (about) {
        fields.kind = about.kind;
        if (about.namespace !== undefined) fields.namespace = about.namespace;
        fields.name = about.name;
        if (about.provider !== undefined) fields.provider = about.provider;
      }
      if (err !== undefined) fields.err = err;
      log[level](fields, text);
    };
  return { info: write('info'), warn: write('warn'), debug: write('debug'), error: write('error') };
}

function safeText(v: unknown): string {
  if (typeof v !== 'object' || v === null) return String(v);
  try {
    return JSON.stringify(v, (k, x: unknown) => (k === 'data' || k === 'stringData' ? REDACTED : x));
  } catch {
    return Object.prototype.toString.call(v);
  }
}
