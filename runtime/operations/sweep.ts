/**
 * The sweep, on the cron trigger: nothing waits silently. An event queued (or retrying, or replayed) longer than
 * `defaults.stuck_after` past its time with no outcome is queued again, up to STUCK_REQUEUES times, each try
 * waiting twice as long as the one before (a consumer in a crash loop gets time to be fixed); still stuck after the
 * last, it is dead-lettered with reason `stuck` (which an alert can watch), saying how many times it was tried.
 * Effects overdue the same way, and outbox messages left unsent, get an effects message (their lease and attempts
 * keep that safe). Queued events are
 * found by walking the log from where the last sweep stopped; the others (a swept event is `replayed`) through
 * indexes of what is still waiting: reads follow traffic, not the log's size.
 */
import { byReference, type RuntimeEnv } from '../lib/envelope.ts';
import { messageFor, parsePayload } from '../event/extract.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import * as store from '../store/index.ts';
import type { Emit } from '../lib/telemetry.ts';
import { MAX_QUEUE_DELAY_SECONDS, retryDelaySeconds, type RetryPolicy } from '../manifest/retry.ts';

/** Events and effects handled per sweep run, at most: the rest wait for the next run. */
export const SWEEP_LIMIT = 100;

/** How many times the sweep queues a stuck event again before it dead-letters it. */
export const STUCK_REQUEUES = 3;

/**
 * How long the sweep waits for an outcome after its nth re-queue: `stuck_after`, then twice that, and so on (with
 * the default 15m: 15, 30 and 60 minutes, so the tries span about an hour), by the shared retry machinery.
 */
export function stuckBackoff(stuckAfterMs: number): RetryPolicy {
  return {
    backoff: 'exponential',
    initialDelayMs: stuckAfterMs,
    maxDelayMs: MAX_QUEUE_DELAY_SECONDS * 1000,
    jitter: 0,
    maxAttempts: STUCK_REQUEUES,
  };
}

/**
 * Set (to `true`) where queued messages do not outlive the process: Miniflare, under `switchyard dev`, holds a
 * retry's delayed message in memory, and every reload drops it. The sweep then takes an effect back as soon as it is
 * due rather than `stuck_after` later (its lease and attempts still keep a second send out).
 */
export const SWEEP_DUE_EFFECTS_VAR = 'SWITCHYARD_SWEEP_DUE_EFFECTS';

export interface SweepResult {
  requeued: number;
  dead_lettered: number;
  effects: number;
}

export async function sweep(
  env: RuntimeEnv,
  compiled: CompiledManifest,
  emit: Emit,
  nowMs: number,
): Promise<SweepResult> {
  const db = env.DB;
  const at = new Date(nowMs).toISOString();
  const cutoff = new Date(nowMs - compiled.stuckAfterMs).toISOString();
  const backoff = stuckBackoff(compiled.stuckAfterMs);
  const waitMs = (tries: number) => retryDelaySeconds(backoff, tries) * 1000;
  // The cutoff for an event queued again n times: stuck_after for the first try, then each try's own wait.
  const cutoffs = [
    cutoff,
    ...Array.from({ length: STUCK_REQUEUES }, (_, n) => new Date(nowMs - waitMs(n + 1)).toISOString()),
  ];
  const result: SweepResult = { requeued: 0, dead_lettered: 0, effects: 0 };
  const statements: D1PreparedStatement[] = [];

  const { stale, next } = await store.staleEvents(db, cutoffs, SWEEP_LIMIT);
  statements.push(store.checkpointStatement(db, store.SWEPT_TO, next));
  for (const e of stale) {
    const source = compiled.sources.get(e.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    const tries = e.sweeps ?? 0;
    let error =
      tries >= STUCK_REQUEUES
        ? `stuck after ${tries} re-queues by the sweep: no outcome ${Math.round(waitMs(tries) / 60_000)} minutes after the last`
        : undefined;
    if (!error) {
      try {
        if (!source || !queue) throw new Error('its integration or queue is not in this manifest');
        if (e.body === null) throw new Error('its stored body is gone');
        const envelope = store.storedEnvelope(e as store.StoredEvent, parsePayload(source.format, e.body));
        await queue.send(messageFor(envelope, e.body), { contentType: 'json' });
        statements.push(store.sweptStatement(db, e.integration, e.id, at));
        emit({
          kind: 'event.stuck',
          integration: e.integration,
          id: e.id,
          status: e.status,
          action: 'requeued',
          requeues: tries + 1,
        });
        result.requeued++;
        continue;
      } catch (cause) {
        error = `stuck${tries ? ` after ${tries} re-queue${tries > 1 ? 's' : ''} by the sweep` : ''}, and could not be queued again: ${cause instanceof Error ? cause.message : String(cause)}`;
      }
    }
    const envelope = JSON.stringify(byReference(store.storedEnvelope({ ...e, body: '' }, null)));
    statements.push(
      store.eventDeadLetter(
        db,
        { integration: e.integration, id: e.id, reason: 'stuck', error, envelope, attempts: e.attempts },
        at,
      ),
      store.deadLetteredStatement(db, { integration: e.integration, id: e.id, attempts: e.attempts, error }, at),
    );
    emit({
      kind: 'event.stuck',
      integration: e.integration,
      id: e.id,
      status: e.status,
      action: store.EventStatus.dead_lettered,
      requeues: tries,
    });
    result.dead_lettered++;
  }
  await db.batch(statements);

  // Overdue effects, and outbox messages left unsent (an in-request send and its effects message both failed): one
  // effects message per event, whose consumer claims what is due and sends the unsent outbox.
  const owed = new Map<string, { integration: string; event_id: string }>();
  const effectsCutoff = env[SWEEP_DUE_EFFECTS_VAR] === 'true' ? at : cutoff;
  for (const e of [
    ...(await store.overdueEvents(db, effectsCutoff, SWEEP_LIMIT)),
    ...(await store.staleOutbox(db, cutoff, SWEEP_LIMIT)),
  ])
    owed.set(store.keyOf([e.integration, e.event_id]), e);
  for (const e of owed.values()) {
    const source = compiled.sources.get(e.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    if (!queue) continue;
    try {
      await queue.send({ effects: { integration: e.integration, id: e.event_id } }, { contentType: 'json' });
      result.effects++;
    } catch (error) {
      // Still owed: the next run tries again; the rest of the cron (retention, alerts) goes on.
      emit({
        kind: 'runtime.error',
        where: 'sweep.effects',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}
