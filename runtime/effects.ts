/**
 * The consumer's outbound phase, between running the steps and committing: for every action the batch's messages
 * asked for, skip what the send ledger says was sent (reusing its result), count limits atomically, send the rest
 * grouped per action, record successes in the ledger, and tell each message what became of its actions.
 */
import { stepContext, type CompiledLimit, type PendingAction, type Statement } from './adapter.ts';
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from './sql.ts';
import { asActionError, type ActionError, type ActionIO, type ActionItem, type CompiledAction } from './actions.ts';
import { alertOnceStatement, countStatement, periodBounds } from './limits.ts';
import type { Emit } from './telemetry.ts';

/** One message's share of the outbound work, and what it learns back. */
export interface OutboundOwner {
  integration: string;
  id: string;
  actions: { pending: PendingAction; key: string }[];
  /** Log statements of successful sends, to commit with the message. */
  statements: Statement[];
  /** Set when a send failed: the message is retried (transient) or dead-lettered. */
  error?: ActionError;
  /** Set when a `defer` limit was exceeded: the message comes back after this time (ms). */
  deferUntil?: number;
}


interface Item {
  owner: OutboundOwner;
  pending: PendingAction;
  key: string;
  dropped?: boolean;
}

export async function sendActions(owners: OutboundOwner[], db: D1Database, io: ActionIO, emit: Emit): Promise<void> {
  const items: Item[] = owners.flatMap((owner) => owner.actions.map((a) => ({ owner, pending: a.pending, key: a.key })));
  if (!items.length) return;
  const at = new Date(io.now).toISOString();

  // 1. The ledger: what a previous attempt already sent is not sent again.
  const sent = new Map<string, unknown>();
  for (const r of await db.batch<{ key: string; result: string | null }>(
    chunk(items.map((i) => i.key), MAX_PARAMS).map((keys) => db.prepare(`SELECT key, result FROM action_ledger WHERE key IN (${keys.map(() => '?').join(', ')})`).bind(...keys)),
  )) {
    for (const row of r.results) sent.set(row.key, row.result === null ? null : JSON.parse(row.result));
  }
  const fresh = items.filter((i) => !sent.has(i.key));

  // 2. Limits: one atomic check-and-increment per item and limit, then alerts once per threshold per period.
  const counts: { item: Item; limit: CompiledLimit; key: string; periodStart: string; periodEndMs: number }[] = [];
  for (const item of fresh) {
    for (const { limit, key } of item.pending.limits) {
      const period = periodBounds(limit.period, io.now);
      counts.push({ item, limit, key, periodStart: period.start, periodEndMs: period.endMs });
    }
  }
  if (counts.length) {
    const results = await db.batch<{ n: number }>(counts.map((c) => countStatement(db, c.limit.name, c.key, c.periodStart, c.limit.limit)));
    const alerts: { c: (typeof counts)[number]; level: 'warn' | 'exceeded'; used: number }[] = [];
    counts.forEach((c, i) => {
      const n = results[i]!.results[0]?.n;
      if (n === undefined) {
        alerts.push({ c, level: 'exceeded', used: c.limit.limit });
        if (c.limit.onExceed === 'drop') c.item.dropped = true;
        else if (c.limit.onExceed === 'defer') c.item.owner.deferUntil = Math.max(c.item.owner.deferUntil ?? 0, c.periodEndMs);
      } else if (n >= Math.ceil(c.limit.warnAt * c.limit.limit)) {
        alerts.push({ c, level: 'warn', used: n });
      }
    });
    await fireAlerts(alerts, db, io, emit, at);
  }

  // 3. Send what is left, grouped per action and within each action's batch size.
  const sendable = fresh.filter((i) => !i.dropped && i.owner.deferUntil === undefined);
  for (const item of fresh.filter((i) => i.dropped)) {
    const limit = item.pending.limits.find((l) => l.limit.onExceed === 'drop')!;
    emit({ kind: 'limit.dropped', limit: limit.limit.name, key: limit.key, integration: item.owner.integration, id: item.owner.id });
  }
  const groups = new Map<CompiledAction, Item[]>();
  for (const item of sendable) groups.set(item.pending.action, [...(groups.get(item.pending.action) ?? []), item]);
  const outcomes = new Map<Item, { ok: true; result: unknown } | { ok: false; error: ActionError }>();
  await Promise.all(
    [...groups].flatMap(([action, list]) =>
      chunk(list, action.maxBatch).map(async (part) => {
        let results;
        try {
          results = await action.send(part.map((i): ActionItem => ({ key: i.key, payload: i.pending.payload })), io);
        } catch (error) {
          const failure = asActionError(error);
          results = part.map(() => ({ ok: false as const, error: failure }));
        }
        part.forEach((item, i) => outcomes.set(item, results[i]!));
      }),
    ),
  );

  // 4. Record successes in the ledger before anything else can fail, then give each message its outcome.
  const successes = [...outcomes].filter(([, o]) => o.ok) as [Item, { ok: true; result: unknown }][];
  if (successes.length) {
    await db
      .batch(successes.map(([item, o]) => db.prepare('INSERT INTO action_ledger (key, action, result, sent_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING').bind(item.key, item.pending.action.type, JSON.stringify(o.result ?? null), at)))
      .catch((error: unknown) => emit({ kind: 'runtime.error', where: 'outbound.ledger', error: String(error) }));
  }
  for (const item of items) {
    const previous = sent.has(item.key);
    const outcome = previous ? { ok: true as const, result: sent.get(item.key) } : outcomes.get(item);
    if (!outcome) continue;
    if (outcome.ok) {
      item.owner.statements.push(...(item.pending.action.logStatements?.({ key: item.key, payload: item.pending.payload }, outcome.result, at) ?? []));
    } else {
      const worse = !item.owner.error || (item.owner.error.transient && !outcome.error.transient);
      const later = item.owner.error?.transient && outcome.error.transient && (outcome.error.retryAfterSeconds ?? 0) > (item.owner.error.retryAfterSeconds ?? 0);
      if (worse || later) item.owner.error = outcome.error;
    }
  }
}

/** Sends each limit's notify action for thresholds crossed for the first time this period. */
async function fireAlerts(alerts: { c: { limit: CompiledLimit; key: string; periodStart: string; periodEndMs: number }; level: 'warn' | 'exceeded'; used: number }[], db: D1Database, io: ActionIO, emit: Emit, at: string) {
  if (!alerts.length) return;
  const unique = new Map(alerts.map((a) => [`${a.c.limit.name}|${a.c.key}|${a.c.periodStart}|${a.level}`, a]));
  const list = [...unique.values()];
  const firsts = await db.batch<{ level: string }>(list.map((a) => alertOnceStatement(db, a.c.limit.name, a.c.key, a.c.periodStart, a.level, at)));
  await Promise.all(
    list.map(async (a, i) => {
      if (!firsts[i]!.results.length) return;
      const info = { limit: a.c.limit.name, key: a.c.key, level: a.level, used: a.used, max: a.c.limit.limit, period: a.c.limit.period, period_start: a.c.periodStart, period_end: new Date(a.c.periodEndMs).toISOString() };
      emit({ kind: a.level === 'warn' ? 'limit.warned' : 'limit.exceeded', limit: a.c.limit.name, key: a.c.key, used: a.used, max: a.c.limit.limit, period_start: a.c.periodStart });
      const notify = a.c.limit.notify;
      if (!notify) return;
      try {
        await sendNotification(notify, `limit:${a.c.limit.name}:${a.c.key}:${a.c.periodStart}:${a.level}`, `limit.${a.level}`, info, io);
      } catch (error) {
        // Not sent: forget the alert so the next crossing tries again.
        emit({ kind: 'runtime.error', where: `limits.${a.c.limit.name}.notify`, error: String(error) });
        await db.prepare('DELETE FROM limit_alerts WHERE metric = ?1 AND key = ?2 AND period_start = ?3 AND level = ?4').bind(a.c.limit.name, a.c.key, a.c.periodStart, a.level).run().catch(() => undefined);
      }
    }),
  );
}

/**
 * Sends one notification through an action (a limit warning, an alert): the action sees `info` as the event
 * payload. Throws when the send fails, so the caller can forget the alert and try again next time.
 */
export async function sendNotification(action: CompiledAction, id: string, type: string, info: Record<string, unknown>, io: ActionIO): Promise<void> {
  const at = new Date(io.now).toISOString();
  const envelope = { integration: 'switchyard', id, type, occurred_at: at, received_at: at, payload: info };
  const payload = action.prepare(stepContext(envelope, io.env));
  const [outcome] = await action.send([{ key: id, payload }], io);
  if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
}
