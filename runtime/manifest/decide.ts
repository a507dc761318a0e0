/**
 * The one decision about an event: applied in the request or queued, and what its dedup record is. The runtime
 * (ingest's `admit`, a command's `runCommand`), `switchyard plan --budget` (and through it the dashboard's estimate,
 * which prices today's mix with the build's budget) all ask this function, so what is priced is what runs.
 */
import type { CompiledIntegration, EventSource } from './compile.ts';

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
  if (source.sync) return { path: 'direct', why: 'a synchronous command: recorded and delivered in the request', dedup };
  if (source.apply === undefined) return { path: 'queued', why: "a route's events travel in batches on the queue", dedup };
  if (source.apply === 'queue') return { path: 'queued', why: 'apply: queue', dedup };
  if (source.appliesInRequest(type)) return { path: 'direct', why: 'every step commits in the event log\'s D1', dedup };
  const steps = source.stepsFor(type);
  const outside = [...new Set(steps.filter((s) => s.inRequest !== true).map((s) => s.kind))];
  return { path: 'queued', why: outside.length ? `a step commits outside the event log's D1 (${outside.join(', ')})` : 'nothing to apply in the request', dedup };
}
