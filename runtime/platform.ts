/**
 * The runtime's own consumption of the Cloudflare platform, measured against the plan the manifest declares.
 * Counting each request with its own D1 write would double D1 writes, so counts are kept per isolate and flushed
 * at most every FLUSH_INTERVAL_MS into `usage` (metric `platform.*`, per UTC day), in the background. An evicted
 * isolate loses at most its last interval: these figures are estimates, the limits in `limits:` are exact.
 */
import { periodBounds } from './limits.ts';

export const FLUSH_INTERVAL_MS = 10_000;

export type PlatformMetric = 'worker_requests' | 'queue_operations' | 'd1_rows_written' | 'kv_writes';

/** Daily allowances per plan (Workers Free: 100k requests, D1 100k rows written, KV 1k writes, Queues 10k ops). */
export const PLAN_LIMITS: Record<'free' | 'paid', Record<PlatformMetric, number>> = {
  free: { worker_requests: 100_000, queue_operations: 10_000, d1_rows_written: 100_000, kv_writes: 1_000 },
  paid: { worker_requests: 10_000_000 / 30, queue_operations: 1_000_000 / 30, d1_rows_written: 50_000_000 / 30, kv_writes: 1_000_000 / 30 },
};

export const platformSchema = {
  type: 'object',
  title: 'Platform',
  additionalProperties: false,
  properties: {
    plan: { enum: ['free', 'paid'], description: 'The Workers plan whose daily allowances the admin usage report compares against (default free).' },
  },
} as const;

export class PlatformUsage {
  private pending = new Map<PlatformMetric, number>();
  private lastFlush = 0;

  count(metric: PlatformMetric, n = 1): void {
    if (n > 0) this.pending.set(metric, (this.pending.get(metric) ?? 0) + n);
  }

  /** Writes pending counts when the interval has passed (or when forced); a failed write keeps them pending. */
  async flush(db: D1Database, nowMs: number, force = false): Promise<void> {
    if (!this.pending.size || (!force && nowMs - this.lastFlush < FLUSH_INTERVAL_MS)) return;
    this.lastFlush = nowMs;
    const drained = [...this.pending];
    this.pending.clear();
    const day = periodBounds('day', nowMs).start;
    try {
      await db.batch(
        drained.map(([metric, n]) =>
          db.prepare("INSERT INTO usage (metric, key, period_start, n) VALUES (?1, '*', ?2, ?3) ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + excluded.n").bind(`platform.${metric}`, day, n),
        ),
      );
    } catch {
      for (const [metric, n] of drained) this.count(metric, n);
    }
  }
}

/** Rows written by a D1 batch or statement, from its result metadata. */
export const rowsWritten = (results: { meta?: { rows_written?: number } }[]) => results.reduce((n, r) => n + (r.meta?.rows_written ?? 0), 0);
