/**
 * Replay: dead letters back onto their queue. A consumer-stage letter is re-queued as it was (it was never
 * applied, so it applies once); an ingest-stage letter (verified, but not parseable or mappable then) is
 * extracted again with the current manifest and claimed like a new delivery. Each replay is recorded.
 */
import type { Envelope, RuntimeEnv } from './envelope.ts';
import { claimStatement, extractEnvelope, messageFor, parsePayload } from './ingest.ts';
import type { CompiledIntegration, CompiledManifest } from './manifest/compile.ts';
import type { Emit } from './telemetry.ts';

export interface ReplaySelection {
  seq?: number[];
  integration?: string;
  all?: boolean;
}

export interface ReplayResult {
  replayed: { seq: number; integration: string; event_id: string; stage: string }[];
  skipped: { seq: number; integration: string; reason: string }[];
}

interface DeadLetterRow {
  seq: number;
  integration: string;
  stage: 'ingest' | 'consumer';
  event_id: string;
  envelope: string | null;
  raw_body: string | null;
  headers: string | null;
}

/** At most this many dead letters are replayed per call; call again for the rest. */
export const REPLAY_LIMIT = 500;

export async function replayDeadLetters(env: RuntimeEnv, compiled: CompiledManifest, selection: ReplaySelection, emit: Emit, nowMs = Date.now()): Promise<ReplayResult> {
  const where: string[] = ['replayed_at IS NULL'];
  const params: unknown[] = [];
  if (selection.seq?.length) {
    where.push(`seq IN (${selection.seq.map(() => '?').join(', ')})`);
    params.push(...selection.seq);
  }
  if (selection.integration) {
    where.push('integration = ?');
    params.push(selection.integration);
  }
  if (!selection.seq?.length && !selection.integration && !selection.all) throw new Error('select dead letters by seq, integration, or all');
  const rows = (
    await env.DB.prepare(`SELECT seq, integration, stage, event_id, envelope, raw_body, headers FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${REPLAY_LIMIT}`)
      .bind(...params)
      .all<DeadLetterRow>()
  ).results;

  const result: ReplayResult = { replayed: [], skipped: [] };
  const at = new Date(nowMs).toISOString();
  for (const row of rows) {
    const integration = row.stage === 'ingest' ? compiled.integrations.get(row.integration) : compiled.sources.get(row.integration);
    if (!integration) {
      result.skipped.push({ seq: row.seq, integration: row.integration, reason: 'integration is not in this manifest' });
      continue;
    }
    const queue = env[integration.queue.binding] as Queue | undefined;
    let message: Envelope;
    let eventId = row.event_id;
    try {
      if (row.stage === 'consumer') {
        message = JSON.parse(row.envelope ?? 'null') as Envelope;
        if (!message || typeof message.id !== 'string') throw new Error('the stored envelope is not readable');
      } else {
        if (row.raw_body === null || row.raw_body.startsWith('base64:')) throw new Error('the body is not UTF-8 text');
        const headers = new Headers(Object.entries(JSON.parse(row.headers ?? '{}') as Record<string, string | null>).filter((e): e is [string, string] => e[1] !== null));
        const envelope = extractEnvelope(integration as CompiledIntegration, row.raw_body, headers, at);
        const claim = await claimStatement(env.DB, envelope, row.raw_body, crypto.randomUUID(), nowMs).first<{ claimed: number }>();
        if (!claim?.claimed) throw new Error(`event ${envelope.id} is already queued or applied`);
        message = messageFor(envelope, row.raw_body);
        eventId = envelope.id;
      }
      if (!queue) throw new Error(`queue binding ${integration.queue.binding} is not bound`);
      await queue.send(message, { contentType: 'json' });
    } catch (error) {
      result.skipped.push({ seq: row.seq, integration: row.integration, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    await env.DB.batch([
      env.DB.prepare('UPDATE dead_letters SET replayed_at = ?2 WHERE seq = ?1').bind(row.seq, at),
      env.DB.prepare("UPDATE events SET status = 'replayed', updated_at = ?3 WHERE integration = ?1 AND id = ?2").bind(row.integration, eventId, at),
    ]);
    emit({ kind: 'event.replayed', integration: row.integration, id: eventId, stage: row.stage });
    result.replayed.push({ seq: row.seq, integration: row.integration, event_id: eventId, stage: row.stage });
  }
  return result;
}

export interface EventQuery {
  integration?: string;
  type?: string;
  status?: string;
  since?: string;
  until?: string;
}

/** Statuses an event can be replayed from by query; applied events would only be deduplicated (use rebuild). */
export const REPLAYABLE_STATUSES = ['queued', 'failed', 'dead_lettered', 'replayed'];

/**
 * Replays events selected by a query: each matching event that has not been applied is queued again from its
 * stored body (oldest first, up to REPLAY_LIMIT a call).
 */
export async function replayEvents(env: RuntimeEnv, compiled: CompiledManifest, query: EventQuery, emit: Emit, nowMs = Date.now()): Promise<ReplayResult> {
  const statuses = query.status ? [query.status] : REPLAYABLE_STATUSES;
  if (statuses.some((s) => !REPLAYABLE_STATUSES.includes(s))) throw new Error(`only ${REPLAYABLE_STATUSES.join(', ')} events can be replayed; applied events are deduplicated (use rebuild)`);
  const rows = (
    await env.DB.prepare(
      `SELECT integration, id, type, occurred_at, received_at, body FROM events
       WHERE status IN (${statuses.map((_, i) => `?${i + 6}`).join(', ')}) AND (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR type = ?2)
         AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4) AND body IS NOT NULL AND ?5 IS NULL
       ORDER BY received_at LIMIT ${REPLAY_LIMIT}`,
    )
      .bind(query.integration ?? null, query.type ?? null, query.since ?? null, query.until ?? null, null, ...statuses)
      .all<{ integration: string; id: string; type: string; occurred_at: string | null; received_at: string; body: string }>()
  ).results;
  const result: ReplayResult = { replayed: [], skipped: [] };
  const at = new Date(nowMs).toISOString();
  for (const row of rows) {
    const source = compiled.sources.get(row.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    try {
      if (!source || !queue) throw new Error('its integration or queue is not in this manifest');
      const payload = parsePayload(source.format, row.body);
      const envelope: Envelope = { integration: row.integration, id: row.id, type: row.type, occurred_at: row.occurred_at, received_at: row.received_at, payload };
      await queue.send(messageFor(envelope, row.body), { contentType: 'json' });
    } catch (error) {
      result.skipped.push({ seq: 0, integration: row.integration, reason: `${row.id}: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    await env.DB.prepare("UPDATE events SET status = 'replayed', updated_at = ?3 WHERE integration = ?1 AND id = ?2").bind(row.integration, row.id, at).run();
    emit({ kind: 'event.replayed', integration: row.integration, id: row.id, stage: 'consumer' });
    result.replayed.push({ seq: 0, integration: row.integration, event_id: row.id, stage: 'event' });
  }
  return result;
}
