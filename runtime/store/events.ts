/**
 * The event log: one row per (integration, event id), written by ingest (the claim is also the deduplication and
 * the store of the raw body), moved along by the consumer, and read by replay, rebuild, the sweep and the admin
 * API. Every statement on `events` and `outbox` is here.
 *
 * The log is read by its sequence (`seq`, the rowid: arrival order), never by a time or status index written per
 * event (see migrations/0010_lean_event_log.sql): an event costs 2 rows written at ingest and 1 when applied.
 */
import type { Envelope } from '../lib/envelope.ts';
import { commandCallRange, isCommandCallOf } from './callers.ts';
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from '../lib/chunk.ts';
import {
  EventStatus,
  OPEN_EFFECT_STATUSES,
  SETTLED_EVENT_STATUSES,
  sqlList,
  Stage,
  WAITING_EVENT_STATUSES,
  type SettledEventStatus,
} from './status.ts';
import { effectLetterIdsSql } from './dead-letters.ts';
import { FAILING_EFFECTS_SQL } from './failing.ts';

/** (integration, event id): how every event-log table is keyed. */
export type EventKey = readonly [integration: string, id: string];
export const keyOf = (k: EventKey | { integration: string; id: string }) =>
  'id' in k ? `${k.integration}\u0000${k.id}` : `${k[0]}\u0000${k[1]}`;

/**
 * A `queued` claim older than this is taken over by the next delivery and queued again (at-least-once; the
 * consumer deduplicates). Younger claims answer 409 so the provider retries later rather than giving up.
 */
const STALE_CLAIM_MS = 60_000;

// One statement, one round trip: a new row, or a stale claim taken over, returns claimed = 1 for this request's
// token. A live claim (being queued, or queued and not yet consumed) returns claimed = 0. An event already
// processed is not touched (a duplicate writes nothing) and returns no row: see `recorded`.
// The row says `queued` from the claim on: a failed send deletes it, and the consumer moves it on when it runs.
// Its seq is the arrival sequence: ordering guards break same-time ties by it (see `eventVersion`).
// Body-hash dedup (?9 = the body's hash, ?10 = the start of the replay window; both NULL unless the integration's
// id or type comes from an unsigned header): the same body already recorded under another id inserts nothing and
// returns no row. The NOT EXISTS reads the partial index events_by_body_hash.
const CLAIM_SQL = `INSERT INTO events (integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, claim, claimed_at, updated_at, body_hash, origin)
SELECT ?1, ?2, ?3, '${EventStatus.queued}', ?4, ?5, 1, 0, ?6, ?7, ?4, ?4, ?9, ?11
WHERE ?9 IS NULL OR NOT EXISTS (SELECT 1 FROM events WHERE integration = ?1 AND body_hash = ?9 AND id <> ?2 AND received_at >= ?10)
ON CONFLICT (integration, id) DO UPDATE SET
  deliveries = deliveries + 1,
  updated_at = excluded.updated_at,
  claim = CASE WHEN claimed_at < ?8 THEN excluded.claim ELSE claim END,
  claimed_at = CASE WHEN claimed_at < ?8 THEN excluded.claimed_at ELSE claimed_at END
WHERE status = '${EventStatus.queued}'
RETURNING status, deliveries, claim = ?7 AS claimed, seq`;

export interface ClaimResult {
  status: EventStatus;
  deliveries: number;
  claimed: number;
  seq: number;
}

/**
 * Where an event came from, kept on its row: absent for a provider's own delivery; `backfill` or `repair` for an
 * event synthesised from the provider's list API and sent through the admin API (see runtime/operations/backfill.ts).
 */
export const EventOrigin = { backfill: 'backfill', repair: 'repair' } as const;
export type EventOrigin = (typeof EventOrigin)[keyof typeof EventOrigin];

/**
 * Claims an event for queueing (the dedup record, with the raw body). See CLAIM_SQL. With `replay`, the body's
 * hash is recorded and the claim returns no row when that body was recorded under another id since `replay.since`.
 * `origin` marks a synthesised event (set when the row is first written, never changed by a later delivery).
 */
export function claimStatement(
  db: D1Database,
  envelope: Envelope,
  text: string,
  token: string,
  nowMs: number,
  replay?: { bodyHash: string; since: string },
  origin?: EventOrigin,
): D1PreparedStatement {
  const stale = new Date(nowMs - STALE_CLAIM_MS).toISOString();
  return db
    .prepare(CLAIM_SQL)
    .bind(
      envelope.integration,
      envelope.id,
      envelope.type,
      envelope.received_at,
      envelope.occurred_at,
      text,
      token,
      stale,
      replay?.bodyHash ?? null,
      replay?.since ?? null,
      origin ?? null,
    );
}

/** Puts a dead letter's raw body back in the event log, where retention pruned it, so a replay can read it. */
export function restoreBody(db: D1Database, integration: string, id: string, body: string): D1PreparedStatement {
  return db
    .prepare('UPDATE events SET body = ?3 WHERE integration = ?1 AND id = ?2 AND body IS NULL')
    .bind(integration, id, body);
}

/** Whether an event is recorded, and how far it got (for a claim that returned no row). */
export async function recorded(
  db: D1Database,
  integration: string,
  id: string,
): Promise<{ status: EventStatus; deliveries: number } | null> {
  return db
    .prepare('SELECT status, deliveries FROM events WHERE integration = ?1 AND id = ?2')
    .bind(integration, id)
    .first<{ status: EventStatus; deliveries: number }>();
}

/**
 * Forgets a claim whose queue send failed, so the provider's retry is a new delivery. A first delivery's row goes;
 * a take-over's stays (the first message may still be in flight, and the row holds the body), its claim lapsed.
 */
export function releaseClaim(db: D1Database, integration: string, id: string, token: string): Promise<unknown> {
  return db.batch([
    db
      .prepare(
        `DELETE FROM events WHERE integration = ?1 AND id = ?2 AND status = '${EventStatus.queued}' AND claim = ?3 AND deliveries = 1`,
      )
      .bind(integration, id, token),
    db
      .prepare(`UPDATE events SET claim = NULL WHERE integration = ?1 AND id = ?2 AND claim = ?3`)
      .bind(integration, id, token),
  ]);
}

const tuples = (n: number, width: number) =>
  Array.from({ length: n }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');

/** `(integration, id) IN (VALUES (?, ?), …)`, chunked within D1's parameter limit, in one round trip. */
async function selectByEvent<T>(
  db: D1Database,
  sql: (values: string) => string,
  keys: readonly EventKey[],
): Promise<T[]> {
  if (!keys.length) return [];
  const parts = chunk([...keys], MAX_PARAMS / 2);
  const results = await db.batch<T>(
    parts.map((part) => db.prepare(sql(`(VALUES ${tuples(part.length, 2)})`)).bind(...part.flat())),
  );
  return results.flatMap((r) => r.results);
}

/** Raw bodies of events whose messages carry a reference instead of the payload. */
export async function readBodies(db: D1Database, keys: readonly EventKey[]): Promise<Map<string, string | null>> {
  const rows = await selectByEvent<{ integration: string; id: string; body: string | null }>(
    db,
    (v) => `SELECT integration, id, body FROM events WHERE (integration, id) IN ${v}`,
    keys,
  );
  return new Map(rows.map((r) => [keyOf(r), r.body]));
}

/** The raw body (NULL once pruned) and origin of stored events, by key (keyOf): what a forward sends. */
export async function forwardedEvents(
  db: D1Database,
  keys: readonly EventKey[],
): Promise<Map<string, { body: string | null; origin: string | null }>> {
  const rows = await selectByEvent<{ integration: string; id: string; body: string | null; origin: string | null }>(
    db,
    (v) => `SELECT integration, id, body, origin FROM events WHERE (integration, id) IN ${v}`,
    keys,
  );
  return new Map(rows.map((r) => [keyOf(r), { body: r.body, origin: r.origin }]));
}

/** Stored events by key (keyOf), body NULL once retention pruned it: what an unbuilt effect is built again from. */
export async function storedEvents(
  db: D1Database,
  keys: readonly EventKey[],
): Promise<Map<string, Omit<StoredEvent, 'body'> & { body: string | null }>> {
  const rows = await selectByEvent<Omit<StoredEvent, 'body'> & { body: string | null }>(
    db,
    (v) =>
      `SELECT integration, id, type, occurred_at, received_at, body, seq FROM events WHERE (integration, id) IN ${v}`,
    keys,
  );
  return new Map(rows.map((r) => [keyOf(r), r]));
}

/** What one event commits besides its own statements. */
interface AppliedRecord {
  integration: string;
  id: string;
  type: string;
  received_at: string;
  attempts: number;
  /** Per step, what it contributed (kept on the event's row for the event log), as JSON. */
  steps: string;
  /** `applied`; `ignored` when no handler matched; `skipped` when conditions let no step run. */
  status: SettledEventStatus;
}

const APPLIED_WIDTH = 7;

/**
 * The applied-marker of a commit, in few statements: each event's row moves to `applied` (or `ignored`), or is
 * written so for an event that has none (a route's queued events). The trigger events_apply_once makes a second
 * copy's marker fail, and its transaction with it: that is how a concurrent copy is caught. Costs 1 row written
 * per event that has a row (the status is in no index), 2 otherwise.
 */
export function appliedStatements(
  db: D1Database,
  records: readonly AppliedRecord[],
  at: string,
): D1PreparedStatement[] {
  return chunk([...records], Math.floor((MAX_PARAMS - 1) / APPLIED_WIDTH)).map((part) => {
    const values = part
      .map(
        (_, i) =>
          `(${Array.from({ length: APPLIED_WIDTH }, (_, j) => `?${2 + i * APPLIED_WIDTH + j}`).join(', ')}, ?1)`,
      )
      .join(', ');
    return db
      .prepare(
        `INSERT INTO events (integration, id, type, received_at, attempts, steps, status, updated_at) VALUES ${values}
         ON CONFLICT (integration, id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, steps = excluded.steps,
           updated_at = excluded.updated_at, claim = NULL, error = NULL, next_at = NULL`,
      )
      .bind(at, ...part.flatMap((r) => [r.integration, r.id, r.type, r.received_at, r.attempts, r.steps, r.status]));
  });
}

/**
 * The queue-free path: an event recorded, already applied (or ignored), in the same transaction as its projection,
 * its effects and its outbox rows. A plain insert, so a copy already in the log (applied, or queued by another
 * delivery) fails the transaction: nothing is applied twice. With `replay` (an integration with a replay window) the
 * body's hash is recorded, and the same body recorded under another id since `replay.since` makes the insert take
 * that row's id: it fails the transaction the same way, and the claim answers it (CLAIM_SQL's same-body check,
 * through events_by_body_hash). Costs 2 rows written (the row and its dedup key; 3 with the body's hash), and no
 * applied-marker update.
 */
export function appliedClaimStatement(
  db: D1Database,
  envelope: Envelope,
  text: string,
  steps: string,
  status: SettledEventStatus,
  at: string,
  origin?: EventOrigin,
  replay?: { bodyHash: string; since: string },
): D1PreparedStatement {
  const id = replay
    ? 'coalesce((SELECT id FROM events WHERE integration = ?1 AND body_hash = ?12 AND id <> ?2 AND received_at >= ?13 LIMIT 1), ?2)'
    : '?2';
  return db
    .prepare(
      `INSERT INTO events (integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, updated_at, steps, origin, caller${replay ? ', body_hash' : ''})
       VALUES (?1, ${id}, ?3, ?4, ?5, ?6, 1, 1, ?7, ?8, ?9, ?10, ?11${replay ? ', ?12' : ''})`,
    )
    .bind(
      envelope.integration,
      envelope.id,
      envelope.type,
      status,
      envelope.received_at,
      envelope.occurred_at,
      text,
      at,
      steps,
      origin ?? null,
      envelope.caller ?? null,
      ...(replay ? [replay.bodyHash, replay.since] : []),
    );
}

/** An enqueue step's message, written with the state and sent after the commit. */
export function outboxStatement(
  db: D1Database,
  o: { key: string; integration: string; id: string; queue: string; body: string },
  at: string,
): D1PreparedStatement {
  return db
    .prepare('INSERT INTO outbox (key, integration, event_id, queue, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)')
    .bind(o.key, o.integration, o.id, o.queue, o.body, at);
}

export interface OutboxRow {
  key: string;
  integration: string;
  event_id: string;
  queue: string;
  body: string;
}

/** Outbox messages applied events left unsent (their send failed, or the consumer stopped before it). */
export function unsentOutbox(db: D1Database, keys: readonly EventKey[]): Promise<OutboxRow[]> {
  return selectByEvent<OutboxRow>(
    db,
    (v) => `SELECT key, integration, event_id, queue, body FROM outbox WHERE (integration, event_id) IN ${v}`,
    keys,
  );
}

/**
 * Events whose outbox messages are still unsent `cutoff` after they were written: their send and the effects message
 * that should have retried it both failed (or the invocation stopped). The outbox holds only unsent rows, so this
 * reads what is unsent, never the history. An event whose delivery was given up on has an open dead letter: it waits
 * for that letter's replay, so a message that cannot be sent costs one letter, not a queue message every cron run
 * (each row's letter is found by the letters' unique key).
 */
export async function staleOutbox(
  db: D1Database,
  cutoff: string,
  limit: number,
): Promise<{ integration: string; event_id: string }[]> {
  const rows = await db
    .prepare(
      `SELECT DISTINCT integration, event_id FROM outbox o WHERE created_at < ?1
         AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.integration = o.integration AND d.stage = '${Stage.consumer}' AND d.event_id = o.event_id AND d.replayed_at IS NULL)
       LIMIT ?2`,
    )
    .bind(cutoff, limit)
    .all<{ integration: string; event_id: string }>();
  return rows.results;
}

/** Forgets sent outbox messages. A row left behind was sent already; only a later redelivery sends it again. */
export async function deleteOutbox(db: D1Database, keys: readonly string[]): Promise<void> {
  for (const part of chunk([...keys], MAX_PARAMS)) {
    await db
      .prepare(`DELETE FROM outbox WHERE key IN (${part.map(() => '?').join(', ')})`)
      .bind(...part)
      .run()
      .catch(() => undefined);
  }
}

/** Statuses no failure may overwrite: a redelivery of an applied event that fails (say, after a manifest change) leaves it applied. */
const NOT_DONE = `status NOT IN (${sqlList(SETTLED_EVENT_STATUSES)})`;

/** An event whose state failed to commit and will be tried again: attempt n, the error, and when. */
export function retryingStatement(
  db: D1Database,
  r: { integration: string; id: string; attempts: number; error: string; nextAt: string },
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE events SET status = '${EventStatus.retrying}', attempts = ?3, error = ?4, next_at = ?5, updated_at = ?6, claim = NULL, swept_at = NULL WHERE integration = ?1 AND id = ?2 AND ${NOT_DONE}`,
    )
    .bind(r.integration, r.id, r.attempts, r.error, r.nextAt, at);
}

/** An event given up on (its dead letter is written beside this). */
export function deadLetteredStatement(
  db: D1Database,
  r: { integration: string; id: string; attempts: number; error: string },
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE events SET status = '${EventStatus.dead_lettered}', attempts = ?3, error = ?4, next_at = NULL, updated_at = ?5, claim = NULL WHERE integration = ?1 AND id = ?2 AND ${NOT_DONE}`,
    )
    .bind(r.integration, r.id, r.attempts, r.error, at);
}

/** An event queued again by an operator (from a dead letter, or by query): the sweep's tries start again. */
export function replayedStatement(db: D1Database, integration: string, id: string, at: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE events SET status = '${EventStatus.replayed}', error = NULL, next_at = NULL, swept_at = NULL, sweeps = 0, updated_at = ?3 WHERE integration = ?1 AND id = ?2 AND ${NOT_DONE}`,
    )
    .bind(integration, id, at);
}

/** A stored event, as replay and rebuild read it back. */
export interface StoredEvent {
  integration: string;
  id: string;
  type: string;
  occurred_at: string | null;
  received_at: string;
  body: string;
  seq: number;
}

/** The envelope of a stored event (the payload parsed by the caller). */
export const storedEnvelope = (row: StoredEvent, payload: unknown): Envelope => ({
  integration: row.integration,
  id: row.id,
  type: row.type,
  occurred_at: row.occurred_at,
  received_at: row.received_at,
  payload,
  seq: row.seq,
});

export interface EventQuery {
  integration?: string;
  /** One event by its id (with `integration`): read through the UNIQUE (integration, id) key. */
  id?: string;
  type?: string;
  status?: string;
  since?: string;
  until?: string;
}

/** Statuses an event can be replayed from by query; applied events would only be deduplicated (use rebuild). */
export const REPLAYABLE_STATUSES: readonly EventStatus[] = [
  EventStatus.queued,
  EventStatus.retrying,
  EventStatus.dead_lettered,
  EventStatus.replayed,
];

/** Statuses the partial index `events_attention` holds: few rows, found without a scan. */
const ATTENTION = [EventStatus.retrying, EventStatus.dead_lettered, EventStatus.replayed];
/**
 * The index's own WHERE term, word for word: SQLite uses a partial index only for a query that repeats its
 * condition, so every query meant to go through `events_attention` includes this.
 */
const IN_ATTENTION = `status IN (${sqlList(ATTENTION)})`;

// --- Walking the log by sequence -----------------------------------------------------------------------------

/** Where a walk over the log left off (0 if it never ran). */
export async function checkpoint(db: D1Database, name: string): Promise<number> {
  return (
    (await db.prepare('SELECT seq FROM checkpoints WHERE name = ?1').bind(name).first<{ seq: number }>())?.seq ?? 0
  );
}

export function checkpointStatement(db: D1Database, name: string, seq: number): D1PreparedStatement {
  return db
    .prepare('INSERT INTO checkpoints (name, seq) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq')
    .bind(name, seq);
}

/**
 * Rows a walk reads first: a caught-up walk (the usual case on a schedule) reads only these, and the cron walks three
 * times a run (the sweep, bodies, rows), so it is small; a walk that finds more reads the rest in one more query.
 */
const WALK_PROBE = 16;

/**
 * The next `limit` events from `from` on, in arrival order, as far as those received before `before` (received_at
 * grows with seq, so the walk stops at the first younger one). Reads a small probe first and the rest of `limit`
 * only when the probe was all older: a walk reads about what it returns, and at most `limit` + a probe.
 */
async function walk<T = Record<string, unknown>>(
  db: D1Database,
  columns: string,
  from: number,
  before: string,
  limit: number,
): Promise<(T & { seq: number; received_at: string })[]> {
  type Row = T & { seq: number; received_at: string };
  const read = async (start: number, n: number) =>
    (
      await db
        .prepare(`SELECT seq, received_at, ${columns} FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2`)
        .bind(start, n)
        .all<Row>()
    ).results;
  const older: Row[] = [];
  let rows = await read(from, Math.min(WALK_PROBE, limit));
  for (let round = 0; round < 2; round++) {
    for (const row of rows) {
      if (row.received_at >= before) return older;
      older.push(row);
    }
    if (older.length >= limit || rows.length < WALK_PROBE) return older;
    rows = await read(older[older.length - 1]!.seq + 1, limit - older.length);
  }
  return older;
}

/** The checkpoint the sweep keeps: every event below it has an outcome, or is in the attention index. */
export const SWEPT_TO = 'sweep';

/** Stored events matching a query in these statuses, oldest first: through the attention index, and from the sweep's checkpoint for queued ones. */
export async function eventsToReplay(
  db: D1Database,
  query: EventQuery,
  statuses: readonly string[],
  limit: number,
): Promise<StoredEvent[]> {
  if (query.id !== undefined) {
    const row = await db
      .prepare(
        `SELECT integration, id, type, occurred_at, received_at, body, seq FROM events WHERE integration = ?1 AND id = ?2 AND status IN (${sqlList(statuses)}) AND body IS NOT NULL`,
      )
      .bind(query.integration ?? '', query.id)
      .first<StoredEvent>();
    return row ? [row] : [];
  }
  const from = statuses.includes(EventStatus.queued) ? await checkpoint(db, SWEPT_TO) : Number.MAX_SAFE_INTEGER;
  const attention = statuses.filter((s) => (ATTENTION as string[]).includes(s));
  // Two searches, one per access path (an OR of them makes SQLite scan the whole log).
  const filters =
    '(?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4) AND body IS NOT NULL';
  const columns = 'integration, id, type, occurred_at, received_at, body, seq';
  const rows = await db
    .prepare(
      `SELECT ${columns} FROM events WHERE ${IN_ATTENTION} AND status IN (${attention.length ? sqlList(attention) : "''"}) AND ${filters}
       UNION ALL
       SELECT ${columns} FROM events WHERE seq >= ?5 AND status = '${EventStatus.queued}' AND ${filters}
       ORDER BY seq LIMIT ${limit}`,
    )
    .bind(query.integration ?? null, query.type ?? null, query.since ?? null, query.until ?? null, from)
    .all<StoredEvent>();
  return rows.results;
}

const REBUILDABLE = sqlList([...SETTLED_EVENT_STATUSES, EventStatus.replayed, EventStatus.dead_lettered]);

/** How many events a rebuild of these sources goes through. */
export async function rebuildTotal(db: D1Database, sources: readonly string[]): Promise<number> {
  const row = await db
    .prepare(
      `SELECT count(*) AS n FROM events WHERE body IS NOT NULL AND integration IN (${sources.map((_, i) => `?${i + 1}`).join(', ')}) AND status IN (${REBUILDABLE})`,
    )
    .bind(...sources)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** One page of processed events with bodies, in arrival order after a cursor, for rebuild (a full pass by design). */
export async function rebuildPageRows(
  db: D1Database,
  sources: readonly string[],
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  const placeholders = sources.map((_, i) => `?${i + 3}`).join(', ');
  const rows = await db
    .prepare(
      `SELECT integration, id, type, occurred_at, received_at, body, seq FROM events
       WHERE seq > ?1 AND body IS NOT NULL AND integration IN (${placeholders}) AND status IN (${REBUILDABLE})
       ORDER BY seq LIMIT ?2`,
    )
    .bind(after, limit, ...sources)
    .all<StoredEvent>();
  return rows.results;
}

/** Events waiting for an outcome that the sweep looks at. */
interface StaleEvent extends Omit<StoredEvent, 'body'> {
  body: string | null;
  status: EventStatus;
  attempts: number;
  swept_at: string | null;
  /** How many times the sweep queued it again with no outcome since. */
  sweeps: number;
}

const STALE_COLUMNS =
  'integration, id, type, occurred_at, body, status, attempts, swept_at, sweeps, next_at, updated_at';

/**
 * Retrying and replayed events past their cutoff, through the attention index (?1 the limit; ?2.. the cutoff for an
 * event queued again 0, 1, … times by the sweep, the last one for any more). A swept event's clock is its sweep's.
 */
export function staleWaitingSql(cutoffs: number): string {
  const byTries = Array.from({ length: cutoffs }, (_, n) => `WHEN ${n} THEN ?${n + 2}`).join(' ');
  return `SELECT seq, received_at, ${STALE_COLUMNS} FROM events WHERE ${IN_ATTENTION} AND status IN (${sqlList([EventStatus.retrying, EventStatus.replayed])})
    AND coalesce(swept_at, next_at, updated_at) < CASE min(sweeps, ${cutoffs - 1}) ${byTries} END LIMIT ?1`;
}

/**
 * Events that waited longer than they should with no outcome: queued ones found by walking the log from the
 * sweep's checkpoint to `cutoffs[0]` (reads ∝ events since the last sweep), retrying and replayed ones through the
 * attention index. `cutoffs[n]` is the cutoff for an event the sweep queued again n times (the last one for more).
 * The sweep moves every stale event it is handed out of `queued` (sweptStatement, or its dead letter), so the
 * checkpoint to store is the first event still queued that is not among them, or where the walk ended.
 */
export async function staleEvents(
  db: D1Database,
  cutoffs: readonly string[],
  limit: number,
): Promise<{ stale: StaleEvent[]; next: number }> {
  const from = await checkpoint(db, SWEPT_TO);
  const walked = await walk<StaleEvent>(db, STALE_COLUMNS, from, cutoffs[0]!, 5000);
  const queued = walked.filter((e) => e.status === EventStatus.queued);
  const waiting = await db
    .prepare(staleWaitingSql(cutoffs.length))
    .bind(limit, ...cutoffs)
    .all<StaleEvent>();
  const cutoffOf = (e: StaleEvent) => cutoffs[Math.min(e.sweeps ?? 0, cutoffs.length - 1)]!;
  const isStale = (e: StaleEvent & { next_at?: string | null; updated_at?: string }) =>
    (e.swept_at ?? e.next_at ?? e.updated_at ?? e.received_at) < cutoffOf(e);
  const stale = [...queued.filter(isStale), ...waiting.results].slice(0, limit);
  const handled = new Set(stale);
  const next = queued.find((e) => !handled.has(e))?.seq ?? (walked.length ? walked[walked.length - 1]!.seq + 1 : from);
  return { stale, next };
}

/**
 * The sweep queued a stale event again: it is `replayed` (in the attention index, so the sweep's walk of the log
 * moves on past it), with one more sweep counted. Never an event that got its outcome meanwhile.
 */
export function sweptStatement(db: D1Database, integration: string, id: string, at: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE events SET status = '${EventStatus.replayed}', swept_at = ?3, sweeps = sweeps + 1, next_at = NULL, claim = NULL, updated_at = ?3 WHERE integration = ?1 AND id = ?2 AND status IN (${sqlList(WAITING_EVENT_STATUSES)})`,
    )
    .bind(integration, id, at);
}

/**
 * The oldest event still waiting for an outcome (for the lag alert): queued ones from the sweep's checkpoint (the
 * first event still queued when it last ran, so the first rows from there hold the oldest), and the oldest retrying
 * and the oldest replayed one, each the first in arrival order of the attention index (status, seq) for its status:
 * a row read each (for one integration, until its first), not every event in that status.
 */
export async function oldestWaiting(db: D1Database, integration: string | undefined): Promise<string | null> {
  const from = await checkpoint(db, SWEPT_TO);
  const row = await db
    .prepare(
      `SELECT min(received_at) AS oldest FROM (
         SELECT received_at FROM (SELECT received_at, integration, status FROM events WHERE seq >= ?2 ORDER BY seq LIMIT ${WALK_PROBE}) WHERE status = '${EventStatus.queued}' AND (?1 IS NULL OR integration = ?1)
         UNION ALL
         SELECT * FROM (SELECT received_at FROM events WHERE ${IN_ATTENTION} AND status = '${EventStatus.retrying}' AND (?1 IS NULL OR integration = ?1) ORDER BY seq LIMIT 1)
         UNION ALL
         SELECT * FROM (SELECT received_at FROM events WHERE ${IN_ATTENTION} AND status = '${EventStatus.replayed}' AND (?1 IS NULL OR integration = ?1) ORDER BY seq LIMIT 1))`,
    )
    .bind(integration ?? null, from)
    .first<{ oldest: string | null }>();
  return row?.oldest ?? null;
}

/** The checkpoint retention keeps for raw bodies: every body below it is pruned. */
const BODIES_PRUNED_TO = 'payloads';

/**
 * Retention of the log, each step reading about what it changes: bodies from their checkpoint up to `cuts.payloads`,
 * then rows from the start of the log up to `cuts.events` (events still waiting stay). Returns what each changed.
 */
export async function pruneEvents(
  db: D1Database,
  cuts: { payloads: string; events: string },
  batch: number,
): Promise<{ payloads: number; events: number }> {
  const from = await checkpoint(db, BODIES_PRUNED_TO);
  const bodies = await walk(db, 'integration', from, cuts.payloads, batch);
  const old = await walk<{ status: string }>(db, 'status', 0, cuts.events, batch);
  const statements: D1PreparedStatement[] = [];
  const last = bodies[bodies.length - 1]?.seq;
  if (last !== undefined) {
    statements.push(db.prepare(PRUNE_BODIES).bind(from, last), checkpointStatement(db, BODIES_PRUNED_TO, last + 1));
  }
  const waiting: readonly string[] = WAITING_EVENT_STATUSES;
  const doomed = old.filter((e) => !waiting.includes(e.status)).map((e) => e.seq);
  if (doomed.length) statements.push(db.prepare(PRUNE_EVENTS).bind(doomed[0], doomed[doomed.length - 1]));
  if (!statements.length) return { payloads: 0, events: 0 };
  const results = await db.batch(statements);
  return {
    payloads: last !== undefined ? (results[0]!.meta.changes ?? 0) : 0,
    events: doomed.length ? (results[results.length - 1]!.meta.changes ?? 0) : 0,
  };
}

/**
 * Nulls the raw bodies in a sequence range, except those of events still waiting for their outcome: a queued
 * large event's message refers to its stored body (payload_ref), and a retry or the sweep's re-send reads it. Such a
 * body stays with its row, which `events` retention prunes. Effects keep their own rendered payload, and a dead
 * letter its own copy of the body, so neither needs the event's.
 */
const PRUNE_BODIES = `UPDATE events SET body = NULL WHERE seq >= ?1 AND seq <= ?2 AND body IS NOT NULL AND status NOT IN (${sqlList(WAITING_EVENT_STATUSES)})`;

/**
 * Deletes old events in a sequence range, except what is still owed: events waiting for an outcome, events with an
 * effect still open (a deferral until the month's end outlives a short retention), an unsent outbox message, or an
 * effect dead letter still open (its replay needs the effect's row); and never the newest row, so a log that
 * retention empties keeps its sequence (a new row would otherwise start again below the checkpoints).
 */
const PRUNE_EVENTS = `DELETE FROM events WHERE seq >= ?1 AND seq <= ?2 AND status NOT IN (${sqlList(WAITING_EVENT_STATUSES)})
  AND seq < (SELECT max(seq) FROM events)
  AND NOT EXISTS (SELECT 1 FROM effects WHERE effects.integration = events.integration AND effects.event_id = events.id AND effects.status IN (${sqlList(OPEN_EFFECT_STATUSES)}))
  AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.integration = events.integration AND outbox.event_id = events.id)
  AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.integration = events.integration AND d.stage = '${Stage.effect}'
    AND d.event_id IN (${effectLetterIdsSql('events.integration', 'events.id')}) AND d.replayed_at IS NULL)`;

const LIST_COLUMNS =
  'seq, integration, id, type, status, received_at, occurred_at, deliveries, attempts, error, next_at, updated_at, origin';
const FILTERS =
  '(?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR received_at >= ?4) AND (?5 IS NULL OR received_at < ?5)';

/**
 * Events with this exact id, in these integrations (one, or every one the manifest knows), and the command calls
 * made with it as their key (by any caller): reads through the UNIQUE (integration, id) key, never a scan.
 */
export async function eventsById(
  db: D1Database,
  integrations: readonly string[],
  id: string,
): Promise<Record<string, unknown>[]> {
  if (!integrations.length) return [];
  const among = `integration IN (${integrations.map((_, i) => `?${i + 4}`).join(', ')})`;
  // A command call's id is its key with a caller's tag: the key a caller sent finds every caller's call with it.
  const rows = await db
    .prepare(
      `SELECT ${LIST_COLUMNS} FROM events WHERE ${among} AND id = ?1 UNION ALL SELECT ${LIST_COLUMNS} FROM events WHERE ${among} AND id >= ?2 AND id < ?3 ORDER BY seq DESC`,
    )
    .bind(id, ...commandCallRange(id), ...integrations)
    .all<Record<string, unknown> & { id: string }>();
  return rows.results.filter((row) => row.id === id || isCommandCallOf(row.id, id));
}

/** Rows an admin list page may scan, at most: a filter that matches little returns a cursor to scan on from. */
export const LIST_SCAN = 1000;

/**
 * The admin event list, newest first. Statuses in the attention index are read through it; anything else walks the
 * log backwards from the cursor, reading at most LIST_SCAN rows per call (the next cursor says where it stopped).
 */
export async function listEvents(
  db: D1Database,
  q: {
    integration: string | null;
    type: string | null;
    status: string | null;
    since: string | null;
    until: string | null;
    contains?: string | null;
    origin?: EventOrigin | null;
    failingEffects?: boolean;
  },
  before: number | null,
  limit: number,
): Promise<{ events: Record<string, unknown>[]; next: number | null }> {
  // `contains`: a value in the raw body (a search); `origin`: backfilled or repaired events (unindexed, like type):
  // both under the same bound as any filter.
  const filters = `${FILTERS} AND (?9 IS NULL OR instr(body, ?9) > 0) AND (?10 IS NULL OR origin = ?10)`;
  const origin = q.origin ?? null;
  const cursor = before ?? Number.MAX_SAFE_INTEGER;
  const contains = q.contains || null;
  // Events with an effect failing now: found through the failing effects (see store/failing.ts), each event by its key.
  if (q.failingEffects) {
    const rows = await db
      .prepare(
        `SELECT ${LIST_COLUMNS} FROM events WHERE (integration, id) IN (SELECT integration, event_id FROM (${FAILING_EFFECTS_SQL})) AND seq < ?6 AND ${filters} ORDER BY seq DESC LIMIT ?7`,
      )
      .bind(q.integration, q.type, q.status, q.since, q.until, cursor, limit + 1, null, contains, origin)
      .all<{ seq: number }>();
    const events = rows.results.slice(0, limit);
    return { events, next: rows.results.length > limit ? events[events.length - 1]!.seq : null };
  }
  if (q.status && (ATTENTION as string[]).includes(q.status)) {
    const rows = await db
      .prepare(
        `SELECT ${LIST_COLUMNS} FROM events WHERE ${IN_ATTENTION} AND status = ?3 AND seq < ?6 AND ${filters} ORDER BY seq DESC LIMIT ?7`,
      )
      .bind(q.integration, q.type, q.status, q.since, q.until, cursor, limit + 1, null, contains, origin)
      .all<{ seq: number }>();
    const events = rows.results.slice(0, limit);
    return { events, next: rows.results.length > limit ? events[events.length - 1]!.seq : null };
  }
  const rows = await db
    .prepare(
      `SELECT ${LIST_COLUMNS} FROM (SELECT * FROM events WHERE seq < ?6 ORDER BY seq DESC LIMIT ?8) WHERE ${filters} ORDER BY seq DESC LIMIT ?7`,
    )
    .bind(q.integration, q.type, q.status, q.since, q.until, cursor, limit + 1, LIST_SCAN, contains, origin)
    .all<{ seq: number; received_at: string }>();
  const events = rows.results.slice(0, limit);
  if (rows.results.length > limit) return { events, next: events[events.length - 1]!.seq };
  // Fewer than a page matched in this scan: go on from where the scan stopped, unless it reached the start of the log
  // or went past `since`.
  const scanned = await db
    .prepare(
      'SELECT count(*) AS n, min(seq) AS seq, min(received_at) AS oldest FROM (SELECT seq, received_at FROM events WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2)',
    )
    .bind(cursor, LIST_SCAN)
    .first<{ n: number; seq: number | null; oldest: string | null }>();
  const more =
    scanned !== null &&
    scanned.n === LIST_SCAN &&
    scanned.seq !== null &&
    !(q.since && scanned.oldest && scanned.oldest < q.since);
  return { events, next: more ? scanned.seq : null };
}

/** One event with its body and what its steps did. */
export async function eventDetail(db: D1Database, integration: string, id: string) {
  return db
    .prepare(
      'SELECT seq, integration, id, type, status, received_at, occurred_at, deliveries, attempts, error, next_at, updated_at, origin, caller, body, steps FROM events WHERE integration = ?1 AND id = ?2',
    )
    .bind(integration, id)
    .first<Record<string, unknown> & { body: string | null; steps: string | null }>();
}

/** Every event in the log in arrival order, without bodies, with what each step did (`switchyard test` and `plan --replay` read outcomes). */
export async function eventOutcomes(db: D1Database): Promise<
  {
    seq: number;
    integration: string;
    id: string;
    type: string;
    status: string;
    attempts: number;
    error: string | null;
    steps: string | null;
  }[]
> {
  const rows = await db
    .prepare('SELECT seq, integration, id, type, status, attempts, error, steps FROM events ORDER BY seq')
    .all<{
      seq: number;
      integration: string;
      id: string;
      type: string;
      status: string;
      attempts: number;
      error: string | null;
      steps: string | null;
    }>();
  return rows.results;
}
