/**
 * Free-tier and rate limits, counted atomically in D1. One statement checks and increments: the upsert's
 * `WHERE n < limit` makes D1 (a single writer) refuse the increment past the limit, so 200 concurrent sends
 * against a limit of 150 allow exactly 150. Warnings fire once per threshold per period (an insert-once row).
 * Never counted in KV: it is eventually consistent and takes about one write per second per key.
 */
import { periodBounds, type Period } from '../lib/periods.ts';

/** Counts one use if it is within the limit; returns the new count, or undefined when the limit is reached. */
export function countStatement(
  db: D1Database,
  metric: string,
  key: string,
  periodStart: string,
  limit: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage (metric, key, period_start, n) VALUES (?1, ?2, ?3, 1)
       ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + 1 WHERE usage.n < ?4
       RETURNING n`,
    )
    .bind(metric, key, periodStart, limit);
}

/**
 * Counts `n` uses at once if they all fit (the track endpoint's batch of events): one conditional upsert, exact
 * under concurrency like countStatement; returns the new count, or no row when they do not fit.
 */
export function countManyStatement(
  db: D1Database,
  metric: string,
  key: string,
  periodStart: string,
  limit: number,
  n: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage (metric, key, period_start, n) SELECT ?1, ?2, ?3, ?5 WHERE ?5 <= ?4
       ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + ?5 WHERE usage.n + ?5 <= ?4
       RETURNING n`,
    )
    .bind(metric, key, periodStart, limit, n);
}

/**
 * Counts a user once per period (active users, Clerk's MAU): a marker row per user and period, inserted with a
 * nonce, and the count's upsert conditioned on that very row. Run together in one batch (a transaction), so of
 * two concurrent first requests only the one whose marker landed counts. The first statement returns a row when
 * the user is new this period; the second the new count, or no row when the limit is reached.
 */
export function activeUserStatements(
  db: D1Database,
  metric: string,
  sub: string,
  periodStart: string,
  limit: number,
): [D1PreparedStatement, D1PreparedStatement] {
  const nonce = crypto.randomUUID();
  return [
    db
      .prepare(
        'INSERT INTO active_users (metric, period_start, sub, nonce) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING RETURNING 1 AS new',
      )
      .bind(metric, periodStart, sub, nonce),
    db
      .prepare(
        `INSERT INTO usage (metric, key, period_start, n)
         SELECT ?1, '*', ?2, 1 WHERE EXISTS (SELECT 1 FROM active_users WHERE metric = ?1 AND period_start = ?2 AND sub = ?3 AND nonce = ?4)
         ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + 1 WHERE usage.n < ?5
         RETURNING n`,
      )
      .bind(metric, periodStart, sub, nonce, limit),
  ];
}

/**
 * Counts `n` operations the application made (a command's `count:`), once per call: a marker row per call (its
 * key scoped to its caller) holding the count before it, the count's conditional upsert tied to that very marker,
 * the marker removed again when the count did not move (refused: a retry after the reset counts anew), and the
 * count as it stands. One batch, one transaction: a repeat of a counted call finds its marker and counts nothing,
 * and concurrent calls are exact like every limit. Results: [new marker?, new count?, -, { n }].
 */
export function operationStatements(
  db: D1Database,
  metric: string,
  id: string,
  periodStart: string,
  limit: number,
  n: number,
): D1PreparedStatement[] {
  const nonce = crypto.randomUUID();
  const current = `COALESCE((SELECT n FROM usage WHERE metric = ?1 AND key = '*' AND period_start = ?2), 0)`;
  return [
    db
      .prepare(
        `INSERT INTO usage_calls (metric, period_start, id, nonce, before) VALUES (?1, ?2, ?3, ?4, ${current}) ON CONFLICT DO NOTHING RETURNING 1 AS new`,
      )
      .bind(metric, periodStart, id, nonce),
    db
      .prepare(
        `INSERT INTO usage (metric, key, period_start, n)
         SELECT ?1, '*', ?2, ?5 WHERE ?5 <= ?6 AND EXISTS (SELECT 1 FROM usage_calls WHERE metric = ?1 AND period_start = ?2 AND id = ?3 AND nonce = ?4)
         ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + ?5 WHERE usage.n + ?5 <= ?6
         RETURNING n`,
      )
      .bind(metric, periodStart, id, nonce, n, limit),
    db
      .prepare(
        `DELETE FROM usage_calls WHERE metric = ?1 AND period_start = ?2 AND id = ?3 AND nonce = ?4 AND before = ${current}`,
      )
      .bind(metric, periodStart, id, nonce),
    db.prepare(`SELECT ${current} AS n`).bind(metric, periodStart),
  ];
}

/** Deletes up to `batch` counted-call markers of periods that are over, per operations limit. */
export function operationPruneStatements(
  db: D1Database,
  limits: readonly { name: string; period: Period; counts?: string }[],
  nowMs: number,
  batch: number,
): D1PreparedStatement[] {
  return limits
    .filter((l) => l.counts === 'operations')
    .map((l) =>
      db
        .prepare(
          'DELETE FROM usage_calls WHERE (metric, period_start, id) IN (SELECT metric, period_start, id FROM usage_calls WHERE metric = ?1 AND period_start < ?2 LIMIT ?3)',
        )
        .bind(l.name, periodBounds(l.period, nowMs).start, batch),
    );
}

/** Deletes up to `batch` active-user markers of periods that are over, per active_users limit. */
export function activeUserPruneStatements(
  db: D1Database,
  limits: readonly { name: string; period: Period; counts?: string }[],
  nowMs: number,
  batch: number,
): D1PreparedStatement[] {
  return limits
    .filter((l) => l.counts === 'active_users')
    .map((l) =>
      db
        .prepare(
          'DELETE FROM active_users WHERE (metric, period_start, sub) IN (SELECT metric, period_start, sub FROM active_users WHERE metric = ?1 AND period_start < ?2 LIMIT ?3)',
        )
        .bind(l.name, periodBounds(l.period, nowMs).start, batch),
    );
}

/** Records that a threshold was crossed in this period; returns a row only the first time. */
export function alertOnceStatement(
  db: D1Database,
  metric: string,
  key: string,
  periodStart: string,
  level: 'warn' | 'exceeded',
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      'INSERT INTO limit_alerts (metric, key, period_start, level, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING level',
    )
    .bind(metric, key, periodStart, level, at);
}

/** Gives back the `n` uses (a batch's items) counted for a send that then failed: quota is spent only on what was sent. */
export function refundStatement(
  db: D1Database,
  metric: string,
  key: string,
  periodStart: string,
  n = 1,
): D1PreparedStatement {
  return db
    .prepare('UPDATE usage SET n = n - ?4 WHERE metric = ?1 AND key = ?2 AND period_start = ?3 AND n >= ?4')
    .bind(metric, key, periodStart, n);
}

/**
 * A rate limit counted in isolate memory, for requests refused before any D1 work (no credentials): they must
 * not cost a D1 write each, nor use up the D1-counted allowance of real requests from the same address. Per
 * isolate, so an estimate; it forgets everything when the period turns and holds at most MAX_KEYS keys.
 */
export class MemoryRateLimit {
  static readonly MAX_KEYS = 10_000;
  private period = '';
  private counts = new Map<string, number>();

  /** Counts one request for `key`; false once the limit is reached in this period. */
  take(key: string, period: Period, limit: number, nowMs: number): boolean {
    const start = periodBounds(period, nowMs).start;
    if (start !== this.period || this.counts.size >= MemoryRateLimit.MAX_KEYS) {
      this.period = start;
      this.counts.clear();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= limit;
  }
}

/**
 * Statements that delete up to `batch` rate-limit counters per route whose period is over (each route's counters
 * before the start of its current period). For the retention run: `db.batch(rateLimitPruneStatements(...))`.
 */
export function rateLimitPruneStatements(
  db: D1Database,
  routes: readonly { name: string; rateLimit?: { period: Period } }[],
  nowMs: number,
  batch: number,
): D1PreparedStatement[] {
  return routes.flatMap((route) =>
    route.rateLimit
      ? [
          db
            .prepare(
              'DELETE FROM usage WHERE (metric, period_start, key) IN (SELECT metric, period_start, key FROM usage WHERE metric = ?1 AND period_start < ?2 LIMIT ?3)',
            )
            .bind(`route.${route.name}`, periodBounds(route.rateLimit.period, nowMs).start, batch),
        ]
      : [],
  );
}
