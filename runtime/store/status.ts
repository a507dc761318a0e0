/**
 * The vocabulary of the event log: every status an event or an effect can have, and the stages a dead letter
 * comes from. Nothing outside the store spells these as string literals.
 */

/** What became of an event. */
export const EventStatus = {
  /** Verified, recorded and queued; not processed yet. */
  queued: 'queued',
  /** Its state (SQL, outbox, effects) committed. Effects carry their own status. */
  applied: 'applied',
  /** No handler matched its type: nothing to do. */
  ignored: 'ignored',
  /** Handlers matched its type, and their conditions (`if:`) let no step run; its steps say which condition decided. */
  skipped: 'skipped',
  /** Its state failed to commit and will be tried again (attempts, last error and next time are kept). */
  retrying: 'retrying',
  /** Given up on (permanent error, or attempts used up): kept whole in dead_letters. */
  dead_lettered: 'dead_lettered',
  /** Queued again from a dead letter or by query. */
  replayed: 'replayed',
} as const;
export type EventStatus = (typeof EventStatus)[keyof typeof EventStatus];

/** How an applied event ended: its state committed, no handler wanted it, or its handlers' conditions skipped every step. */
export type SettledEventStatus = typeof EventStatus.applied | typeof EventStatus.ignored | typeof EventStatus.skipped;

/** Whether an outcome is a settled event status (applied, ignored or skipped), not a word of another vocabulary. */
export const isSettled = (outcome: string): outcome is SettledEventStatus =>
  outcome === EventStatus.applied || outcome === EventStatus.ignored || outcome === EventStatus.skipped;

/** The settled statuses, for SQL lists. */
export const SETTLED_EVENT_STATUSES: readonly SettledEventStatus[] = [
  EventStatus.applied,
  EventStatus.ignored,
  EventStatus.skipped,
];

/** Statuses that still wait for an outcome (the sweep and the lag alert watch these). */
export const WAITING_EVENT_STATUSES: readonly EventStatus[] = [
  EventStatus.queued,
  EventStatus.retrying,
  EventStatus.replayed,
];

/** What became of one effect (an outbound action recorded with the state). */
export const EffectStatus = {
  /** Recorded, not yet claimed. */
  pending: 'pending',
  /** Claimed by a consumer (a lease until next_at): nobody else sends it meanwhile. */
  sending: 'sending',
  sent: 'sent',
  /** The provider failed transiently; tried again at next_at. */
  retrying: 'retrying',
  /** Over a `defer` limit; sent after the period resets (next_at), without using up attempts. */
  deferred: 'deferred',
  /** Over a `drop` limit: not sent, on purpose. */
  dropped: 'dropped',
  dead_lettered: 'dead_lettered',
} as const;
export type EffectStatus = (typeof EffectStatus)[keyof typeof EffectStatus];

/** Effect statuses that are not final (the partial index `effects_open` holds exactly these). */
export const OPEN_EFFECT_STATUSES: readonly EffectStatus[] = [
  EffectStatus.pending,
  EffectStatus.sending,
  EffectStatus.retrying,
  EffectStatus.deferred,
];

/** Where a dead letter comes from. */
export const Stage = {
  /** A verified request whose body could not be parsed or mapped. */
  ingest: 'ingest',
  /** An event whose state could not be applied. */
  consumer: 'consumer',
  /** One effect of an applied event that could not be delivered. */
  effect: 'effect',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** `'a', 'b'` for a SQL `IN (...)` list of constants (statuses are fixed identifiers, never user input). */
export const sqlList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
