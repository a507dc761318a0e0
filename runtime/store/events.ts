/**
 * The event log: one row per (integration, event id), written by ingest (the claim is also the deduplication and
 * the store of the raw body), moved along by the consumer, and read by replay, rebuild, the sweep and the admin
 * API. Every statement on `events`, `applied_messages` and `outbox` is here.
 */
import type { Envelope } from '../envelope.ts';
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from '../sql.ts';
import { EventStatus, sqlList, WAITING_EVENT_STATUSES } from './status.ts';

/** (integration, event id): how every event-log table is keyed. */
export type EventKey = readonly [integration: string, id: string];
export const keyOf = (k: EventKey | { integration: string; id: string }) => ('id' in k ? `${k.integration}\u0000${k.id}` : `${k[0]}\u0000${k[1]}`);

/**
 * A `queued` claim older than this is taken over by the next delivery and queued again (at-least-once; the
 * consumer deduplicates). Younger claims answer 409 so the provider retries later rather than giving up.
 */
export const STALE_CLAIM_MS = 60_000;

// One statement, one round trip: a new row, or a stale claim taken over, returns claimed = 1 for this request's
// token. A live claim (being queued, or queued and not yet consumed) or a consumed event returns claimed = 0.
// The row says `queued` from the claim on: a failed send deletes it, and the consumer moves it on when it runs.
// Its rowid is the arrival sequence: ordering guards break same-time ties by it (see `eventVersion`).
// Body-hash dedup (?9 = the body's hash, ?10 = the start of the replay window; both NULL unless the integration's
// id or type comes from an unsigned header): the same body already recorded under another id inserts nothing and
// returns no row. The NOT EXISTS reads the partial index events_by_body_hash (migration 0010).
const CLAIM_SQL = `INSERT INTO events (integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, claim, claimed_at, updated_at, body_hash)
SELECT ?1, ?2, ?3, '${EventStatus.queued}', ?4, ?5, 1, 0, ?6, ?7, ?4, ?4, ?9
WHERE ?9 IS NULL OR NOT EXISTS (SELECT 1 FROM events WHERE integration = ?1 AND body_hash = ?9 AND id <> ?2 AND received_at >= ?10)
ON CONFLICT (integration, id) DO UPDATE SET
  deliveries = deliveries + 1,
  updated_at = excluded.updated_at,
  claim = CASE WHEN status = '${EventStatus.queued}' AND claimed_at < ?8 THEN excluded.claim ELSE claim END,
  claimed_at = CASE WHEN status = '${EventStatus.queued}' AND claimed_at < ?8 THEN excluded.claimed_at ELSE claimed_at END
RETURNING status, deliveries, claim = ?7 AS claimed, rowid AS seq`;

export interface ClaimResult {
  status: EventStatus;
  deliveries: number;
  claimed: number;
  seq: number;
}

/**
 * Claims an event for queueing (the dedup record, with the raw body). See CLAIM_SQL. With `replay`, the body's
 * hash is recorded and the claim returns no row when that body was recorded under another id since `replay.since`.
 */
export function claimStatement(db: D1Database, envelope: Envelope, text: string, token: string, nowMs: number, replay?: { bodyHash: string; since: string }): D1PreparedStatement {
  const stale = new Date(nowMs - STALE_CLAIM_MS).toISOString();
  return db.prepare(CLAIM_SQL).bind(envelope.integration, envelope.id, envelope.type, envelope.received_at, envelope.occurred_at, text, token, stale, replay?.bodyHash ?? null, replay?.since ?? null);
}

/** Forgets a claim whose queue send failed, so the provider's retry is a new delivery. */
export function releaseClaim(db: D1Database, integration: string, id: string, token: string): Promise<unknown> {
  return db.prepare(`DELETE FROM events WHERE integration = ?1 AND id = ?2 AND status = '${EventStatus.queued}' AND claim = ?3`).bind(integration, id, token).run();
}

const tuples = (n: number, width: number) => Array.from({ length: n }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');

/** `(integration, id) IN (VALUES (?, ?), …)`, chunked within D1's parameter limit, in one round trip. */
async function selectByEvent<T>(db: D1Database, sql: (values: string) => string, keys: readonly EventKey[]): Promise<T[]> {
  if (!keys.length) return [];
  const parts = chunk([...keys], MAX_PARAMS / 2);
  const results = await db.batch<T>(parts.map((part) => db.prepare(sql(`(VALUES ${tuples(part.length, 2)})`)).bind(...part.flat())));
  return results.flatMap((r) => r.results);
}

/** Raw bodies of events whose messages carry a reference instead of the payload. */
export async function readBodies(db: D1Database, keys: readonly EventKey[]): Promise<Map<string, string | null>> {
  const rows = await selectByEvent<{ integration: string; id: string; body: string | null }>(db, (v) => `SELECT integration, id, body FROM events WHERE (integration, id) IN ${v}`, keys);
  return new Map(rows.map((r) => [keyOf(r), r.body]));
}

/** Which of these events were applied already (a redelivery, or a second copy). */
export async function appliedAmong(db: D1Database, keys: readonly EventKey[]): Promise<Set<string>> {
  const rows = await selectByEvent<{ integration: string; event_id: string }>(db, (v) => `SELECT integration, event_id FROM applied_messages WHERE (integration, event_id) IN ${v}`, keys);
  return new Set(rows.map((r) => keyOf([r.integration, r.event_id])));
}

/** What one event commits besides its own statements. */
export interface AppliedRecord {
  integration: string;
  id: string;
  attempts: number;
  /** Per step, what it contributed (kept with the applied-marker for the event log), as JSON. */
  steps: string;
  /** No handler matched: the event is `ignored`, with no marker (there is nothing to apply twice). */
  ignored: boolean;
}

/**
 * The bookkeeping of a commit in few statements: applied-markers as multi-row inserts (no ON CONFLICT: a marker
 * that exists fails the transaction, which is how a concurrent copy is caught) and status updates grouped by
 * status and attempt count, each within D1's parameter limit.
 */
export function appliedStatements(db: D1Database, records: readonly AppliedRecord[], at: string): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const markers = records.filter((r) => !r.ignored);
  for (const part of chunk([...markers], Math.floor((MAX_PARAMS - 1) / 3))) {
    const values = part.map((_, i) => `(?${i * 3 + 2}, ?${i * 3 + 3}, ?1, ?${i * 3 + 4})`).join(', ');
    statements.push(db.prepare(`INSERT INTO applied_messages (integration, event_id, applied_at, steps) VALUES ${values}`).bind(at, ...part.flatMap((r) => [r.integration, r.id, r.steps])));
  }
  const groups = new Map<string, AppliedRecord[]>();
  for (const r of records) {
    const group = `${r.ignored ? EventStatus.ignored : EventStatus.applied}|${r.attempts}`;
    groups.set(group, [...(groups.get(group) ?? []), r]);
  }
  for (const [group, list] of groups) {
    const [status, attempts] = group.split('|');
    for (const part of chunk(list, Math.floor((MAX_PARAMS - 3) / 2))) {
      statements.push(
        db
          .prepare(`UPDATE events SET status = ?1, attempts = ?2, updated_at = ?3, claim = NULL, error = NULL, next_at = NULL WHERE (integration, id) IN (VALUES ${tuples(part.length, 2)})`)
          .bind(status, Number(attempts), at, ...part.flatMap((r) => [r.integration, r.id])),
      );
    }
  }
  return statements;
}

/** An enqueue step's message, written with the state and sent after the commit. */
export function outboxStatement(db: D1Database, o: { key: string; integration: string; id: string; queue: string; body: string }, at: string): D1PreparedStatement {
  return db.prepare('INSERT INTO outbox (key, integration, event_id, queue, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)').bind(o.key, o.integration, o.id, o.queue, o.body, at);
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
  return selectByEvent<OutboxRow>(db, (v) => `SELECT key, integration, event_id, queue, body FROM outbox WHERE (integration, event_id) IN ${v}`, keys);
}

/** Forgets sent outbox messages. A row left behind was sent already; only a later redelivery sends it again. */
export async function deleteOutbox(db: D1Database, keys: readonly string[]): Promise<void> {
  for (const part of chunk([...keys], MAX_PARAMS)) {
    await db.prepare(`DELETE FROM outbox WHERE key IN (${part.map(() => '?').join(', ')})`).bind(...part).run().catch(() => undefined);
  }
}

/** An event whose state failed to commit and will be tried again: attempt n, the error, and when. */
export function retryingStatement(db: D1Database, r: { integration: string; id: string; attempts: number; error: string; nextAt: string }, at: string): D1PreparedStatement {
  return db
    .prepare(`UPDATE events SET status = '${EventStatus.retrying}', attempts = ?3, error = ?4, next_at = ?5, updated_at = ?6, claim = NULL, swept_at = NULL WHERE integration = ?1 AND id = ?2`)
    .bind(r.integration, r.id, r.attempts, r.error, r.nextAt, at);
}

/** An event given up on (its dead letter is written beside this). */
export function deadLetteredStatement(db: D1Database, r: { integration: string; id: string; attempts: number; error: string }, at: string): D1PreparedStatement {
  return db
    .prepare(`UPDATE events SET status = '${EventStatus.dead_lettered}', attempts = ?3, error = ?4, next_at = NULL, updated_at = ?5, claim = NULL WHERE integration = ?1 AND id = ?2`)
    .bind(r.integration, r.id, r.attempts, r.error, at);
}

/** An event queued again (from a dead letter, by query, or by the sweep). */
export function replayedStatement(db: D1Database, integration: string, id: string, at: string): D1PreparedStatement {
  return db.prepare(`UPDATE events SET status = '${EventStatus.replayed}', error = NULL, next_at = NULL, swept_at = NULL, updated_at = ?3 WHERE integration = ?1 AND id = ?2`).bind(integration, id, at);
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
  type?: string;
  status?: string;
  since?: string;
  until?: string;
}

/** Statuses an event can be replayed from by query; applied events would only be deduplicated (use rebuild). */
export const REPLAYABLE_STATUSES: readonly EventStatus[] = [EventStatus.queued, EventStatus.retrying, EventStatus.dead_lettered, EventStatus.replayed];

/** Stored events matching a query in these statuses, oldest first. */
export async function eventsToReplay(db: D1Database, query: EventQuery, statuses: readonly string[], limit: number): Promise<StoredEvent[]> {
  const rows = await db
    .prepare(
      `SELECT integration, id, type, occurred_at, received_at, body, rowid AS seq FROM events
       WHERE status IN (${statuses.map((_, i) => `?${i + 5}`).join(', ')}) AND (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR type = ?2)
         AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4) AND body IS NOT NULL
       ORDER BY received_at LIMIT ${limit}`,
    )
    .bind(query.integration ?? null, query.type ?? null, query.since ?? null, query.until ?? null, ...statuses)
    .all<StoredEvent>();
  return rows.results;
}

/** One page of processed events with bodies, in (received_at, integration, id) order after a cursor, for rebuild. */
export async function rebuildPageRows(db: D1Database, sources: readonly string[], cursor: readonly [string, string, string] | null, limit: number): Promise<{ rows: StoredEvent[]; total?: number }> {
  const placeholders = sources.map((_, i) => `?${i + 4}`).join(', ');
  const where = `body IS NOT NULL AND integration IN (${placeholders}) AND status IN (${sqlList([EventStatus.applied, EventStatus.ignored, EventStatus.replayed, EventStatus.dead_lettered])})`;
  const rows = await db
    .prepare(
      `SELECT integration, id, type, occurred_at, received_at, body, rowid AS seq FROM events WHERE ${where}
       AND (?1 IS NULL OR (received_at, integration, id) > (?1, ?2, ?3)) ORDER BY received_at, integration, id LIMIT ${limit}`,
    )
    .bind(cursor?.[0] ?? null, cursor?.[1] ?? null, cursor?.[2] ?? null, ...sources)
    .all<StoredEvent>();
  if (cursor) return { rows: rows.results };
  const total = await db.prepare(`SELECT count(*) AS n FROM events WHERE ${where} AND ?1 IS NULL`).bind(null, null, null, ...sources).first<{ n: number }>();
  return { rows: rows.results, total: total?.n ?? 0 };
}

/** Events that waited longer than they should with no outcome, for the sweep (read through events_by_status). */
export interface StaleEvent extends Omit<StoredEvent, 'body'> {
  body: string | null;
  status: EventStatus;
  attempts: number;
  swept_at: string | null;
}

export async function staleEvents(db: D1Database, cutoff: string, limit: number): Promise<StaleEvent[]> {
  const rows = await db
    .prepare(
      `SELECT integration, id, type, occurred_at, received_at, body, rowid AS seq, status, attempts, swept_at FROM events
       WHERE status IN (${sqlList(WAITING_EVENT_STATUSES)}) AND coalesce(swept_at, next_at, updated_at) < ?1 LIMIT ?2`,
    )
    .bind(cutoff, limit)
    .all<StaleEvent>();
  return rows.results;
}

/** The sweep queued a stale event again: the next time it is found stale, it is dead-lettered. */
export function sweptStatement(db: D1Database, integration: string, id: string, at: string): D1PreparedStatement {
  return db.prepare('UPDATE events SET swept_at = ?3, updated_at = ?3 WHERE integration = ?1 AND id = ?2').bind(integration, id, at);
}

/** The oldest event still waiting for an outcome (for the lag alert). */
export async function oldestWaiting(db: D1Database, integration: string | undefined): Promise<string | null> {
  const row = await db.prepare(`SELECT min(received_at) AS oldest FROM events WHERE status IN (${sqlList(WAITING_EVENT_STATUSES)}) AND (?1 IS NULL OR integration = ?1)`).bind(integration ?? null).first<{ oldest: string | null }>();
  return row?.oldest ?? null;
}

/** Retention of event rows and their markers: bodies after `payloadsMs`, rows after `eventsMs`; waiting events stay. */
export function pruneEventStatements(db: D1Database, cuts: { payloads: string; events: string }, batch: number): Record<'payloads' | 'events' | 'applied_messages', D1PreparedStatement> {
  return {
    payloads: db.prepare('UPDATE events SET body = NULL WHERE rowid IN (SELECT rowid FROM events WHERE body IS NOT NULL AND received_at < ?1 LIMIT ?2)').bind(cuts.payloads, batch),
    events: db.prepare(`DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE received_at < ?1 AND status NOT IN (${sqlList(WAITING_EVENT_STATUSES)}) LIMIT ?2)`).bind(cuts.events, batch),
    applied_messages: db.prepare('DELETE FROM applied_messages WHERE rowid IN (SELECT rowid FROM applied_messages WHERE applied_at < ?1 ORDER BY applied_at LIMIT ?2)').bind(cuts.events, batch),
  };
}

/** The admin event list, newest first, with cursor pagination. */
export async function listEvents(
  db: D1Database,
  q: { integration: string | null; type: string | null; status: string | null; since: string | null; until: string | null },
  cursor: readonly [string, string, string] | null,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const rows = await db
    .prepare(
      `SELECT integration, id, type, status, received_at, occurred_at, deliveries, attempts, error, next_at, updated_at FROM events
       WHERE (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR status = ?3)
         AND (?4 IS NULL OR received_at >= ?4) AND (?5 IS NULL OR received_at < ?5)
         AND (?6 IS NULL OR (received_at, integration, id) < (?6, ?7, ?8))
       ORDER BY received_at DESC, integration DESC, id DESC LIMIT ?9`,
    )
    .bind(q.integration, q.type, q.status, q.since, q.until, cursor?.[0] ?? null, cursor?.[1] ?? null, cursor?.[2] ?? null, limit)
    .all<Record<string, unknown>>();
  return rows.results;
}

/** One event with its body and its applied-marker. */
export async function eventDetail(db: D1Database, integration: string, id: string) {
  const [event, applied] = await db.batch([
    db.prepare('SELECT integration, id, type, status, received_at, occurred_at, deliveries, attempts, error, next_at, updated_at, body, rowid AS seq FROM events WHERE integration = ?1 AND id = ?2').bind(integration, id),
    db.prepare('SELECT applied_at, steps FROM applied_messages WHERE integration = ?1 AND event_id = ?2').bind(integration, id),
  ]);
  return {
    event: (event!.results[0] ?? null) as (Record<string, unknown> & { body: string | null }) | null,
    applied: (applied!.results[0] ?? null) as { applied_at: string; steps: string | null } | null,
  };
}

/** Per integration since a time: events accepted and those that failed. */
export async function countsSince(db: D1Database, since: string) {
  const rows = await db
    .prepare(`SELECT integration, count(*) AS accepted, sum(status IN ('${EventStatus.retrying}', '${EventStatus.dead_lettered}')) AS failed FROM events WHERE received_at >= ?1 GROUP BY integration`)
    .bind(since)
    .all<{ integration: string; accepted: number; failed: number }>();
  return rows.results;
}

/** Processing lag (ms) of applied events since a time. */
export async function lagsSince(db: D1Database, since: string) {
  const rows = await db
    .prepare(`SELECT integration, (julianday(updated_at) - julianday(received_at)) * 86400000 AS lag FROM events WHERE status = '${EventStatus.applied}' AND received_at >= ?1 ORDER BY integration LIMIT 20000`)
    .bind(since)
    .all<{ integration: string; lag: number }>();
  return rows.results;
}

/** Accepted events per integration and hour since a time. */
export async function perHourSince(db: D1Database, since: string) {
  const rows = await db
    .prepare('SELECT integration, substr(received_at, 1, 13) AS hour, count(*) AS n FROM events WHERE received_at >= ?1 GROUP BY integration, hour')
    .bind(since)
    .all<{ integration: string; hour: string; n: number }>();
  return rows.results;
}
