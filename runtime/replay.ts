/**
 * Replay: dead letters back onto their queue. A consumer-stage letter is re-queued as it was (it was never
 * applied, so it applies once); an effect-stage letter makes its effect due again with a fresh set of attempts;
 * an ingest-stage letter (verified, but not parseable or mappable then) is extracted again with the current
 * manifest and claimed like a new delivery. Each replay is recorded.
 */
import type { Envelope, EffectsMessage, RuntimeEnv } from './envelope.ts';
import { extractEnvelope, messageFor, parsePayload } from './ingest.ts';
import type { CompiledIntegration, CompiledManifest } from './manifest/compile.ts';
import * as store from './store/index.ts';
import { Stage, type ClaimResult, type EventQuery } from './store/index.ts';
import type { Emit } from './telemetry.ts';

export { REPLAYABLE_STATUSES, type EventQuery } from './store/index.ts';

export interface ReplaySelection {
  seq?: number[];
  integration?: string;
  all?: boolean;
}

export interface ReplayResult {
  replayed: { seq: number; integration: string; event_id: string; stage: string }[];
  skipped: { seq: number; integration: string; reason: string }[];
}

/** At most this many dead letters are replayed per call; call again for the rest. */
export const REPLAY_LIMIT = 500;

export async function replayDeadLetters(env: RuntimeEnv, compiled: CompiledManifest, selection: ReplaySelection, emit: Emit, nowMs = Date.now()): Promise<ReplayResult> {
  if (!selection.seq?.length && !selection.integration && !selection.all) throw new Error('select dead letters by seq, integration, or all');
  const rows = await store.openDeadLetters(env.DB, selection, REPLAY_LIMIT);
  const result: ReplayResult = { replayed: [], skipped: [] };
  const at = new Date(nowMs).toISOString();
  for (const row of rows) {
    const integration = row.stage === Stage.ingest ? compiled.integrations.get(row.integration) : compiled.sources.get(row.integration);
    if (!integration) {
      result.skipped.push({ seq: row.seq, integration: row.integration, reason: 'integration is not in this manifest' });
      continue;
    }
    const queue = env[integration.queue.binding] as Queue | undefined;
    const after: D1PreparedStatement[] = [store.markReplayed(env.DB, row.seq, at)];
    let message: Envelope | EffectsMessage;
    let eventId = row.event_id;
    try {
      if (!queue) throw new Error(`queue binding ${integration.queue.binding} is not bound`);
      if (row.stage === Stage.effect) {
        const effect = store.parseEffectLetterId(row.event_id);
        const reopened = await store.reopenStatement(env.DB, { integration: row.integration, ...effect }, at).run();
        if (!reopened.meta.changes) throw new Error('the effect is no longer dead-lettered');
        message = { effects: { integration: row.integration, id: effect.id } };
        eventId = effect.id;
      } else if (row.stage === Stage.consumer) {
        const envelope = JSON.parse(row.envelope ?? 'null') as Envelope;
        if (!envelope || typeof envelope.id !== 'string') throw new Error('the stored envelope is not readable');
        if (envelope.payload_ref) {
          // Too large to travel inline: the consumer reads the body from the event log, where retention may have
          // pruned it. The letter keeps it whole; put it back.
          message = { ...envelope, payload: null };
          if (row.raw_body !== null && !row.raw_body.startsWith('base64:')) await store.restoreBody(env.DB, row.integration, envelope.id, row.raw_body).run();
        } else message = envelope;
        after.push(store.replayedStatement(env.DB, row.integration, eventId, at));
      } else {
        if (row.raw_body === null || row.raw_body.startsWith('base64:')) throw new Error('the body is not UTF-8 text');
        const headers = new Headers(Object.entries(JSON.parse(row.headers ?? '{}') as Record<string, string | null>).filter((e): e is [string, string] => e[1] !== null));
        const envelope = extractEnvelope(integration as CompiledIntegration, row.raw_body, headers, at);
        const claim = await store.claimStatement(env.DB, envelope, row.raw_body, crypto.randomUUID(), nowMs).first<ClaimResult>();
        if (!claim?.claimed) throw new Error(`event ${envelope.id} is already queued or applied`);
        message = messageFor({ ...envelope, seq: claim.seq }, row.raw_body);
        eventId = envelope.id;
        after.push(store.replayedStatement(env.DB, row.integration, eventId, at));
      }
      await queue.send(message, { contentType: 'json' });
    } catch (error) {
      result.skipped.push({ seq: row.seq, integration: row.integration, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    await env.DB.batch(after);
    emit({ kind: 'event.replayed', integration: row.integration, id: eventId, stage: row.stage });
    result.replayed.push({ seq: row.seq, integration: row.integration, event_id: eventId, stage: row.stage });
  }
  return result;
}

/**
 * Replays events selected by a query: each matching event that has not been applied is queued again from its
 * stored body (oldest first, up to REPLAY_LIMIT a call).
 */
export async function replayEvents(env: RuntimeEnv, compiled: CompiledManifest, query: EventQuery, emit: Emit, nowMs = Date.now()): Promise<ReplayResult> {
  const statuses = query.status ? [query.status] : store.REPLAYABLE_STATUSES;
  if (statuses.some((s) => !(store.REPLAYABLE_STATUSES as readonly string[]).includes(s))) {
    throw new Error(`only ${store.REPLAYABLE_STATUSES.join(', ')} events can be replayed; applied events are deduplicated (use rebuild)`);
  }
  const rows = await store.eventsToReplay(env.DB, query, statuses, REPLAY_LIMIT);
  const result: ReplayResult = { replayed: [], skipped: [] };
  const at = new Date(nowMs).toISOString();
  for (const row of rows) {
    const source = compiled.sources.get(row.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    try {
      if (!source || !queue) throw new Error('its integration or queue is not in this manifest');
      await queue.send(messageFor(store.storedEnvelope(row, parsePayload(source.format, row.body)), row.body), { contentType: 'json' });
    } catch (error) {
      result.skipped.push({ seq: 0, integration: row.integration, reason: `${row.id}: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    await store.replayedStatement(env.DB, row.integration, row.id, at).run();
    emit({ kind: 'event.replayed', integration: row.integration, id: row.id, stage: 'consumer' });
    result.replayed.push({ seq: 0, integration: row.integration, event_id: row.id, stage: 'event' });
  }
  return result;
}
