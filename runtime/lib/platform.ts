/**
 * The runtime's own consumption of the Cloudflare platform, measured against the plan the manifest declares.
 * Counting each request with its own D1 write would double D1 writes, so counts are kept per isolate and flushed
 * at most every FLUSH_INTERVAL_MS into `usage` (metric `platform.*`, per UTC day), in the background. An evicted
 * isolate loses at most its last interval: these figures are estimates, the limits in `limits:` are exact.
 * What /health reads is not counted here: events, failures and lag are derived from the event log
 * (runtime/operations/counters.ts), and refusals are written with their log row (runtime/edge/refusals.ts).
 */
import { periodBounds, type Period } from './periods.ts';
import type { EventStatus } from '../store/status.ts';

/**
 * Counts are written at most this often per isolate (and by the cron trigger): under sparse traffic a flush per
 * request would cost more rows than the events themselves.
 */
export const FLUSH_INTERVAL_MS = 10 * 60_000;
/** How long an isolate reuses the queue backlog it last read from D1 (plus its own unflushed counts). */
export const BACKLOG_READ_MS = 5_000;

export type PlatformMetric = 'worker_requests' | 'queue_operations' | 'd1_rows_written' | 'kv_writes';
/** Each platform metric's counter name. */
const PLATFORM_METRICS: Record<PlatformMetric, string> = {
  worker_requests: 'platform.worker_requests',
  queue_operations: 'platform.queue_operations',
  d1_rows_written: 'platform.d1_rows_written',
  kv_writes: 'platform.kv_writes',
};

/** What a plan allows per day, in the units it is billed in (paid: the monthly inclusion / 30). */
export type PlanResource = PlatformMetric | 'd1_rows_read' | 'kv_reads';

/**
 * Daily allowances per plan (Workers Free: 100k requests, D1 100k rows written and 5M read, KV 100k reads and 1k
 * writes, Queues 10k ops). The one source of these numbers: the admin usage report and `plan --budget` read them.
 */
export const PLAN_ALLOWANCES: Record<'free' | 'paid', Record<PlanResource, number>> = {
  free: {
    worker_requests: 100_000,
    queue_operations: 10_000,
    d1_rows_written: 100_000,
    d1_rows_read: 5_000_000,
    kv_reads: 100_000,
    kv_writes: 1_000,
  },
  paid: {
    worker_requests: 10_000_000 / 30,
    queue_operations: 1_000_000 / 30,
    d1_rows_written: 50_000_000 / 30,
    d1_rows_read: 25_000_000_000 / 30,
    kv_reads: 10_000_000 / 30,
    kv_writes: 1_000_000 / 30,
  },
};

/** The allowances of the metrics the runtime counts itself (the admin usage report). */
export const PLAN_LIMITS: Record<'free' | 'paid', Record<PlatformMetric, number>> = {
  free: pick(PLAN_ALLOWANCES.free),
  paid: pick(PLAN_ALLOWANCES.paid),
};
function pick(a: Record<PlanResource, number>): Record<PlatformMetric, number> {
  return {
    worker_requests: a.worker_requests,
    queue_operations: a.queue_operations,
    d1_rows_written: a.d1_rows_written,
    kv_writes: a.kv_writes,
  };
}

/** What one event of one handler costs, per resource. */
export interface HandlerCost {
  source: string;
  kind: 'integration' | 'route' | 'command';
  on: string;
  path: 'queued' | 'direct';
  /**
   * Which conditions (`if:`) decide this row, when the type's handlers have some: `if <condition>` (several joined by
   * ` and `), `no condition holds`, or `skipped` (no handler runs: the event row alone).
   */
  branch?: string;
  /** The steps whose own `if:` is false on this row (`handlers[4].steps[1]`): the row without their cost. */
  without?: string[];
  /** `skipped` when the event is settled without a step running (its conditions let none run). */
  status?: typeof EventStatus.skipped;
  d1_rows_written: number;
  d1_rows_read: number;
  /** Tables a statement scans (reads grow with them). */
  scans: string[];
  queue_operations: number;
  kv_reads: number;
  kv_writes: number;
  /** Outbound HTTP calls per event (a batched provider's share of one call). */
  subrequests: number;
  worker_requests: number;
  /** Batched providers: calls are shared, at most this many events each. */
  batched?: string[];
  /** Events per request assumed for a route's events (a batch shares its message, log row and effects). */
  batch_size?: number;
}

export interface Capacity {
  plan: 'free' | 'paid';
  /** Events a day that fit, if all traffic were this handler. */
  events_per_day: number;
  binding: PlanResource;
}

/** Per-handler costs `switchyard build` computes (the Worker has no node:sqlite), with the capacity they imply. */
export interface BudgetTable {
  handlers: (HandlerCost & { capacity: Capacity[] })[];
  /** The handler the headline figure is for, and the mix it assumes. */
  headline?: { source: string; on: string; capacity: Capacity[] };
}

const RESOURCES = [
  'worker_requests',
  'd1_rows_written',
  'd1_rows_read',
  'queue_operations',
  'kv_reads',
  'kv_writes',
] as const satisfies readonly PlanResource[];

/** Events a day that fit each plan if every event cost this much, and the resource that runs out first. */
export function capacity(cost: Pick<HandlerCost, (typeof RESOURCES)[number]>): Capacity[] {
  return (['free', 'paid'] as const).map((plan) => {
    let best: Capacity = { plan, events_per_day: Infinity, binding: 'worker_requests' };
    for (const r of RESOURCES) {
      const per = cost[r];
      if (per > 0 && PLAN_ALLOWANCES[plan][r] / per < best.events_per_day)
        best = { plan, events_per_day: Math.floor(PLAN_ALLOWANCES[plan][r] / per), binding: r };
    }
    return best;
  });
}

/** What one request costs: a route's row is per event, its batch's shares included; a request carries `batch_size` events. */
export function perRequest(
  cost: HandlerCost,
): Omit<HandlerCost, 'source' | 'kind' | 'on' | 'path' | 'branch' | 'without' | 'status' | 'batched' | 'batch_size'> {
  const n = cost.batch_size ?? 1;
  // Shares of a batch times its size are whole again: 0.3 x 10 is 3, not 3.0000000000000004.
  const times = (v: number) => Math.round(v * n * 1e9) / 1e9;
  return {
    d1_rows_written: times(cost.d1_rows_written),
    d1_rows_read: times(cost.d1_rows_read),
    scans: cost.scans,
    queue_operations: times(cost.queue_operations),
    kv_reads: times(cost.kv_reads),
    kv_writes: times(cost.kv_writes),
    subrequests: times(cost.subrequests),
    worker_requests: times(cost.worker_requests),
  };
}

/** Adds a pending count to its counter row. */
const UPSERT_COUNT =
  'INSERT INTO usage (metric, key, period_start, n) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (metric, key, period_start) DO UPDATE SET n = n + excluded.n';

interface Pending {
  metric: string;
  key: string;
  period: 'hour' | 'day';
  n: number;
}

export class PlatformUsage {
  private pending = new Map<string, Pending>();
  private lastFlush = 0;
  /**
   * Each counter's id, by metric and key: a request counts a few metrics under the same few keys (integrations,
   * queues, reasons), so their ids are built once per isolate rather than concatenated on every count.
   */
  private ids = new Map<string, Map<string, string>>();
  private add(metric: string, key: string, period: 'hour' | 'day', n: number): void {
    let byKey = this.ids.get(metric);
    if (!byKey) this.ids.set(metric, (byKey = new Map()));
    let id = byKey.get(key);
    if (id === undefined) {
      id = `${metric}\u0000${key}\u0000${period}`;
      if (byKey.size < 1000) byKey.set(key, id);
    }
    const entry = this.pending.get(id);
    if (entry) entry.n += n;
    else this.pending.set(id, { metric, key, period, n });
  }

  count(metric: PlatformMetric, n = 1): void {
    if (n > 0) this.add(PLATFORM_METRICS[metric], '*', 'day', n);
  }

  /** Counts not yet written, by metric, key and period start: reports add them to what D1 has, without a write. */
  unflushed(nowMs: number): { metric: string; key: string; period_start: string; n: number }[] {
    return [...this.pending.values()].map((p) => ({
      metric: p.metric,
      key: p.key,
      period_start: periodBounds(p.period, nowMs).start,
      n: p.n,
    }));
  }

  /** A refused webhook, per integration and reason, per hour (bodies of refused requests are never kept). */
  rejected(integration: string, reason: string): void {
    this.add(`rejections.${integration}`, reason, 'hour', 1);
  }

  /**
   * One pending refusal count (`rejections.<integration>`, by reason), taken out of what the next flush writes: a
   * refusal's log row carries it in its own batch, so a count below the log's cap is in D1 with its row. `restore`
   * puts it back if the row was not written.
   */
  takeRejection(metric: string, reason: string): { n: number; restore(): void } | undefined {
    const id = this.ids.get(metric)?.get(reason) ?? `${metric}\u0000${reason}\u0000hour`;
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    return { n: pending.n, restore: () => this.add(pending.metric, pending.key, pending.period, pending.n) };
  }

  /**
   * Events an endpoint queued (`sent`), or a queue consumer received for the first time (`consumed`), per manifest
   * queue: flushed with the rest, so counting a queue's backlog costs no D1 write per event.
   */
  queued(kind: 'sent' | 'consumed', queue: string, n: number): void {
    if (n > 0) this.add(`queue.${kind}`, queue, 'day', n);
  }

  private backlogs = new Map<string, { at: number; depth: number }>();

  /**
   * Events sent to `queue` and not yet delivered to its consumer: every isolate's flushed counts for today and
   * yesterday (read from D1 at most every BACKLOG_READ_MS) plus this isolate's unflushed ones. An estimate: an
   * evicted isolate loses its last interval, and a backlog older than two days is forgotten.
   */
  async backlog(db: D1Database, queue: string, nowMs: number): Promise<number> {
    let read = this.backlogs.get(queue);
    if (!read || nowMs - read.at >= BACKLOG_READ_MS) {
      const since = periodBounds('day', nowMs - 86_400_000).start;
      const row = await db
        .prepare(
          "SELECT coalesce(sum(CASE metric WHEN 'queue.sent' THEN n ELSE -n END), 0) AS depth FROM usage WHERE metric IN ('queue.sent', 'queue.consumed') AND key = ?1 AND period_start >= ?2",
        )
        .bind(queue, since)
        .first<{ depth: number }>();
      read = { at: nowMs, depth: row?.depth ?? 0 };
      this.backlogs.set(queue, read);
    }
    const pending = (kind: string) => this.pending.get(`queue.${kind}\u0000${queue}\u0000day`)?.n ?? 0;
    return Math.max(0, read.depth + pending('sent') - pending('consumed'));
  }

  /**
   * Whether `flush` would write now: counts are pending and the interval has passed (or it is forced). A request asks
   * this first, so the many that have nothing to write hand the platform no work to wait for.
   */
  due(nowMs: number, force = false): boolean {
    // A new isolate waits an interval before its first write too: the cron's forced flush covers an isolate that dies.
    if (!this.lastFlush && !force) this.lastFlush = nowMs;
    return this.pending.size > 0 && (force || nowMs - this.lastFlush >= FLUSH_INTERVAL_MS);
  }

  /** Writes pending counts when the interval has passed (or when forced); a failed write keeps them pending. */
  async flush(db: D1Database, nowMs: number, force = false): Promise<void> {
    if (!this.due(nowMs, force)) return;
    this.lastFlush = nowMs;
    const drained = [...this.pending.values()];
    this.pending.clear();
    try {
      await db.batch(
        drained.map((p) => db.prepare(UPSERT_COUNT).bind(p.metric, p.key, periodBounds(p.period, nowMs).start, p.n)),
      );
      // The counts just written are in D1 now, no longer pending here: the next backlog read must see them.
      this.backlogs.clear();
    } catch {
      for (const p of drained) this.add(p.metric, p.key, p.period, p.n);
    }
  }
}

/** Upper bounds (ms) of the processing-lag histogram's buckets; the last bucket is everything above. */
export const LAG_BUCKETS_MS = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/** How long hourly counters (events, lag, rejections, effect failures) and daily ones (platform, queues) are kept. */
export const HOURLY_KEEP_MS = 2 * 86_400_000;
export const DAILY_KEEP_MS = 35 * 86_400_000;

/**
 * Retention of the counters: each metric family's rows older than it needs, read through the primary key
 * (metric, period_start, key), so a prune reads about what it deletes. A family (`lag.`, `events.`, …) is walked one
 * metric at a time (a skip over the key: one row read per metric), each searched for its past periods alone; a range
 * over the whole family would read every counter it keeps.
 */
export function pruneUsageStatements(
  db: D1Database,
  nowMs: number,
  batch: number,
  limits: readonly { name: string; period: Period }[] = [],
): D1PreparedStatement[] {
  const hourly = new Date(nowMs - HOURLY_KEEP_MS).toISOString();
  const daily = new Date(nowMs - DAILY_KEEP_MS).toISOString();
  const range = (from: string, to: string, cut: string) => db.prepare(PRUNE_FAMILY).bind(from, to, cut, batch);
  // A limit's counters of periods before the current one are over: nothing reads them again.
  const over = limits.map((l) => pruneCounterStatement(db, l.name, periodBounds(l.period, nowMs).start, batch));
  return [
    range('events.', 'events/', hourly),
    range('lag.', 'lag/', hourly),
    range('rejections.', 'rejections/', hourly),
    range('effects.', 'effects/', hourly),
    range('platform.', 'platform/', daily),
    range('queue.', 'queue/', daily),
    ...over,
  ];
}

/** Up to ?4 counters of every metric in [?1, ?2) from periods before ?3: each metric found by one keyed read. */
const PRUNE_FAMILY = `WITH RECURSIVE m(name) AS (
  SELECT (SELECT metric FROM usage WHERE metric >= ?1 AND metric < ?2 ORDER BY metric LIMIT 1)
  UNION ALL
  SELECT (SELECT metric FROM usage WHERE metric > m.name AND metric < ?2 ORDER BY metric LIMIT 1) FROM m WHERE m.name IS NOT NULL)
DELETE FROM usage WHERE (metric, period_start, key) IN (SELECT u.metric, u.period_start, u.key FROM m JOIN usage u ON u.metric = m.name AND u.period_start < ?3 LIMIT ?4)`;

/** Deletes up to `batch` counters of one metric from periods before `before` (a search of the primary key). */
export function pruneCounterStatement(
  db: D1Database,
  metric: string,
  before: string,
  batch: number,
): D1PreparedStatement {
  return db
    .prepare(
      'DELETE FROM usage WHERE (metric, period_start, key) IN (SELECT metric, period_start, key FROM usage WHERE metric = ?1 AND period_start < ?2 LIMIT ?3)',
    )
    .bind(metric, before, batch);
}

/** Rows written by a D1 batch or statement, from its result metadata. */
export const rowsWritten = (results: { meta?: { rows_written?: number } }[]) =>
  results.reduce((n, r) => n + (r.meta?.rows_written ?? 0), 0);
