/**
 * What the console's charts read from the store, on keys and indexes only: the events needing attention (retrying,
 * dead-lettered, replayed) per hour of receipt, through the partial index that holds only them; and the failed
 * effect attempts per provider and hour, counted in `usage` by the same batch that settles the attempt.
 */
import { EffectStatus, EventStatus, sqlList } from './status.ts';

/** The event statuses the events chart stacks on top of the rest, in the partial index events_attention. */
export const ATTENTION_STATUSES = [EventStatus.retrying, EventStatus.dead_lettered, EventStatus.replayed] as const;
type AttentionStatus = (typeof ATTENTION_STATUSES)[number];

/**
 * At most this many of the newest events of each attention status are read per chart: a fixed budget of rows
 * however many failed. A window holding more is drawn from the newest ones, and says so (`sampled`).
 */
export const ATTENTION_SAMPLE = 500;

/**
 * The newest ATTENTION_SAMPLE events of each attention status, counted per status and hour of receipt (`YYYY-MM-DDTHH`),
 * newest hours first; `sampled` when a status had at least that many and its oldest counted hour is still inside the
 * window starting at `since` (older events of that status may be in the window too).
 */
export async function attentionByHour(
  db: D1Database,
  since: string,
): Promise<{ rows: { status: AttentionStatus; hour: string; n: number }[]; sampled: boolean }> {
  // The partial index is used only when its own condition is in the query, word for word: without it the planner walks
  // the whole log backwards by seq (3 million rows read at a million events, test/worker/scale.test.ts).
  const inIndex = `status IN (${sqlList(ATTENTION_STATUSES)})`;
  const each = ATTENTION_STATUSES.map(
    (status) =>
      `SELECT * FROM (SELECT ${sqlList([status])} AS status, substr(received_at, 1, 13) AS hour, count(*) AS n FROM (SELECT received_at FROM events WHERE ${inIndex} AND status = ${sqlList([status])} ORDER BY seq DESC LIMIT ?1) GROUP BY hour)`,
  );
  const { results } = await db
    .prepare(each.join(' UNION ALL '))
    .bind(ATTENTION_SAMPLE)
    .all<{ status: AttentionStatus; hour: string; n: number }>();
  const from = since.slice(0, 13);
  const sampled = ATTENTION_STATUSES.some((status) => {
    const mine = results.filter((r) => r.status === status);
    return mine.reduce((n, r) => n + r.n, 0) >= ATTENTION_SAMPLE && mine.every((r) => r.hour >= from);
  });
  return { rows: results.filter((r) => r.hour >= from), sampled };
}

/** The effect outcomes counted as failures (an attempt that failed), each its own hourly metric keyed by action type. */
export const EFFECT_FAILURES = [EffectStatus.retrying, EffectStatus.dead_lettered] as const;
type EffectFailure = (typeof EFFECT_FAILURES)[number];

/** The `usage` metric a failed attempt of this outcome is counted under (`effects.retrying`, `effects.dead_lettered`). */
const effectFailureMetric = (outcome: EffectFailure) => `effects.${outcome}`;

/** `2031-03-04T05:00:00.000Z` for any time in that UTC hour. */
const hourOf = (at: string) => `${at.slice(0, 13)}:00:00.000Z`;

/**
 * One failed attempt of an effect (`action`: its provider's action type), counted for its hour. Goes in the batch that
 * settles the attempt, so the count is written with it or not at all: 1 row written, on the failure path only.
 */
export function effectFailureStatement(
  db: D1Database,
  action: string,
  outcome: EffectFailure,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      'INSERT INTO usage (metric, key, period_start, n) VALUES (?1, ?2, ?3, 1) ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + 1',
    )
    .bind(effectFailureMetric(outcome), action, hourOf(at));
}

/** Failed effect attempts per outcome, provider and hour since `since` (an hour's start): a range of the primary key. */
export async function effectFailuresSince(
  db: D1Database,
  since: string,
): Promise<{ outcome: EffectFailure; provider: string; hour: string; n: number }[]> {
  const metrics = EFFECT_FAILURES.map(effectFailureMetric);
  const { results } = await db
    .prepare(
      `SELECT metric, key, period_start, n FROM usage WHERE metric IN (${sqlList(metrics)}) AND period_start >= ?1`,
    )
    .bind(since)
    .all<{ metric: string; key: string; period_start: string; n: number }>();
  return results.map((r) => ({
    outcome: r.metric.slice('effects.'.length) as EffectFailure,
    provider: r.key,
    hour: r.period_start,
    n: r.n,
  }));
}
