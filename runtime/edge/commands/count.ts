/**
 * A command that counts the application's own operations (`count:`) against a `counts: operations` limit: an
 * OpenAI request or a Cloudinary transformation made from the application's code, counted like switchyard's own
 * sends. One D1 batch per call checks and increments together (exact under concurrency) and remembers the call's
 * Idempotency-Key, so a retried count is not counted twice. The answer says what the application needs to decide:
 * allowed (with what is used and left), or past the limit: 429 until the reset (`defer`), `allowed: false`
 * (`drop`), or allowed with a warning (`warn`). Thresholds notify once per period through the limit's `notify`.
 */
import { fireAlerts, type LimitAlert } from '../../consumer/effects.ts';
import { operationStatements } from '../../consumer/limits.ts';
import type { Envelope, RuntimeEnv } from '../../lib/envelope.ts';
import { periodBounds } from '../../lib/periods.ts';
import { MappingError } from '../../language/values.ts';
import * as store from '../../store/index.ts';
import { fail, type CommandAnswer, type CommandDeps, type Refuse, type Replay } from './answers.ts';
import type { CompiledCommand } from '../../manifest/commands/compile.ts';

/** Counts one call's operations; every outcome is an answer (503 when D1 cannot count: retry with the same key). */
export async function runCount(
  command: CompiledCommand,
  envelope: Envelope,
  sent: string,
  env: RuntimeEnv,
  via: 'http' | 'rpc',
  deps: CommandDeps,
  replay: Replay,
  refuse: Refuse,
): Promise<CommandAnswer> {
  const { limit, n: nOf } = command.count!;
  let n: unknown;
  try {
    n = nOf({ payload: envelope.payload });
  } catch (error) {
    return refuse(422, {
      error: 'unprocessable',
      message: error instanceof MappingError ? error.logText : 'the count could not be read from the input',
      reason: 'invalid_input',
    });
  }
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > limit.limit) {
    return refuse(422, {
      error: 'unprocessable',
      message: `the count must be a whole number from 1 to ${limit.limit} (the limit)`,
      reason: 'invalid_input',
    });
  }
  const period = periodBounds(limit.period, deps.now());
  let results: D1Result<{ new?: number; n?: number }>[];
  try {
    results = await env.DB.batch<{ new?: number; n?: number }>(
      operationStatements(env.DB, limit.name, envelope.id, period.start, limit.limit, n),
    );
  } catch (error) {
    deps.emit({
      kind: 'command.failed',
      command: command.name,
      id: envelope.id,
      via,
      error: error instanceof Error ? error.message : String(error),
    });
    return fail(
      503,
      { error: 'unavailable', message: 'the count could not be recorded; retry with the same Idempotency-Key' },
      { 'retry-after': '1' },
    );
  }
  deps.usage?.count(
    'd1_rows_written',
    results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0),
  );
  const used = results[3]!.results[0]?.n ?? 0;
  const state = { used, max: limit.limit, remaining: Math.max(0, limit.limit - used), period_end: period.end };
  // Answered like a synchronous command: the figures are the call's result.
  const answer = (result: Record<string, unknown>): CommandAnswer => ({
    status: 200,
    body: { id: sent, status: store.EventStatus.applied, result: { ...result, ...state } },
  });
  // A counted call's key is remembered for the period: its repeat answers as the first did and counts nothing.
  if (!results[0]!.results.length) return replay(answer({ allowed: true }));
  const counted = results[1]!.results[0]?.n;
  const l = { limit, key: '*', periodStart: period.start, periodEndMs: period.endMs };
  const alerts: LimitAlert[] =
    counted === undefined
      ? [{ l, level: 'exceeded', used: limit.limit }]
      : counted >= Math.ceil(limit.warnAt * limit.limit)
        ? [{ l, level: 'warn', used: counted }]
        : [];
  if (alerts.length) {
    const work = fireAlerts(
      alerts,
      { db: env.DB, emit: deps.emit, io: { env, fetch: deps.fetch ?? fetch, now: deps.now() } },
      new Date(deps.now()).toISOString(),
    ).catch((error: unknown) =>
      deps.emit({
        kind: 'runtime.error',
        where: 'limits.alerts',
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    if (deps.waitUntil) deps.waitUntil(work);
    else await work;
  }
  if (counted !== undefined) {
    deps.emit({
      kind: 'command.accepted',
      command: command.name,
      id: envelope.id,
      via,
      status: store.EventStatus.applied,
    });
    return answer({ allowed: true });
  }
  // Past the limit (or more than is left): nothing was counted, and the key is free again for a retry.
  const reached = `limit ${limit.name} reached: ${used} of ${limit.limit} this ${limit.period}${n > 1 ? `, ${n} more do not fit` : ''}`;
  if (limit.onExceed === 'defer') {
    deps.emit({
      kind: 'limit.deferred',
      integration: command.source,
      id: envelope.id,
      delay_seconds: Math.max(1, Math.ceil((period.endMs - deps.now()) / 1000)),
      until: period.end,
    });
    const refused = refuse(
      429,
      { error: 'rate_limited', message: `${reached}; retry after it resets`, reason: 'limit' },
      { 'retry-after': String(Math.max(1, Math.ceil((period.endMs - deps.now()) / 1000))) },
    );
    return { ...refused, body: { ...refused.body, ...state, allowed: false } };
  }
  if (limit.onExceed === 'drop') {
    deps.emit({ kind: 'limit.dropped', limit: limit.name, key: '*', integration: command.source, id: envelope.id });
    return answer({ allowed: false, reason: 'limit_reached' });
  }
  return answer({ allowed: true, warning: 'limit_reached' });
}
