/**
 * The queue consumer: state first, effects after. A batch goes through named phases:
 *
 *   load          envelopes (payloads too large for a message read from the event log); poison dead-lettered alone
 *   plan          each message's steps: SQL statements, outbox messages, effects (outbound actions), isolated
 *   project       SQL bound for an external store (Postgres) commits there first, with that store's own
 *                 applied-marker in the same transaction (see projections.ts); a marker found there already
 *                 means applied before, and only the event log's record below is left to write
 *   commit        every message's state, applied-marker, outbox rows and effects in ONE D1 transaction; if that
 *                 fails, message by message, so only the culprit is retried. An event applied already (a
 *                 redelivery, a copy another consumer applied) fails its marker there: it is not looked up first,
 *                 it only delivers what it left undelivered
 *   deliver       the outbox is sent; effects are sent under their lease and settled, each with its own retries;
 *                 effects still waiting get a delayed effects message
 *   settle        acks, retries by policy, dead letters, and each event's status
 *
 * An outbound failure never holds state back: a user row commits whatever Resend answers.
 *
 * The request path (`applyInRequest`) runs the same plan, commits the event already applied with its effects (leased
 * to the request) and outbox rows, and runs the same deliver phase after the answer; it has no message to settle.
 */
import { PermanentError, stepContext, type Statement } from '../component/context.ts';
import type { ActionIO, CompiledAction } from '../component/action.ts';
import type { StepOutput } from '../component/step.ts';
import { deliverEffects, type Delivered } from './effects.ts';
import {
  eventVersion,
  isEffectsMessage,
  isEnvelope,
  itemEnvelopes,
  PENDING_SEQ,
  type EffectsMessage,
  type Envelope,
  type RuntimeEnv,
} from '../lib/envelope.ts';
import { parsePayload } from '../event/extract.ts';
import type { InRequestOptions, InRequestOutcome } from '../event/admit.ts';
import type { CompiledManifest, EventSource } from '../manifest/compile.ts';
import { rowsWritten, type PlatformUsage } from '../lib/platform.ts';
import { MAX_QUEUE_DELAY_SECONDS, retryDelaySeconds } from '../manifest/retry.ts';
import { chunk } from '../lib/chunk.ts';
import * as store from '../store/index.ts';
import type { BatchedItem, ClaimedEffect, EventKey, NewEffect, OutboxRow } from '../store/index.ts';
import type { Tracer } from '../lib/trace.ts';
import type { Emit } from '../lib/telemetry.ts';
import { MappingError } from '../language/values.ts';
import { projectExternal, type ExternalProjection } from './projections.ts';
import { splitByStore } from '../manifest/stores.ts';
import { PostgresSqlError, type PostgresConnect } from '../store/postgres.ts';

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
  /** How a Postgres store's client is opened (see RuntimeOptions.connectPostgres; none: the build has no driver). */
  connectPostgres?: PostgresConnect;
  usage?: PlatformUsage;
  /** Workers' tracing (runtime.ts RuntimeOptions.tracer): each provider call in a span of its own. */
  tracer?: Tracer;
}

/** Queues' sendBatch takes at most 100 messages. */
const MAX_SEND_BATCH = 100;
/**
 * How long a consumer holds an effect it is sending. Longer than a consumer invocation may run (15 minutes of
 * wall time), so a lease only lapses when its holder stopped; then the effect is claimed again.
 */
export const EFFECT_LEASE_MS = 15 * 60_000;
/**
 * How long a request holds the effects it records and delivers after its answer. Work under `ctx.waitUntil` runs at
 * most 30 s after the response, so 2 minutes outlasts any live delivery; a request that stopped (the isolate died
 * between the commit and the send) has its effects taken back that much sooner: by the cron sweep, once the lease
 * and `stuck_after` have passed, through an effects message the consumer claims with claimDue.
 */
export const IN_REQUEST_LEASE_MS = 2 * 60_000;

export type Failure = {
  kind: 'permanent' | 'transient' | 'duplicate';
  reason: string;
  error: string;
  retryAfterSeconds?: number;
};

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Sorts an error into what to do with it. Bad data, a body that overflows the stack, and schema or constraint
 * failures cannot be fixed by waiting; anything else (D1 busy or unreachable) is worth retrying.
 */
export function classify(error: unknown): Failure {
  const text = errorText(error);
  // The applied-marker trigger (events_apply_once): a copy of this event was applied by another consumer.
  if (/already applied/.test(text)) return { kind: 'duplicate', reason: 'already_applied', error: text };
  if (error instanceof MappingError) return { kind: 'permanent', reason: 'mapping', error: text };
  if (error instanceof PostgresSqlError) return { kind: 'permanent', reason: 'sql', error: text };
  if (error instanceof PermanentError) return { kind: 'permanent', reason: 'permanent', error: text };
  if (error instanceof RangeError || error instanceof SyntaxError)
    return { kind: 'permanent', reason: 'unprocessable', error: text };
  if (
    /constraint failed|SQLITE_CONSTRAINT|SQLITE_MISMATCH|SQLITE_TOOBIG|datatype mismatch|no such (table|column)|syntax error|has no column named/i.test(
      text,
    )
  ) {
    return { kind: 'permanent', reason: 'sql', error: text };
  }
  return { kind: 'transient', reason: 'transient', error: text };
}

/** One message's way through the phases. */
interface Work {
  message: ConsumerMessage;
  key: EventKey;
  envelope?: Envelope;
  source?: EventSource;
  /** An applied event (redelivered, or an effects message): only its undelivered outbox and due effects. */
  deliverOnly?: boolean;
  plan?: Plan;
  committed?: boolean;
  /** Set once the message's fate is decided; unset works are acked at settle. */
  failure?: Failure;
}

interface Plan {
  /** Statements for the event log's D1, committed with its applied-marker. */
  statements: Statement[];
  /** Statements for an external store (Postgres), committed there first with that store's applied-marker. */
  external?: ExternalProjection;
  outbox: OutboxRow[];
  effects: NewEffect[];
  /** Per step, what it contributed, kept with the applied-marker for the event log (JSON). */
  steps: string;
  /** `applied`; `ignored` when no handler matched its type; `skipped` when conditions let none of its steps run. */
  status: store.SettledEventStatus;
}

/** Everything a phase may use. */
interface Batch {
  env: RuntimeEnv;
  db: D1Database;
  at: string;
  nowMs: number;
  /** This invocation's lease token for the effects it records or claims. */
  lease: string;
  works: Work[];
  /** When a queue batch began (Date.now(): advances with I/O), for its records' duration_ms. */
  started?: number;
}

const keyString = (w: Work) => store.keyOf(w.key);
/** How an effect's delivery can end for good: nothing left open. */
const ENDED = new Set<string>([store.EffectStatus.sent, store.EffectStatus.dropped, store.EffectStatus.dead_lettered]);

/** A JSON text of an envelope for its dead letter; the payload is left out if it cannot be serialized. */
function envelopeText(body: unknown): string {
  try {
    return JSON.stringify(body) ?? 'null';
  } catch (error) {
    const { payload: _payload, ...rest } = (body ?? {}) as Envelope;
    return JSON.stringify({ ...rest, payload: null, payload_error: errorText(error) });
  }
}

export function createConsumer(options: ConsumerOptions) {
  const { compiled, emit } = options;
  const nowMs = () => (options.now ? options.now() : Date.now());
  const random = options.random ?? Math.random;
  const traced = options.tracer ? { tracer: options.tracer } : {};

  /** load: reads each message, finds its source, and fetches payloads stored in the event log. */
  async function load(messages: readonly ConsumerMessage[], b: Batch): Promise<void> {
    const seen = new Set<string>();
    for (const message of messages) {
      let body: unknown;
      try {
        body = message.body;
      } catch (error) {
        b.works.push({
          message,
          key: ['unknown', message.id],
          failure: { kind: 'permanent', reason: 'malformed_message', error: errorText(error) },
        });
        continue;
      }
      const effects = isEffectsMessage(body) ? (body as EffectsMessage).effects : undefined;
      const envelope = isEnvelope(body) ? body : undefined;
      if (!effects && !envelope) {
        b.works.push({
          message,
          key: ['unknown', message.id],
          failure: { kind: 'permanent', reason: 'malformed_message', error: 'not a switchyard envelope' },
        });
        continue;
      }
      const key: EventKey = effects ? [effects.integration, effects.id] : [envelope!.integration, envelope!.id];
      const source = compiled.sources.get(key[0]);
      const work: Work = {
        message,
        key,
        ...(envelope ? { envelope } : {}),
        ...(source ? { source } : {}),
        ...(effects ? { deliverOnly: true } : {}),
      };
      b.works.push(work);
      if (!source) {
        work.failure = {
          kind: 'permanent',
          reason: 'unknown_integration',
          error: `integration ${key[0]} is not in this manifest`,
        };
      } else if (!effects && seen.has(keyString(work))) {
        // A second copy of an event in the same batch: the first one carries it.
        work.failure = {
          kind: 'duplicate',
          reason: 'copy_in_batch',
          error: 'a copy of this event is in the same batch',
        };
      }
      if (!effects) seen.add(keyString(work));
    }
    const referenced = b.works.filter((w) => !w.failure && w.envelope?.payload_ref);
    if (!referenced.length) return;
    const bodies = await store.readBodies(
      b.db,
      referenced.map((w) => w.key),
    );
    for (const w of referenced) {
      try {
        const text = bodies.get(keyString(w));
        if (text === undefined || text === null)
          throw new PermanentError('its stored body is gone (pruned by retention, or never recorded)');
        w.envelope = { ...w.envelope!, payload: parsePayload(w.source!.format, text) };
      } catch (error) {
        w.failure = classify(error);
      }
    }
  }

  /**
   * plan: runs each fresh message's steps. A message that throws fails alone, before anything is written. An action
   * step that cannot build its effect (a value the event lacks: a permanent error) does not take the event's state
   * with it: the effect is recorded unbuilt and dead-lettered alone, and the other steps go on. Unless `unbuiltAlone`
   * is false (a synchronous command, whose caller is told at once that its input does not fit).
   */
  async function plan(b: Batch, unbuiltAlone = true): Promise<void> {
    for (const w of b.works) {
      if (w.failure || w.deliverOnly) continue;
      const { envelope, source } = w as Required<Pick<Work, 'envelope' | 'source'>>;
      try {
        const statements: Statement[] = [];
        const outbox: OutboxRow[] = [];
        const effects: NewEffect[] = [];
        const outcomes: { kind: string; statements: number; outbox: number; actions: number; skipped?: string }[] = [];
        // A batch's items each run the handlers in their own envelope; its effects are gathered per step (batchEffects).
        const batched: BatchedEffect[] | undefined = envelope.items ? [] : undefined;
        const runs = itemEnvelopes(envelope).flatMap((item, k) => {
          const ctx = stepContext(item, b.env);
          return source.stepsFor(item.type).map((step, i) => ({ item, k, ctx, step, i }));
        });
        // Per step, what it contributed (summed over a batch's items).
        // A step a condition skipped says which condition decided (for a batch, while no item ran it).
        const tally = (i: number, o: (typeof outcomes)[number]) => {
          const slot = outcomes[i];
          if (!slot) return void (outcomes[i] = o);
          const skipped = slot.skipped !== undefined && o.skipped !== undefined ? slot.skipped : undefined;
          outcomes[i] = {
            kind: slot.kind,
            statements: slot.statements + o.statements,
            outbox: slot.outbox + o.outbox,
            actions: slot.actions + o.actions,
            ...(skipped !== undefined ? { skipped } : {}),
          };
        };
        let ran = 0;
        for (const { item, k, ctx, step, i } of runs) {
          let output: StepOutput;
          try {
            output = await step.run(ctx);
          } catch (error) {
            const failure = classify(error);
            if (!unbuiltAlone || !step.effect || failure.kind !== 'permanent') throw error;
            const spec = compiled.effects.byStep.get(step)!;
            tally(i, { kind: step.kind, statements: 0, outbox: 0, actions: 1 });
            effects.push({
              integration: envelope.integration,
              id: envelope.id,
              step: batched ? `${i}:0:${k}` : `${i}:0`,
              action: step.effect.action.type,
              source: spec.id,
              payload: store.UNBUILT_PAYLOAD,
              limits: null,
              unbuilt: unbuiltFailure(spec.id, step.effect.action.type, failure),
            });
            continue;
          }
          if (output.skipped !== undefined) {
            tally(i, { kind: step.kind, statements: 0, outbox: 0, actions: 0, skipped: output.skipped });
            continue;
          }
          ran++;
          tally(i, {
            kind: step.kind,
            statements: output.statements?.length ?? 0,
            outbox: output.outbox?.length ?? 0,
            actions: output.actions?.length ?? 0,
          });
          statements.push(...(output.statements ?? []));
          for (const [j, m] of (output.outbox ?? []).entries()) {
            outbox.push({
              key: `${envelope.integration}:${item.id}:${i}:${j}`,
              integration: envelope.integration,
              event_id: envelope.id,
              queue: m.queue,
              body: JSON.stringify(m.body),
            });
          }
          // Only an action step reads the effects table (in a lazily compiled manifest, that compiles all handlers).
          const spec = output.actions?.length ? compiled.effects.byStep.get(step) : undefined;
          for (const [j, pending] of (output.actions ?? []).entries()) {
            if (!spec) throw new Error(`step ${i} asked for an action but is not an action step`);
            const limits = pending.limits.map((l) => [l.limit.name, l.key]);
            // An ordered send's key is its step's own: two destinations ordered by the same customer never hold each other.
            const order = pending.action.orderKey?.(pending.payload);
            const effect: NewEffect = {
              integration: envelope.integration,
              id: item.id,
              step: `${i}:${j}`,
              action: pending.action.type,
              source: spec.id,
              payload: JSON.stringify(pending.payload),
              limits: limits.length ? JSON.stringify(limits) : null,
              ...(order !== undefined ? { order_key: `${spec.id}\u001f${order}` } : {}),
            };
            if (batched) batched.push({ effect, payload: pending.payload, action: pending.action, item: k });
            else effects.push(effect);
          }
        }
        if (batched) effects.push(...batchEffects(envelope.id, batched));
        // One event's SQL goes to one store: mixing two throws (permanent) before anything is written.
        const split = splitByStore(statements);
        w.plan = {
          statements: split.d1,
          ...(split.external ? { external: split.external } : {}),
          outbox,
          effects,
          steps: JSON.stringify(outcomes),
          status:
            runs.length === 0
              ? store.EventStatus.ignored
              : ran === 0
                ? store.EventStatus.skipped
                : store.EventStatus.applied,
        };
      } catch (error) {
        w.failure = classify(error);
      }
    }
  }

  /** commit: one transaction for the whole batch; if it fails, one per message to isolate the culprit. */
  async function commit(b: Batch): Promise<void> {
    const planned = b.works.filter((w) => w.plan && !w.failure);
    if (!planned.length) return;
    const leaseUntil = new Date(b.nowMs + EFFECT_LEASE_MS).toISOString();
    const statementsOf = (group: Work[]): D1PreparedStatement[] => [
      ...store.appliedStatements(
        b.db,
        group.map((w) => ({
          integration: w.key[0],
          id: w.key[1],
          type: w.envelope!.type,
          received_at: w.envelope!.received_at,
          attempts: w.message.attempts,
          steps: w.plan!.steps,
          status: w.plan!.status,
        })),
        b.at,
      ),
      ...group.flatMap((w) => [
        ...w.plan!.statements.map((s) => b.db.prepare(s.sql).bind(...s.params)),
        ...w.plan!.outbox.map((o) => store.outboxStatement(b.db, { ...o, id: o.event_id }, b.at)),
      ]),
      ...store.insertEffects(
        b.db,
        group.flatMap((w) => w.plan!.effects),
        b.lease,
        leaseUntil,
        b.at,
      ),
    ];
    const run = async (group: Work[]) => {
      const results = await b.db.batch(statementsOf(group));
      options.usage?.count('d1_rows_written', rowsWritten(results));
      for (const w of group) w.committed = true;
    };
    // An event applied already fails its marker (the trigger events_apply_once): it delivers what it left, if anything.
    const failed = (w: Work, error: unknown) => {
      const failure = classify(error);
      if (failure.kind !== 'duplicate') return void (w.failure = failure);
      w.deliverOnly = true;
      emit({ kind: 'event.duplicate', integration: w.key[0], id: w.key[1] });
    };
    try {
      await run(planned);
    } catch (error) {
      if (planned.length === 1) return failed(planned[0]!, error);
      for (const w of planned) {
        try {
          await run([w]);
        } catch (single) {
          failed(w, single);
        }
      }
      if (planned.some((w) => w.failure))
        emit({ kind: 'consumer.batch_fallback', messages: planned.length, error: errorText(error) });
    }
    for (const w of planned.filter((w) => w.committed)) {
      const e = w.envelope!;
      if (w.plan!.status !== store.EventStatus.applied)
        emit({ kind: `event.${w.plan!.status}`, integration: e.integration, id: e.id, type: e.type });
      else
        emit({
          kind: 'event.applied',
          integration: e.integration,
          id: e.id,
          type: e.type,
          statements: w.plan!.statements.length + (w.plan!.external?.statements.length ?? 0),
          outbox: w.plan!.outbox.length,
          attempts: w.message.attempts,
          ...(b.started === undefined ? {} : { duration_ms: Date.now() - b.started }),
        });
    }
  }

  /** deliver: the outbox, then effects under their lease, then a delayed effects message for what still waits. */
  async function deliver(b: Batch): Promise<void> {
    const committed = b.works.filter((w) => w.committed);
    const leftovers = b.works.filter((w) => w.deliverOnly && !w.failure);
    if (!committed.length && !leftovers.length) return;

    const pending = [
      ...committed.flatMap((w) => w.plan!.outbox),
      ...(await store.unsentOutbox(
        b.db,
        leftovers.map((w) => w.key),
      )),
    ];
    const failedOutbox = await flushOutbox(b, pending);

    const claimed: ClaimedEffect[] = committed.flatMap((w) => w.plan!.effects.map((e) => ({ ...e, attempts: 1 })));
    claimed.push(
      ...(await build(
        b.db,
        b.env,
        await store.claimDue(
          b.db,
          leftovers.map((w) => w.key),
          b.lease,
          new Date(b.nowMs + EFFECT_LEASE_MS).toISOString(),
          b.at,
        ),
      )),
    );
    const delivered = await deliverEffects(claimed, b.lease, {
      db: b.db,
      compiled,
      io: ioFor(b.env, b.nowMs),
      emit,
      random,
      ...traced,
    });

    // Effects still open (retrying, deferred, or leased by a consumer that may have stopped) get a message of
    // their own, delayed until they are due: the event's message itself can be acked. An event committed here whose
    // effects all ended (sent, dropped, dead-lettered) has none open: nothing to read. One whose settle could not be
    // written stays leased, and the sweep takes it back when the lease lapses.
    const ended = new Set(
      delivered.filter((d) => ENDED.has(d.outcome.status)).map((d) => store.idempotencyKey(d.effect)),
    );
    const withEffects = [
      ...committed.filter((w) => w.plan!.effects.some((e) => !ended.has(store.idempotencyKey(e)))),
      ...leftovers,
    ];
    const due = await store.nextDue(
      b.db,
      withEffects.map((w) => w.key),
    );
    const scheduled = await schedule(b, withEffects, due);
    for (const w of [...committed, ...leftovers]) {
      const error = failedOutbox.get(keyString(w)) ?? scheduled.get(keyString(w));
      if (error) w.failure = { kind: 'transient', reason: 'delivery', error };
    }
  }

  /** Sends outbox messages per queue with sendBatch, then deletes their rows; returns errors by event. */
  async function flushOutbox(b: Batch, rows: OutboxRow[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const sent: string[] = [];
    const byQueue = new Map<string, OutboxRow[]>();
    for (const r of rows) byQueue.set(r.queue, [...(byQueue.get(r.queue) ?? []), r]);
    for (const [name, list] of byQueue) {
      const binding = compiled.queues.get(name)?.binding;
      const queue = binding ? (b.env[binding] as Queue | undefined) : undefined;
      for (const part of chunk(list, MAX_SEND_BATCH)) {
        try {
          if (!queue) throw new Error(`queue ${name} has no binding in this environment`);
          await queue.sendBatch(part.map((r) => ({ body: JSON.parse(r.body), contentType: 'json' as const })));
          sent.push(...part.map((r) => r.key));
        } catch (error) {
          for (const r of part) failed.set(store.keyOf([r.integration, r.event_id]), `outbox: ${errorText(error)}`);
        }
      }
    }
    await store.deleteOutbox(b.db, sent);
    return failed;
  }

  /** One effects message per event with effects still open, delayed until the first is due (at most 12 h). */
  async function schedule(b: Batch, works: Work[], due: Map<string, string>): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const byWork = new Map(works.map((w) => [keyString(w), w]));
    for (const [key, nextAt] of due) {
      const w = byWork.get(key)!;
      try {
        await scheduleEffects(b.env, w.source!, w.key, nextAt, b.nowMs);
      } catch (error) {
        failed.set(key, `scheduling its effects: ${errorText(error)}`);
      }
    }
    return failed;
  }

  /** An event's delayed effects message, due when its open effects are next (`nextAt`): what takes them up again. */
  async function scheduleEffects(
    env: RuntimeEnv,
    source: EventSource,
    key: EventKey,
    nextAt: string,
    now: number,
  ): Promise<void> {
    const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((Date.parse(nextAt) - now) / 1000)));
    const queue = env[source.queue.binding] as Queue | undefined;
    if (!queue) throw new Error(`queue binding ${source.queue.binding} is not bound`);
    await queue.send({ effects: { integration: key[0], id: key[1] } } satisfies EffectsMessage, {
      contentType: 'json',
      delaySeconds,
    });
    emit({ kind: 'effect.scheduled', integration: key[0], id: key[1], delay_seconds: delaySeconds });
  }

  /** settle: dead letters and statuses in one batch, then each message acked or retried. */
  async function settle(b: Batch): Promise<void> {
    const statements: D1PreparedStatement[] = [];
    const letters: Work[] = [];
    const retries: { w: Work; delaySeconds: number }[] = [];
    for (const w of b.works) {
      const f = w.failure;
      if (!f || f.kind === 'duplicate') continue;
      const max = w.source?.retry.maxAttempts ?? 1;
      const [integration, id] = w.key;
      // An applied event whose delivery (outbox, effects message) failed stays applied: only its message is retried.
      const applied = w.deliverOnly || w.committed;
      // The attempt that failed, with its error and how long the batch had taken, for the event's timeline.
      if (!applied && w.source)
        statements.push(
          store.attemptStatement(
            b.db,
            {
              integration,
              id,
              target: store.EVENT_TARGET,
              n: w.message.attempts,
              durationMs: nowMs() - b.nowMs,
              error: f.error,
            },
            b.at,
          ),
        );
      if (f.kind === 'permanent' || !w.source || w.message.attempts >= max) {
        letters.push(w);
        // An envelope that came by reference is kept so (its body is the letter's raw_body): a replay stays a small message.
        const envelope = w.envelope?.payload_ref
          ? { ...w.envelope, payload: null }
          : (w.envelope ?? safeBody(w.message));
        statements.push(
          store.eventDeadLetter(
            b.db,
            {
              integration,
              id,
              reason: f.reason,
              error: f.error,
              envelope: envelopeText(envelope),
              attempts: w.message.attempts,
            },
            b.at,
          ),
        );
        // An applied event stays applied: its letter replays only what it could not deliver (the outbox).
        if (!applied)
          statements.push(
            store.deadLetteredStatement(b.db, { integration, id, attempts: w.message.attempts, error: f.error }, b.at),
          );
      } else {
        const policy = retryDelaySeconds(w.source.retry, w.message.attempts, random());
        const delaySeconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(policy, f.retryAfterSeconds ?? 0));
        retries.push({ w, delaySeconds });
        if (!applied)
          statements.push(
            store.retryingStatement(
              b.db,
              {
                integration,
                id,
                attempts: w.message.attempts,
                error: f.error,
                nextAt: new Date(b.nowMs + delaySeconds * 1000).toISOString(),
              },
              b.at,
            ),
          );
      }
    }
    let recorded = true;
    if (statements.length) {
      try {
        await b.db.batch(statements);
      } catch (error) {
        recorded = false;
        emit({ kind: 'runtime.error', where: 'consumer.settle', error: errorText(error) });
      }
    }
    for (const w of b.works) {
      if (!w.failure) w.message.ack();
      else if (w.failure.kind === 'duplicate') {
        emit({ kind: 'event.duplicate', integration: w.key[0], id: w.key[1] });
        w.message.ack();
      }
    }
    for (const w of letters) {
      if (recorded) {
        emit({
          kind: 'webhook.dead_lettered',
          integration: w.key[0],
          id: w.key[1],
          stage: store.Stage.consumer,
          reason: `${w.failure!.reason}: ${w.failure!.error}`,
        });
        w.message.ack();
      } else {
        // The dead letter could not be written: keep the message. If this persists, Queues moves it to the
        // dead-letter queue, whose consumer records it.
        w.message.retry({ delaySeconds: 60 });
      }
    }
    for (const { w, delaySeconds } of retries) {
      emit({
        kind: 'event.retry',
        integration: w.key[0],
        id: w.key[1],
        attempt: w.message.attempts,
        max_attempts: w.source!.retry.maxAttempts,
        delay_seconds: delaySeconds,
        error: w.failure!.error,
      });
      w.message.retry({ delaySeconds });
    }
  }

  async function consume(messages: readonly ConsumerMessage[], env: RuntimeEnv): Promise<void> {
    const now = nowMs();
    const b: Batch = {
      env,
      db: env.DB,
      at: new Date(now).toISOString(),
      nowMs: now,
      lease: crypto.randomUUID(),
      works: [],
      started: Date.now(),
    };
    await load(messages, b);
    await plan(b);
    await project(b);
    await commit(b);
    await deliver(b);
    await settle(b);
  }

  /**
   * Builds claimed effects whose payload could not be built when their event applied (their letter was replayed):
   * the step runs again on the stored event, under today's manifest. One that still cannot be built keeps why, and is
   * dead-lettered again; one that can is sent, and its settlement records the payload.
   */
  async function build(db: D1Database, env: RuntimeEnv, claimed: ClaimedEffect[]): Promise<ClaimedEffect[]> {
    const unbuilt = claimed.filter((e) => e.payload === store.UNBUILT_PAYLOAD && !e.unbuilt);
    if (!unbuilt.length) return claimed;
    const events = await store.storedEvents(
      db,
      unbuilt.map((e) => [e.integration, e.id] as const),
    );
    for (const e of unbuilt) {
      const spec = compiled.effects.byId.get(e.source);
      // No longer in the manifest: delivery dead-letters it and says so.
      if (!spec) continue;
      try {
        const source = compiled.sources.get(e.integration);
        const row = events.get(store.keyOf([e.integration, e.id]));
        if (!source || !row || row.body === null)
          throw new PermanentError(
            'its event is no longer stored whole (retention pruned its body), so it cannot be built again',
          );
        const output = await spec.step.run(
          stepContext(store.storedEnvelope({ ...row, body: row.body }, parsePayload(source.format, row.body)), env),
        );
        const pending = output.actions?.[Number(e.step.split(':')[1])];
        if (!pending) throw new PermanentError('the step no longer asks for this action');
        const limits = pending.limits.map((l) => [l.limit.name, l.key]);
        Object.assign(e, {
          payload: JSON.stringify(pending.payload),
          limits: limits.length ? JSON.stringify(limits) : null,
          built: true,
        });
      } catch (error) {
        e.unbuilt = unbuiltFailure(spec.id, spec.action.type, classify(error));
      }
    }
    return claimed;
  }

  /** project: SQL for external stores, before the event log's commit; a failure there fails the message alone. */
  async function project(b: Batch): Promise<void> {
    const works = b.works.filter((w) => w.plan?.external && !w.failure);
    if (!works.length) return;
    const outcomes = await projectExternal(
      compiled,
      b.env,
      works.map((w) => ({ key: w.key, envelope: w.envelope!, projection: w.plan!.external! })),
      options.connectPostgres,
    );
    for (const w of works) {
      const outcome = outcomes.get(keyString(w));
      // A duplicate there (its marker found) still commits below: the event log may not have recorded it yet.
      if (outcome instanceof Error) w.failure = classify(outcome);
    }
  }

  /**
   * A batch of one event that no queue delivered (applied in the request, or a synchronous command): the consumer's
   * phases run on it as on a message, whose ack and retry mean nothing here. Undefined when the manifest lacks its
   * integration.
   */
  function oneEventBatch(envelope: Envelope, env: RuntimeEnv, now: number): { b: Batch; w: Work } | undefined {
    const source = compiled.sources.get(envelope.integration);
    if (!source) return undefined;
    const message: ConsumerMessage = {
      id: envelope.id,
      body: envelope,
      attempts: 1,
      ack: () => undefined,
      retry: () => undefined,
    };
    const w: Work = {
      message,
      key: [envelope.integration, envelope.id],
      envelope: { ...envelope, seq: PENDING_SEQ },
      source,
    };
    const b: Batch = {
      env,
      db: env.DB,
      at: new Date(now).toISOString(),
      nowMs: now,
      lease: crypto.randomUUID(),
      works: [w],
    };
    return { b, w };
  }

  /**
   * The in-request path: an event whose steps all commit in the event log's D1 (SQL, effects, outbox rows) is recorded
   * (with its raw body) already applied, projected, and its effects recorded leased to this request and its outbox rows
   * written, in ONE D1 transaction. Its steps are planned as the consumer plans them; the arrival sequence `@version`
   * needs is read in SQL from the row the same transaction inserts. After the commit the outbox and the effects are
   * delivered by the consumer's own deliver phase (same keys, limits, retries, dead letters), under `waitUntil` when
   * there is one; only what fails or cannot finish goes to the queue. Says how it ended: `applied`, `ignored` or `skipped`;
   * `recorded` when the event is already in the log (a redelivery, a copy, or the same body under another id: the
   * claim answers it); `queue` when it cannot be applied here (a mapping error, an external store, D1 failing): the
   * caller claims and queues it, losing nothing.
   */
  async function applyInRequest(
    envelope: Envelope,
    text: string,
    env: RuntimeEnv,
    request: InRequestOptions = {},
  ): Promise<InRequestOutcome> {
    const started = Date.now();
    const now = nowMs();
    const one = oneEventBatch(envelope, env, now);
    if (!one) return 'queue';
    const { b, w } = one;
    await plan(b);
    const planned = w.plan;
    if (w.failure || !planned || planned.external) return 'queue';
    const pending = eventVersion({ occurred_at: envelope.occurred_at, seq: PENDING_SEQ });
    const leaseUntil = new Date(now + IN_REQUEST_LEASE_MS).toISOString();
    try {
      const results = await b.db.batch([
        store.appliedClaimStatement(
          b.db,
          envelope,
          text,
          planned.steps,
          planned.status,
          b.at,
          request.origin,
          request.replay,
        ),
        ...planned.statements.map((s) => withArrivalVersion(b.db, s, pending, w.key, envelope.occurred_at)),
        ...planned.outbox.map((o) => store.outboxStatement(b.db, { ...o, id: o.event_id }, b.at)),
        ...store.insertEffects(b.db, planned.effects, b.lease, leaseUntil, b.at),
      ]);
      options.usage?.count('d1_rows_written', rowsWritten(results));
    } catch (error) {
      return /UNIQUE constraint failed: events\./.test(errorText(error)) ? 'recorded' : 'queue';
    }
    w.committed = true;
    if (planned.status !== store.EventStatus.applied)
      emit({
        kind: `event.${planned.status}`,
        integration: envelope.integration,
        id: envelope.id,
        type: envelope.type,
        in_request: true,
      });
    else
      emit({
        kind: 'event.applied',
        integration: envelope.integration,
        id: envelope.id,
        type: envelope.type,
        statements: planned.statements.length,
        outbox: planned.outbox.length,
        attempts: 1,
        in_request: true,
        duration_ms: Date.now() - started,
      });
    if (planned.outbox.length || planned.effects.length) {
      const delivery = deliverAfterCommit(b, w).catch((error: unknown) =>
        emit({ kind: 'runtime.error', where: 'consumer.in_request_delivery', error: errorText(error) }),
      );
      if (request.waitUntil) request.waitUntil(delivery);
      else await delivery;
    }
    return planned.status;
  }

  /**
   * The deliver phase for an event committed in the request. What it could not finish goes to the queue: effects
   * left open got their delayed effects message from `schedule`; an outbox send that failed (or a schedule that
   * could not be queued) gets an effects message now, whose consumer re-reads the unsent outbox. If that fails too,
   * the sweep finds the unsent outbox row or the overdue effect.
   */
  async function deliverAfterCommit(b: Batch, w: Work): Promise<void> {
    await deliver(b);
    if (!w.failure) return;
    const queue = b.env[w.source!.queue.binding] as Queue | undefined;
    try {
      if (!queue) throw new Error(`queue binding ${w.source!.queue.binding} is not bound`);
      await queue.send({ effects: { integration: w.key[0], id: w.key[1] } } satisfies EffectsMessage, {
        contentType: 'json',
      });
      emit({ kind: 'effect.scheduled', integration: w.key[0], id: w.key[1], delay_seconds: 0 });
    } catch (error) {
      emit({
        kind: 'runtime.error',
        where: 'consumer.in_request_delivery',
        error: `${w.failure.error}; and its effects message: ${errorText(error)} (the sweep delivers it)`,
      });
    }
  }

  /** The effects' IO: the deliver phase's, and a synchronous command's in the request. */
  const ioFor = (env: RuntimeEnv, now: number): ActionIO => ({
    env,
    fetch: options.fetch ?? fetch.bind(globalThis),
    now,
    ...(env.KV ? { kv: env.KV as KVNamespace } : {}),
    ...(options.usage ? { count: options.usage.count.bind(options.usage) } : {}),
  });

  /**
   * A synchronous command: its event and its one effect recorded in ONE transaction (state first, the effect
   * leased to this request), then the effect delivered here, in the request, through the same delivery as every
   * effect (limits, attempts, dead letter). Says `recorded` when the call is already in the log (the caller answers
   * the repeat), or what the plan failed with, or how each effect ended.
   */
  async function applySync(
    envelope: Envelope,
    text: string,
    env: RuntimeEnv,
    keep: (result: unknown) => unknown,
  ): Promise<{ recorded: true } | { failure: Failure } | { delivered: Delivered[] }> {
    const started = Date.now();
    const now = nowMs();
    const one = oneEventBatch(envelope, env, now);
    if (!one)
      return {
        failure: {
          kind: 'permanent',
          reason: 'unknown_integration',
          error: `${envelope.integration} is not in this manifest`,
        },
      };
    const { b, w } = one;
    await plan(b, false);
    if (w.failure || !w.plan)
      return { failure: w.failure ?? { kind: 'permanent', reason: 'unprocessable', error: 'nothing planned' } };
    const planned = w.plan;
    const leaseUntil = new Date(now + EFFECT_LEASE_MS).toISOString();
    try {
      const results = await b.db.batch([
        store.appliedClaimStatement(b.db, envelope, text, planned.steps, planned.status, b.at),
        ...store.insertEffects(b.db, planned.effects, b.lease, leaseUntil, b.at),
      ]);
      options.usage?.count('d1_rows_written', rowsWritten(results));
    } catch (error) {
      if (/UNIQUE constraint failed: events\./.test(errorText(error))) return { recorded: true };
      return { failure: classify(error) };
    }
    emit({
      kind: 'event.applied',
      integration: envelope.integration,
      id: envelope.id,
      type: envelope.type,
      statements: planned.statements.length,
      outbox: 0,
      attempts: 1,
      in_request: true,
      duration_ms: Date.now() - started,
    });
    const claimed = planned.effects.map((e) => ({ ...e, attempts: 1 }));
    return {
      delivered: await deliverEffects(claimed, b.lease, {
        db: b.db,
        compiled,
        io: ioFor(env, now),
        emit,
        random,
        keep,
        ...traced,
      }),
    };
  }

  /**
   * A synchronous command called again after its first call failed, or after the lease of a call that stopped
   * lapsed: its effect is taken again (a dead-lettered one is reopened, its letter marked replayed) and delivered in
   * the request, with the same idempotency key. Empty when nothing was due (sent already, or a live call holds it).
   */
  async function retrySync(key: EventKey, env: RuntimeEnv, keep: (result: unknown) => unknown): Promise<Delivered[]> {
    const now = nowMs();
    const at = new Date(now).toISOString();
    const lease = crypto.randomUUID();
    await env.DB.batch(store.reopenSyncStatements(env.DB, key, at));
    const claimed = await build(
      env.DB,
      env,
      await store.claimDue(env.DB, [key], lease, new Date(now + EFFECT_LEASE_MS).toISOString(), at),
    );
    return deliverEffects(claimed, lease, { db: env.DB, compiled, io: ioFor(env, now), emit, random, keep, ...traced });
  }

  /**
   * Retry now (the admin API): each effect is taken as it stands, whatever its next time (a dead-lettered one is
   * reopened, its letter marked replayed), under a lease of this call, and delivered here with the same idempotency
   * key as every attempt before. An effect a live consumer holds, or one already sent, is not taken: it is sent once.
   * One still open afterwards gets its delayed effects message, as the consumer would give it.
   */
  async function retryEffects(
    keys: readonly store.EffectKey[],
    env: RuntimeEnv,
  ): Promise<{ delivered: Delivered[]; skipped: { key: store.EffectKey; reason: string; found: boolean }[] }> {
    const now = nowMs();
    const at = new Date(now).toISOString();
    const lease = crypto.randomUUID();
    const leaseUntil = new Date(now + EFFECT_LEASE_MS).toISOString();
    const { statements, claims } = store.retryNowStatements(env.DB, keys, lease, leaseUntil, at);
    const results = statements.length
      ? await env.DB.batch<{
          integration: string;
          event_id: string;
          step: string;
          action: string;
          source: string;
          payload: string;
          limits: string | null;
          attempts: number;
          batch: string | null;
        }>(statements)
      : [];
    const claimed: ClaimedEffect[] = results
      .slice(results.length - claims)
      .flatMap((r) => r.results.map(({ event_id, ...e }) => ({ ...e, id: event_id })));
    const taken = new Set(claimed.map((e) => store.idempotencyKey(e)));
    const left = keys.filter((k) => !taken.has(store.idempotencyKey(k)));
    const states = new Map(
      (await store.effectStates(env.DB, left)).map((s) => [
        store.idempotencyKey({ integration: s.integration, id: s.event_id, step: s.step }),
        s,
      ]),
    );
    const skipped = left.map((key) => {
      const state = states.get(store.idempotencyKey(key));
      const reason = !state
        ? `no effect ${key.integration}/${key.id} step ${key.step}`
        : state.status === store.EffectStatus.sent
          ? `already sent (at ${state.updated_at}): not sent again`
          : state.status === store.EffectStatus.sending
            ? `being sent now (leased until ${state.next_at}): not sent twice`
            : `it is ${state.status}: nothing to retry`;
      return { key, reason, found: state !== undefined };
    });
    const delivered = await deliverEffects(await build(env.DB, env, claimed), lease, {
      db: env.DB,
      compiled,
      io: ioFor(env, now),
      emit,
      random,
      ...traced,
    });
    for (const d of delivered) {
      if (d.outcome.status !== store.EffectStatus.retrying && d.outcome.status !== store.EffectStatus.deferred)
        continue;
      const source = compiled.sources.get(d.effect.integration);
      // Without it the sweep still takes the effect back once it is overdue.
      if (source)
        await scheduleEffects(env, source, [d.effect.integration, d.effect.id], d.outcome.nextAt, now).catch(
          (error: unknown) => emit({ kind: 'runtime.error', where: 'effects.retry_now', error: errorText(error) }),
        );
    }
    return { delivered, skipped };
  }

  return Object.assign(consume, { applyInRequest, applySync, retrySync, retryEffects });
}

/**
 * A statement whose bound `@version` is the pending one (the event's sequence is not known before the insert)
 * reads the sequence instead from the event's row, which the same transaction inserted first. Only the sequence is
 * read (the rowid, which the dedup key's index holds: no read of the row itself); the part before it, `occurred_at`,
 * is the value that insert wrote, bound.
 */
function withArrivalVersion(
  db: D1Database,
  statement: Statement,
  pending: string,
  [integration, id]: EventKey,
  occurredAt: string | null,
): D1PreparedStatement {
  const at = statement.params.flatMap((p, i) => (p === pending ? [i + 1] : []));
  if (!at.length) return db.prepare(statement.sql).bind(...statement.params);
  const n = statement.params.length;
  // Looked up by the statement's own text (a string the compiled step keeps, hashed once), then by its placeholders.
  let bySql = rewritten.get(statement.sql);
  const memo = `${at.join(',')}\u0000${n}`;
  let sql = bySql?.get(memo);
  if (sql === undefined) {
    const read = `(?${n + 3} || printf('%016d', (SELECT seq FROM events WHERE integration = ?${n + 1} AND id = ?${n + 2})))`;
    sql = at.reduce((text, i) => text.replace(new RegExp(`\\?${i}(?![0-9])`, 'g'), read), statement.sql);
    // A manifest has few statements: each is rewritten once per isolate.
    if (!bySql && rewritten.size < 1000) rewritten.set(statement.sql, (bySql = new Map()));
    if (bySql && bySql.size < 100) bySql.set(memo, sql);
  }
  return db.prepare(sql).bind(...statement.params, integration, id, `${occurredAt ?? ''}#`);
}

/** Statements rewritten to read `@version` in SQL, by text, then by placeholders. */
const rewritten = new Map<string, Map<string, string>>();

/** An effect one item of a batch asked for: as its own event would have recorded it (its id, its step). */
interface BatchedEffect {
  effect: NewEffect;
  payload: unknown;
  action: CompiledAction;
  /** The item's place in the batch. */
  item: number;
}

/**
 * A batch's effects, recorded under the batch's id: per action step of a batched action (maxBatch > 1), ONE effect
 * holding every item's payload under the key the item's own effect would have had (`<integration>:<item id>:<step>`,
 * the id a provider deduplicates on is derived from), so a retried effect is deduplicated item by item;
 * its limits count each item. An action sent one call per item, or whose batch call shares one key, keeps an effect
 * per item (step `<step>:<item>`).
 */
function batchEffects(batchId: string, planned: readonly BatchedEffect[]): NewEffect[] {
  const groups = new Map<
    string,
    { first: NewEffect; items: BatchedItem[]; limits: Map<string, [string, string, number]> }
  >();
  const single: NewEffect[] = [];
  for (const { effect, payload, action, item } of planned) {
    if (action.maxBatch <= 1 || action.sharedBatchKey) {
      single.push({ ...effect, id: batchId, step: `${effect.step}:${item}` });
      continue;
    }
    const name = `${effect.step}\u0000${effect.source}`;
    const group = groups.get(name) ?? {
      first: effect,
      items: [] as BatchedItem[],
      limits: new Map<string, [string, string, number]>(),
    };
    groups.set(name, group);
    group.items.push({ key: store.idempotencyKey(effect), payload });
    for (const [limit, key] of JSON.parse(effect.limits ?? '[]') as [string, string][]) {
      const counted = group.limits.get(`${limit}\u0000${key}`) ?? [limit, key, 0];
      counted[2]++;
      group.limits.set(`${limit}\u0000${key}`, counted);
    }
  }
  // Items whose types run different steps can put two actions at one position: the second gets its own step name.
  const taken = new Set<string>();
  const rows = [...groups.values()].map(({ first, items, limits }) => {
    let step = first.step;
    for (let n = 1; taken.has(step); n++) step = `${first.step}:g${n}`;
    taken.add(step);
    return {
      integration: first.integration,
      id: batchId,
      step,
      action: first.action,
      source: first.source,
      payload: store.batchedPayload(items),
      limits: limits.size ? JSON.stringify([...limits.values()]) : null,
    };
  });
  return [...rows, ...single];
}

/** Why an effect could not be built: its step (by its place in the manifest), its action, and the error. */
const unbuiltFailure = (step: string, action: string, failure: Failure) => ({
  reason: failure.reason,
  error: `step ${step} (${action}) could not be built: ${failure.error}`,
});

/** A message body for a dead letter, even when reading it throws. */
function safeBody(message: ConsumerMessage): unknown {
  try {
    return message.body;
  } catch {
    return { unreadable: message.id };
  }
}

/** The statements that record a dead letter for a message Queues gave up on (its dead-letter queue). */
export function platformDeadLetter(db: D1Database, message: ConsumerMessage, at: string): D1PreparedStatement[] {
  const body = safeBody(message) as Partial<Envelope>;
  const integration = body.integration ?? 'unknown';
  const id = body.id ?? message.id;
  const error = `Queues gave up after ${message.attempts} attempts`;
  return [
    store.eventDeadLetter(
      db,
      {
        integration,
        id,
        reason: 'platform_retries_exhausted',
        error,
        envelope: envelopeText(body),
        attempts: message.attempts,
      },
      at,
    ),
    store.deadLetteredStatement(db, { integration, id, attempts: message.attempts, error }, at),
  ];
}
