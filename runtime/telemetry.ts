/**
 * Typed telemetry events, one JSON object per log line, so Workers Logs, the event log and a dashboard read
 * the same records. Never put secret values, tokens or request bodies in an event.
 */
import type { VerificationReason } from './adapter.ts';

export type TelemetryEvent =
  | { kind: 'webhook.accepted'; integration: string; id: string; type: string; stored_payload: boolean }
  | { kind: 'webhook.duplicate'; integration: string; id: string; deliveries: number }
  | { kind: 'webhook.in_flight'; integration: string; id: string }
  | { kind: 'webhook.replay_refused'; integration: string; id: string }
  | { kind: 'webhook.rejected'; integration: string; reason: VerificationReason | 'payload_too_large' | 'malformed_body' | 'unmappable_event' | 'method_not_allowed'; detail?: string }
  | { kind: 'webhook.enqueue_failed'; integration: string; id: string; error: string }
  | { kind: 'webhook.dead_lettered'; integration: string; id: string; stage: 'ingest' | 'consumer'; reason: string }
  | { kind: 'event.applied'; integration: string; id: string; type: string; statements: number; outbox: number; attempts: number }
  | { kind: 'event.duplicate'; integration: string; id: string }
  | { kind: 'event.retry'; integration: string; id: string; attempt: number; delay_seconds: number; error: string }
  | { kind: 'consumer.batch_fallback'; messages: number; error: string }
  | { kind: 'limit.warned' | 'limit.exceeded'; limit: string; key: string; used: number; max: number; period_start: string }
  | { kind: 'limit.dropped'; limit: string; key: string; integration: string; id: string }
  | { kind: 'limit.deferred'; integration: string; id: string; delay_seconds: number; until: string }
  | { kind: 'event.replayed'; integration: string; id: string; stage: 'ingest' | 'consumer' }
  | { kind: 'auth.rejected'; where: string; reason: string }
  | { kind: 'alert.fired' | 'alert.resolved'; alert: string; value: number }
  | { kind: 'retention.pruned'; payloads: number; events: number; dead_letters: number; applied_messages: number; action_ledger: number }
  | { kind: 'secret.missing'; integration: string; variable: string }
  | { kind: 'runtime.error'; where: string; error: string }
  | { kind: 'manifest.compile_failed'; environment: string; problems: string[] };

export type Emit = (event: TelemetryEvent) => void;

/** Writes one event as a JSON log line; errors go to console.error so they stand out in `wrangler tail`. */
export const logEmit: Emit = (event) => {
  const line = JSON.stringify({ ts: new Date().toISOString(), ...event });
  if (event.kind === 'secret.missing' || event.kind === 'runtime.error' || event.kind === 'manifest.compile_failed' || event.kind === 'webhook.enqueue_failed' || event.kind === 'webhook.dead_lettered') {
    console.error(line);
  } else console.log(line);
};
