/**
 * Limits that routes count, besides sends: active users (each signed-in user once per period: Clerk's 5,000 MAU)
 * and tracked events (each event a route queues: Mixpanel's 100,000 a month). Both are one conditional D1 upsert,
 * exact under concurrency like every limit, and warn once per threshold per period through the limit's `notify`.
 * Active users only ever warn: a count never locks a signed-in user out. Tracked events may `drop` past the limit,
 * before they cost a queue message.
 */
import type { CompiledLimit } from '../component/step.ts';
import type { ActionIO } from '../component/action.ts';
import { fireAlerts, type LimitAlert } from '../consumer/effects.ts';
import { activeUserStatements, countManyStatement } from '../consumer/limits.ts';
import { periodBounds } from '../lib/periods.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import type { Emit } from '../lib/telemetry.ts';

export interface RouteCountContext {
  db: D1Database;
  io: ActionIO;
  emit: Emit;
  /** Read only when an alert fires: its first read compiles the limits' notifications (lazy compile). */
  compiled: Pick<CompiledManifest, 'limits'>;
}

/** How many users an isolate remembers as counted (per limit and period) before it forgets them all. */
export const ACTIVE_USERS_MEMO = 10_000;

const crossed = (limit: CompiledLimit, n: number) => n >= Math.ceil(limit.warnAt * limit.limit);

async function alert(alerts: LimitAlert[], ctx: RouteCountContext): Promise<void> {
  if (!alerts.length) return;
  try {
    void ctx.compiled.limits;
    await fireAlerts(alerts, { db: ctx.db, emit: ctx.emit, io: ctx.io }, new Date(ctx.io.now).toISOString());
  } catch (error) {
    // Not recorded: the next crossing tries again.
    ctx.emit({
      kind: 'runtime.error',
      where: 'limits.alerts',
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * Counts a signed-in user against each active_users limit, once per period. An isolate remembers whom it counted,
 * so a user's later requests cost nothing; the first request per user, limit and period in an isolate costs one
 * D1 batch (a marker row written when the user is new this period, and the count's upsert).
 */
export async function countActiveUser(
  limits: readonly CompiledLimit[],
  sub: string,
  ctx: RouteCountContext,
  memo: Set<string>,
): Promise<void> {
  const due = limits
    .filter((l) => l.counts === 'active_users')
    .map((limit) => ({ limit, period: periodBounds(limit.period, ctx.io.now) }))
    .filter(({ limit, period }) => !memo.has(`${limit.name}\u0000${period.start}\u0000${sub}`));
  if (!due.length) return;
  const results = await ctx.db.batch<{ n?: number; new?: number }>(
    due.flatMap(({ limit, period }) => activeUserStatements(ctx.db, limit.name, sub, period.start, limit.limit)),
  );
  if (memo.size >= ACTIVE_USERS_MEMO) memo.clear();
  const alerts: LimitAlert[] = [];
  due.forEach(({ limit, period }, i) => {
    memo.add(`${limit.name}\u0000${period.start}\u0000${sub}`);
    if (!results[2 * i]!.results.length) return;
    const n = results[2 * i + 1]!.results[0]?.n;
    const l = { limit, key: '*', periodStart: period.start, periodEndMs: period.endMs };
    if (n === undefined) alerts.push({ l, level: 'exceeded', used: limit.limit });
    else if (crossed(limit, n)) alerts.push({ l, level: 'warn', used: n });
  });
  await alert(alerts, ctx);
}

/**
 * Counts `n` events a route is about to queue against its tracked_events limits (all of them or none, per limit).
 * Returns false when a limit with `on_exceed: drop` is reached: the events are not queued. One D1 upsert per limit
 * per call (a track batch, or one request's analytics event). Never throws for D1: uncounted events go on.
 */
export async function countTrackedEvents(
  limits: readonly CompiledLimit[] | undefined,
  n: number,
  ctx: RouteCountContext,
): Promise<boolean> {
  const tracked = (limits ?? []).filter((l) => l.counts === 'tracked_events');
  if (!tracked.length || n <= 0) return true;
  const periods = tracked.map((limit) => periodBounds(limit.period, ctx.io.now));
  let results: D1Result<{ n: number }>[];
  try {
    results = await ctx.db.batch<{ n: number }>(
      tracked.map((limit, i) => countManyStatement(ctx.db, limit.name, '*', periods[i]!.start, limit.limit, n)),
    );
  } catch (error) {
    // A quota guard, not a gate: when D1 cannot count, the events go on (and the failure is logged).
    ctx.emit({
      kind: 'runtime.error',
      where: 'limits.tracked_events',
      error: error instanceof Error ? error.message : String(error),
    });
    return true;
  }
  const alerts: LimitAlert[] = [];
  let allowed = true;
  tracked.forEach((limit, i) => {
    const count = results[i]!.results[0]?.n;
    const l = { limit, key: '*', periodStart: periods[i]!.start, periodEndMs: periods[i]!.endMs };
    if (count !== undefined) {
      if (crossed(limit, count)) alerts.push({ l, level: 'warn', used: count });
      return;
    }
    alerts.push({ l, level: 'exceeded', used: limit.limit });
    if (limit.onExceed === 'drop') allowed = false;
  });
  await alert(alerts, ctx);
  return allowed;
}
