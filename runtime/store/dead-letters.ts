/**
 * Dead letters: work that could not be done, kept whole so it can be replayed once the cause is fixed. Every
 * statement on `dead_letters` is here.
 */
import { Stage } from './status.ts';
import { EVENT_TARGET } from './attempts.ts';

// A consumer- or effect-stage letter takes the raw body from the event log, so it stays byte for byte. It failed
// first when its first failed attempt did (?10 is what was attempted: 'event' or the effect's step), not when it was
// given up on: the attempts table keeps each failure's time.
const DEAD_LETTER_SQL = `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, raw_body, attempts, first_failed_at, last_failed_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT body FROM events WHERE integration = ?1 AND id = ?7), ?8,
  coalesce((SELECT min(at) FROM attempts WHERE integration = ?1 AND event_id = ?7 AND target = ?10), ?9), ?9)
ON CONFLICT (integration, stage, event_id) DO UPDATE SET
  reason = excluded.reason, error = excluded.error, envelope = excluded.envelope, attempts = excluded.attempts,
  last_failed_at = excluded.last_failed_at, replayed_at = NULL`;

interface DeadLetter {
  integration: string;
  /** The event's id. */
  id: string;
  reason: string;
  error: string;
  /** What to replay: the envelope (consumer stage) or the effect (effect stage), as JSON. */
  envelope: string;
  attempts: number;
}

/** A dead letter of an event's state (stage `consumer`). */
export function eventDeadLetter(db: D1Database, d: DeadLetter, at: string): D1PreparedStatement {
  return db
    .prepare(DEAD_LETTER_SQL)
    .bind(d.integration, Stage.consumer, d.id, d.reason, d.error, d.envelope, d.id, d.attempts, at, EVENT_TARGET);
}

/** A dead-letter id for one effect of an event: `<event id>#<step>`. */
const effectLetterId = (eventId: string, step: string) => `${eventId}#${step}`;

/**
 * The exact ids of the effect letters one event can have, as SQL: one per row it has in `effects` (read by its
 * primary key). Never a range on `<id>#`: an event whose id starts with `<id>#` (a key `K#x` beside `K`) has letters
 * in that range too.
 */
export const effectLetterIdsSql = (integration: string, id: string) =>
  `SELECT ${id} || '#' || step FROM effects WHERE integration = ${integration} AND event_id = ${id}`;
/** The event id and step of an effect dead letter. */
export function parseEffectLetterId(letterId: string): { id: string; step: string } {
  const at = letterId.lastIndexOf('#');
  return { id: letterId.slice(0, at), step: letterId.slice(at + 1) };
}

/** A dead letter of one effect (stage `effect`): the event stays applied. */
export function effectDeadLetter(db: D1Database, d: DeadLetter & { step: string }, at: string): D1PreparedStatement {
  return db
    .prepare(DEAD_LETTER_SQL)
    .bind(
      d.integration,
      Stage.effect,
      effectLetterId(d.id, d.step),
      d.reason,
      d.error,
      d.envelope,
      d.id,
      d.attempts,
      at,
      d.step,
    );
}

/** A verified request that could not be parsed or mapped, with the headers the extraction rules read. */
export function ingestDeadLetter(
  db: D1Database,
  d: {
    integration: string;
    key: string;
    reason: string;
    error: string;
    rawBody: string;
    contentType: string | null;
    headers: string;
  },
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (integration, stage, event_id, reason, error, raw_body, content_type, attempts, first_failed_at, last_failed_at, headers)
       VALUES (?1, '${Stage.ingest}', ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7, ?8)
       ON CONFLICT (integration, stage, event_id) DO UPDATE SET attempts = attempts + 1, last_failed_at = excluded.last_failed_at, error = excluded.error`,
    )
    .bind(d.integration, d.key, d.reason, d.error, d.rawBody, d.contentType, at, d.headers);
}

interface DeadLetterRow {
  seq: number;
  integration: string;
  stage: Stage;
  event_id: string;
  envelope: string | null;
  raw_body: string | null;
  headers: string | null;
}

/** An open letter: neither replayed nor dismissed (the terms of the `dead_letters_open` index). */
const OPEN = 'replayed_at IS NULL AND dismissed_at IS NULL';

/** Open (neither replayed nor dismissed) dead letters by seq list, integration, or all; oldest first. */
export async function openDeadLetters(
  db: D1Database,
  selection: { seq?: number[]; integration?: string },
  limit: number,
): Promise<(DeadLetterRow & { reason: string })[]> {
  const where: string[] = [OPEN];
  const params: unknown[] = [];
  if (selection.seq?.length) {
    where.push(`seq IN (${selection.seq.map(() => '?').join(', ')})`);
    params.push(...selection.seq);
  }
  if (selection.integration) {
    where.push('integration = ?');
    params.push(selection.integration);
  }
  const rows = await db
    .prepare(
      `SELECT seq, integration, stage, event_id, reason, envelope, raw_body, headers FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${limit}`,
    )
    .bind(...params)
    .all<DeadLetterRow & { reason: string }>();
  return rows.results;
}

/** Why each of these letters is not open (replayed, dismissed or absent), by seq: one read by primary key each. */
export async function closedDeadLetters(
  db: D1Database,
  seqs: readonly number[],
): Promise<Map<number, { integration: string; reason: string }>> {
  if (!seqs.length) return new Map();
  const rows = await db
    .prepare(
      `SELECT seq, integration, replayed_at, dismissed_at FROM dead_letters WHERE seq IN (${seqs.map(() => '?').join(', ')})`,
    )
    .bind(...seqs)
    .all<{ seq: number; integration: string; replayed_at: string | null; dismissed_at: string | null }>();
  const found = new Map(rows.results.map((r) => [r.seq, r]));
  return new Map(
    seqs.map((seq) => {
      const r = found.get(seq);
      const reason = !r
        ? `no dead letter ${seq}`
        : r.replayed_at
          ? `already replayed at ${r.replayed_at}`
          : r.dismissed_at
            ? `dismissed at ${r.dismissed_at}`
            : 'open';
      return [seq, { integration: r?.integration ?? '', reason }];
    }),
  );
}

export function markReplayed(db: D1Database, seq: number, at: string): D1PreparedStatement {
  return db.prepare('UPDATE dead_letters SET replayed_at = ?2 WHERE seq = ?1').bind(seq, at);
}

/** Which letters the admin list shows: open ones, dismissed ones, or all (replayed and dismissed too). */
type DeadLetterView = 'open' | 'dismissed' | 'all';

const LIST_COLUMNS =
  'seq, integration, stage, event_id, reason, error, attempts, first_failed_at, last_failed_at, replayed_at, dismissed_at, dismissed_by';

/** Letters the dismissed and all views look through, at most: the newest ones (open letters are read by index). */
const DEAD_LETTER_SCAN = 2000;

/**
 * Dead letters for the admin list, newest first (200 at most). Open ones through `dead_letters_open`; the dismissed
 * and all views among the newest DEAD_LETTER_SCAN letters, a range of the sequence (the unary `+` keeps SQLite off
 * the open index, which would read every dismissed letter to sort them), so the list reads a bounded number of rows
 * however many letters retention keeps.
 */
export async function listDeadLetters(
  db: D1Database,
  integration: string | null,
  view: DeadLetterView,
): Promise<Record<string, unknown>[]> {
  const where =
    view === 'open'
      ? OPEN
      : `seq > (SELECT max(seq) FROM dead_letters) - ${DEAD_LETTER_SCAN}${view === 'dismissed' ? ' AND +replayed_at IS NULL AND +dismissed_at IS NOT NULL' : ''}`;
  const rows = await db
    .prepare(
      `SELECT ${LIST_COLUMNS} FROM dead_letters WHERE ${where} AND (?1 IS NULL OR integration = ?1) ORDER BY seq DESC LIMIT 200`,
    )
    .bind(integration)
    .all<Record<string, unknown>>();
  return rows.results;
}

/** One dead letter whole: its full error, and what replay would send (the envelope, or the raw body and headers). */
export async function deadLetter(db: D1Database, seq: number): Promise<Record<string, unknown> | null> {
  return db
    .prepare(`SELECT ${LIST_COLUMNS}, envelope, raw_body, content_type, headers FROM dead_letters WHERE seq = ?1`)
    .bind(seq)
    .first<Record<string, unknown>>();
}

/** Dismisses an open letter (one that can never succeed): it leaves the open list and count, and stays in the log. */
export function dismissStatement(db: D1Database, seq: number, by: string, at: string): D1PreparedStatement {
  return db
    .prepare(`UPDATE dead_letters SET dismissed_at = ?2, dismissed_by = ?3 WHERE seq = ?1 AND ${OPEN}`)
    .bind(seq, at, by);
}

/** The dead letters one event left: its own and its effects' (each half a search of the UNIQUE key, by exact id). */
export async function deadLettersOf(
  db: D1Database,
  integration: string,
  id: string,
): Promise<Record<string, unknown>[]> {
  const columns =
    'seq, stage, event_id, reason, error, attempts, first_failed_at, last_failed_at, replayed_at, dismissed_at';
  const rows = await db
    .prepare(
      `SELECT ${columns} FROM dead_letters WHERE integration = ?1 AND stage IN ('${Stage.consumer}', '${Stage.ingest}') AND event_id = ?2
       UNION ALL
       SELECT ${columns} FROM dead_letters WHERE integration = ?1 AND stage = '${Stage.effect}' AND event_id IN (${effectLetterIdsSql('?1', '?2')})`,
    )
    .bind(integration, id)
    .all<Record<string, unknown>>();
  return rows.results;
}

/**
 * The open letters of one integration and/or reason, as a condition `dead_letters_open` can search (?1 the
 * integration, ?2 the reason), with what to bind: a term for a filter that is given, none for one that is not
 * (`?1 IS NULL OR …` would read every open letter's entry).
 */
function openOf(integration?: string, reason?: string): [sql: string, params: unknown[]] {
  const sql = `${OPEN}${integration === undefined ? '' : ' AND integration = ?1'}${reason === undefined ? '' : ' AND reason = ?2'}`;
  return [sql, reason !== undefined ? [integration ?? null, reason] : integration !== undefined ? [integration] : []];
}

/** How many dead letters are open, not dismissed (for alerts), optionally for one integration or one reason. */
export async function countOpen(db: D1Database, integration?: string, reason?: string): Promise<number> {
  const [where, params] = openOf(integration, reason);
  const row = await db
    .prepare(`SELECT count(*) AS n FROM dead_letters WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The error of the newest open letter (for an alert's notification), optionally of one integration or one reason. */
export async function lastOpenError(db: D1Database, integration?: string, reason?: string): Promise<string | null> {
  const [where, params] = openOf(integration, reason);
  const row = await db
    .prepare(`SELECT error FROM dead_letters WHERE ${where} ORDER BY seq DESC LIMIT 1`)
    .bind(...params)
    .first<{ error: string | null }>();
  return row?.error ?? null;
}

/**
 * Retention: replayed letters go at the next prune, others after `cut` (up to `batch` of each). Two searches, one
 * per index: an OR inside one subquery makes SQLite scan every letter kept.
 */
export function pruneDeadLetters(db: D1Database, cut: string, batch: number): D1PreparedStatement {
  return db
    .prepare(
      'DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters WHERE replayed_at IS NOT NULL LIMIT ?2) OR seq IN (SELECT seq FROM dead_letters WHERE last_failed_at < ?1 LIMIT ?2)',
    )
    .bind(cut, batch);
}
