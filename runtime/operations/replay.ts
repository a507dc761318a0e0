/**
 * Replay: dead letters back onto their queue. A consumer-stage letter is re-queued as it was (it was never
 * applied, so it applies once); an effect-stage letter makes its effect due again with a fresh set of attempts;
 * an ingest-stage letter (verified, but not parseable or mappable then) is extracted again with the current
 * manifest and claimed like a new delivery. Each replay is recorded.
 */
import { sha256, toHex } from '../lib/bytes.ts';
import { isEffectsMessage, type Envelope, type EffectsMessage, type RuntimeEnv } from '../lib/envelope.ts';
import { extractEnvelope, messageFor, parsePayload } from '../event/extract.ts';
import type { CompiledIntegration, CompiledManifest } from '../manifest/compile.ts';
import * as store from '../store/index.ts';
import { Stage, type ClaimResult, type EventQuery } from '../store/index.ts';
import type { Emit } from '../lib/telemetry.ts';

export { REPLAYABLE_STATUSES, type EventQuery } from '../store/index.ts';

export interface ReplaySelection {
  seq?: number[];
  integration?: string;
  all?: boolean;
  /** Only say what would be replayed (a preview): nothing is sent or changed. */
  dry_run?: boolean;
}

/** What a replay would do: the open letters it selects, counted by integration and stage. */
export interface ReplayPreview {
  dry_run: true;
  count: number;
  /** More letters are open than one call replays: the preview shows the first REPLAY_LIMIT. */
  truncated: boolean;
  integrations: Record<string, number>;
  stages: Record<string, number>;
  letters: { seq: number; integration: string; stage: string; event_id: string; reason: string }[];
  skipped: ReplayResult['skipped'];
}

export interface ReplayResult {
  replayed: { seq: number; integration: string; event_id: string; stage: string }[];
  skipped: { seq: number; integration: string; reason: string }[];
}

/** At most this many dead letters are replayed per call; call again for the rest. */
export const REPLAY_LIMIT = 500;

export async function replayDeadLetters(
  env: RuntimeEnv,
  compiled: CompiledManifest,
  selection: ReplaySelection,
  emit: Emit,
  nowMs = Date.now(),
): Promise<ReplayResult> {
  if (!selection.seq?.length && !selection.integration && !selection.all)
    throw new Error('select dead letters by seq, integration, or all');
  const rows = await store.openDeadLetters(env.DB, selection, REPLAY_LIMIT);
  const result: ReplayResult = { replayed: [], skipped: await notOpen(env.DB, selection, rows) };
  const at = new Date(nowMs).toISOString();
  for (const row of rows) {
    const integration =
      row.stage === Stage.ingest ? compiled.integrations.get(row.integration) : compiled.sources.get(row.integration);
    if (!integration) {
      result.skipped.push({
        seq: row.seq,
        integration: row.integration,
        reason: 'integration is not in this manifest',
      });
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
        // An effect that could not be built is built again from its event's body: put it back where retention pruned it.
        const unbuilt = (JSON.parse(row.envelope ?? '{}') as { payload?: unknown }).payload === null;
        if (unbuilt && row.raw_body !== null && !row.raw_body.startsWith('base64:'))
          await store.restoreBody(env.DB, row.integration, effect.id, row.raw_body).run();
        message = { effects: { integration: row.integration, id: effect.id } };
        eventId = effect.id;
      } else if (row.stage === Stage.consumer && isEffectsMessage(JSON.parse(row.envelope ?? 'null'))) {
        // An applied event's delivery (its outbox, its effects message) was given up on: the same message again
        // delivers what is still unsent; the event stays applied.
        message = JSON.parse(row.envelope!) as EffectsMessage;
        eventId = message.effects.id;
      } else if (row.stage === Stage.consumer) {
        const envelope = JSON.parse(row.envelope ?? 'null') as Envelope;
        if (!envelope || typeof envelope.id !== 'string') throw new Error('the stored envelope is not readable');
        if (envelope.payload_ref) {
          // Too large to travel inline: the consumer reads the body from the event log, where retention may have
          // pruned it. The letter keeps it whole; put it back.
          message = { ...envelope, payload: null };
          if (row.raw_body !== null && !row.raw_body.startsWith('base64:'))
            await store.restoreBody(env.DB, row.integration, envelope.id, row.raw_body).run();
        } else message = envelope;
        after.push(store.replayedStatement(env.DB, row.integration, eventId, at));
      } else {
        if (row.raw_body === null || row.raw_body.startsWith('base64:')) throw new Error('the body is not UTF-8 text');
        const headers = new Headers(
          Object.entries(JSON.parse(row.headers ?? '{}') as Record<string, string | null>).filter(
            (e): e is [string, string] => e[1] !== null,
          ),
        );
        const compiled = integration as CompiledIntegration;
        const envelope = extractEnvelope(
          compiled,
          row.raw_body,
          headers,
          at,
          compiled.hashesBody ? toHex(await sha256(row.raw_body)) : undefined,
        );
        const claim = await store
          .claimStatement(env.DB, envelope, row.raw_body, crypto.randomUUID(), nowMs)
          .first<ClaimResult>();
        if (!claim?.claimed) throw new Error(`event ${envelope.id} is already queued or applied`);
        message = messageFor({ ...envelope, seq: claim.seq }, row.raw_body);
        eventId = envelope.id;
        after.push(store.replayedStatement(env.DB, row.integration, eventId, at));
      }
      await queue.send(message, { contentType: 'json' });
    } catch (error) {
      result.skipped.push({
        seq: row.seq,
        integration: row.integration,
        reason: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    await env.DB.batch(after);
    emit({ kind: 'event.replayed', integration: row.integration, id: eventId, letter_stage: row.stage });
    result.replayed.push({ seq: row.seq, integration: row.integration, event_id: eventId, stage: row.stage });
  }
  return result;
}

/** Letters asked for by seq that are not open: each skipped with why (replayed, dismissed, or no such letter). */
async function notOpen(
  db: D1Database,
  selection: ReplaySelection,
  open: readonly { seq: number }[],
): Promise<ReplayResult['skipped']> {
  const found = new Set(open.map((r) => r.seq));
  const missing = (selection.seq ?? []).filter((seq) => !found.has(seq));
  if (!missing.length) return [];
  const reasons = await store.closedDeadLetters(db, missing);
  return missing.map((seq) => {
    const { integration, reason } = reasons.get(seq)!;
    return { seq, integration, reason: reason === 'open' ? 'not in the selection (another integration)' : reason };
  });
}

/** What replayDeadLetters would do with this selection, changing nothing. */
export async function previewDeadLetters(env: RuntimeEnv, selection: ReplaySelection): Promise<ReplayPreview> {
  const rows = await store.openDeadLetters(env.DB, selection, REPLAY_LIMIT + 1);
  const letters = rows
    .slice(0, REPLAY_LIMIT)
    .map(({ seq, integration, stage, event_id, reason }) => ({ seq, integration, stage, event_id, reason }));
  const tally = (key: 'integration' | 'stage') => {
    const counts: Record<string, number> = {};
    for (const l of letters) counts[l[key]] = (counts[l[key]] ?? 0) + 1;
    return counts;
  };
  return {
    dry_run: true,
    count: letters.length,
    truncated: rows.length > REPLAY_LIMIT,
    integrations: tally('integration'),
    stages: tally('stage'),
    letters,
    skipped: await notOpen(env.DB, selection, rows),
  };
}

/**
 * Replays events selected by a query: each matching event that has not been applied is queued again from its
 * stored body (oldest first, up to REPLAY_LIMIT a call).
 */
export async function replayEvents(
  env: RuntimeEnv,
  compiled: CompiledManifest,
  query: EventQuery,
  emit: Emit,
  nowMs = Date.now(),
): Promise<ReplayResult> {
  const statuses = query.status ? [query.status] : store.REPLAYABLE_STATUSES;
  if (statuses.some((s) => !(store.REPLAYABLE_STATUSES as readonly string[]).includes(s))) {
    throw new Error(
      `only ${store.REPLAYABLE_STATUSES.join(', ')} events can be replayed; applied events are deduplicated (use rebuild)`,
    );
  }
  if (
    query.id !== undefined &&
    (typeof query.id !== 'string' || typeof query.integration !== 'string' || !query.integration)
  )
    throw new Error('replay one event with {"integration": "..", "id": ".."}');
  const rows = await store.eventsToReplay(env.DB, query, statuses, REPLAY_LIMIT);
  const result: ReplayResult = { replayed: [], skipped: [] };
  if (query.id !== undefined && !rows.length)
    result.skipped.push({
      seq: 0,
      integration: query.integration!,
      reason: await whyNotReplayable(env.DB, query.integration!, query.id),
    });
  const at = new Date(nowMs).toISOString();
  for (const row of rows) {
    const source = compiled.sources.get(row.integration);
    const queue = source ? (env[source.queue.binding] as Queue | undefined) : undefined;
    try {
      if (!source || !queue) throw new Error('its integration or queue is not in this manifest');
      await queue.send(messageFor(store.storedEnvelope(row, parsePayload(source.format, row.body)), row.body), {
        contentType: 'json',
      });
    } catch (error) {
      result.skipped.push({
        seq: 0,
        integration: row.integration,
        reason: `${row.id}: ${error instanceof Error ? error.message : String(error)}`,
      });
      continue;
    }
    await store.replayedStatement(env.DB, row.integration, row.id, at).run();
    emit({ kind: 'event.replayed', integration: row.integration, id: row.id, letter_stage: Stage.consumer });
    result.replayed.push({ seq: 0, integration: row.integration, event_id: row.id, stage: 'event' });
  }
  return result;
}

/** The conditions that skipped an event's steps, from its row's steps JSON (each once). */
export function decidedBy(steps: string | null): string {
  let list: { skipped?: unknown }[] = [];
  try {
    list = steps ? (JSON.parse(steps) as { skipped?: unknown }[]) : [];
  } catch {
    list = [];
  }
  const why = [...new Set(list.flatMap((s) => (typeof s?.skipped === 'string' ? [s.skipped] : [])))];
  return why.length ? why.join('; ') : 'no step ran';
}

/** Why one event cannot be replayed from the log: absent, done already (use rebuild), or its body pruned. */
async function whyNotReplayable(db: D1Database, integration: string, id: string): Promise<string> {
  const event = await store.eventDetail(db, integration, id);
  if (!event) return `no event ${integration}/${id}`;
  if (event.body === null) return `${id}: its body was pruned by retention`;
  if (event.status === store.EventStatus.skipped)
    return `${id} is skipped (${decidedBy(event.steps)}): its conditions decided, and a settled event is deduplicated (change the manifest, then rebuild)`;
  if (!(store.REPLAYABLE_STATUSES as readonly unknown[]).includes(event.status))
    return `${id} is ${String(event.status)}: applied events are deduplicated (use rebuild); replay its dead letters instead`;
  return `${id}: not replayable`;
}
