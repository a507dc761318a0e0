/**
 * Typed telemetry events, one JSON object per log line, so Workers Logs, the event log and a dashboard read
 * the same records. Never put secret values, tokens or request bodies in an event; free text (errors from providers,
 * mapping problems) is redacted on its way to the log all the same (`loggable`).
 */
import type { EventStatus, Stage } from '../store/status.ts';

export type TelemetryEvent =
  | { kind: 'webhook.accepted'; integration: string; id: string; type: string; stored_payload: boolean }
  | { kind: 'backfill.batch'; integration: string; origin: string; events: number; counts: Record<string, number> }
  | { kind: 'webhook.duplicate'; integration: string; id: string; deliveries: number }
  | { kind: 'webhook.in_flight'; integration: string; id: string }
  /** A provider's ownership handshake, answered in the request; never queued or written to the event log. */
  | { kind: 'webhook.handshake'; integration: string; status: number }
  | { kind: 'handshake.armed'; integration: string; until: string; actor: string }
  | { kind: 'handshake.forgotten'; integration: string; actor: string }
  | { kind: 'webhook.replay_refused'; integration: string; id: string }
  | { kind: 'webhook.rejected'; integration: string; reason: string; detail?: string }
  | { kind: 'webhook.enqueue_failed'; integration: string; id: string; error: string }
  | { kind: 'webhook.dead_lettered'; integration: string; id: string; stage: Stage; reason: string }
  | { kind: 'event.applied'; integration: string; id: string; type: string; statements: number; outbox: number; attempts: number }
  | { kind: 'event.duplicate'; integration: string; id: string }
  | { kind: 'event.retry'; integration: string; id: string; attempt: number; max_attempts: number; delay_seconds: number; error: string }
  | { kind: 'event.ignored' | 'event.skipped'; integration: string; id: string; type: string }
  | { kind: 'event.stuck'; integration: string; id: string; status: string; action: 'requeued' | typeof EventStatus.dead_lettered; requeues: number }
  | { kind: 'effect.sent'; integration: string; id: string; step: string; action: string; attempts: number; note?: string }
  | { kind: 'effect.retry'; integration: string; id: string; step: string; action: string; attempt: number; max_attempts: number; next_at: string; error: string }
  | { kind: 'effect.dead_lettered'; integration: string; id: string; step: string; action: string; attempts: number; error: string }
  | { kind: 'effect.scheduled'; integration: string; id: string; delay_seconds: number }
  | { kind: 'consumer.batch_fallback'; messages: number; error: string }
  | { kind: 'limit.warned' | 'limit.exceeded'; limit: string; key: string; used: number; max: number; percent: number; period_start: string }
  | { kind: 'limit.dropped'; limit: string; key: string; integration: string; id: string }
  | { kind: 'limit.deferred'; integration: string; id: string; delay_seconds: number; until: string }
  | { kind: 'event.replayed'; integration: string; id: string; stage: Stage }
  | { kind: 'auth.rejected'; where: string; reason: string }
  | { kind: 'command.accepted'; command: string; id: string; via: 'http' | 'rpc'; status: string }
  | { kind: 'command.replayed'; command: string; id: string; via: 'http' | 'rpc' }
  | { kind: 'command.rejected'; command: string; via: 'http' | 'rpc'; reason: string }
  | { kind: 'command.failed'; command: string; id: string; via: 'http' | 'rpc'; error: string }
  /** A route's request analytics could not be queued: the request itself was answered as usual. */
  | { kind: 'analytics.send_failed'; route: string; to: string; error: string }
  | { kind: 'analytics.dropped'; route: string; to: string; reason: 'limit_reached' }
  | { kind: 'alert.fired' | 'alert.resolved'; alert: string; value: number }
  | { kind: 'retention.pruned'; payloads: number; events: number; dead_letters: number; refusals: number }
  /** No secret of the verifier's list is set: its webhooks answer 500. `variables` when the list names several. */
  | { kind: 'secret.missing'; integration: string; variable: string; variables?: string[] }
  /** A name of a rotation list is not set; the integration verifies with the others. Logged once per isolate. */
  | { kind: 'secret.unset'; integration: string; variable: string; verifying_with: string[] }
  | { kind: 'runtime.error'; where: string; error: string }
  | { kind: 'manifest.compile_failed'; environment: string; problems: string[] };

export type Emit = (event: TelemetryEvent) => void;

// What in free text may be a value from an event, a provider's answer or a request: quoted strings (JSON values
// echoed back), e-mail addresses, IP addresses, phone numbers, bearer credentials and long token-like words.
const VALUE_PATTERNS: [RegExp, string][] = [
  [/"(?:[^"\\]|\\.)*"/g, '"…"'],
  [/'[^'\n]*'/g, "'…'"],
  [/[^\s"'<>(),;:]+@[^\s"'<>(),;:]+\.[A-Za-z]{2,}/g, '[email]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '[ip]'],
  [/\b(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}\b|\b[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4})*::[0-9A-Fa-f:]*/g, '[ip]'],
  [/\+?\d[\d ()-]{7,}\d/g, '[number]'],
  [/\b(Bearer|Basic)\s+\S+/gi, '$1 [credential]'],
  [/\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}\b/g, '[token]'],
];

/**
 * Free text from an error (a provider's answer, a mapping problem) with anything that may be a value replaced:
 * logs say what went wrong and where, never the data it went wrong on.
 */
export function redact(text: string): string {
  return VALUE_PATTERNS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** A short stable pseudonym for a limit key (a recipient, an IP), so log lines can be correlated without it. */
function pseudonym(value: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return `#${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** The event as it is written to the log: free-text fields redacted, limit keys pseudonymised. */
export function loggable(event: TelemetryEvent): TelemetryEvent {
  const fields = event as Record<string, unknown>;
  const limitKey = 'key' in event && event.kind.startsWith('limit.');
  // Most events carry no free text: logged as they are, without a copy.
  if (typeof fields.error !== 'string' && typeof fields.detail !== 'string' && event.kind !== 'webhook.dead_lettered' && !limitKey) return event;
  const out = { ...event } as Record<string, unknown>;
  for (const field of ['error', 'detail'] as const) if (typeof out[field] === 'string') out[field] = redact(out[field] as string);
  if (event.kind === 'webhook.dead_lettered') out.reason = redact(event.reason);
  if (limitKey) out.key = pseudonym((event as { key: string }).key);
  return out as TelemetryEvent;
}

/** The kinds that are errors: written at error level, so they stand out in `wrangler tail` and Workers Logs. */
const ERROR_KINDS = new Set<TelemetryEvent['kind']>(['secret.missing', 'runtime.error', 'manifest.compile_failed', 'webhook.enqueue_failed', 'webhook.dead_lettered', 'effect.dead_lettered', 'event.stuck', 'analytics.send_failed']);

/** The kinds that are warnings: something to fix that does not stop the work (written at warn level). */
const WARN_KINDS = new Set<TelemetryEvent['kind']>(['secret.unset']);

export const logLevel = (event: TelemetryEvent): 'error' | 'warn' | 'info' => (ERROR_KINDS.has(event.kind) ? 'error' : WARN_KINDS.has(event.kind) ? 'warn' : 'info');

/**
 * One event as its JSON log line (what logEmit writes; benchmarks serialize the same way to a no-op sink). The
 * level is in the line itself, so a reader never needs to know which stream it came from.
 */
export const logLine = (event: TelemetryEvent): string => JSON.stringify({ ts: timestamp(), level: logLevel(event), ...loggable(event) });

let lastMs = NaN;
let lastTs = '';
/** The current time as ISO text, formatted once per millisecond (a request's lines share it: Workers' clock stands still while it runs). */
function timestamp(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTs = new Date(ms).toISOString();
  }
  return lastTs;
}

/**
 * The Worker variable that sends error (and warning) lines to stdout as well. `wrangler dev` decorates what a Worker
 * writes with console.error (a red "✘ [ERROR]" prefix, ANSI colours and blank lines), so those lines stop being one
 * JSON object per line; `switchyard dev` sets it to `stdout`. Deployed, errors keep console.error (warnings
 * console.warn): Workers Logs and `wrangler tail` take the level from it.
 */
export const LOG_ERRORS_VAR = 'SWITCHYARD_LOG_ERRORS_TO';

let errorsToStdout = false;

/** Reads the logging variables of the isolate's env (once per isolate: the Worker entry calls it). */
export function configureLogs(env: Readonly<Record<string, unknown>>): void {
  errorsToStdout = env[LOG_ERRORS_VAR] === 'stdout';
}

/**
 * Writes one event as one JSON log line: errors on console.error and warnings on console.warn (unless configured
 * otherwise), the rest on console.log.
 */
export const logEmit: Emit = (event) => {
  const line = logLine(event);
  const level = logLevel(event);
  if (!errorsToStdout && level === 'error') console.error(line);
  else if (!errorsToStdout && level === 'warn') console.warn(line);
  else console.log(line);
};
