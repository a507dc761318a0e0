/**
 * The runtime's own statements for one event, as SQL text, so `switchyard plan --budget` can price them with the
 * same model as the manifest's SQL. They are not written out here: the store's own statement builders are run
 * against a recording D1 with representative values, and each bound value is inlined as a literal (so a partial
 * index's WHERE, `body_hash IS NOT NULL` say, can be decided). Change a builder, and the budget follows.
 *
 * To add a path or change what a path runs, edit `bookkeeping()`: list, in order, what ingest runs per request,
 * what the consumer runs per event around the manifest's own steps, what an effect and an outbox message add, and
 * how many queue messages an event costs.
 */
import type { Envelope } from '../lib/envelope.ts';
import { blockers, insertEffects, settleStatement } from './effects.ts';
import {
  appliedClaimStatement,
  appliedStatements,
  claimStatement,
  deleteOutbox,
  forwardedEvents,
  outboxStatement,
} from './events.ts';
import { EffectStatus, EventStatus } from './status.ts';

/** The runtime's own statements for one event on one path, as SQL text, so the budget model can price them. */
export interface BookkeepingPath {
  name: 'queued' | 'direct';
  /** Per accepted request: the claim (dedup + event log row). */
  ingest: string[];
  /** Per event, around the manifest's statements: the applied-marker (the row's status). */
  consume: string[];
  /** Queue messages per event (each about 3 Queues operations: write, read, delete). */
  queueMessages: number;
  /**
   * Per action step (effect): recorded with the state and settled after the send. What is still open is read only
   * when an effect is left open (a retry, a deferral), which is not priced here.
   */
  effect: string[];
  /** The same for an ordered effect (its action orders sends per key): its key enters `effects_ordered` while open. */
  orderedEffect: string[];
  /** Before an ordered effect's send: whether an earlier one of its key is open (its row, then the index). */
  orderCheck: string[];
  /** Before the send of an action that sends the event itself (a forward): its raw body and origin, read from the log. */
  eventRead: string[];
  /** Per enqueue step: the outbox row written with the state and deleted once sent (plus one queue message). */
  outbox: string[];
}

/** Facts about an integration that change its bookkeeping. */
interface BookkeepingFacts {
  /** The event id or type comes from an unsigned header: ingest also records the body's hash. */
  bodyHash?: boolean;
}

/** A bound value as an SQL literal. */
const literal = (v: unknown): string =>
  v === null || v === undefined
    ? 'NULL'
    : typeof v === 'number'
      ? String(v)
      : typeof v === 'boolean'
        ? v
          ? '1'
          : '0'
        : `'${String(v).replace(/'/g, "''")}'`;

/** `?N` and `?` placeholders replaced by the values bound to them. */
export function inlineBinds(sql: string, binds: readonly unknown[]): string {
  let next = 0;
  return sql.replace(/\?(\d*)/g, (_, n: string) => literal(binds[n ? Number(n) - 1 : next++]));
}

/**
 * Runs statement builders against a D1 stand-in that records every prepared statement (with its binds inlined)
 * and answers every query with no rows. Synchronous: a store function that runs its statements does so before
 * its first `await`, and one that returns them is recorded from what it returns.
 */
export function recordStatements(build: (db: D1Database) => unknown): string[] {
  const recorded: string[] = [];
  const statement = (sql: string) => {
    let binds: unknown[] = [];
    const s = {
      bind: (...values: unknown[]) => ((binds = values), s),
      get text() {
        return inlineBinds(sql, binds);
      },
      run: async () => (recorded.push(s.text), { results: [], meta: {} }),
      all: async () => (recorded.push(s.text), { results: [], meta: {} }),
      first: async () => (recorded.push(s.text), null),
    };
    return s;
  };
  const db = {
    prepare: statement,
    batch: async (list: { text: string }[]) => list.map((s) => (recorded.push(s.text), { results: [], meta: {} })),
  } as unknown as D1Database;
  const built = build(db);
  if (built instanceof Promise) built.catch(() => undefined);
  // Builders that return statements (rather than running them) are recorded too.
  else
    for (const s of ([] as unknown[]).concat(built ?? []))
      if (s && typeof s === 'object' && 'text' in s) recorded.push((s as { text: string }).text);
  return recorded;
}

const AT = '2026-01-01T00:00:00.000Z';

/** Marks a statement the budget model must price as updating a row known to exist (an upsert on a claimed row). */
export const ROW_EXISTS = '-- row exists\n';
const EVENT = { integration: 'integration', id: 'evt_1' };

/**
 * The paths an event can take, with the statements each runs for it. `queued` claims the event at ingest (the row
 * and its dedup key) and applies it through the consumer's phases (the applied-marker: the row's status, which
 * refuses a second apply). `direct` records the event already applied in the request, in the same transaction as its
 * projection, its effects (leased to the request) and its outbox rows, then delivers them after the answer through
 * the consumer's deliver phase: no marker update and no message on the events queue (an enqueue step's own message
 * still counts).
 */
export function bookkeeping(facts: BookkeepingFacts = {}): BookkeepingPath[] {
  const envelope: Envelope = { ...EVENT, type: 'type', occurred_at: AT, received_at: AT, payload: {} };
  const replay = facts.bodyHash ? { bodyHash: 'hash', since: AT } : undefined;
  const effect = { ...EVENT, step: '0:0', action: 'action', source: 'source', payload: '{}', limits: null };
  const ingest = recordStatements((db) => claimStatement(db, envelope, '{}', 'token', Date.parse(AT), replay));
  // The applied-marker is an upsert: for an event ingest claimed, its row exists (a route's events have none).
  const marker = recordStatements((db) =>
    appliedStatements(
      db,
      [{ ...EVENT, type: 'type', received_at: AT, attempts: 1, steps: '[]', status: EventStatus.applied }],
      AT,
    ),
  );
  const consume = marker.map((sql) => ROW_EXISTS + sql);
  const queued: BookkeepingPath = {
    name: 'queued',
    ingest,
    consume,
    queueMessages: 1,
    effect: recordStatements((db) => [
      ...insertEffects(db, [effect], 'lease', AT, AT),
      settleStatement(db, effect, 'lease', { status: EffectStatus.sent, result: {} }, AT),
    ]),
    orderedEffect: recordStatements((db) => [
      ...insertEffects(db, [{ ...effect, order_key: 'source\u001fkey' }], 'lease', AT, AT),
      settleStatement(db, effect, 'lease', { status: EffectStatus.sent, result: {} }, AT),
    ]),
    orderCheck: recordStatements((db) => blockers(db, [effect])),
    eventRead: recordStatements((db) => forwardedEvents(db, [[EVENT.integration, EVENT.id]])),
    outbox: [
      ...recordStatements((db) => outboxStatement(db, { key: 'k', ...EVENT, queue: 'queue', body: '{}' }, AT)),
      ...recordStatements((db) => deleteOutbox(db, ['k'])),
    ],
  };
  // In the request: one insert records the event already applied (with its body's hash when the integration has a
  // replay window), in the projection's transaction; effects and outbox rows as on the queued path.
  const direct: BookkeepingPath = {
    ...queued,
    name: 'direct',
    ingest: recordStatements((db) =>
      appliedClaimStatement(db, envelope, '{}', '[]', EventStatus.applied, AT, undefined, replay),
    ),
    consume: [],
    queueMessages: 0,
  };
  return [queued, direct];
}
