// The shape every resource kind follows: a manager (the API calls for that kind) and a
// synthesizer (desired against actual, matched by name and checked by ownership,
// decided as create, in-place update, replacement or deletion). plan.ts puts the
// kinds' steps in dependency order; the same steps are what plan() reports and what
// ensure() runs.
import type { Change } from '../types.js';
import type { Compute } from './compute.js';
import { GceError, isAlreadyExists } from './errors.js';
import { ownershipOf, type Ownership } from './ownership.js';

export interface Key {
  readonly name: string;
  /** Zonal resources only. */
  readonly zone?: string;
}

export const keyId = (k: Key): string => (k.zone !== undefined ? `${k.zone}/${k.name}` : k.name);

export interface CallContext {
  readonly compute: Compute;
  readonly signal: AbortSignal | undefined;
  readonly provider: string;
}

/** Values only known once earlier steps ran: the address lbc reserved, the IPv6 address GCE gave a forwarding rule. */
export interface RunState {
  ip?: string;
  ip6?: string;
}

/** When a step runs: replaced and switched-away resources go first, then everything is built, then leftovers go. */
export type Phase = 'teardown' | 'build' | 'cleanup';

export interface Step {
  readonly phase: Phase;
  /** Dependency rank of the kind: build runs ascending, teardown and cleanup descending. */
  readonly rank: number;
  readonly change: Change;
  /** Touches what the cluster's load balancers share; such steps run under the provider's lock. */
  readonly shared?: boolean;
  /**
   * Set on the create that completes a replacement: why the resource could not change
   * in place. ensure reports these as a notice in its status (the reconciler's Event),
   * since a replaced forwarding rule or address drops connections and may change the IP.
   */
  readonly replaces?: string;
  run(state: RunState): Promise<void>;
}

export interface Diff {
  /** Fields that differ and can be changed in place. */
  readonly fields: readonly string[];
  /** Set when the resource must be deleted and created again; says why. */
  readonly replace?: string;
}

export const NO_DIFF: Diff = { fields: [] };

/** A resource kind's manager plus the rules its synthesizer needs. */
export interface Kind<R extends { description?: string | null }> {
  /** Change.resource, e.g. `ForwardingRule`. */
  readonly resource: string;
  readonly rank: number;
  get(ctx: CallContext, key: Key): Promise<R | undefined>;
  insert(ctx: CallContext, key: Key, body: R): Promise<void>;
  /** Deletes; 404 counts as done. */
  remove(ctx: CallContext, key: Key): Promise<void>;
  diff(want: R, have: R): Diff;
  /** Applies the in-place fields of diff(want, have). */
  update(ctx: CallContext, key: Key, want: R, have: R, fields: readonly string[]): Promise<void>;
  /**
   * Those of `names` that exist, in one list call with a name filter. Kinds with several
   * candidate names per LB have it, so observing them costs one call, not one per name.
   */
  listNamed?(ctx: CallContext, names: readonly string[]): Promise<R[]>;
  /**
   * The body to converge someone else's resource (`have`) on when lbc shares it
   * (Desired.useForeign): only additions, nothing of theirs taken away. Kinds without it
   * are never shared.
   */
  asGuest?(body: R, have: R): R;
}

/**
 * The Compute list filter for exactly these names: `eq` takes an RE2 pattern that must
 * match the whole name, and GCE names ([a-z0-9-]) need no escaping in one.
 */
export function namesFilter(names: readonly string[]): string {
  return `name eq "(${names.join('|')})"`;
}

export interface Desired<R> {
  readonly key: Key;
  /** The body; a function of the LB's address, which may be reserved by an earlier step. */
  body(state: RunState): R;
  /** Cluster-shared (node health check, instance groups): never deleted as a leftover. */
  readonly shared?: boolean;
  /**
   * A resource someone else made under this name is accepted as it is (an
   * administrator's firewall rule on a shared VPC) instead of being a conflict.
   */
  readonly acceptForeign?: boolean;
  /**
   * A resource someone else made under this name (GKE's own `k8s-ig--<uid>` groups) is
   * shared: lbc adds what it needs (kind.asGuest) but never claims, replaces or deletes it.
   */
  readonly useForeign?: boolean;
}

export interface Observed<R> {
  readonly key: Key;
  readonly resource: R;
  readonly ownership: Ownership;
}

export interface SynthInput<R extends { description?: string | null }> {
  readonly kind: Kind<R>;
  readonly ctx: CallContext;
  readonly clusterName: string;
  readonly uid: string;
  readonly want: readonly Desired<R>[];
  /** What exists at every name this LB may use, desired or not. */
  readonly have: readonly Observed<R>[];
  /** The address as far as planning knows it (undefined: reserved by an earlier step). */
  readonly plannedState: RunState;
  /**
   * When leftovers go. Forwarding rules go in teardown: a leftover one may hold the
   * IP, port and protocol a new one needs. Everything else waits for cleanup, since
   * something may still refer to it until the build phase has moved it on.
   */
  readonly leftovers?: Phase;
}

/** Fetches each candidate name and classifies its owner. */
export async function observe<R extends { description?: string | null }>(
  kind: Kind<R>,
  ctx: CallContext,
  keys: readonly Key[],
  clusterName: string,
  uid: string,
): Promise<Observed<R>[]> {
  const seen = new Set<string>();
  const unique = keys.filter((k) => (seen.has(keyId(k)) ? false : (seen.add(keyId(k)), true)));
  let found: { key: Key; resource: R | undefined }[];
  if (kind.listNamed && unique.length > 1 && unique.every((k) => k.zone === undefined)) {
    const items = await kind.listNamed(ctx, unique.map((k) => k.name));
    const byName = new Map(items.map((r) => [(r as { name?: string | null }).name ?? '', r]));
    found = unique.map((key) => ({ key, resource: byName.get(key.name) }));
  } else {
    found = await Promise.all(unique.map(async (key) => ({ key, resource: await kind.get(ctx, key) })));
  }
  return found.flatMap((f) => (f.resource ? [{ key: f.key, resource: f.resource, ownership: ownershipOf(f.resource.description, clusterName, uid) }] : []));
}

function conflict(kind: Kind<{ description?: string | null }>, key: Key, ownership: Ownership, provider: string): GceError {
  const whose = ownership === 'sibling' ? 'another object of this lbc cluster' : 'someone other than this lbc cluster';
  return new GceError('conflict', `${kind.resource} ${keyId(key)} already exists and belongs to ${whose}; lbc will not change it`, {
    provider,
    reason: 'notOwned',
  });
}

/**
 * Inserts; when the name is taken (a crash after the insert, or a race), adopts the
 * resource only if its description says it is ours, and brings it up to date.
 */
export async function insertOrAdopt<R extends { description?: string | null }>(
  kind: Kind<R>,
  ctx: CallContext,
  key: Key,
  body: R,
  clusterName: string,
  uid: string,
  useForeign = false,
): Promise<void> {
  try {
    await kind.insert(ctx, key, body);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const have = await kind.get(ctx, key);
    const ownership = have ? ownershipOf(have.description, clusterName, uid) : 'foreign';
    if (have && ownership === 'foreign' && useForeign && kind.asGuest) {
      // Another controller made it since we looked (ingress-gce does the same on 409).
      const guest = kind.asGuest(body, have);
      const d = kind.diff(guest, have);
      if (d.fields.length > 0) await kind.update(ctx, key, guest, have, d.fields);
      return;
    }
    if (!have || (ownership !== 'ours' && ownership !== 'shared')) throw conflict(kind, key, ownership, ctx.provider);
    const d = kind.diff(body, have);
    if (d.replace !== undefined) {
      throw new GceError('conflict', `${kind.resource} ${keyId(key)} exists with different settings (${d.replace}); it will be replaced on the next attempt`, {
        provider: ctx.provider,
      });
    }
    if (d.fields.length > 0) await kind.update(ctx, key, body, have, d.fields);
  }
}

/**
 * The synthesizer: for each desired resource, create, update in place, or replace;
 * for each of this LB's own resources no longer desired, delete (in cleanup, after the
 * resources that referred to them have moved on).
 */
export function synthesize<R extends { description?: string | null }>(input: SynthInput<R>): Step[] {
  const { kind, ctx, clusterName, uid } = input;
  const steps: Step[] = [];
  const haveById = new Map(input.have.map((o) => [keyId(o.key), o]));
  const wanted = new Set<string>();
  for (const want of input.want) {
    const id = keyId(want.key);
    wanted.add(id);
    const have = haveById.get(id);
    const shared = want.shared === true;
    const create = (replaces?: string): Step => ({
      phase: 'build',
      rank: kind.rank,
      shared,
      change: { op: 'create', resource: kind.resource, id, ...(replaces !== undefined ? { detail: `replaced: ${replaces}` } : {}) },
      ...(replaces !== undefined ? { replaces } : {}),
      run: (state) => insertOrAdopt(kind, ctx, want.key, want.body(state), clusterName, uid, want.useForeign === true),
    });
    if (!have) {
      steps.push(create());
      continue;
    }
    const expected = want.shared ? 'shared' : 'ours';
    if (have.ownership !== expected) {
      if (want.acceptForeign && have.ownership === 'foreign') continue;
      const asGuest = kind.asGuest;
      if (want.useForeign && have.ownership === 'foreign' && asGuest) {
        const fields = kind.diff(asGuest(want.body(input.plannedState), have.resource), have.resource).fields;
        if (fields.length > 0) {
          steps.push({
            phase: 'build',
            rank: kind.rank,
            shared,
            change: { op: 'update', resource: kind.resource, id, fields: [...fields].sort(), detail: 'not lbc\'s: only additions' },
            run: async (state) => {
              const body = asGuest(want.body(state), have.resource);
              const now = kind.diff(body, have.resource);
              if (now.fields.length > 0) await kind.update(ctx, want.key, body, have.resource, now.fields);
            },
          });
        }
        continue;
      }
      throw conflict(kind, want.key, have.ownership, ctx.provider);
    }
    const d = kind.diff(want.body(input.plannedState), have.resource);
    if (d.replace !== undefined) {
      const detail = `replaced: ${d.replace}`;
      steps.push({
        phase: 'teardown',
        rank: kind.rank,
        change: { op: 'delete', resource: kind.resource, id, detail },
        run: () => kind.remove(ctx, want.key),
      });
      steps.push(create(d.replace));
    } else if (d.fields.length > 0) {
      steps.push({
        phase: 'build',
        rank: kind.rank,
        shared,
        change: { op: 'update', resource: kind.resource, id, fields: [...d.fields].sort() },
        run: async (state) => {
          // The address may only now be known; what still differs is what gets written.
          const body = want.body(state);
          const now = kind.diff(body, have.resource);
          if (now.fields.length > 0) await kind.update(ctx, want.key, body, have.resource, now.fields);
        },
      });
    }
  }
  for (const have of input.have) {
    const id = keyId(have.key);
    if (wanted.has(id) || have.ownership !== 'ours') continue;
    steps.push({
      phase: input.leftovers ?? 'cleanup',
      rank: kind.rank,
      change: { op: 'delete', resource: kind.resource, id },
      run: () => kind.remove(ctx, have.key),
    });
  }
  return steps;
}

/** Makes the steps that (re)create an address record its IP for the steps after them. */
export function capturingAddress<R extends { description?: string | null; address?: string | null }>(
  steps: readonly Step[],
  kind: Kind<R>,
  ctx: CallContext,
  key: Key,
): Step[] {
  return steps.map((s) =>
    s.change.op === 'create' && s.change.id === keyId(key)
      ? {
          ...s,
          run: async (state: RunState) => {
            await s.run(state);
            const a = await kind.get(ctx, key);
            if (!a?.address) throw new GceError('transient', `${kind.resource} ${key.name} has no IP yet`, { provider: ctx.provider });
            state.ip = a.address;
          },
        }
      : s,
  );
}

/** Orders steps: teardown (dependents first), build (dependencies first), cleanup (dependents first). */
export function orderSteps(steps: readonly Step[]): Step[] {
  const phaseRank: Record<Phase, number> = { teardown: 0, build: 1, cleanup: 2 };
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => {
      const p = phaseRank[a.s.phase] - phaseRank[b.s.phase];
      if (p !== 0) return p;
      const r = a.s.phase === 'build' ? a.s.rank - b.s.rank : b.s.rank - a.s.rank;
      return r !== 0 ? r : a.i - b.i;
    })
    .map(({ s }) => s);
}
