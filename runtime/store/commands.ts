/**
 * Commands in the event log: one row per (command, caller, Idempotency-Key), under the source `command:<name>` and
 * the id `<key>~<caller's tag>` (see edge/commands/run.ts), so the key's uniqueness is the event log's own UNIQUE
 * (integration, id): a new call is one insert, a repeat is that insert doing nothing, followed by one point read of
 * what the first call left. The row keeps who called (`caller`).
 */
import type { Envelope } from '../lib/envelope.ts';
import type { EventKey } from './events.ts';
import { Stage } from './status.ts';
import { EffectStatus, EventStatus } from './status.ts';
import { effectLetterIdsSql } from './dead-letters.ts';

/**
 * Records a command call to be queued: a new row (claimed by this request's token) returns its seq; a key already
 * in the log returns no row and writes nothing. 2 rows written (the row and its UNIQUE key), 0 for a repeat.
 */
export function commandClaimStatement(
  db: D1Database,
  envelope: Envelope,
  text: string,
  token: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO events (integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, claim, claimed_at, updated_at, caller)
       VALUES (?1, ?2, ?3, '${EventStatus.queued}', ?4, ?4, 1, 0, ?5, ?6, ?4, ?4, ?7)
       ON CONFLICT (integration, id) DO NOTHING RETURNING seq`,
    )
    .bind(envelope.integration, envelope.id, envelope.type, envelope.received_at, text, token, envelope.caller ?? null);
}

/** What the first call with a key left: its status, its input (canonical JSON), and its effect for a synchronous command. */
interface CommandCall {
  status: EventStatus;
  body: string | null;
  /** Set when the call was queued (its first answer was 202); null when it was applied in its request. */
  claimed_at: string | null;
  effect_status: string | null;
  effect_next_at: string | null;
  effect_error: string | null;
}

/**
 * The first call with a key: one row read through the UNIQUE key, and (for a synchronous command, `withEffect`) its
 * effect's row.
 */
export function commandCall(
  db: D1Database,
  [integration, id]: EventKey,
  withEffect = false,
): Promise<CommandCall | null> {
  const sql = withEffect
    ? `SELECT e.status, e.body, e.claimed_at, f.status AS effect_status, f.next_at AS effect_next_at, f.error AS effect_error
       FROM events e LEFT JOIN effects f ON f.integration = e.integration AND f.event_id = e.id
       WHERE e.integration = ?1 AND e.id = ?2 LIMIT 1`
    : 'SELECT status, body, claimed_at, NULL AS effect_status, NULL AS effect_next_at, NULL AS effect_error FROM events WHERE integration = ?1 AND id = ?2';
  return db.prepare(sql).bind(integration, id).first<CommandCall>();
}

/**
 * A synchronous call's effect made due again for a repeat of its key: a dead-lettered one (a fresh set of attempts,
 * its dead letter marked replayed: the repeat is the retry), or a sent one whose result is no longer cached (the
 * provider is asked again with the same idempotency key and answers what it answered).
 */
export function reopenSyncStatements(db: D1Database, [integration, id]: EventKey, at: string): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE effects SET status = '${EffectStatus.pending}', attempts = 0, next_at = ?3, error = NULL, lease = NULL, updated_at = ?3
         WHERE integration = ?1 AND event_id = ?2 AND status IN ('${EffectStatus.dead_lettered}', '${EffectStatus.sent}')`,
      )
      .bind(integration, id, at),
    db
      .prepare(
        `UPDATE dead_letters SET replayed_at = ?3 WHERE integration = ?1 AND stage = '${Stage.effect}' AND event_id IN (${effectLetterIdsSql('?1', '?2')}) AND replayed_at IS NULL`,
      )
      .bind(integration, id, at),
  ];
}
