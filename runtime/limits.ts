/**
 * Free-tier and rate limits, counted atomically in D1. One statement checks and increments: the upsert's
 * `WHERE n < limit` makes D1 (a single writer) refuse the increment past the limit, so 200 concurrent sends
 * against a limit of 150 allow exactly 150. Warnings fire once per threshold per period (an insert-once row).
 * Never counted in KV: it is eventually consistent and takes about one write per second per key.
 */
export const PERIODS = ['minute', 'hour', 'day', 'month'] as const;
export type Period = (typeof PERIODS)[number];

export const limitSchema = {
  type: 'object',
  title: 'Limit',
  additionalProperties: false,
  required: ['period', 'limit'],
  properties: {
    period: { enum: PERIODS, description: 'The window the limit counts over (UTC).' },
    limit: { type: 'integer', minimum: 1, description: 'How many are allowed per period (and per key).' },
    warn_at: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Warn once when usage reaches this fraction (default 0.8).' },
    on_exceed: { enum: ['warn', 'defer', 'drop'], description: 'warn: send anyway; defer: retry after the period resets; drop: skip and record limit.dropped.' },
    per: { $ref: '#/definitions/Value', description: 'Count separately per value (e.g. the recipient), from the event.' },
    description: { type: 'string' },
  },
} as const;

/** The start and end of the period containing `at` (UTC). */
export function periodBounds(period: Period, atMs: number): { start: string; end: string; endMs: number } {
  const d = new Date(atMs);
  let start: Date;
  let end: Date;
  switch (period) {
    case 'minute':
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()));
      end = new Date(start.getTime() + 60_000);
      break;
    case 'hour':
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()));
      end = new Date(start.getTime() + 3_600_000);
      break;
    case 'day':
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      end = new Date(start.getTime() + 86_400_000);
      break;
    default:
      start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
      end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  }
  return { start: start.toISOString(), end: end.toISOString(), endMs: end.getTime() };
}

/** Counts one use if it is within the limit; returns the new count, or undefined when the limit is reached. */
export function countStatement(db: D1Database, metric: string, key: string, periodStart: string, limit: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage (metric, key, period_start, n) VALUES (?1, ?2, ?3, 1)
       ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + 1 WHERE usage.n < ?4
       RETURNING n`,
    )
    .bind(metric, key, periodStart, limit);
}

/** Records that a threshold was crossed in this period; returns a row only the first time. */
export function alertOnceStatement(db: D1Database, metric: string, key: string, periodStart: string, level: 'warn' | 'exceeded', at: string): D1PreparedStatement {
  return db
    .prepare('INSERT INTO limit_alerts (metric, key, period_start, level, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING level')
    .bind(metric, key, periodStart, level, at);
}

/** Gives back a use that was counted for a send that then failed: quota is spent only on what was sent. */
export function refundStatement(db: D1Database, metric: string, key: string, periodStart: string): D1PreparedStatement {
  return db.prepare('UPDATE usage SET n = n - 1 WHERE metric = ?1 AND key = ?2 AND period_start = ?3 AND n > 0').bind(metric, key, periodStart);
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
export function rateLimitPruneStatements(db: D1Database, routes: readonly { name: string; rateLimit?: { period: Period } }[], nowMs: number, batch: number): D1PreparedStatement[] {
  return routes.flatMap((route) =>
    route.rateLimit
      ? [
          db
            .prepare('DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage WHERE metric = ?1 AND period_start < ?2 LIMIT ?3)')
            .bind(`route.${route.name}`, periodBounds(route.rateLimit.period, nowMs).start, batch),
        ]
      : [],
  );
}
