/**
 * Effect delivery, after the state has committed. For the effects a consumer holds the lease on: count limits
 * (a reservation, given back when the send fails), send grouped per action within each action's batch size, and
 * settle each effect: sent (with its log statements, e.g. email_logs), retrying by its policy, deferred past a
 * limit's reset, dropped, or dead-lettered. A provider outage delays only its own effects.
 */
import { stepContext } from '../component/context.ts';
import type { CompiledLimit } from '../component/step.ts';
import {
  asActionError,
  ActionError,
  stableId,
  type ActionIO,
  type ActionItem,
  type ActionOutcome,
  type CompiledAction,
  type DeliveryOrigin,
  type SentEvent,
  type SharedBatch,
} from '../component/action.ts';
import { alertOnceStatement, countManyStatement, countStatement, refundStatement } from './limits.ts';
import { periodBounds } from '../lib/periods.ts';
import type { CompiledManifest, EffectSpec } from '../manifest/compile.ts';
import { retryDelaySeconds } from '../manifest/retry.ts';
import { chunk } from '../lib/chunk.ts';
import {
  blockers,
  EventOrigin,
  forwardedEvents,
  keyOf,
  attemptStatement,
  effectFailureStatement,
  batchedItems,
  batchMemberSentStatement,
  batchPayloads,
  EffectStatus,
  effectDeadLetter,
  Stage,
  forgetBatch,
  idempotencyKey,
  recordBatch,
  settleStatement,
  UNBUILT_PAYLOAD,
  type BatchRecord,
  type ClaimedEffect,
  type Settlement,
} from '../store/index.ts';
import type { Emit } from '../lib/telemetry.ts';
import { RedirectRefused, refusingRedirects } from '../lib/redirects.ts';
import { annotate, inSpan, type Tracer } from '../lib/trace.ts';

export interface DeliveryContext {
  db: D1Database;
  compiled: CompiledManifest;
  io: ActionIO;
  emit: Emit;
  random: () => number;
  /**
   * What of a provider's answer the effect row keeps (default all of it). A synchronous command's answer goes to its
   * caller and to KV for a declared time, so its row keeps only the status, never a client secret.
   */
  keep?: (result: unknown) => unknown;
  /** Workers' tracing: each provider call in a `switchyard.effect` span. */
  tracer?: Tracer;
}

/** How one delivered effect ended, with the provider's answer when it was sent (for a synchronous command). */
export interface Delivered {
  effect: ClaimedEffect;
  outcome: Settlement;
  result?: unknown;
  /** The provider's HTTP status and error code when it refused. */
  status?: number;
  code?: string;
}

interface Item {
  effect: ClaimedEffect;
  spec: EffectSpec;
  key: string;
  payload: unknown;
  /** A batch's effect: its items, each sent under its own key (see store batchedPayload); one outcome for all. */
  members?: ActionItem[];
  /** How long its send took (ms), once sent or failed. */
  durationMs?: number;
  /** The provider's own answer (before `keep`), and its status when it refused. */
  raw?: { result?: unknown; status?: number; code?: string };
  /** Limits this send counts against, `n` uses (a batch's items), and whether they were reserved (to give back if the send fails). */
  limits: {
    limit: CompiledLimit;
    key: string;
    n: number;
    periodStart: string;
    periodEndMs: number;
    reserved: boolean;
  }[];
  outcome?: Settlement;
  /** The reason its dead letter gives: `effect` (its delivery failed), or why its payload could not be built. */
  reason: string;
  /** Its event's raw body and origin, for an action that sends the event itself (CompiledAction.readsEvent). */
  event?: SentEvent;
}

/**
 * How soon a send held behind one in flight looks again: a send in flight usually settles within seconds, while its
 * lease (what would otherwise say when to look) runs for minutes.
 */
export const HOLD_RECHECK_MS = 5_000;

/**
 * Ordered sends (CompiledAction.orderKey): one with an earlier open effect of the same key waits (deferred, its
 * attempt given back) until that one is due again, or a few seconds when it is in flight. A dead-lettered or sent
 * one no longer holds anything: the next in line proceeds.
 */
async function hold(ordered: Item[], all: readonly Item[], d: DeliveryContext): Promise<void> {
  if (!ordered.length) return;
  const found = await blockers(
    d.db,
    ordered.map((i) => i.effect),
  );
  const inThisCall = new Set(all.map((i) => i.key));
  ordered.forEach((item, n) => {
    const b = found[n];
    if (!b) return;
    const due = b.next_at ? Date.parse(b.next_at) : d.io.now;
    const inFlight =
      b.status === EffectStatus.sending ||
      inThisCall.has(idempotencyKey({ integration: b.integration, id: b.event_id, step: b.step }));
    const wait = inFlight ? Math.min(due, d.io.now + HOLD_RECHECK_MS) : due + 1000;
    item.outcome = {
      status: EffectStatus.deferred,
      nextAt: iso(Math.max(wait, d.io.now + 1000)),
      error: `held: an earlier send with the same order key (${b.integration}/${b.event_id} step ${b.step}) is ${b.status}`,
    };
  });
}

/**
 * The raw body and origin of the events sent whole (one row read per event). An effect replayed from its dead letter
 * carries a batch record of itself (reopenStatement) that an action sending one item per call never has otherwise:
 * its origin is `replay`.
 */
async function readEvents(list: Item[], db: D1Database): Promise<void> {
  if (!list.length) return;
  const rows = await forwardedEvents(
    db,
    list.map((i) => [i.effect.integration, i.effect.id] as const),
  );
  for (const item of list) {
    const row = rows.get(keyOf([item.effect.integration, item.effect.id]));
    const origin: DeliveryOrigin = item.effect.batch
      ? 'replay'
      : row?.origin === EventOrigin.backfill || row?.origin === EventOrigin.repair
        ? row.origin
        : 'webhook';
    item.event = { body: row?.body ?? null, origin };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** An effect record's duration_ms: its provider call's, when one was made. */
const took = (item: Item): { duration_ms?: number } =>
  item.durationMs === undefined ? {} : { duration_ms: item.durationMs };

/** Characters of a provider's last answer an effect's dead letter keeps beside its full error. */
export const ANSWER_EXCERPT = 500;

/** A provider that could not be reached: say which, in words, rather than the runtime's opaque reference. */
function failureOf(action: CompiledAction, error: unknown): ActionError {
  if (error instanceof ActionError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return asActionError(new Error(`${action.type}: the request failed before an answer (${reason})`));
}

/**
 * The actions' fetch, so that a request that fails before any answer (DNS, connection, TLS: workerd says only
 * `internal error; reference = …`) is reported with the host it could not reach. It never follows a redirect: a 3xx
 * is the provider's failure (lib/redirects.ts), so no action's credentials go to another origin.
 */
function reaching(fetcher: typeof fetch): typeof fetch {
  const guarded = refusingRedirects(fetcher);
  return async (input, init) => {
    try {
      return await guarded(input, init);
    } catch (error) {
      if (error instanceof RedirectRefused) throw asActionError(error);
      const url = input instanceof Request ? input.url : String(input);
      const reason = error instanceof Error ? error.message : String(error);
      throw new ActionError(`could not reach ${new URL(url).host}: no answer (${reason})`, { transient: true });
    }
  };
}

/** Delivers claimed effects (this consumer holds their lease) and settles each. Never throws for a provider. */
export async function deliverEffects(
  claimed: readonly ClaimedEffect[],
  lease: string,
  d: DeliveryContext,
): Promise<Delivered[]> {
  if (!claimed.length) return [];
  const { db, compiled, emit } = d;
  const io = { ...d.io, fetch: reaching(d.io.fetch) };
  const at = iso(io.now);
  const items: Item[] = [];
  const seen = new Set<string>();
  for (const effect of claimed) {
    const key = idempotencyKey(effect);
    // A lease is per effect, so a key cannot be claimed twice; this keeps a batched call honest regardless.
    if (seen.has(key)) continue;
    seen.add(key);
    const spec = compiled.effects.byId.get(effect.source);
    const item: Item = { effect, spec: spec!, key, payload: undefined, limits: [], reason: 'effect' };
    if (!spec) {
      item.outcome = {
        status: EffectStatus.dead_lettered,
        error: `its step (${effect.source}) is no longer in the manifest`,
      };
      items.push(item);
      continue;
    }
    if (effect.unbuilt || effect.payload === UNBUILT_PAYLOAD) {
      // Its payload could not be built from the event: nothing to send; its letter replays by building it again.
      const why = effect.unbuilt ?? { reason: 'mapping', error: `its payload was never built (step ${effect.source})` };
      item.outcome = { status: EffectStatus.dead_lettered, error: why.error };
      item.reason = why.reason;
      items.push(item);
      continue;
    }
    try {
      item.payload = JSON.parse(effect.payload);
      const members = batchedItems(item.payload);
      if (members) item.members = members.map((m) => ({ key: m.key, payload: m.payload, attempt: effect.attempts }));
      for (const [name, limitKey, n] of JSON.parse(effect.limits ?? '[]') as [string, string, number?][]) {
        const limit = compiled.limits.get(name);
        if (!limit) continue;
        const period = periodBounds(limit.period, io.now);
        item.limits.push({
          limit,
          key: limitKey,
          n: n ?? 1,
          periodStart: period.start,
          periodEndMs: period.endMs,
          reserved: false,
        });
      }
    } catch (error) {
      item.outcome = { status: EffectStatus.dead_lettered, error: `the stored effect is unreadable: ${String(error)}` };
    }
    items.push(item);
  }

  await hold(
    items.filter((i) => !i.outcome && i.spec.action.orderKey),
    items,
    { ...d, io },
  );
  await readEvents(
    items.filter((i) => !i.outcome && i.spec.action.readsEvent),
    d.db,
  );
  await reserve(
    items.filter((i) => !i.outcome),
    { ...d, io },
    at,
  );
  // A member of a recorded batch completes a call that may already have been performed: a limit cannot hold it back
  // (the batch must go whole, under its key, or the provider would see another body under that key).
  for (const item of items)
    if (
      inSharedBatch(item) &&
      (item.outcome?.status === EffectStatus.deferred || item.outcome?.status === EffectStatus.dropped)
    )
      delete item.outcome;
  const others: D1PreparedStatement[] = [];
  await send(
    items.filter((i) => !i.outcome),
    { ...d, io },
    lease,
    others,
    at,
  );

  const statements: D1PreparedStatement[] = [...others];
  for (const item of items) {
    const { effect } = item;
    if (!item.outcome) continue;
    if (item.outcome.status === EffectStatus.sent) {
      // One effect's answer must not sink the settle of all: statements it cannot build leave it sent, with a note.
      let built: D1PreparedStatement[];
      try {
        const sent = item.outcome;
        // A batch's items each log their own send, with their own part of the answer.
        const logged = item.members
          ? item.members.map((m, i) => [m, (sent.result as unknown[])[i]] as const)
          : [[{ key: item.key, payload: item.payload }, sent.result] as const];
        built = [
          settleStatement(
            db,
            effect,
            lease,
            d.keep ? { ...sent, result: d.keep(sent.result) } : sent,
            at,
            item.durationMs,
          ),
          ...logged
            .flatMap(([m, result]) => item.spec.action.logStatements?.(m, result, at) ?? [])
            .map((s) => db.prepare(s.sql).bind(...s.params)),
        ];
      } catch (error) {
        item.outcome = {
          status: EffectStatus.sent,
          result: null,
          note: `${item.outcome.note ? `${item.outcome.note}; ` : ''}its answer could not be recorded: ${String(error).slice(0, 200)}`,
        };
        built = [settleStatement(db, effect, lease, item.outcome, at, item.durationMs)];
      }
      statements.push(...built);
      emit({
        kind: 'effect.sent',
        integration: effect.integration,
        id: effect.id,
        step: effect.step,
        action: effect.action,
        attempts: effect.attempts,
        ...(item.outcome.note ? { note: item.outcome.note } : {}),
        ...took(item),
      });
      continue;
    }
    const outcome = item.outcome;
    statements.push(settleStatement(db, effect, lease, outcome, at, item.durationMs));
    if (outcome.status === EffectStatus.retrying || outcome.status === EffectStatus.dead_lettered) {
      statements.push(
        attemptStatement(
          db,
          {
            integration: effect.integration,
            id: effect.id,
            target: effect.step,
            n: effect.attempts,
            durationMs: item.durationMs ?? 0,
            error: outcome.error,
          },
          at,
        ),
      );
      statements.push(effectFailureStatement(db, effect.action, outcome.status, at));
    }
    // Not sent (failed, deferred or dropped by another limit): what was reserved for it is given back.
    for (const l of item.limits.filter((l) => l.reserved))
      statements.push(refundStatement(db, l.limit.name, l.key, l.periodStart, l.n));
    if (outcome.status === EffectStatus.retrying) {
      emit({
        kind: 'effect.retry',
        integration: effect.integration,
        id: effect.id,
        step: effect.step,
        action: effect.action,
        attempt: effect.attempts,
        max_attempts: item.spec.retry.maxAttempts,
        next_at: outcome.nextAt,
        error: outcome.error,
        ...took(item),
      });
    } else if (outcome.status === EffectStatus.dead_lettered) {
      const payload = item.payload ?? (effect.payload === UNBUILT_PAYLOAD ? null : effect.payload);
      // What the provider answered last (its status and code, none when it could not be reached), for the console.
      const answer = {
        status: item.raw?.status ?? null,
        code: item.raw?.code ?? null,
        excerpt: outcome.error.slice(0, ANSWER_EXCERPT),
        at,
      };
      statements.push(
        effectDeadLetter(
          db,
          {
            integration: effect.integration,
            id: effect.id,
            step: effect.step,
            reason: item.reason,
            error: outcome.error,
            envelope: JSON.stringify({
              action: effect.action,
              step: effect.step,
              source: effect.source,
              payload,
              answer,
            }),
            attempts: effect.attempts,
          },
          at,
        ),
      );
      emit({
        kind: 'effect.dead_lettered',
        integration: effect.integration,
        id: effect.id,
        step: effect.step,
        action: effect.action,
        attempts: effect.attempts,
        error: outcome.error,
        ...took(item),
      });
    }
  }
  try {
    await db.batch(statements);
  } catch (error) {
    // The sends happened; their records did not. The leases lapse and the effects are claimed again, carrying the
    // same idempotency keys, so providers that honour them do not send twice.
    emit({ kind: 'runtime.error', where: 'effects.settle', error: String(error) });
  }
  return items.flatMap((i) => (i.outcome ? [{ effect: i.effect, outcome: i.outcome, ...(i.raw ?? {}) }] : []));
}

/** Limits: one atomic check-and-increment per item and limit (a reservation), then alerts once per threshold. */
async function reserve(items: Item[], d: DeliveryContext, at: string): Promise<void> {
  const counts = items.flatMap((item) => item.limits.map((l) => ({ item, l })));
  if (!counts.length) return;
  // A batch's items are counted together: all of them fit, or the effect is held back whole (its items share one outcome).
  const results = await d.db.batch<{ n: number }>(
    counts.map(({ l }) =>
      l.n === 1
        ? countStatement(d.db, l.limit.name, l.key, l.periodStart, l.limit.limit)
        : countManyStatement(d.db, l.limit.name, l.key, l.periodStart, l.limit.limit, l.n),
    ),
  );
  const alerts: Alert[] = [];
  counts.forEach(({ item, l }, i) => {
    const n = results[i]!.results[0]?.n;
    if (n !== undefined) {
      l.reserved = true;
      if (n >= Math.ceil(l.limit.warnAt * l.limit.limit)) alerts.push({ l, level: 'warn', used: n });
      return;
    }
    alerts.push({ l, level: 'exceeded', used: l.limit.limit });
    const { effect } = item;
    if (l.limit.onExceed === 'drop' && item.outcome?.status !== EffectStatus.deferred) {
      item.outcome = { status: EffectStatus.dropped, error: `limit ${l.limit.name} (${l.key}) reached` };
      d.emit({
        kind: 'limit.dropped',
        limit: l.limit.name,
        key: l.key,
        integration: effect.integration,
        id: effect.id,
      });
    } else if (l.limit.onExceed === 'defer') {
      const until = Math.max(
        l.periodEndMs,
        item.outcome?.status === EffectStatus.deferred ? Date.parse(item.outcome.nextAt) : 0,
      );
      item.outcome = {
        status: EffectStatus.deferred,
        nextAt: iso(until),
        error: `limit ${l.limit.name} (${l.key}) reached; deferred until it resets`,
      };
      d.emit({
        kind: 'limit.deferred',
        integration: effect.integration,
        id: effect.id,
        delay_seconds: Math.max(1, Math.ceil((until - d.io.now) / 1000)),
        until: iso(until),
      });
    }
  });
  await fireAlerts(alerts, d, at);
}

/** Sends what is left, grouped per action and within each action's batch size; records each item's outcome. */
async function send(
  items: Item[],
  d: DeliveryContext,
  lease: string,
  others: D1PreparedStatement[],
  at: string,
): Promise<void> {
  const groups = new Map<CompiledAction, Item[]>();
  for (const item of items)
    if (!item.outcome) groups.set(item.spec.action, [...(groups.get(item.spec.action) ?? []), item]);
  await Promise.all(
    [...groups].flatMap(([action, list]) => {
      // A batch's effect never forms a shared-key batch (the consumer records such actions per item).
      const shared = action.sharedBatchKey ? list.filter((i) => !i.members) : [];
      const each = action.sharedBatchKey ? list.filter((i) => i.members) : list;
      return [
        ...(shared.length ? [sendShared(action, shared, d, lease, others, at)] : []),
        ...(each.length ? [sendOwnKeys(action, each, d)] : []),
      ];
    }),
  );
}

/**
 * Sends items under their own keys, within the action's batch size: a batch's effect contributes each of its items
 * (so a batch of ten events is one provider call, with other batches' too), and settles once on all their outcomes.
 */
async function sendOwnKeys(action: CompiledAction, list: Item[], d: DeliveryContext): Promise<void> {
  const sends = list.flatMap((item) => (item.members ?? [actionItem(item)]).map((sent, k) => ({ item, sent, k })));
  const answers = new Map<Item, { results: ActionOutcome[]; durationMs: number }>(
    list.map((i) => [i, { results: [], durationMs: 0 }]),
  );
  await Promise.all(
    chunk(sends, action.maxBatch).map(async (part) => {
      const answer = await call(
        action,
        part.map((p) => p.sent),
        d,
        undefined,
        part.map((p) => p.item),
      );
      part.forEach((p, i) => {
        const got = answers.get(p.item)!;
        got.results[p.k] = answer.results[i]!;
        got.durationMs = Math.max(got.durationMs, answer.durationMs);
      });
    }),
  );
  for (const item of list) {
    const { results, durationMs } = answers.get(item)!;
    settleAll([item], { results: [item.members ? together(results) : results[0]!], durationMs }, d);
  }
}

/**
 * One outcome for a batch's items: sent when every item was (the answers in item order); else its failure, a
 * permanent one first (dead-lettered, replayable: the provider dedups the items already sent), or a transient one
 * (the whole effect retries, under the same item keys).
 */
function together(results: ActionOutcome[]): ActionOutcome {
  const failed = results.filter((r): r is Extract<ActionOutcome, { ok: false }> => !r.ok);
  if (!failed.length) {
    const problems = results.flatMap((r) => (r.ok && r.problem ? [r.problem] : []));
    return {
      ok: true,
      result: results.map((r) => (r.ok ? r.result : null)),
      ...(problems.length ? { problem: [...new Set(problems)].join('; ') } : {}),
    };
  }
  return failed.find((r) => !r.error.transient) ?? failed[0]!;
}

/** Whether an item belongs to a recorded batch of several members of a shared-key action. */
function inSharedBatch(item: Item): boolean {
  if (!item.spec?.action.sharedBatchKey || !item.effect.batch) return false;
  try {
    return (JSON.parse(item.effect.batch) as BatchRecord).members.length > 1;
  } catch {
    return false;
  }
}

const actionItem = (i: Item): ActionItem => ({
  key: i.key,
  payload: i.payload,
  attempt: i.effect.attempts,
  ...(i.event ? { event: i.event } : {}),
});

/**
 * One provider call: an outcome per item, in order, whatever the action did (threw, or answered short). Traced as a
 * `switchyard.effect` span (the platform's fetch span nests in it) with the effects' attributes (`items`: whose they are).
 */
function call(
  action: CompiledAction,
  sent: ActionItem[],
  d: DeliveryContext,
  batch?: SharedBatch,
  items: readonly Item[] = [],
): Promise<{ results: ActionOutcome[]; durationMs: number }> {
  return inSpan(
    d.tracer,
    'switchyard.effect',
    () => effectAttributes(action, sent, items),
    async (span) => {
      const started = Date.now();
      let results: ActionOutcome[];
      try {
        results = await action.send(sent, d.io, batch);
      } catch (error) {
        const failure = failureOf(action, error);
        results = sent.map(() => ({ ok: false as const, error: failure }));
      }
      const answer = {
        results: sent.map(
          (_, i) => results[i] ?? { ok: false as const, error: new ActionError('no outcome', { transient: true }) },
        ),
        durationMs: Date.now() - started,
      };
      const failed = answer.results.find((r): r is Extract<ActionOutcome, { ok: false }> => !r.ok);
      annotate(span, {
        outcome: failed ? 'failed' : EffectStatus.sent,
        duration_ms: answer.durationMs,
        provider_status: failed?.error.status,
      });
      return answer;
    },
  );
}

/** A provider call's span attributes: the action and how many items; the effect's own when the call is one event's. */
function effectAttributes(
  action: CompiledAction,
  sent: ActionItem[],
  items: readonly Item[],
): Record<string, string | number | undefined> {
  const first = items[0]?.effect;
  const one =
    first && items.every((i) => i.effect.integration === first.integration && i.effect.id === first.id)
      ? first
      : undefined;
  return {
    stage: Stage.effect,
    action: action.type,
    items: sent.length,
    integration: one?.integration,
    event_id: one?.id,
    step: items.length === 1 ? one?.step : undefined,
    attempt: first?.attempts,
  };
}

function settleAll(
  part: Item[],
  { results, durationMs }: { results: ActionOutcome[]; durationMs: number },
  d: DeliveryContext,
): void {
  part.forEach((item, i) => {
    const result = results[i]!;
    item.durationMs = durationMs;
    item.raw = result.ok
      ? { result: result.result }
      : {
          ...(result.error.status !== undefined ? { status: result.error.status } : {}),
          ...(result.error.code !== undefined ? { code: result.error.code } : {}),
        };
    item.outcome = settlementOf(item, result, d);
  });
}

/** A batch the provider refused outright: a 4xx other than a conflict on its key (409), so nothing was performed. */
const refusedOutright = (results: ActionOutcome[]) =>
  results.every(
    (r) =>
      !r.ok &&
      !r.error.transient &&
      r.error.status !== undefined &&
      r.error.status >= 400 &&
      r.error.status < 500 &&
      r.error.status !== 409,
  );

/**
 * An action whose batch call shares one idempotency key. Each item goes out under the key of its last attempt
 * whose outcome may be unknown: a member of a recorded batch re-sends that batch; an item tried before outside any
 * batch goes alone (its own key); only first attempts form new batches, recorded on their members before the call.
 */
async function sendShared(
  action: CompiledAction,
  list: Item[],
  d: DeliveryContext,
  lease: string,
  others: D1PreparedStatement[],
  at: string,
): Promise<void> {
  const recorded = new Map<string, Item[]>();
  const alone: Item[] = [];
  const fresh: Item[] = [];
  for (const item of list) {
    if (item.effect.batch) recorded.set(item.effect.batch, [...(recorded.get(item.effect.batch) ?? []), item]);
    else if (item.effect.attempts > 1) alone.push(item);
    else fresh.push(item);
  }
  const parts = chunk(fresh, action.maxBatch);
  for (const part of parts.filter((p) => p.length === 1)) alone.push(...part);
  await Promise.all([
    ...alone.map(async (item) => settleAll([item], await call(action, [actionItem(item)], d, undefined, [item]), d)),
    ...parts.filter((p) => p.length > 1).map((part) => sendNewBatch(action, part, d, lease)),
    ...[...recorded].map(([batch, held]) => sendRecordedBatchAgain(action, batch, held, d, others, at)),
  ]);
}

/** A new batch: recorded on its members (while this consumer holds their leases), then sent under its key. */
async function sendNewBatch(action: CompiledAction, part: Item[], d: DeliveryContext, lease: string): Promise<void> {
  const record: BatchRecord = {
    key: await stableId(part.map((i) => i.key).join('\n')),
    members: part.map((i) => [i.effect.integration, i.effect.id, i.effect.step]),
  };
  const batch = JSON.stringify(record);
  try {
    const n = await recordBatch(d.db, batch, lease);
    if (n !== part.length) throw new Error(`recorded on ${n} of its ${part.length} members`);
  } catch (error) {
    // Not sent. Where the record was written, the retry sends this batch; where not, the effect goes alone.
    const failure = new ActionError(
      `${action.type}: the batch could not be recorded before its call, so it was not sent (${String(error).slice(0, 200)})`,
      { transient: true },
    );
    return settleAll(part, { results: part.map(() => ({ ok: false, error: failure })), durationMs: 0 }, d);
  }
  const answer = await call(action, part.map(actionItem), d, { key: record.key }, part);
  if (refusedOutright(answer.results)) return sendAloneAfterRefusal(action, batch, part, d);
  settleAll(part, answer, d);
}

/** A batch refused outright is forgotten first (so no retry re-sends it), then its members go alone. */
async function sendAloneAfterRefusal(
  action: CompiledAction,
  batch: string,
  held: Item[],
  d: DeliveryContext,
): Promise<void> {
  try {
    await forgetBatch(d.db, batch);
  } catch (error) {
    const failure = new ActionError(
      `${action.type}: the provider refused the batch, and it could not be forgotten (${String(error).slice(0, 200)})`,
      { transient: true },
    );
    return settleAll(held, { results: held.map(() => ({ ok: false, error: failure })), durationMs: 0 }, d);
  }
  for (const item of held) item.effect.batch = null;
  await Promise.all(
    held.map(async (item) => settleAll([item], await call(action, [actionItem(item)], d, undefined, [item]), d)),
  );
}

/**
 * Re-sends a recorded batch whose outcome is unknown: the same members' payloads in the same order, under the same
 * key, so the provider replays it or performs it once. The members this consumer holds settle as usual; the others
 * still open went out in this call and are settled sent too (never one a live consumer holds).
 */
async function sendRecordedBatchAgain(
  action: CompiledAction,
  batch: string,
  held: Item[],
  d: DeliveryContext,
  others: D1PreparedStatement[],
  at: string,
): Promise<void> {
  let record: BatchRecord;
  let stored: Map<string, string>;
  try {
    record = JSON.parse(batch) as BatchRecord;
    stored = await batchPayloads(d.db, batch);
  } catch (error) {
    const failure = new ActionError(
      `${action.type}: its batch could not be read back (${String(error).slice(0, 200)})`,
      { transient: true },
    );
    return settleAll(held, { results: held.map(() => ({ ok: false, error: failure })), durationMs: 0 }, d);
  }
  const byKey = new Map(held.map((i) => [i.key, i]));
  const members = record.members.map(([integration, id, step]) => {
    const key = idempotencyKey({ integration, id, step });
    const item = byKey.get(key);
    const text = stored.get(key);
    return {
      integration,
      id,
      step,
      key,
      item,
      payload: item ? item.payload : text === undefined ? undefined : (JSON.parse(text) as unknown),
    };
  });
  if (members.some((m) => m.payload === undefined)) {
    // A member's row is gone (pruned): the batch cannot be formed again, so what is held goes alone.
    return sendAloneAfterRefusal(action, batch, held, d);
  }
  const answer = await call(
    action,
    members.map((m): ActionItem => ({ key: m.key, payload: m.payload, attempt: m.item?.effect.attempts ?? 1 })),
    d,
    { key: record.key },
    held,
  );
  if (refusedOutright(answer.results)) return sendAloneAfterRefusal(action, batch, held, d);
  members.forEach((m, i) => {
    const result = answer.results[i]!;
    if (m.item) return settleAll([m.item], { results: [result], durationMs: answer.durationMs }, d);
    if (!result.ok) return;
    others.push(batchMemberSentStatement(d.db, m, batch, result.result, result.problem, at));
    try {
      others.push(
        ...(action.logStatements?.({ key: m.key, payload: m.payload }, result.result, at) ?? []).map((s) =>
          d.db.prepare(s.sql).bind(...s.params),
        ),
      );
    } catch {
      // Its log row is lost with its odd answer; the effect itself is settled above.
    }
  });
}

function settlementOf(item: Item, outcome: ActionOutcome, d: DeliveryContext): Settlement {
  if (outcome.ok)
    return { status: EffectStatus.sent, result: outcome.result, ...(outcome.problem ? { note: outcome.problem } : {}) };
  const error = failureOf(item.spec.action, outcome.error);
  const { retry } = item.spec;
  if (!error.transient || item.effect.attempts >= retry.maxAttempts)
    return { status: EffectStatus.dead_lettered, error: error.message };
  const delaySeconds = Math.max(
    retryDelaySeconds(retry, item.effect.attempts, d.random()),
    error.retryAfterSeconds ?? 0,
  );
  return { status: EffectStatus.retrying, error: error.message, nextAt: iso(d.io.now + delaySeconds * 1000) };
}

/** A threshold a count crossed: the limit, the key and period counted, and how many were used. */
export type LimitAlert = {
  l: { limit: CompiledLimit; key: string; periodStart: string; periodEndMs: number };
  level: 'warn' | 'exceeded';
  used: number;
};
type Alert = LimitAlert;

/**
 * Sends each limit's notify action for thresholds crossed for the first time this period. The notification's data
 * has `percent`: the share of the limit used, in whole percent (80 at the default warning).
 */
export async function fireAlerts(
  alerts: LimitAlert[],
  d: Pick<DeliveryContext, 'db' | 'emit' | 'io'>,
  at: string,
): Promise<void> {
  if (!alerts.length) return;
  const list = [
    ...new Map(alerts.map((a) => [`${a.l.limit.name}|${a.l.key}|${a.l.periodStart}|${a.level}`, a])).values(),
  ];
  const firsts = await d.db.batch<{ level: string }>(
    list.map((a) => alertOnceStatement(d.db, a.l.limit.name, a.l.key, a.l.periodStart, a.level, at)),
  );
  await Promise.all(
    list.map(async ({ l, level, used }, i) => {
      if (!firsts[i]!.results.length) return;
      const percent = Math.floor((used / l.limit.limit) * 100);
      const info = {
        limit: l.limit.name,
        key: l.key,
        level,
        used,
        max: l.limit.limit,
        percent,
        period: l.limit.period,
        period_start: l.periodStart,
        period_end: iso(l.periodEndMs),
      };
      d.emit({
        kind: level === 'warn' ? 'limit.warned' : 'limit.exceeded',
        limit: l.limit.name,
        key: l.key,
        used,
        max: l.limit.limit,
        percent,
        period_start: l.periodStart,
      });
      const notify = l.limit.notify;
      if (!notify) return;
      try {
        await sendNotification(
          notify,
          `limit:${l.limit.name}:${l.key}:${l.periodStart}:${level}`,
          `limit.${level}`,
          info,
          d.io,
        );
      } catch (error) {
        // Not sent: forget the alert so the next crossing tries again.
        d.emit({ kind: 'runtime.error', where: `limits.${l.limit.name}.notify`, error: String(error) });
        await d.db
          .prepare('DELETE FROM limit_alerts WHERE metric = ?1 AND key = ?2 AND period_start = ?3 AND level = ?4')
          .bind(l.limit.name, l.key, l.periodStart, level)
          .run()
          .catch(() => undefined);
      }
    }),
  );
}

/**
 * Sends one notification through an action (a limit warning, an alert): the action sees `info` as the event
 * payload. Throws when the send fails, so the caller can forget the alert and try again next time.
 */
export async function sendNotification(
  action: CompiledAction,
  id: string,
  type: string,
  info: Record<string, unknown>,
  io: ActionIO,
): Promise<void> {
  const at = iso(io.now);
  const envelope = { integration: 'switchyard', id, type, occurred_at: at, received_at: at, payload: info };
  const payload = action.prepare(stepContext(envelope, io.env));
  const [outcome] = await action.send([{ key: id, payload }], io);
  if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
}
