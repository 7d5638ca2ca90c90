// A rejected promise nobody handles, from lbc or (more likely) from a dependency:
// @google-cloud/compute left one on every call when it found no credentials. Node's
// default turns it into an uncaught exception and exits, so one provider's fault would
// take every other provider's Services down with it, again after each restart. lbc run
// and the speaker log it loudly instead, with its stack, count it, and carry on.
import type { Logger as Pino } from 'pino';
import { Counter, type Registry } from 'prom-client';

const counters = new WeakMap<Registry, Counter>();

/** lbc_unhandled_rejections_total on this registry, made once however often it is asked for. */
function counterOn(registry: Registry): Counter {
  let c = counters.get(registry);
  if (!c) {
    c = new Counter({
      name: 'lbc_unhandled_rejections_total',
      help: 'Rejected promises no code handled (a bug in lbc or a dependency); logged at error with the stack, never fatal',
      registers: [registry],
    });
    counters.set(registry, c);
  }
  return c;
}

/**
 * Installs the process-wide handler; the returned function removes it. Having a
 * listener is what keeps Node (whose default is --unhandled-rejections=throw) from
 * exiting.
 */
export function surviveUnhandledRejections(log: Pino, registry?: Registry): () => void {
  const counter = registry ? counterOn(registry) : undefined;
  const listener = (reason: unknown): void => {
    counter?.inc();
    const err = reason instanceof Error ? reason : new Error(`non-Error rejection: ${String(reason)}`);
    log.error({ event: 'unhandledRejection', err }, `unhandled promise rejection (the process carries on): ${err.message}`);
  };
  process.on('unhandledRejection', listener);
  return () => {
    process.off('unhandledRejection', listener);
  };
}
