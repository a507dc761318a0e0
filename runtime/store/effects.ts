/**
 * Effects: the outbound actions an applied event asked for. Each is written in the same transaction as the
 * event's state, already leased to the consumer that committed it, and settled after the send: sent, retrying,
 * deferred, dropped or dead-lettered. A lease (`status = 'sending'` until `next_at`) is what keeps a second copy
 * of the event, or a concurrent consumer, from sending it again. Every statement on `effects` is here.
 */
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from '../lib/chunk.ts';
import { keyOf, type EventKey } from './events.ts';
import { EffectStatus, OPEN_EFFECT_STATUSES, sqlList } from './status.ts';

/** An effect as the consumer records it with the state. */
export interface NewEffect {
  integration: string;
  id: string;
  /** `<step>:<item>` within the event's steps. */
  step: string;
  action: string;
  /** The action step's place in the manifest (see CompiledManifest.effects). */
  source: string;
  payload: string;
  /** [[limit, key], ...] as JSON, or null; a batch's effect counts `n` uses at once: [[limit, key, n], ...]. */
  limits: string | null;
  /**
   * Why its payload could not be built when the event applied (a value the event lacks): it is recorded with
   * UNBUILT_PAYLOAD and dead-lettered alone, and built again from the stored event when it is replayed.
   */
  unbuilt?: { reason: string; error: string };
  /** The key its sends are ordered by, within its step (`<source>\u001f<value>`), when its action orders them. */
  order_key?: string | null;
}

/** The payload of an effect that could not be built (not JSON, so no payload can be mistaken for it). */
export const UNBUILT_PAYLOAD = '';

/** An effect a consumer holds the lease on and may send. */
export interface ClaimedEffect extends NewEffect {
  /** Attempts including this one. */
  attempts: number;
  /** Its payload (and limits) were built by this consumer: the settlement records them. */
  built?: boolean;
  /** The shared-key batch call it went out in, as recorded before that call (BatchRecord as JSON), if any. */
  batch?: string | null;
}

/** A batch call whose members share one idempotency key: the key, and its members in call order. */
export interface BatchRecord {
  key: string;
  /** [integration, event_id, step] of each member, in the order the call carried them. */
  members: [string, string, string][];
}

/** The key the provider deduplicates on (Idempotency-Key, $insert_id, uuid): stable across retries. */
export const idempotencyKey = (e: { integration: string; id: string; step: string }) =>
  `${e.integration}:${e.id}:${e.step}`;

/** One item of a batch's effect: a tracked event's payload, under the key its own effect would have had. */
export interface BatchedItem {
  key: string;
  payload: unknown;
}

/**
 * The payload of a batch's effect (one per action step of a batch event): every item's payload under its own key,
 * so the provider dedups each one when the effect is retried. `$items` is no action's payload shape.
 */
export const batchedPayload = (items: readonly BatchedItem[]): string => JSON.stringify({ $items: items });

/** A batch effect's items, or undefined for an effect of one event. */
export function batchedItems(payload: unknown): BatchedItem[] | undefined {
  const items =
    payload && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as { $items?: unknown }).$items
      : undefined;
  return Array.isArray(items) ? (items as BatchedItem[]) : undefined;
}

const PER_ROW = 8;

/** Records effects with the state, leased to this consumer (attempt 1 starts now). */
export function insertEffects(
  db: D1Database,
  effects: readonly NewEffect[],
  lease: string,
  leaseUntil: string,
  at: string,
): D1PreparedStatement[] {
  return chunk([...effects], Math.floor((MAX_PARAMS - 3) / PER_ROW)).map((part) => {
    const values = part
      .map(
        (_, i) =>
          `(${Array.from({ length: PER_ROW }, (_, j) => `?${4 + i * PER_ROW + j}`).join(', ')}, '${EffectStatus.sending}', 1, ?2, ?1, ?3, ?3)`,
      )
      .join(', ');
    return db
      .prepare(
        `INSERT INTO effects (integration, event_id, step, action, source, payload, limits, order_key, status, attempts, next_at, lease, created_at, updated_at) VALUES ${values}`,
      )
      .bind(
        lease,
        leaseUntil,
        at,
        ...part.flatMap((e) => [
          e.integration,
          e.id,
          e.step,
          e.action,
          e.source,
          e.payload,
          e.limits,
          e.order_key ?? null,
        ]),
      );
  });
}

const tuples = (n: number) => Array.from({ length: n }, () => '(?, ?)').join(', ');

/**
 * Takes the lease on every effect of these events that is due: not yet sent, its retry or deferral time reached,
 * or its previous lease expired (the consumer that held it stopped). Returns what this consumer may now send.
 */
export async function claimDue(
  db: D1Database,
  keys: readonly EventKey[],
  lease: string,
  leaseUntil: string,
  at: string,
): Promise<ClaimedEffect[]> {
  if (!keys.length) return [];
  const results = await db.batch<{
    integration: string;
    event_id: string;
    step: string;
    action: string;
    source: string;
    payload: string;
    limits: string | null;
    attempts: number;
    batch: string | null;
  }>(
    chunk([...keys], Math.floor((MAX_PARAMS - 3) / 2)).map((part) =>
      db
        .prepare(
          `UPDATE effects SET status = '${EffectStatus.sending}', lease = ?1, next_at = ?2, attempts = attempts + 1, updated_at = ?3
           WHERE (integration, event_id) IN (VALUES ${tuples(part.length)}) AND status IN (${sqlList(OPEN_EFFECT_STATUSES)}) AND next_at <= ?3
           RETURNING integration, event_id, step, action, source, payload, limits, attempts, batch`,
        )
        .bind(lease, leaseUntil, at, ...part.flat()),
    ),
  );
  return results.flatMap((r) => r.results.map(({ event_id, ...e }) => ({ ...e, id: event_id })));
}

/** For each of these events with effects still open, the earliest time one needs attention. */
export async function nextDue(db: D1Database, keys: readonly EventKey[]): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const results = await db.batch<{ integration: string; event_id: string; next_at: string }>(
    chunk([...keys], MAX_PARAMS / 2).map((part) =>
      db
        .prepare(
          `SELECT integration, event_id, min(next_at) AS next_at FROM effects WHERE (integration, event_id) IN (VALUES ${tuples(part.length)}) AND status IN (${sqlList(OPEN_EFFECT_STATUSES)}) GROUP BY integration, event_id`,
        )
        .bind(...part.flat()),
    ),
  );
  return new Map(
    results.flatMap((r) => r.results.map((row) => [keyOf([row.integration, row.event_id]), row.next_at] as const)),
  );
}

const SETTLE = `UPDATE effects SET status = ?5, next_at = ?6, result = coalesce(?7, result), error = ?8, attempts = attempts + ?9, lease = NULL, updated_at = ?10,
  payload = coalesce(?11, payload), limits = CASE WHEN ?11 IS NULL THEN limits ELSE ?12 END, duration_ms = ?13
WHERE integration = ?1 AND event_id = ?2 AND step = ?3 AND lease = ?4`;

/** How one claimed effect ended this time. */
export type Settlement =
  /** `note`: what was odd about the provider's answer (kept as the effect's error; the send still counts). */
  | { status: typeof EffectStatus.sent; result: unknown; note?: string }
  | { status: typeof EffectStatus.retrying; error: string; nextAt: string }
  | { status: typeof EffectStatus.deferred; nextAt: string; error: string }
  | { status: typeof EffectStatus.dropped; error: string }
  | { status: typeof EffectStatus.dead_lettered; error: string };

/**
 * Settles a claimed effect, only while this consumer still holds its lease (with the payload it built, if it did).
 * `durationMs`: how long this attempt's provider call took, when one was made.
 */
export function settleStatement(
  db: D1Database,
  e: { integration: string; id: string; step: string; payload?: string; limits?: string | null; built?: boolean },
  lease: string,
  s: Settlement,
  at: string,
  durationMs?: number,
): D1PreparedStatement {
  const nextAt = 'nextAt' in s ? s.nextAt : null;
  const result = s.status === EffectStatus.sent ? JSON.stringify(s.result ?? null) : null;
  const error = 'error' in s ? s.error : s.status === EffectStatus.sent ? (s.note ?? null) : null;
  // A deferral waits for the period to reset: it gives back the attempt its claim counted.
  const attempts = s.status === EffectStatus.deferred ? -1 : 0;
  const built = e.built && e.payload !== undefined ? [e.payload, e.limits ?? null] : [null, null];
  return db
    .prepare(SETTLE)
    .bind(
      e.integration,
      e.id,
      e.step,
      lease,
      s.status,
      nextAt,
      result,
      error,
      attempts,
      at,
      ...built,
      durationMs ?? null,
    );
}

/** The members of a recorded batch (its JSON bound as ?1), found by primary key. */
const MEMBERS = `(integration, event_id, step) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?1, '$.members'))`;

/**
 * Records a shared-key batch on its members before the call, only while this consumer holds their leases (one row
 * written per member). Resolves to how many members it was recorded on.
 */
export async function recordBatch(db: D1Database, batch: string, lease: string): Promise<number> {
  const res = await db
    .prepare(`UPDATE effects SET batch = ?1 WHERE ${MEMBERS} AND lease = ?2 AND status = '${EffectStatus.sending}'`)
    .bind(batch, lease)
    .run();
  return res.meta.changes;
}

/** Forgets a batch the provider refused outright (nothing was performed): its members then go alone. */
export async function forgetBatch(db: D1Database, batch: string): Promise<void> {
  await db.prepare(`UPDATE effects SET batch = NULL WHERE ${MEMBERS} AND batch = ?1`).bind(batch).run();
}

/** The stored payloads of a recorded batch's members, by their idempotency key (to re-send the batch whole). */
export async function batchPayloads(db: D1Database, batch: string): Promise<Map<string, string>> {
  const rows = await db
    .prepare(`SELECT integration, event_id, step, payload FROM effects WHERE ${MEMBERS}`)
    .bind(batch)
    .all<{ integration: string; event_id: string; step: string; payload: string }>();
  return new Map(
    rows.results.map((r) => [idempotencyKey({ integration: r.integration, id: r.event_id, step: r.step }), r.payload]),
  );
}

/**
 * Settles as sent a member of a re-sent batch that this consumer does not hold: it went out in that call. Only while
 * it still carries that batch and is open and not leased by a live consumer (a lease that has lapsed is no one's).
 */
export function batchMemberSentStatement(
  db: D1Database,
  e: { integration: string; id: string; step: string },
  batch: string,
  result: unknown,
  note: string | undefined,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE effects SET status = '${EffectStatus.sent}', result = ?5, error = ?6, lease = NULL, next_at = NULL, updated_at = ?7
       WHERE integration = ?1 AND event_id = ?2 AND step = ?3 AND batch = ?4
         AND (status IN (${sqlList(OPEN_EFFECT_STATUSES.filter((s) => s !== EffectStatus.sending))}) OR (status = '${EffectStatus.sending}' AND next_at <= ?7))`,
    )
    .bind(e.integration, e.id, e.step, batch, JSON.stringify(result ?? null), note ?? null, at);
}

/** An open effect an ordered one waits behind: the earliest with the same key recorded before it. */
export interface Blocker {
  integration: string;
  event_id: string;
  step: string;
  status: string;
  next_at: string | null;
}

/**
 * For each ordered effect, the earliest open effect with its order key recorded before it (by created_at, then
 * event id and step), or undefined when none is: read through `effects_ordered` (the effect's own row, then at most
 * one index entry).
 */
export async function blockers(
  db: D1Database,
  effects: readonly { integration: string; id: string; step: string }[],
): Promise<(Blocker | undefined)[]> {
  if (!effects.length) return [];
  const results = await db.batch<Blocker>(
    effects.map((e) =>
      db
        .prepare(
          `SELECT b.integration, b.event_id, b.step, b.status, b.next_at FROM effects AS me JOIN effects AS b INDEXED BY effects_ordered
             ON b.order_key = me.order_key AND b.order_key IS NOT NULL AND b.status IN (${sqlList(OPEN_EFFECT_STATUSES)}) AND (b.created_at, b.event_id, b.step) < (me.created_at, me.event_id, me.step)
           WHERE me.integration = ?1 AND me.event_id = ?2 AND me.step = ?3 ORDER BY b.created_at, b.event_id, b.step LIMIT 1`,
        )
        .bind(e.integration, e.id, e.step),
    ),
  );
  return results.map((r) => r.results[0]);
}

/** Every effect of one event, for its detail in the event log. */
export async function effectsOf(
  db: D1Database,
  integration: string,
  id: string,
): Promise<(Record<string, unknown> & { source: string })[]> {
  const rows = await db
    .prepare(
      'SELECT step, action, source, status, attempts, next_at, result, error, duration_ms, created_at, updated_at FROM effects WHERE integration = ?1 AND event_id = ?2 ORDER BY step',
    )
    .bind(integration, id)
    .all<Record<string, unknown> & { source: string; result: string | null }>();
  return rows.results.map((r) => ({ ...r, result: r.result === null ? null : JSON.parse(r.result) }));
}

/**
 * A dead-lettered effect made due again (replay): a fresh set of attempts. Its sends so far may have been performed
 * (an answer lost), so it keeps the key it went under: its recorded batch, or else a batch of itself under its own
 * key (a shared-key action then sends it alone, never inside a new batch under a new key).
 */
export function reopenStatement(
  db: D1Database,
  e: { integration: string; id: string; step: string },
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE effects SET status = '${EffectStatus.pending}', attempts = 0, next_at = ?4, error = NULL, lease = NULL, updated_at = ?4,
         batch = coalesce(batch, json_object('key', integration || ':' || event_id || ':' || step, 'members', json_array(json_array(integration, event_id, step))))
       WHERE integration = ?1 AND event_id = ?2 AND step = ?3 AND status = '${EffectStatus.dead_lettered}'`,
    )
    .bind(e.integration, e.id, e.step, at);
}

/**
 * Events with effects overdue by `cutoff` (their retry message was lost, say), most overdue first, read through
 * `effects_open`: at most `limit` open rows, deduplicated after. A DISTINCT over the table itself makes SQLite scan
 * every effect ever recorded instead (measured: 500,000 rows read per sweep at a million events).
 */
export async function overdueEvents(
  db: D1Database,
  cutoff: string,
  limit: number,
): Promise<{ integration: string; event_id: string }[]> {
  const rows = await db
    .prepare(
      `SELECT DISTINCT integration, event_id FROM (SELECT integration, event_id FROM effects WHERE status IN (${sqlList(OPEN_EFFECT_STATUSES)}) AND next_at < ?1 ORDER BY next_at LIMIT ?2)`,
    )
    .bind(cutoff, limit)
    .all<{ integration: string; event_id: string }>();
  return rows.results;
}

/** Every effect with its rendered payload, in the order they were recorded (`switchyard test` compares them; a batch's per item). */
export async function effectsWithPayloads(db: D1Database): Promise<
  {
    integration: string;
    event_id: string;
    step: string;
    action: string;
    status: string;
    attempts: number;
    payload: unknown;
  }[]
> {
  const rows = await db
    .prepare(
      'SELECT integration, event_id, step, action, status, attempts, payload FROM effects ORDER BY created_at, integration, event_id, step',
    )
    .all<{
      integration: string;
      event_id: string;
      step: string;
      action: string;
      status: string;
      attempts: number;
      payload: string;
    }>();
  return rows.results.flatMap((r) => {
    const payload: unknown = r.payload === UNBUILT_PAYLOAD ? null : JSON.parse(r.payload);
    const items = batchedItems(payload);
    if (!items) return [{ ...r, payload }];
    // A batch's effect is listed per item, as each item's own effect would have been (its id and step from its key).
    return items.map((item) => {
      const [id, ...step] = item.key.slice(r.integration.length + 1).split(':');
      return { ...r, event_id: id!, step: step.join(':'), payload: item.payload };
    });
  });
}
