/**
 * `GET /admin/api/charts`: what the console's charts draw, as numbers and as SVG (charts-svg.ts). Every read is on a
 * key or an index, with a fixed budget of rows whatever the size of the log:
 *   * events per hour by status: the hourly `events.accepted` counters (received), and the newest events of each
 *     attention status through the partial index that holds only them (store/charts.ts), by hour of receipt;
 *   * effect failures per provider: the hourly `effects.*` counters the settling batch writes;
 *   * the plan's daily allowances: the `platform.*` counters of today, and today's pace extrapolated to 24:00 UTC.
 * Events the cron has not rolled up yet are read from the log's tail (operations/counters.ts), as /health reads them;
 * platform counts this isolate has not written yet are added, as /usage does.
 */
import { eventCounters } from './counters.ts';
import type { Hono } from 'hono/tiny';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { periodBounds } from '../lib/periods.ts';
import { PLAN_LIMITS, type PlatformMetric, type PlatformUsage } from '../lib/platform.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import { ATTENTION_STATUSES, attentionByHour, EFFECT_FAILURES, effectFailuresSince } from '../store/index.ts';
import { effectsChart, eventsChart, usageChart, type EventSeries } from './charts-svg.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Before this much of the UTC day has passed, the day's projection is null: a few minutes' pace says little. */
export const PROJECTION_MIN_MS = HOUR_MS;

/**
 * Where today's use ends the day at today's pace: `used` over the fraction of the UTC day gone by at `atMs`, rounded;
 * null in the day's first PROJECTION_MIN_MS.
 */
export function projectDay(used: number, atMs: number): number | null {
  const elapsed = atMs - Date.parse(periodBounds('day', atMs).start);
  if (elapsed < PROJECTION_MIN_MS) return null;
  return Math.round(used / (elapsed / DAY_MS));
}

/** The 24 hour starts ending with the current hour, oldest first. */
export const lastDayHours = (atMs: number) =>
  Array.from({ length: 24 }, (_, i) => periodBounds('hour', atMs - (23 - i) * HOUR_MS).start);

interface Deps {
  now: () => number;
  usage?: PlatformUsage;
}

/** The charts' numbers at `atMs`, and their SVG. */
export async function chartsAt(db: D1Database, compiled: CompiledManifest, deps: Deps, atMs: number) {
  const hours = lastDayHours(atMs);
  const since = hours[0]!;
  const day = periodBounds('day', atMs).start;
  const unflushed = deps.usage?.unflushed(atMs) ?? [];
  const [received, tail, attention, failures, platform] = await Promise.all([
    db
      .prepare("SELECT period_start, n FROM usage WHERE metric = 'events.accepted' AND period_start >= ?1")
      .bind(since)
      .all<{ period_start: string; n: number }>(),
    // The events the cron has not rolled up yet (runtime/operations/counters.ts), read from the log's tail.
    eventCounters(db),
    attentionByHour(db, since),
    effectFailuresSince(db, since),
    db
      .prepare(
        "SELECT metric, n FROM usage WHERE metric >= 'platform.' AND metric < 'platform/' AND key = '*' AND period_start = ?1",
      )
      .bind(day)
      .all<{ metric: string; n: number }>(),
  ]);

  const index = new Map(hours.map((h, i) => [h, i]));
  const perHour = () => hours.map(() => 0);
  const events = {
    received: perHour(),
    retrying: perHour(),
    dead_lettered: perHour(),
    replayed: perHour(),
    other: perHour(),
  };
  for (const r of [...received.results, ...tail.rows.filter((u) => u.metric === 'events.accepted')]) {
    const i = index.get(r.period_start);
    if (i !== undefined) events.received[i]! += r.n;
  }
  for (const r of attention.rows) {
    const i = index.get(`${r.hour}:00:00.000Z`);
    if (i !== undefined) events[r.status][i]! += r.n;
  }
  // What is not retrying, dead-lettered or replayed: applied, ignored, skipped, or still queued.
  events.other = hours.map((_, i) =>
    Math.max(0, events.received[i]! - ATTENTION_STATUSES.reduce((n, s) => n + events[s][i]!, 0)),
  );

  const byProvider = new Map<
    string,
    { provider: string; retrying: number; dead_lettered: number; by_hour: number[] }
  >();
  for (const f of failures) {
    const i = index.get(f.hour);
    if (i === undefined || !(EFFECT_FAILURES as readonly string[]).includes(f.outcome)) continue;
    const p = byProvider.get(f.provider) ?? { provider: f.provider, retrying: 0, dead_lettered: 0, by_hour: perHour() };
    byProvider.set(f.provider, p);
    p[f.outcome] += f.n;
    p.by_hour[i]! += f.n;
  }
  const effectFailures = [...byProvider.values()].sort(
    (a, b) => b.retrying + b.dead_lettered - (a.retrying + a.dead_lettered) || a.provider.localeCompare(b.provider),
  );

  const used = new Map<string, number>();
  for (const r of [
    ...platform.results,
    ...unflushed.filter((u) => u.metric.startsWith('platform.') && u.period_start === day),
  ]) {
    const metric = r.metric.slice('platform.'.length);
    used.set(metric, (used.get(metric) ?? 0) + r.n);
  }
  const allowances = PLAN_LIMITS[compiled.plan];
  const metrics = (Object.keys(allowances) as PlatformMetric[]).map((metric) => {
    const n = used.get(metric) ?? 0;
    return { metric, used: n, allowance: Math.floor(allowances[metric]), projected: projectDay(n, atMs) };
  });

  const series = Object.fromEntries(
    (['other', ...ATTENTION_STATUSES] as EventSeries[]).map((k) => [k, events[k]]),
  ) as Record<EventSeries, number[]>;
  return {
    at: new Date(atMs).toISOString(),
    hours,
    events: { ...events, sampled: attention.sampled },
    effect_failures: effectFailures,
    usage: { plan: compiled.plan, day, elapsed: (atMs - Date.parse(day)) / DAY_MS, metrics },
    svg: {
      events: eventsChart(hours, series),
      effects: effectsChart(effectFailures),
      usage: usageChart(metrics, compiled.plan),
    },
  };
}

/** Registers `GET /charts` on the admin API (behind its credentials). */
export function registerCharts(
  api: Hono<{ Bindings: RuntimeEnv; Variables: { actor: string } }>,
  compiled: CompiledManifest,
  deps: Deps,
): void {
  api.get('/charts', async (c) => c.json(await chartsAt(c.env.DB, compiled, deps, deps.now())));
}
