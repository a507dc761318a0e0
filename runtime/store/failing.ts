/**
 * Effects that are failing now: retrying (read through `effects_open`, which holds only effects still in flight) or
 * dead-lettered with their letter still open (read through `dead_letters_open`, then each effect by its key). Both
 * sets shrink as effects are sent, replayed or dismissed, so the event list's filter, /health's counts and a bulk
 * retry read what is failing, never the history. What the event list shows beside each event is here too.
 */
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from '../manifest/sql.ts';
import { EffectStatus, OPEN_EFFECT_STATUSES, sqlList, Stage } from './status.ts';

/** One effect: its event's key and its step. */
export interface EffectKey {
  integration: string;
  id: string;
  step: string;
}

/** A failing (or held back) effect as the console shows it. */
export interface EffectState {
  integration: string;
  event_id: string;
  step: string;
  action: string;
  source: string;
  status: EffectStatus;
  attempts: number;
  next_at: string | null;
  error: string | null;
  updated_at: string;
  /** When its dead letter was dismissed (a dead-lettered effect no one will retry), else null. */
  dismissed_at: string | null;
}

const COLUMNS = 'f.integration, f.event_id, f.step, f.action, f.source, f.status, f.attempts, f.next_at, f.error, f.updated_at';

// An effect letter's id is `<event id>#<step>`, and a step is digits and colons: what rtrim leaves ends at the `#`.
const LETTER_EVENT = "substr(d.event_id, 1, length(rtrim(d.event_id, '0123456789:')) - 1)";
const LETTER_STEP = "substr(d.event_id, length(rtrim(d.event_id, '0123456789:')) + 1)";

/**
 * The failing effects as SQL (one integration with `?1` bound, or every one with NULL): retrying ones through the
 * partial index `effects_open` (its own terms repeated, so SQLite may use it), dead-lettered ones through the open
 * letters' index. Columns as COLUMNS, and `dismissed_at` (always NULL: a dismissed letter is not failing).
 */
export const FAILING_EFFECTS_SQL = `SELECT ${COLUMNS}, NULL AS dismissed_at FROM effects f
  WHERE f.status IN (${sqlList(OPEN_EFFECT_STATUSES)}) AND f.status = '${EffectStatus.retrying}' AND (?1 IS NULL OR f.integration = ?1)
UNION ALL
SELECT ${COLUMNS}, NULL AS dismissed_at FROM dead_letters d
  JOIN effects f ON f.integration = d.integration AND f.event_id = ${LETTER_EVENT} AND f.step = ${LETTER_STEP}
  WHERE d.replayed_at IS NULL AND d.dismissed_at IS NULL AND d.stage = '${Stage.effect}' AND (?1 IS NULL OR d.integration = ?1) AND f.status = '${EffectStatus.dead_lettered}'`;

/** Failing effects, at most `limit` (one integration, or all with null), oldest change first. */
export async function failingEffects(db: D1Database, integration: string | null, limit: number): Promise<EffectState[]> {
  const rows = await db.prepare(`SELECT * FROM (${FAILING_EFFECTS_SQL}) ORDER BY updated_at LIMIT ?2`).bind(integration, limit).all<EffectState>();
  return rows.results;
}

/** How many effects are failing per integration and status (retrying, dead-lettered), for /health. */
export async function failingCounts(db: D1Database): Promise<{ integration: string; status: string; n: number }[]> {
  const rows = await db.prepare(`SELECT integration, status, count(*) AS n FROM (${FAILING_EFFECTS_SQL}) GROUP BY integration, status`).bind(null).all<{ integration: string; status: string; n: number }>();
  return rows.results;
}

/** Statuses the event list shows beside an event: failures, and effects a limit held back. */
const SHOWN = [EffectStatus.dead_lettered, EffectStatus.retrying, EffectStatus.deferred, EffectStatus.dropped];

/**
 * The shown effects of these events (a page of the list): each event's effects read by their key, with the
 * dismissal of a dead-lettered one's letter (by the letter's unique key). Reads the page's effects, nothing else.
 */
export async function shownEffectsOf(db: D1Database, keys: readonly (readonly [integration: string, id: string])[]): Promise<EffectState[]> {
  if (!keys.length) return [];
  const results = await db.batch<EffectState>(
    chunk([...keys], Math.floor(MAX_PARAMS / 2)).map((part) =>
      db
        .prepare(
          `SELECT ${COLUMNS}, d.dismissed_at FROM effects f
           LEFT JOIN dead_letters d ON f.status = '${EffectStatus.dead_lettered}' AND d.integration = f.integration AND d.stage = '${Stage.effect}' AND d.event_id = f.event_id || '#' || f.step
           WHERE (f.integration, f.event_id) IN (VALUES ${part.map(() => '(?, ?)').join(', ')}) AND f.status IN (${sqlList(SHOWN)})`,
        )
        .bind(...part.flat()),
    ),
  );
  return results.flatMap((r) => r.results);
}

/**
 * Takes the lease on one effect now, whatever its next time (an operator's "retry now"): only if it is waiting
 * (pending, retrying, deferred) or its lease lapsed, never while a live consumer holds it or once it is sent. The
 * same row, the same idempotency key: a retry already due finds it leased, then sent.
 */
export function claimNowStatement(db: D1Database, e: { integration: string; id: string; step: string }, lease: string, leaseUntil: string, at: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE effects SET status = '${EffectStatus.sending}', lease = ?4, next_at = ?5, attempts = attempts + 1, updated_at = ?6
       WHERE integration = ?1 AND event_id = ?2 AND step = ?3
         AND (status IN ('${EffectStatus.pending}', '${EffectStatus.retrying}', '${EffectStatus.deferred}') OR (status = '${EffectStatus.sending}' AND next_at <= ?6))
       RETURNING integration, event_id, step, action, source, payload, limits, attempts, batch`,
    )
    .bind(e.integration, e.id, e.step, lease, leaseUntil, at);
}

/** Marks the open letter of one effect replayed (its effect was reopened by a retry now). */
export function effectLetterReplayedStatement(db: D1Database, e: { integration: string; id: string; step: string }, at: string): D1PreparedStatement {
  return db.prepare(`UPDATE dead_letters SET replayed_at = ?4 WHERE integration = ?1 AND stage = '${Stage.effect}' AND event_id = ?2 || '#' || ?3 AND replayed_at IS NULL`).bind(e.integration, e.id, e.step, at);
}

/** One effect's state, for why it could not be retried now. */
export async function effectState(db: D1Database, e: { integration: string; id: string; step: string }): Promise<{ status: EffectStatus; next_at: string | null; updated_at: string; action: string; source: string } | null> {
  return db.prepare('SELECT status, next_at, updated_at, action, source FROM effects WHERE integration = ?1 AND event_id = ?2 AND step = ?3').bind(e.integration, e.id, e.step).first();
}
