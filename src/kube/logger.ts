// The one logger shape lbc's parts take: a message, then arguments that may be an Error,
// the fields of the object the line is about, or anything else (written as text).
// observability/log.ts's componentLogger implements it over pino; the demo and the
// defaults write it to the console. A part that only ever warns asks for
// Pick<Logger, 'warn'>, so a test can hand it just that.
//
// On the lowest floor because every floor above it (providers, the speaker, the
// controller, kube's own informers and elector) logs through it.
export interface Logger {
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  debug?(msg: string, ...args: unknown[]): void;
}
