/**
 * Effects that are failing now: retrying (read through `effects_open`, which holds only effects still in flight) or
 * dead-lettered with their letter still open (read through `dead_letters_open`, then each effect by its key). Both
 * sets shrink as effects are sent, replayed or dismissed, so the event list's filter, /health's counts and a bulk
 * retry read what is failing, never the history. What the event list shows beside each event is here too.
 */
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from '../lib/chunk.ts';
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

const COLUMNS =
  'f.integration, f.event_id, f.step, f.action, f.source, f.status, f.attempts, f.next_at, f.error, f.updated_at';

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
export async function failingEffects(
  db: D1Database,
  integration: string | null,
  limit: number,
): Promise<EffectState[]> {
  const rows = await db
    .prepare(`SELECT * FROM (${FAILING_EFFECTS_SQL}) ORDER BY updated_at LIMIT ?2`)
    .bind(integration, limit)
    .all<EffectState>();
  return rows.results;
}

/** How many effects are failing per integration and status (retrying, dead-lettered), for /health. */
export async function failingCounts(db: D1Database): Promise<{ integration: string; status: string; n: number }[]> {
  const rows = await db
    .prepare(`SELECT integration, status, count(*) AS n FROM (${FAILING_EFFECTS_SQL}) GROUP BY integration, status`)
    .bind(null)
    .all<{ integration: string; status: string; n: number }>();
  return rows.results;
}

/** Statuses the event list shows beside an event: failures, and effects a limit held back. */
const SHOWN = [EffectStatus.dead_lettered, EffectStatus.retrying, EffectStatus.deferred, EffectStatus.dropped];

/**
 * The shown effects of these events (a page of the list): each event's effects read by their key, with the
 * dismissal of a dead-lettered one's letter (by the letter's unique key). Reads the page's effects, nothing else.
 */
export async function shownEffectsOf(
  db: D1Database,
  keys: readonly (readonly [integration: string, id: string])[],
): Promise<EffectState[]> {
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

const triples = (n: number) => Array.from({ length: n }, () => '(?, ?, ?)').join(', ');
/** Keys per statement: three bound parameters each, beside the few every statement binds. */
const PER_STATEMENT = Math.floor((MAX_PARAMS - 4) / 3);

/**
 * Retry now, as statements for one batch (a few statements whatever the number of effects, within a Worker's query
 * allowance): dead-lettered effects reopened (a fresh set of attempts, under their own key or recorded batch, as
 * replay does) and their open letters marked replayed; then the lease taken on each effect, whatever its next time,
 * only if it is waiting (pending, retrying, deferred) or its lease lapsed: never while a live consumer holds it, never
 * once it is sent. The same rows, the same idempotency keys: a retry already due finds them leased, then sent. The
 * claims' results are the last `claims` statements' rows.
 */
export function retryNowStatements(
  db: D1Database,
  keys: readonly EffectKey[],
  lease: string,
  leaseUntil: string,
  at: string,
): { statements: D1PreparedStatement[]; claims: number } {
  const parts = chunk([...keys], PER_STATEMENT);
  const flat = (part: EffectKey[]) => part.flatMap((k) => [k.integration, k.id, k.step]);
  const reopen = parts.map((part) =>
    db
      .prepare(
        `UPDATE effects SET status = '${EffectStatus.pending}', attempts = 0, next_at = ?1, error = NULL, lease = NULL, updated_at = ?1,
           batch = coalesce(batch, json_object('key', integration || ':' || event_id || ':' || step, 'members', json_array(json_array(integration, event_id, step))))
         WHERE (integration, event_id, step) IN (VALUES ${triples(part.length)}) AND status = '${EffectStatus.dead_lettered}'`,
      )
      .bind(at, ...flat(part)),
  );
  const letters = parts.map((part) =>
    db
      .prepare(
        `UPDATE dead_letters SET replayed_at = ?1 WHERE stage = '${Stage.effect}' AND (integration, event_id) IN (VALUES ${part.map(() => '(?, ?)').join(', ')}) AND replayed_at IS NULL`,
      )
      .bind(at, ...part.flatMap((k) => [k.integration, `${k.id}#${k.step}`])),
  );
  const claims = parts.map((part) =>
    db
      .prepare(
        `UPDATE effects SET status = '${EffectStatus.sending}', lease = ?1, next_at = ?2, attempts = attempts + 1, updated_at = ?3
         WHERE (integration, event_id, step) IN (VALUES ${triples(part.length)})
           AND (status IN ('${EffectStatus.pending}', '${EffectStatus.retrying}', '${EffectStatus.deferred}') OR (status = '${EffectStatus.sending}' AND next_at <= ?3))
         RETURNING integration, event_id, step, action, source, payload, limits, attempts, batch`,
      )
      .bind(lease, leaseUntil, at, ...flat(part)),
  );
  return { statements: [...reopen, ...letters, ...claims], claims: claims.length };
}

/** These effects' states, for why they could not be retried now (one read by key each). */
export async function effectStates(
  db: D1Database,
  keys: readonly EffectKey[],
): Promise<
  {
    integration: string;
    event_id: string;
    step: string;
    status: EffectStatus;
    next_at: string | null;
    updated_at: string;
  }[]
> {
  if (!keys.length) return [];
  const results = await db.batch<{
    integration: string;
    event_id: string;
    step: string;
    status: EffectStatus;
    next_at: string | null;
    updated_at: string;
  }>(
    chunk([...keys], PER_STATEMENT).map((part) =>
      db
        .prepare(
          `SELECT integration, event_id, step, status, next_at, updated_at FROM effects WHERE (integration, event_id, step) IN (VALUES ${triples(part.length)})`,
        )
        .bind(...part.flatMap((k) => [k.integration, k.id, k.step])),
    ),
  );
  return results.flatMap((r) => r.results);
}
