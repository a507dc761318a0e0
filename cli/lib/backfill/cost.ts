/**
 * What a backfill costs before it runs: each synthesised event priced as `switchyard plan --budget` prices the same
 * event from a webhook (cli/lib/budget.ts), times the object count, against the plan's daily allowances; and the
 * pace that keeps D1 writes under `--max-writes-per-minute`.
 */
import { compilePattern } from '../../../runtime/manifest/compile.ts';
import { PLAN_LIMITS, type BudgetTable, type HandlerCost } from '../../../runtime/lib/platform.ts';

/** The free plan's 100,000 rows written a day, spread over the day with room left for live traffic: 72,000/day. */
export const DEFAULT_WRITES_PER_MINUTE = 50;
/** On the paid plan (50M rows written a month included), a pace that still leaves the database responsive. */
export const PAID_WRITES_PER_MINUTE = 5000;

/** The handler cost for an event type of an integration (the exact pattern first, else the first that matches). */
export function costOf(budget: BudgetTable | undefined, integration: string, type: string): HandlerCost | undefined {
  const own = budget?.handlers.filter((h) => h.source === integration) ?? [];
  return own.find((h) => h.on === type) ?? own.find((h) => compilePattern(h.on).test(type));
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** "about 1 h 5 min" */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h >= 48 ? `${Math.round(h / 24)} days` : `${h} h ${m % 60} min`;
}

/** The projection lines for one source. */
export function projectionLines(o: {
  objects: number | null;
  cost: HandlerCost | undefined;
  writesPerMinute: number;
  perSecond: number;
  pageSize: number;
  batch: number;
  plan: 'free' | 'paid';
}): string[] {
  const { objects, cost } = o;
  const lines: string[] = [];
  if (!cost) return ['  cost: unknown (this event type has no priced handler)'];
  lines.push(
    `  per object: ${cost.d1_rows_written} D1 rows written, ${cost.d1_rows_read} read, ${cost.queue_operations} queue operations (${cost.path === 'direct' ? 'applied in the request' : 'through the queue'})`,
  );
  if (objects === null) return [...lines, '  objects: unknown'];
  const written = objects * cost.d1_rows_written;
  const allowance = PLAN_LIMITS[o.plan].d1_rows_written;
  lines.push(
    `  total for ${n(objects)} objects: ${n(written)} D1 rows written (${Math.round((written / allowance) * 100)}% of the ${o.plan} plan's ${n(allowance)}/day), ${n(objects * cost.d1_rows_read)} read, ${n(objects * cost.queue_operations)} queue operations, ${n(Math.ceil(objects / o.batch))} Worker requests (${o.batch} events each), ${n(Math.ceil(objects / o.pageSize))} provider requests`,
  );
  const byWrites = Number.isFinite(o.writesPerMinute) ? (written / o.writesPerMinute) * 60_000 : 0;
  const byProvider = (Math.ceil(objects / o.pageSize) / o.perSecond) * 1000;
  lines.push(
    `  pace: ${Number.isFinite(o.writesPerMinute) ? `at most ${n(o.writesPerMinute)} rows written a minute (${n(o.writesPerMinute / Math.max(cost.d1_rows_written, 1))} objects)` : 'no write bound (a local server is not billed)'}, ${o.perSecond} provider requests a second: at least ${duration(Math.max(byWrites, byProvider))}`,
  );
  return lines;
}
