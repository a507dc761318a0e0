/**
 * The one decision about an event: applied in the request or queued, and what its dedup record is. The runtime
 * (ingest's `admit`, a command's `runCommand`), `switchyard plan --budget` (and through it the dashboard's estimate,
 * which prices today's mix with the build's budget) all ask this function, so what is priced is what runs.
 */
import type { CompiledHandler, CompiledIntegration, EventSource } from './compile.ts';
import { conditionText, type ConditionSpec } from '../language/conditions.ts';
import { EventStatus } from '../store/status.ts';
import type { ValueContext } from '../language/values.ts';

/**
 * How an event is deduplicated, which decides the rows its claim writes:
 *  - `id`: the event id the provider signs (or that the manifest derives from signed fields);
 *  - `id+body window`: the id (or type) comes from a header the signature does not cover, so the claim also records
 *    the body's hash and refuses the same body under another id for `replay_window` (one more index entry);
 *  - `body hash`: the id is the hash of the signed body (a provider that sends no id).
 */
export type Dedup = 'id' | 'id+body window' | 'body hash';

export interface Decision {
  /** `direct`: recorded and applied in the request (200); `queued`: claimed in the event log and queued (202). */
  path: 'direct' | 'queued';
  /** Why, in a few words (for `plan --budget` and the dashboard). */
  why: string;
  dedup: Dedup;
}

/** How a source's events are deduplicated (the same for each of its types). */
export function dedupOf(source: EventSource): Dedup {
  const integration = source as Partial<CompiledIntegration>;
  if (integration.replayWindowMs) return 'id+body window';
  return integration.hashesBody ? 'body hash' : 'id';
}

/**
 * Where an event of `type` from `source` goes. A request path that cannot apply it after all (a mapping error, D1
 * busy) falls back to the queue and loses nothing; that is an outcome of one delivery, not a property of the type.
 * @example decide(compiled.integrations.get('stripe')!, 'customer.subscription.updated') // { path: 'direct', … }
 */
export function decide(source: EventSource, type: string): Decision {
  const dedup = dedupOf(source);
  if (source.sync)
    return { path: 'direct', why: 'a synchronous command: recorded and delivered in the request', dedup };
  if (source.apply === undefined)
    return { path: 'queued', why: "a route's events travel in batches on the queue", dedup };
  if (source.apply === 'queue') return { path: 'queued', why: 'apply: queue', dedup };
  if (source.appliesInRequest(type)) return { path: 'direct', why: "every step commits in the event log's D1", dedup };
  const steps = source.stepsFor(type);
  const outside = [...new Set(steps.filter((s) => s.inRequest !== true).map((s) => s.kind))];
  return {
    path: 'queued',
    why: outside.length
      ? `a step commits outside the event log's D1 (${outside.join(', ')})`
      : 'nothing to apply in the request',
    dedup,
  };
}

/**
 * One outcome of an event type whose handlers have conditions (`if:`): which handlers run on it, and which of their
 * steps run only when their own `if:` holds. The runtime runs a step behind these same compiled conditions
 * (compile.ts `gated`); `plan --budget` prices each branch as its own row.
 */
export interface Branch {
  /** `if <condition>` (several joined by ` and `), `no condition holds`, `skipped`; '' when no handler has a condition. */
  label: string;
  /** `skipped` when no handler runs on it (the event row alone is written); `applied` otherwise (every step running; `ignored` with no handler). */
  status: typeof EventStatus.applied | typeof EventStatus.skipped;
  /** The handlers (indices into the list given) that run on it. */
  handlers: number[];
  /** Steps of those handlers that run only when their own `if:` holds: handler index, step index, its `if`'s path. */
  optional: { handler: number; step: number; at: string }[];
}

/** Up to this many combinations of handler conditions are priced; past it, each condition alone and none. */
const MAX_BRANCHES = 16;

/** The leaves a condition requires (itself, or the members of its `all`), where a contradiction can be seen. */
const requiredLeaves = (spec: ConditionSpec): Record<string, unknown>[] => {
  const s = spec as Record<string, unknown>;
  if (Array.isArray(s.all)) return (s.all as ConditionSpec[]).flatMap(requiredLeaves);
  return typeof s.path === 'string' ? [s] : [];
};
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Two leaves on one path that cannot both hold (`eq a` and `eq b`, `eq a` and `ne a`, disjoint `in` lists, …). */
function contradicts(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a.path !== b.path) return false;
  const one = (x: Record<string, unknown>, y: Record<string, unknown>) => {
    const values = isScalar(x.eq) && x.eq !== undefined ? [x.eq] : Array.isArray(x.in) ? x.in : undefined;
    if (!values) return false;
    if (isScalar(y.eq) && y.eq !== undefined && !values.includes(y.eq)) return true;
    if (Array.isArray(y.in) && !values.some((v) => (y.in as unknown[]).includes(v))) return true;
    if (isScalar(y.ne) && y.ne !== undefined && values.every((v) => v === y.ne)) return true;
    if (Array.isArray(y.not_in) && values.every((v) => (y.not_in as unknown[]).includes(v))) return true;
    return y.exists === false;
  };
  return (
    one(a, b) || one(b, a) || (typeof a.exists === 'boolean' && typeof b.exists === 'boolean' && a.exists !== b.exists)
  );
}

/** Whether two conditions can never hold together (so their handlers never both run): a statically visible contradiction. */
export function exclusive(a: ConditionSpec, b: ConditionSpec): boolean {
  const left = requiredLeaves(a);
  const right = requiredLeaves(b);
  return left.some((x) => right.some((y) => contradicts(x, y)));
}

/**
 * The branches of the handlers one event type matches: every combination of handler conditions that can hold
 * together (two that require different values of one path cannot), then the one where none holds (`skipped` when
 * every handler has a condition). Without conditions, one branch labelled ''.
 * @example branches(source.handlers.filter((h) => h.matches('checkout.session.completed'))) // [{ label: 'if data.object.mode eq payment', … }, { label: 'skipped', … }]
 */
export function branches(handlers: readonly CompiledHandler[]): Branch[] {
  const always = handlers.flatMap((h, i) => (h.if ? [] : [i]));
  const gated = handlers.flatMap((h, i) => (h.if ? [i] : []));
  let sets: number[][] = [[]];
  for (const i of gated) {
    const grown = sets
      .filter((set) => set.every((j) => !exclusive(handlers[i]!.if!.spec, handlers[j]!.if!.spec)))
      .map((set) => [...set, i]);
    sets = [...sets, ...grown];
    if (sets.length > MAX_BRANCHES) {
      sets = [[], ...gated.map((g) => [g])];
      break;
    }
  }
  // Each combination by size (one condition alone first), the empty one (none holds) last.
  const ordered = [...sets.filter((s) => s.length).sort((a, b) => a.length - b.length), []];
  return ordered.map((set) => {
    const running = [...always, ...set].sort((a, b) => a - b);
    const label = set.length
      ? set.map((i) => `if ${conditionText(handlers[i]!.if!.spec)}`).join(' and ')
      : !gated.length
        ? ''
        : running.length
          ? 'no condition holds'
          : EventStatus.skipped;
    const optional = running.flatMap((h) =>
      (handlers[h]!.stepIfs ?? []).flatMap((g, step) => (g ? [{ handler: h, step, at: g.at }] : [])),
    );
    return {
      label,
      status: running.length || !gated.length ? EventStatus.applied : EventStatus.skipped,
      handlers: running,
      optional,
    };
  });
}

/**
 * The branch one event takes through the handlers its type matches (its label, as `branches` names it) and the
 * conditional steps its own `if:` leaves out (their `if`'s paths): which `plan --budget` row prices it.
 * @example branchOf(handlers, { payload, envelope: { type } }) // { label: 'if data.object.mode eq payment', without: [] }
 */
export function branchOf(
  handlers: readonly CompiledHandler[],
  values: ValueContext,
): { label: string; without: string[] } {
  const gated = handlers.some((h) => h.if);
  const running = handlers.filter((h) => !h.if || h.if.holds(values));
  const held = running.filter((h) => h.if);
  const label = held.length
    ? held.map((h) => `if ${conditionText(h.if!.spec)}`).join(' and ')
    : !gated
      ? ''
      : running.length
        ? 'no condition holds'
        : EventStatus.skipped;
  const without = running.flatMap((h) => (h.stepIfs ?? []).flatMap((g) => (g && !g.holds(values) ? [g.at] : [])));
  return { label, without };
}
