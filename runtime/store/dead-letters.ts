/**
 * Dead letters: work that could not be done, kept whole so it can be replayed once the cause is fixed. Every
 * statement on `dead_letters` is here.
 */
import { Stage } from './status.ts';

// A consumer- or effect-stage letter takes the raw body from the event log, so it stays byte for byte.
const DEAD_LETTER_SQL = `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, raw_body, attempts, first_failed_at, last_failed_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT body FROM events WHERE integration = ?1 AND id = ?7), ?8, ?9, ?9)
ON CONFLICT (integration, stage, event_id) DO UPDATE SET
  reason = excluded.reason, error = excluded.error, envelope = excluded.envelope, attempts = excluded.attempts,
  last_failed_at = excluded.last_failed_at, replayed_at = NULL`;

export interface DeadLetter {
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
  return db.prepare(DEAD_LETTER_SQL).bind(d.integration, Stage.consumer, d.id, d.reason, d.error, d.envelope, d.id, d.attempts, at);
}

/** A dead-letter id for one effect of an event: `<event id>#<step>`. */
export const effectLetterId = (eventId: string, step: string) => `${eventId}#${step}`;
/** The event id and step of an effect dead letter. */
export function parseEffectLetterId(letterId: string): { id: string; step: string } {
  const at = letterId.lastIndexOf('#');
  return { id: letterId.slice(0, at), step: letterId.slice(at + 1) };
}

/** A dead letter of one effect (stage `effect`): the event stays applied. */
export function effectDeadLetter(db: D1Database, d: DeadLetter & { step: string }, at: string): D1PreparedStatement {
  return db.prepare(DEAD_LETTER_SQL).bind(d.integration, Stage.effect, effectLetterId(d.id, d.step), d.reason, d.error, d.envelope, d.id, d.attempts, at);
}

/** A verified request that could not be parsed or mapped, with the headers the extraction rules read. */
export function ingestDeadLetter(
  db: D1Database,
  d: { integration: string; key: string; reason: string; error: string; rawBody: string; contentType: string | null; headers: string },
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

export interface DeadLetterRow {
  seq: number;
  integration: string;
  stage: Stage;
  event_id: string;
  envelope: string | null;
  raw_body: string | null;
  headers: string | null;
}

/** Open (not replayed) dead letters by seq list, integration, or all; oldest first. */
export async function openDeadLetters(db: D1Database, selection: { seq?: number[]; integration?: string }, limit: number): Promise<DeadLetterRow[]> {
  const where: string[] = ['replayed_at IS NULL'];
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
    .prepare(`SELECT seq, integration, stage, event_id, envelope, raw_body, headers FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${limit}`)
    .bind(...params)
    .all<DeadLetterRow>();
  return rows.results;
}

export function markReplayed(db: D1Database, seq: number, at: string): D1PreparedStatement {
  return db.prepare('UPDATE dead_letters SET replayed_at = ?2 WHERE seq = ?1').bind(seq, at);
}

/** Dead letters for the admin list, newest first. */
export async function listDeadLetters(db: D1Database, integration: string | null, open: boolean): Promise<Record<string, unknown>[]> {
  const rows = await db
    .prepare(
      `SELECT seq, integration, stage, event_id, reason, error, attempts, first_failed_at, last_failed_at, replayed_at
       FROM dead_letters WHERE (?1 IS NULL OR integration = ?1) AND ((?2 = 1 AND replayed_at IS NULL) OR ?2 = 0) ORDER BY seq DESC LIMIT 200`,
    )
    .bind(integration, open ? 1 : 0)
    .all<Record<string, unknown>>();
  return rows.results;
}

/** The dead letters one event left: its own and its effects'. */
export async function deadLettersOf(db: D1Database, integration: string, id: string): Promise<Record<string, unknown>[]> {
  const rows = await db
    .prepare(
      `SELECT seq, stage, event_id, reason, error, attempts, first_failed_at, last_failed_at, replayed_at FROM dead_letters
       WHERE integration = ?1 AND (event_id = ?2 OR (stage = '${Stage.effect}' AND event_id >= ?2 || '#' AND event_id < ?2 || '$'))`,
    )
    .bind(integration, id)
    .all<Record<string, unknown>>();
  return rows.results;
}

/** How many dead letters are open (for alerts), optionally for one integration or one reason. */
export async function countOpen(db: D1Database, integration?: string, reason?: string): Promise<number> {
  const row = await db
    .prepare('SELECT count(*) AS n FROM dead_letters WHERE replayed_at IS NULL AND (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR reason = ?2)')
    .bind(integration ?? null, reason ?? null)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Retention: replayed letters go at the next prune, others after `cut`. */
export function pruneDeadLetters(db: D1Database, cut: string, batch: number): D1PreparedStatement {
  return db.prepare('DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters WHERE replayed_at IS NOT NULL OR last_failed_at < ?1 LIMIT ?2)').bind(cut, batch);
}
