/**
 * The queue consumer: turns envelopes into state. For a batch it runs each message's steps, then commits every
 * message's statements, its applied-marker and its outbox rows in ONE D1 transaction. If that transaction fails,
 * each message is committed alone to find the culprit; the others are applied once and acked, the culprit is
 * retried by its policy or dead-lettered. A redelivered message finds its applied-marker and is only acked.
 */
import { PermanentError, stepContext, type OutboxMessage, type PendingAction, type Statement } from './adapter.ts';
import { chunk, D1_MAX_BOUND_PARAMETERS as MAX_PARAMS } from './sql.ts';
import { sendActions, type OutboundOwner } from './outbound.ts';
import { rowsWritten, type PlatformUsage } from './platform.ts';
import type { Envelope, RuntimeEnv } from './envelope.ts';
import { parsePayload } from './ingest.ts';
import type { CompiledManifest, EventSource } from './manifest/compile.ts';
import { MAX_QUEUE_DELAY_SECONDS, retryDelaySeconds } from './retry.ts';
import type { Emit } from './telemetry.ts';
import { MappingError } from './values.ts';

/** The parts of a Queues message the consumer uses (so tests and benchmarks can hand it plain objects). */
export interface ConsumerMessage {
  id: string;
  body: unknown;
  attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface ConsumerOptions {
  compiled: CompiledManifest;
  emit: Emit;
  now?: () => number;
  random?: () => number;
  /** The fetch actions use (tests point it at a fake provider). */
  fetch?: typeof fetch;
  usage?: PlatformUsage;
}

/** Queues' sendBatch takes at most 100 messages. */
const MAX_SEND_BATCH = 100;

interface Planned {
  message: ConsumerMessage;
  envelope: Envelope;
  integration: EventSource;
  statements: Statement[];
  outbox: (OutboxMessage & { key: string })[];
  actions: { pending: PendingAction; key: string }[];
  /** Per step, what it contributed: kept with the applied-marker for the event log. */
  steps: { kind: string; statements: number; outbox: number; actions: number }[];
}

type Failure = { kind: 'permanent' | 'transient' | 'duplicate'; reason: string; error: string; retryAfterSeconds?: number };

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Sorts an error into what to do with it. Bad data and schema/constraint failures cannot be fixed by waiting;
 * anything else (D1 busy or unreachable, an outbound 5xx) is worth retrying.
 */
export function classify(error: unknown): Failure {
  const text = errorText(error);
  if (/UNIQUE constraint failed: applied_messages/.test(text)) return { kind: 'duplicate', reason: 'already_applied', error: text };
  if (error instanceof MappingError) return { kind: 'permanent', reason: 'mapping', error: text };
  if (error instanceof PermanentError) return { kind: 'permanent', reason: 'permanent', error: text };
  if (/constraint failed|SQLITE_CONSTRAINT|SQLITE_MISMATCH|datatype mismatch|no such (table|column)|syntax error|has no column named/i.test(text)) {
    return { kind: 'permanent', reason: 'sql', error: text };
  }
  return { kind: 'transient', reason: 'transient', error: text };
}

function isEnvelope(value: unknown): value is Envelope {
  const v = value as Envelope;
  return typeof v === 'object' && v !== null && typeof v.integration === 'string' && typeof v.id === 'string' && typeof v.type === 'string';
}


const tuples = (n: number, width: number) => Array.from({ length: n }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');

/** `(integration, event_id) IN (VALUES (?, ?), …)`, chunked within D1's parameter limit, in one round trip. */
async function selectByEvent<T>(db: D1Database, sql: (values: string) => string, keys: [string, string][]): Promise<T[]> {
  if (!keys.length) return [];
  const parts = chunk(keys, MAX_PARAMS / 2);
  const results = await db.batch<T>(parts.map((part) => db.prepare(sql(`(VALUES ${tuples(part.length, 2)})`)).bind(...part.flat())));
  return results.flatMap((r) => r.results);
}

const STATUS_SQL = "UPDATE events SET status = ?3, attempts = ?4, updated_at = ?5, claim = NULL WHERE integration = ?1 AND id = ?2";

/**
 * The bookkeeping of a commit in few statements: applied-markers as multi-row inserts (no ON CONFLICT: a marker
 * that exists fails the transaction, which is how a concurrent duplicate is caught) and status updates grouped by
 * attempt count, each within D1's parameter limit.
 */
function commitBookkeeping(db: D1Database, planned: Planned[], at: string): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (const part of chunk(planned, Math.floor((MAX_PARAMS - 1) / 3))) {
    const values = part.map((_, i) => `(?${i * 3 + 2}, ?${i * 3 + 3}, ?1, ?${i * 3 + 4})`).join(', ');
    statements.push(
      db.prepare(`INSERT INTO applied_messages (integration, event_id, applied_at, steps) VALUES ${values}`).bind(at, ...part.flatMap((p) => [p.envelope.integration, p.envelope.id, JSON.stringify(p.steps)])),
    );
  }
  const byAttempts = new Map<number, Planned[]>();
  for (const p of planned) byAttempts.set(p.message.attempts, [...(byAttempts.get(p.message.attempts) ?? []), p]);
  for (const [attempts, group] of byAttempts) {
    for (const part of chunk(group, Math.floor((MAX_PARAMS - 2) / 2))) {
      statements.push(
        db
          .prepare(`UPDATE events SET status = 'applied', attempts = ?1, updated_at = ?2, claim = NULL WHERE (integration, id) IN (VALUES ${tuples(part.length, 2)})`)
          .bind(attempts, at, ...part.flatMap((p) => [p.envelope.integration, p.envelope.id])),
      );
    }
  }
  return statements;
}
const OUTBOX_SQL = 'INSERT INTO outbox (key, integration, event_id, queue, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)';
const DEAD_LETTER_SQL = `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, raw_body, attempts, first_failed_at, last_failed_at)
VALUES (?1, 'consumer', ?2, ?3, ?4, ?5, (SELECT body FROM events WHERE integration = ?1 AND id = ?2), ?6, ?7, ?7)
ON CONFLICT (integration, stage, event_id) DO UPDATE SET
  reason = excluded.reason, error = excluded.error, envelope = excluded.envelope, attempts = excluded.attempts,
  last_failed_at = excluded.last_failed_at, replayed_at = NULL`;

/** The statements that record one dead letter (kept whole, with the raw body from the event log). */
export function deadLetterStatements(
  db: D1Database,
  d: { integration: string; id: string; reason: string; error: string; envelope: unknown; attempts: number },
  at: string,
): D1PreparedStatement[] {
  return [
    db.prepare(DEAD_LETTER_SQL).bind(d.integration, d.id, d.reason, d.error, JSON.stringify(d.envelope), d.attempts, at),
    db.prepare(STATUS_SQL).bind(d.integration, d.id, 'dead_lettered', d.attempts, at),
  ];
}

export function createConsumer(options: ConsumerOptions) {
  const { compiled, emit } = options;
  const nowMs = () => (options.now ? options.now() : Date.now());
  const now = () => new Date(nowMs()).toISOString();
  const random = options.random ?? Math.random;

  return async function consume(messages: readonly ConsumerMessage[], env: RuntimeEnv): Promise<void> {
    const db = env.DB;
    const at = now();
    const deadLetters: { message: ConsumerMessage; envelope: Envelope | undefined; integration: string; id: string; failure: Failure }[] = [];
    const retries: { message: ConsumerMessage; envelope: Envelope; integration: EventSource; failure: Failure }[] = [];

    const fail = (message: ConsumerMessage, envelope: Envelope, integration: EventSource | undefined, failure: Failure) => {
      if (failure.kind === 'duplicate') {
        message.ack();
        return;
      }
      if (failure.kind === 'permanent' || !integration || message.attempts >= integration.retry.maxAttempts) {
        deadLetters.push({ message, envelope, integration: envelope.integration, id: envelope.id, failure });
      } else retries.push({ message, envelope, integration, failure });
    };

    // 1. Envelopes and their integrations; payloads too large for the message are read from the event log.
    const candidates: { message: ConsumerMessage; envelope: Envelope; integration: EventSource }[] = [];
    for (const message of messages) {
      if (!isEnvelope(message.body)) {
        deadLetters.push({ message, envelope: undefined, integration: 'unknown', id: message.id, failure: { kind: 'permanent', reason: 'malformed_message', error: 'not a switchyard envelope' } });
        continue;
      }
      const envelope = message.body;
      const integration = compiled.sources.get(envelope.integration);
      if (!integration) {
        fail(message, envelope, undefined, { kind: 'permanent', reason: 'unknown_integration', error: `integration ${envelope.integration} is not in this manifest` });
        continue;
      }
      candidates.push({ message, envelope, integration });
    }
    const referenced = candidates.filter((c) => c.envelope.payload_ref);
    if (referenced.length) {
      const rows = await selectByEvent<{ integration: string; id: string; body: string }>(
        db,
        (tuples) => `SELECT integration, id, body FROM events WHERE (integration, id) IN ${tuples}`,
        referenced.map((c) => [c.envelope.integration, c.envelope.id]),
      );
      const bodies = new Map(rows.map((r) => [`${r.integration}\u0000${r.id}`, r.body]));
      for (const c of referenced) {
        const body = bodies.get(`${c.envelope.integration}\u0000${c.envelope.id}`);
        c.envelope = { ...c.envelope, payload: body === undefined ? undefined : parsePayload(c.integration.format, body) };
      }
    }

    // 2. Messages already applied (a redelivery, or a retry after the outbox failed) are only acked, after any
    //    outbox rows they left are sent.
    const applied = new Set(
      (
        await selectByEvent<{ integration: string; event_id: string }>(
          db,
          (tuples) => `SELECT integration, event_id FROM applied_messages WHERE (integration, event_id) IN ${tuples}`,
          candidates.map((c) => [c.envelope.integration, c.envelope.id]),
        )
      ).map((r) => `${r.integration}\u0000${r.event_id}`),
    );
    const fresh = candidates.filter((c) => !applied.has(`${c.envelope.integration}\u0000${c.envelope.id}`));
    const redelivered = candidates.filter((c) => applied.has(`${c.envelope.integration}\u0000${c.envelope.id}`));
    if (redelivered.length) {
      const pending = await selectByEvent<{ key: string; integration: string; event_id: string; queue: string; body: string }>(
        db,
        (tuples) => `SELECT key, integration, event_id, queue, body FROM outbox WHERE (integration, event_id) IN ${tuples}`,
        redelivered.map((c) => [c.envelope.integration, c.envelope.id]),
      );
      const sent = await flushOutbox(db, env, compiled, pending.map((p) => ({ key: p.key, queue: p.queue, body: JSON.parse(p.body), owner: `${p.integration}\u0000${p.event_id}` })));
      for (const c of redelivered) {
        const key = `${c.envelope.integration}\u0000${c.envelope.id}`;
        if (sent.failed.has(key)) retries.push({ ...c, failure: { kind: 'transient', reason: 'outbox', error: sent.error ?? 'send failed' } });
        else {
          emit({ kind: 'event.duplicate', integration: c.envelope.integration, id: c.envelope.id });
          c.message.ack();
        }
      }
    }

    // 3. Run each message's steps. Mapping errors surface here, before anything is written.
    let planned: Planned[] = [];
    for (const c of fresh) {
      try {
        const statements: Statement[] = [];
        const outbox: Planned['outbox'] = [];
        const actions: Planned['actions'] = [];
        const outcomes: Planned['steps'] = [];
        const steps = c.integration.stepsFor(c.envelope.type);
        for (let i = 0; i < steps.length; i++) {
          const output = await steps[i]!.run(stepContext(c.envelope, env));
          outcomes.push({ kind: steps[i]!.kind, statements: output.statements?.length ?? 0, outbox: output.outbox?.length ?? 0, actions: output.actions?.length ?? 0 });
          statements.push(...(output.statements ?? []));
          for (const [j, m] of (output.outbox ?? []).entries()) outbox.push({ ...m, key: `${c.envelope.integration}:${c.envelope.id}:${i}:${j}` });
          for (const [j, pending] of (output.actions ?? []).entries()) actions.push({ pending, key: `${c.envelope.integration}:${c.envelope.id}:${i}:${j}` });
        }
        planned.push({ ...c, statements, outbox, actions, steps: outcomes });
      } catch (error) {
        fail(c.message, c.envelope, c.integration, classify(error));
      }
    }

    // 3b. Outbound actions, before the commit: a failed send leaves nothing applied, so the retry redoes it (the
    //     send ledger keeps what did go out from going out twice). Their log statements join the commit.
    const deferred: { c: Planned; until: number }[] = [];
    if (planned.some((p) => p.actions.length)) {
      const owners = new Map<Planned, OutboundOwner>(planned.map((p) => [p, { integration: p.envelope.integration, id: p.envelope.id, actions: p.actions, statements: p.statements }]));
      const io = { env, fetch: options.fetch ?? fetch.bind(globalThis), now: nowMs(), ...(env.KV ? { kv: env.KV as KVNamespace } : {}), ...(options.usage ? { count: options.usage.count.bind(options.usage) } : {}) };
      await sendActions([...owners.values()], db, io, emit);
      for (const [p, owner] of owners) {
        if (owner.error) fail(p.message, p.envelope, p.integration, { kind: owner.error.transient ? 'transient' : 'permanent', reason: 'action', error: owner.error.message, ...(owner.error.retryAfterSeconds !== undefined ? { retryAfterSeconds: owner.error.retryAfterSeconds } : {}) });
        else if (owner.deferUntil !== undefined) deferred.push({ c: p, until: owner.deferUntil });
      }
      planned = planned.filter((p) => !owners.get(p)!.error && owners.get(p)!.deferUntil === undefined);
    }

    // 4. Commit: everything in one transaction, or, if that fails, message by message.
    const statementsOf = (group: Planned[]): D1PreparedStatement[] => [
      ...commitBookkeeping(db, group, at),
      ...group.flatMap((p) => [
        ...p.statements.map((s) => db.prepare(s.sql).bind(...s.params)),
        ...p.outbox.map((o) => db.prepare(OUTBOX_SQL).bind(o.key, p.envelope.integration, p.envelope.id, o.queue, JSON.stringify(o.body), at)),
      ]),
    ];
    let committed: Planned[] = [];
    if (planned.length) {
      try {
        const results = await db.batch(statementsOf(planned));
        options.usage?.count('d1_rows_written', rowsWritten(results));
        committed = planned;
      } catch (error) {
        if (planned.length === 1) fail(planned[0]!.message, planned[0]!.envelope, planned[0]!.integration, classify(error));
        else {
          emit({ kind: 'consumer.batch_fallback', messages: planned.length, error: errorText(error) });
          for (const p of planned) {
            try {
              const results = await db.batch(statementsOf([p]));
              options.usage?.count('d1_rows_written', rowsWritten(results));
              committed.push(p);
            } catch (single) {
              fail(p.message, p.envelope, p.integration, classify(single));
            }
          }
        }
      }
    }

    // 5. After commit: send the outbox, then ack. A message whose outbox could not be sent is retried; it is
    //    applied already, so the retry only sends the outbox.
    if (committed.length) {
      const sent = await flushOutbox(db, env, compiled, committed.flatMap((p) => p.outbox.map((o) => ({ ...o, owner: `${p.envelope.integration}\u0000${p.envelope.id}` }))));
      for (const p of committed) {
        emit({ kind: 'event.applied', integration: p.envelope.integration, id: p.envelope.id, type: p.envelope.type, statements: p.statements.length, outbox: p.outbox.length, attempts: p.message.attempts });
        if (sent.failed.has(`${p.envelope.integration}\u0000${p.envelope.id}`)) {
          retries.push({ ...p, failure: { kind: 'transient', reason: 'outbox', error: sent.error ?? 'send failed' } });
        } else p.message.ack();
      }
    }

    // 6. Failures: dead letters (kept whole, with the raw body from the event log) and retries by policy.
    const bookkeeping: D1PreparedStatement[] = [];
    for (const d of deadLetters) {
      bookkeeping.push(
        ...deadLetterStatements(db, { integration: d.integration, id: d.id, reason: d.failure.reason, error: d.failure.error, envelope: d.envelope ?? d.message.body, attempts: d.message.attempts }, at),
      );
    }
    for (const r of retries) bookkeeping.push(db.prepare(STATUS_SQL).bind(r.envelope.integration, r.envelope.id, 'failed', r.message.attempts, at));
    let recorded = true;
    if (bookkeeping.length) {
      try {
        await db.batch(bookkeeping);
      } catch (error) {
        recorded = false;
        emit({ kind: 'runtime.error', where: 'consumer.bookkeeping', error: errorText(error) });
      }
    }
    for (const d of deadLetters) {
      if (recorded) {
        emit({ kind: 'webhook.dead_lettered', integration: d.integration, id: d.id, stage: 'consumer', reason: `${d.failure.reason}: ${d.failure.error}` });
        d.message.ack();
      } else {
        // The dead letter could not be written: keep the message. If this persists, Queues moves it to the
        // dead-letter queue, whose consumer records it.
        d.message.retry({ delaySeconds: 60 });
      }
    }
    // A message over a `defer` limit goes back on its queue, delayed until the period resets (in steps of at most
    // 12 hours, Queues' cap); re-sending rather than retrying keeps it from using up its attempts.
    for (const { c, until } of deferred) {
      const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.ceil((until - nowMs()) / 1000)));
      const queue = env[c.integration.queue.binding] as Queue | undefined;
      try {
        if (!queue) throw new Error(`queue binding ${c.integration.queue.binding} is not bound`);
        await queue.send(c.envelope, { contentType: 'json', delaySeconds });
        c.message.ack();
      } catch {
        c.message.retry({ delaySeconds });
      }
      emit({ kind: 'limit.deferred', integration: c.envelope.integration, id: c.envelope.id, delay_seconds: delaySeconds, until: new Date(until).toISOString() });
    }
    for (const r of retries) {
      const policyDelay = retryDelaySeconds(r.integration.retry, r.message.attempts, random());
      const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(policyDelay, r.failure.retryAfterSeconds ?? 0));
      emit({ kind: 'event.retry', integration: r.envelope.integration, id: r.envelope.id, attempt: r.message.attempts, delay_seconds: delaySeconds, error: r.failure.error });
      r.message.retry({ delaySeconds });
    }
  };
}

/**
 * Sends outbox messages per queue with sendBatch, then deletes their rows. Returns the owners (message keys)
 * whose messages could not all be sent.
 */
async function flushOutbox(
  db: D1Database,
  env: RuntimeEnv,
  compiled: CompiledManifest,
  items: { key: string; queue: string; body: unknown; owner: string }[],
): Promise<{ failed: Set<string>; error?: string }> {
  const failed = new Set<string>();
  let lastError: string | undefined;
  const sentKeys: string[] = [];
  const byQueue = new Map<string, typeof items>();
  for (const item of items) byQueue.set(item.queue, [...(byQueue.get(item.queue) ?? []), item]);
  for (const [name, list] of byQueue) {
    const binding = compiled.queues.get(name)?.binding;
    const queue = binding ? (env[binding] as Queue | undefined) : undefined;
    for (const part of chunk(list, MAX_SEND_BATCH)) {
      try {
        if (!queue) throw new Error(`queue ${name} has no binding in this environment`);
        await queue.sendBatch(part.map((item) => ({ body: item.body, contentType: 'json' as const })));
        sentKeys.push(...part.map((item) => item.key));
      } catch (error) {
        lastError = errorText(error);
        for (const item of part) failed.add(item.owner);
      }
    }
  }
  for (const part of chunk(sentKeys, MAX_PARAMS)) {
    // A row left behind here was sent already; only a later retry of its message would send it again.
    await db.prepare(`DELETE FROM outbox WHERE key IN (${part.map(() => '?').join(', ')})`).bind(...part).run().catch(() => undefined);
  }
  return lastError === undefined ? { failed } : { failed, error: lastError };
}
