/**
 * Typed telemetry events, one JSON object per log line, so Workers Logs, the event log and a dashboard read
 * the same records. Never put secret values, tokens or request bodies in an event; free text (errors from providers,
 * mapping problems) is redacted on its way to the log all the same (`loggable`). Each line carries the same
 * attribute names whatever its kind (`logRecord`): stage, outcome, integration, event_id, type, attempt, duration_ms
 * (docs/observability.md), so a filter in Workers Logs or an OTLP backend follows an event through every stage.
 */
import { EffectStatus, EventStatus, Stage } from '../store/status.ts';

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
  /** `in_request` when its state committed in the webhook's (or command's) request, not in the queue consumer. */
  | {
      kind: 'event.applied';
      integration: string;
      id: string;
      type: string;
      statements: number;
      outbox: number;
      attempts: number;
      in_request?: true;
      duration_ms?: number;
    }
  | { kind: 'event.duplicate'; integration: string; id: string }
  | {
      kind: 'event.retry';
      integration: string;
      id: string;
      attempt: number;
      max_attempts: number;
      delay_seconds: number;
      error: string;
    }
  | { kind: 'event.ignored' | 'event.skipped'; integration: string; id: string; type: string; in_request?: true }
  | {
      kind: 'event.stuck';
      integration: string;
      id: string;
      status: string;
      action: 'requeued' | typeof EventStatus.dead_lettered;
      requeues: number;
    }
  /** One attempt at an effect and how it ended; `duration_ms` is its provider call's (absent when none was made). */
  | {
      kind: 'effect.sent';
      integration: string;
      id: string;
      step: string;
      action: string;
      attempts: number;
      note?: string;
      duration_ms?: number;
    }
  | {
      kind: 'effect.retry';
      integration: string;
      id: string;
      step: string;
      action: string;
      attempt: number;
      max_attempts: number;
      next_at: string;
      error: string;
      duration_ms?: number;
    }
  | {
      kind: 'effect.dead_lettered';
      integration: string;
      id: string;
      step: string;
      action: string;
      attempts: number;
      error: string;
      duration_ms?: number;
    }
  | { kind: 'effect.scheduled'; integration: string; id: string; delay_seconds: number }
  | { kind: 'consumer.batch_fallback'; messages: number; error: string }
  | {
      kind: 'limit.warned' | 'limit.exceeded';
      limit: string;
      key: string;
      used: number;
      max: number;
      percent: number;
      period_start: string;
    }
  | { kind: 'limit.dropped'; limit: string; key: string; integration: string; id: string }
  | { kind: 'limit.deferred'; integration: string; id: string; delay_seconds: number; until: string }
  /** A dead letter queued again; `letter_stage` is the stage its letter came from. */
  | { kind: 'event.replayed'; integration: string; id: string; letter_stage: Stage }
  /** One cron run's sweep: what it queued again, dead-lettered as stuck, and the events whose effects it sent on. */
  | { kind: 'sweep.done'; requeued: number; dead_lettered: number; effects: number; duration_ms: number }
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
  if (
    typeof fields.error !== 'string' &&
    typeof fields.detail !== 'string' &&
    event.kind !== 'webhook.dead_lettered' &&
    !limitKey
  )
    return event;
  const out = { ...event } as Record<string, unknown>;
  for (const field of ['error', 'detail'] as const)
    if (typeof out[field] === 'string') out[field] = redact(out[field] as string);
  if (event.kind === 'webhook.dead_lettered') out.reason = redact(event.reason);
  if (limitKey) out.key = pseudonym((event as { key: string }).key);
  return out as TelemetryEvent;
}

/** The kinds that are errors: written at error level, so they stand out in `wrangler tail` and Workers Logs. */
const ERROR_KINDS = new Set<TelemetryEvent['kind']>([
  'secret.missing',
  'runtime.error',
  'manifest.compile_failed',
  'webhook.enqueue_failed',
  'webhook.dead_lettered',
  'effect.dead_lettered',
  'event.stuck',
  'analytics.send_failed',
]);

/** The kinds that are warnings: something to fix that does not stop the work (written at warn level). */
const WARN_KINDS = new Set<TelemetryEvent['kind']>(['secret.unset']);

export const logLevel = (event: TelemetryEvent): 'error' | 'warn' | 'info' =>
  ERROR_KINDS.has(event.kind) ? 'error' : WARN_KINDS.has(event.kind) ? 'warn' : 'info';

/**
 * Where in an event's life a record was written: the webhook's request (`ingest`), its state committed in that
 * request (`apply`), the queue `consumer`, one `effect` attempt, a `replay` of a dead letter, the cron's `sweep`;
 * and, for records about no one event, a `command`, a `route`, the `admin` API, the `cron`'s upkeep or the `runtime`
 * itself. `ingest`, `consumer` and `effect` are also the stages a dead letter names (store/status.ts `Stage`).
 */
export type LogStage = Stage | 'apply' | 'replay' | 'sweep' | 'command' | 'route' | 'admin' | 'cron' | 'runtime';

type Attributes = readonly [stage: LogStage, outcome: string];
type Kind = TelemetryEvent['kind'];
/** The event of a kind (also when its type member names several kinds). */
type EventOf<K extends Kind> = TelemetryEvent extends infer E
  ? E extends { kind: infer X }
    ? K extends X
      ? E
      : never
    : never
  : never;

/** Each kind's stage and outcome (a function where the event says which): one table, checked whole by the compiler (and against docs/observability.md by test/node/observability.test.ts). */
export const KIND_ATTRIBUTES: { [K in Kind]: Attributes | ((event: EventOf<K>) => Attributes) } = {
  'webhook.accepted': [Stage.ingest, 'accepted'],
  'backfill.batch': [Stage.ingest, 'accepted'],
  'webhook.duplicate': [Stage.ingest, 'duplicate'],
  'webhook.in_flight': [Stage.ingest, 'in_flight'],
  'webhook.handshake': [Stage.ingest, 'answered'],
  'handshake.armed': ['admin', 'armed'],
  'handshake.forgotten': ['admin', 'forgotten'],
  'webhook.replay_refused': [Stage.ingest, 'refused'],
  'webhook.rejected': [Stage.ingest, 'refused'],
  'webhook.enqueue_failed': [Stage.ingest, 'failed'],
  'webhook.dead_lettered': (e) => [e.stage, EventStatus.dead_lettered],
  'event.applied': (e) => [e.in_request ? 'apply' : Stage.consumer, EventStatus.applied],
  'event.duplicate': [Stage.consumer, 'duplicate'],
  'event.retry': [Stage.consumer, EventStatus.retrying],
  'event.ignored': (e) => [e.in_request ? 'apply' : Stage.consumer, EventStatus.ignored],
  'event.skipped': (e) => [e.in_request ? 'apply' : Stage.consumer, EventStatus.skipped],
  'event.stuck': (e) => ['sweep', e.action],
  'effect.sent': [Stage.effect, EffectStatus.sent],
  'effect.retry': [Stage.effect, EffectStatus.retrying],
  'effect.dead_lettered': [Stage.effect, EffectStatus.dead_lettered],
  'effect.scheduled': [Stage.effect, 'scheduled'],
  'consumer.batch_fallback': [Stage.consumer, 'failed'],
  'limit.warned': [Stage.effect, 'warned'],
  'limit.exceeded': [Stage.effect, 'exceeded'],
  'limit.dropped': [Stage.effect, EffectStatus.dropped],
  'limit.deferred': [Stage.effect, EffectStatus.deferred],
  'event.replayed': ['replay', EventStatus.replayed],
  'sweep.done': ['sweep', 'swept'],
  'auth.rejected': ['route', 'refused'],
  'command.accepted': ['command', 'accepted'],
  'command.replayed': ['command', 'duplicate'],
  'command.rejected': ['command', 'refused'],
  'command.failed': ['command', 'failed'],
  'analytics.send_failed': ['route', 'failed'],
  'analytics.dropped': ['route', 'dropped'],
  'alert.fired': ['cron', 'fired'],
  'alert.resolved': ['cron', 'resolved'],
  'retention.pruned': ['cron', 'pruned'],
  'secret.missing': [Stage.ingest, 'misconfigured'],
  'secret.unset': [Stage.ingest, 'degraded'],
  'runtime.error': ['runtime', 'failed'],
  'manifest.compile_failed': ['runtime', 'failed'],
};

/** The stage and the outcome of one event's record. */
export function attributesOf(event: TelemetryEvent): Attributes {
  const entry = KIND_ATTRIBUTES[event.kind] as Attributes | ((e: TelemetryEvent) => Attributes);
  return typeof entry === 'function' ? entry(event) : entry;
}

/**
 * One event as the record its log line holds: `ts`, `level`, `kind`, `stage` and `outcome` first, then the event's
 * own fields, with the names every kind shares: `event_id` (the event's `id`), `attempt` (an `attempts` count: the
 * attempt this record is about). Free text redacted (`loggable`). Built once per line, with no copy beyond it.
 */
export function logRecord(event: TelemetryEvent): Record<string, unknown> {
  const [stage, outcome] = attributesOf(event);
  const {
    kind,
    id,
    attempts,
    stage: _stage,
    ...fields
  } = loggable(event) as TelemetryEvent & {
    id?: string;
    attempts?: number;
    stage?: string;
    integration?: string;
    type?: string;
    attempt?: number;
  };
  // Shared names first (JSON.stringify leaves out those that are undefined); the spread keeps their places.
  return {
    ts: timestamp(),
    level: logLevel(event),
    kind,
    stage,
    outcome,
    integration: fields.integration,
    event_id: id,
    type: fields.type,
    attempt: attempts ?? fields.attempt,
    ...fields,
  };
}

/**
 * One event as its JSON log line (what logEmit writes; benchmarks serialize the same way to a no-op sink). The
 * level is in the line itself, so a reader never needs to know which stream it came from.
 */
export const logLine = (event: TelemetryEvent): string => JSON.stringify(logRecord(event));

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
