/**
 * The sweep, on the cron trigger: nothing waits silently. An event queued (or retrying, or replayed) longer than
 * `defaults.stuck_after` past its time with no outcome is queued again once; found stuck again, it is
 * dead-lettered with reason `stuck` (which an alert can watch). Effects overdue the same way get an effects
 * message (their lease and attempts keep that safe). Queued events are found by walking the log from where the
 * last sweep stopped; the others through indexes of what is still waiting: reads follow traffic, not the log's size.
 */
import { byReference, type RuntimeEnv } from '../lib/envelope.ts';
import { messageFor } from '../edge/ingest.ts';
import { parsePayload } from '../edge/ingest.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import * as store from '../store/index.ts';
import type { Emit } from '../lib/telemetry.ts';

/** Events and effects handled per sweep run, at most: the rest wait for the next run. */
export const SWEEP_LIMIT = 100;

export interface SweepResult {
  requeued: number;
  dead_lettered: number;
  effects: number;
}

export async function sweep(env: RuntimeEnv, compiled: CompiledManifest, emit: Emit, nowMs: number): Promise<SweepResult> {
  const db = env.DB;
  const at = new Date(nowMs).toISOString();
  const cutoff = new Date(nowMs - compiled.stuckAfterMs).toISOString();
  const result: SweepResult = { requeued: 0, dead_lettered: 0, effects: 0 };
  const statements: D1PreparedStatement[] = [];

  const { stale, next } = await store.staleEvents(db, cutoff, SWEEP_LIMIT);
  statements.push(store.checkpointStatement(db, store.SWEPT_TO, next));
  for (const e of stale) {
    const source = compiled.sources.get(e.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    let error = e.swept_at ? `no outcome ${Math.round(compiled.stuckAfterMs / 60_000)} minutes after the sweep queued it again` : undefined;
    if (!error) {
      try {
        if (!source || !queue) throw new Error('its integration or queue is not in this manifest');
        if (e.body === null) throw new Error('its stored body is gone');
        const envelope = store.storedEnvelope(e as store.StoredEvent, parsePayload(source.format, e.body));
        await queue.send(messageFor(envelope, e.body), { contentType: 'json' });
        statements.push(store.sweptStatement(db, e.integration, e.id, at));
        emit({ kind: 'event.stuck', integration: e.integration, id: e.id, status: e.status, action: 'requeued' });
        result.requeued++;
        continue;
      } catch (cause) {
        error = `stuck, and could not be queued again: ${cause instanceof Error ? cause.message : String(cause)}`;
      }
    }
    const envelope = JSON.stringify(byReference(store.storedEnvelope({ ...e, body: '' }, null)));
    statements.push(
      store.eventDeadLetter(db, { integration: e.integration, id: e.id, reason: 'stuck', error, envelope, attempts: e.attempts }, at),
      store.deadLetteredStatement(db, { integration: e.integration, id: e.id, attempts: e.attempts, error }, at),
    );
    emit({ kind: 'event.stuck', integration: e.integration, id: e.id, status: e.status, action: store.EventStatus.dead_lettered });
    result.dead_lettered++;
  }
  await db.batch(statements);

  for (const e of await store.overdueEvents(db, cutoff, SWEEP_LIMIT)) {
    const source = compiled.sources.get(e.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    if (!queue) continue;
    await queue.send({ effects: { integration: e.integration, id: e.event_id } }, { contentType: 'json' });
    result.effects++;
  }
  return result;
}
