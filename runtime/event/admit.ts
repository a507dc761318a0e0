/**
 * Admission: a verified, extracted event handed to the pipeline, the same way for a webhook delivery (edge/ingest)
 * and a synthesised event (operations/backfill): applied in the request when it can be, else claimed in the event
 * log and queued.
 */
import type { Envelope, RuntimeEnv } from '../lib/envelope.ts';
import type { CompiledIntegration } from '../manifest/compile.ts';
import { decide } from '../manifest/decide.ts';
import type { PlatformUsage } from '../lib/platform.ts';
import type { Emit } from '../lib/telemetry.ts';
import {
  claimStatement,
  EventStatus,
  isSettled,
  recorded,
  releaseClaim,
  type ClaimResult,
  type EventOrigin,
  type SettledEventStatus,
} from '../store/index.ts';
import { messageFor } from './extract.ts';

/** How an event applied in the request goes on: its origin, its replay window, and where its delivery runs. */
export interface InRequestOptions {
  /** A synthesised event (backfill): kept on its row. */
  origin?: EventOrigin;
  /** The raw body's hash and the start of the replay window (an integration whose id comes from an unsigned header). */
  replay?: { bodyHash: string; since: string };
  /** Runs the delivery after the answer (`ctx.waitUntil`); without it the delivery is awaited before the answer. */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** What became of an event offered to the request path (see `applyInRequest`). */
export type InRequestOutcome = SettledEventStatus | 'recorded' | 'queue';

export interface IngestDeps {
  emit: Emit;
  now?: () => number;
  usage?: PlatformUsage;
  /** Records and applies an event in the request, in one transaction (the queue-free path); see EventSource.appliesInRequest. */
  applyInRequest?: (
    envelope: Envelope,
    text: string,
    env: RuntimeEnv,
    options?: InRequestOptions,
  ) => Promise<InRequestOutcome>;
  /** The request's `ctx.waitUntil`, for deliveries after the answer; absent (tests, backfill, the CLI) they are awaited. */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** What became of an event handed to the pipeline (see `admit`). */
export type Admission =
  | { status: SettledEventStatus }
  | { status: 'accepted' }
  | { status: 'duplicate'; reason?: 'same_body' }
  | { status: 'in_flight' }
  | { status: 'misconfigured' }
  | { status: 'unavailable' };

/**
 * Hands a verified, extracted event to the pipeline, as ingest does for every delivery: applied in the request when
 * its steps all commit in the event log's D1 (SQL, effects, outbox; sent after the answer), else claimed in the event
 * log (the dedup record) and queued. Used by ingest and by the
 * admin API's backfill endpoint (runtime/operations/backfill.ts), so a synthesised event takes exactly the same path. `origin`
 * marks a synthesised event in the log. `bodyHash` is the raw body's hash when the integration has a replay window.
 */
export async function admit(
  integration: CompiledIntegration,
  envelope: Envelope,
  text: string,
  env: RuntimeEnv,
  deps: IngestDeps,
  nowMs: number,
  bodyHash?: string,
  origin?: EventOrigin,
): Promise<Admission> {
  const { emit } = deps;
  const name = integration.name;
  const queue = env[integration.queue.binding] as Queue | undefined;
  if (!queue || typeof queue.send !== 'function') {
    emit({
      kind: 'runtime.error',
      where: `integrations.${name}.queue`,
      error: `queue binding ${integration.queue.binding} is not bound`,
    });
    return { status: 'misconfigured' };
  }

  // The one decision `plan --budget` prices too (runtime/manifest/decide.ts).
  const decision = decide(integration, envelope.type);
  const replay =
    decision.dedup === 'id+body window' && bodyHash
      ? { bodyHash, since: new Date(nowMs - integration.replayWindowMs!).toISOString() }
      : undefined;
  if (deps.applyInRequest && decision.path === 'direct') {
    // Record and apply it now, with its effects and outbox rows, in one transaction, answer after the commit, and
    // deliver after the answer. An event already in the log (or its body under another id) goes on to the claim
    // below, which answers the duplicate; one that cannot be applied here is queued.
    const outcome = await deps
      .applyInRequest(envelope, text, env, {
        ...(origin ? { origin } : {}),
        ...(replay ? { replay } : {}),
        ...(deps.waitUntil ? { waitUntil: deps.waitUntil } : {}),
      })
      .catch(() => 'queue' as const);
    if (isSettled(outcome)) {
      emit({
        kind: 'webhook.accepted',
        integration: name,
        id: envelope.id,
        type: envelope.type,
        stored_payload: false,
      });
      return { status: outcome };
    }
  }

  const token = crypto.randomUUID();
  const claimed = await claimStatement(env.DB, envelope, text, token, nowMs, replay, origin).all<ClaimResult>();
  deps.usage?.count('d1_rows_written', claimed.meta.rows_written ?? 0);
  const claim = claimed.results[0];
  if (!claim) {
    // Nothing written: either the event was processed already (a duplicate costs no write), or the same signed body
    // came under another id (headers the signature does not cover chose the id or type).
    const seen = await recorded(env.DB, name, envelope.id);
    if (!seen && replay) {
      emit({ kind: 'webhook.replay_refused', integration: name, id: envelope.id });
      return { status: 'duplicate', reason: 'same_body' };
    }
    emit({ kind: 'webhook.duplicate', integration: name, id: envelope.id, deliveries: seen?.deliveries ?? 0 });
    return { status: 'duplicate' };
  }
  if (!claim.claimed) {
    if (claim.status === EventStatus.queued) {
      emit({ kind: 'webhook.in_flight', integration: name, id: envelope.id });
      return { status: 'in_flight' };
    }
    emit({ kind: 'webhook.duplicate', integration: name, id: envelope.id, deliveries: claim.deliveries });
    return { status: 'duplicate' };
  }

  const message = messageFor({ ...envelope, seq: claim.seq }, text);
  try {
    await queue.send(message, { contentType: 'json' });
  } catch (error) {
    emit({
      kind: 'webhook.enqueue_failed',
      integration: name,
      id: envelope.id,
      error: error instanceof Error ? error.message : String(error),
    });
    await releaseClaim(env.DB, name, envelope.id, token).catch(() => undefined);
    return { status: 'unavailable' };
  }
  deps.usage?.count('queue_operations');
  emit({
    kind: 'webhook.accepted',
    integration: name,
    id: envelope.id,
    type: envelope.type,
    stored_payload: message.payload_ref !== undefined,
  });
  return { status: 'accepted' };
}
