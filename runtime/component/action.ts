/**
 * Outbound actions: the contract between the consumer and action adapters (email, SMS, analytics, HTTP).
 * An action step prepares one item per event while the steps run; the consumer then sends items grouped per
 * action across the whole batch (so 250 emails make 3 Resend batch calls), after the send ledger and the limits
 * have had their say, and commits each success's log statements with its message.
 */
import type { SecretEnv, Statement, StepContext } from './context.ts';
import type { CompiledTemplate } from '../language/templates.ts';
import { sha256, toHex } from '../lib/bytes.ts';
import { RedirectRefused } from '../lib/redirects.ts';

/** A provider refused or failed. Transient errors are retried (after Retry-After if it says so); others dead-letter. */
export class ActionError extends Error {
  override name = 'ActionError';
  readonly transient: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly status: number | undefined;
  /** The provider's own error code from its answer (`error.code`, `code`, …), safe to show a caller. */
  readonly code: string | undefined;
  constructor(
    message: string,
    options: { transient: boolean; retryAfterSeconds?: number; status?: number; code?: string },
  ) {
    super(message);
    this.transient = options.transient;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.status = options.status;
    this.code = options.code;
  }
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^[0-9]+$/.test(text)) return Number(text);
  // An HTTP date starts with a day name; anything numeric that is not delay-seconds is unreadable, not a date.
  if (/^[-+.0-9]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** A provider's answer worth another try: 408, 429 and 5xx; any other 4xx is permanent. */
export const transientStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * Classifies a provider's non-2xx answer: by default 408, 429 and 5xx are transient (Retry-After honoured), any
 * other 4xx is permanent; an action whose destination decides otherwise passes its own `transient`. The provider's
 * message is kept (truncated); request secrets never are.
 */
export async function providerError(
  provider: string,
  res: Response,
  nowMs: number,
  redact: (text: string) => string = (t) => t,
  transient: (status: number) => boolean = transientStatus,
): Promise<ActionError> {
  const text = await res.text().catch(() => '');
  const detail = redact(text).slice(0, 300);
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'), nowMs);
  const code = errorCode(text);
  return new ActionError(`${provider} answered ${res.status}${detail ? `: ${detail}` : ''}`, {
    transient: transient(res.status),
    status: res.status,
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    ...(code ? { code: redact(code) } : {}),
  });
}

/**
 * A provider's error code from its JSON answer, in the shapes APIs use: `{ error: { code | type } }` (Stripe,
 * Paddle), `{ code }`, `{ error: "…" }` (a short identifier only). Undefined when there is none.
 */
export function errorCode(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { error?: unknown; code?: unknown };
  const nested = b.error && typeof b.error === 'object' ? (b.error as { code?: unknown; type?: unknown }) : undefined;
  const found = [nested?.code, nested?.type, b.code, b.error].find(
    (v) =>
      (typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v)) || (typeof v === 'number' && Number.isInteger(v)),
  );
  return found === undefined ? undefined : String(found);
}

/** What an action can use when it sends. */
export interface ActionIO {
  env: SecretEnv;
  fetch: typeof fetch;
  kv?: KVNamespace;
  now: number;
  /** Counts the runtime's own platform usage (KV writes). */
  count?: (metric: import('../lib/platform.ts').PlatformMetric, n?: number) => void;
}

/**
 * How one item's send ended. `problem`: the provider answered 2xx (it acted) but not as documented (no id, not
 * JSON): the send counts as made, and the effect keeps this note instead of being retried into a second send.
 */
export type ActionOutcome = { ok: true; result: unknown; problem?: string } | { ok: false; error: ActionError };

/** One prepared send: an idempotency key (event + step) and the provider-ready payload. */
export interface ActionItem {
  key: string;
  payload: unknown;
  /** Which attempt this is (1 the first). */
  attempt?: number;
  /** The event as the log keeps it, for an action that `readsEvent` (read when it is sent, never copied into the effect). */
  event?: SentEvent;
}

/** Where an event came from, as a forwarded delivery names it. */
export type DeliveryOrigin = 'webhook' | 'backfill' | 'repair' | 'replay';

/** What the event log holds of an event an action forwards: its raw body (null once pruned) and its origin. */
export interface SentEvent {
  body: string | null;
  origin: DeliveryOrigin;
}

/** A batch call whose items share one idempotency key: the key, recorded on its members before the call. */
export interface SharedBatch {
  key: string;
}

export interface CompiledAction {
  type: string;
  /** Items sent together in one provider call, at most. */
  maxBatch: number;
  /** Builds the payload for one event; throws MappingError when the event lacks a value. */
  prepare(ctx: StepContext): unknown;
  /**
   * The provider's batch call carries ONE idempotency key for all its items (Resend's /emails/batch), not one per
   * item. The consumer then records each batch on its members before the call and passes `batch`; a member whose
   * outcome is unknown is retried by re-sending that same batch under that key, and a batch refused outright (a
   * 4xx other than 409: nothing was performed) is forgotten and its members go alone, each under its own key.
   */
  sharedBatchKey?: boolean;
  /**
   * Sends items (at most maxBatch); one outcome per item, in order. With `sharedBatchKey`, several items come
   * with `batch` (send them in one call under `batch.key`); without it, each goes under its own key.
   */
  send(items: ActionItem[], io: ActionIO, batch?: SharedBatch): Promise<ActionOutcome[]>;
  /** What a synchronous command maps its result from, given what `send` returned (default: that itself). */
  response?(result: unknown): unknown;
  /** Who a prepared payload goes to (an SMS's number, an email's address), for limits counted per recipient. */
  recipient?(payload: unknown): string | undefined;
  /**
   * What a stored payload sends, in a few labelled lines for a person (an email's recipient, subject and template; a
   * request's method and URL): the console shows it for a failed effect. Secrets are named, never valued (the admin
   * API redacts whatever else looks like one). Without it the console lists the payload's top-level values.
   */
  describe?(payload: unknown): Record<string, string>;
  /** Statements that log a successful send (email_logs, sms_logs), committed with the message. */
  logStatements?(item: ActionItem, result: unknown, at: string): Statement[];
  /**
   * It sends the event itself (a forward): each item comes with `event`, the raw body and origin read from the event
   * log when it is sent (one row read per event), so the body is stored once, in the log.
   */
  readsEvent?: boolean;
  /**
   * A key its sends are ordered by (a customer id): a send waits while an earlier one of the same step and key is
   * open (pending, in flight, retrying). Undefined for a payload that is not ordered.
   */
  orderKey?(payload: unknown): string | undefined;
}

export interface ActionCompileContext {
  templates: ReadonlyMap<string, CompiledTemplate>;
}

/** What an action declares besides `create`. */
export interface ActionHooks {
  /** The tables its `logStatements` write (email_logs, sms_logs): `validate` checks the migrations create them. */
  writes?: readonly string[];
  /**
   * The option that sends a caller's idempotency key to the provider, when the action has one: a synchronous
   * command, which may be asked again, must set it.
   */
  idempotencyOption?: string;
}

/** Reads a JSON response, or fails as the provider's error. */
export async function expectJson<T>(provider: string, res: Response, nowMs: number): Promise<T> {
  if (!res.ok) throw await providerError(provider, res, nowMs);
  return (await res.json()) as T;
}

/** A 2xx answer an action could not read as documented: what it could keep, and what was wrong (see ActionOutcome). */
export class OddAnswer {
  readonly result: unknown;
  readonly problem: string;
  constructor(result: unknown, problem: string) {
    this.result = result;
    this.problem = problem;
  }
}

/**
 * Reads a 2xx answer without failing: its text, its JSON (undefined when empty, not JSON or cut short), and why the
 * body broke off if it did. The provider has acted either way: a broken body is an odd answer, not a failed send.
 */
export async function readAnswer(res: Response): Promise<{ text: string; body: unknown; broken?: string }> {
  let text: string;
  try {
    text = await res.text();
  } catch (error) {
    return { text: '', body: undefined, broken: error instanceof Error ? error.message : String(error) };
  }
  try {
    return { text, body: JSON.parse(text) as unknown };
  } catch {
    return { text, body: undefined };
  }
}

/** The note kept for an odd 2xx answer: the provider, the status, what was missing, and how the answer began. */
export function answerProblem(
  provider: string,
  status: number,
  missing: string,
  answer: { text: string; broken?: string },
): string {
  const start = answer.text.trim().slice(0, 80);
  const how =
    answer.broken !== undefined
      ? `its body broke off: ${answer.broken.slice(0, 80)}`
      : start
        ? `it began ${JSON.stringify(start)}`
        : 'an empty body';
  return `${provider} answered ${status} without ${missing} (${how})`;
}

/** The string at `field` of a JSON answer, or undefined when it is absent, empty or not a string. */
export function answerString(body: unknown, field: string): string | undefined {
  const value =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Sends items one request each, in parallel, turning thrown errors into outcomes (and OddAnswer into a problem). */
export async function sendEach(
  items: ActionItem[],
  send: (item: ActionItem) => Promise<unknown>,
): Promise<ActionOutcome[]> {
  return Promise.all(
    items.map(async (item) => {
      try {
        const result = await send(item);
        return result instanceof OddAnswer
          ? { ok: true as const, result: result.result, problem: result.problem }
          : { ok: true as const, result };
      } catch (error) {
        return { ok: false as const, error: asActionError(error) };
      }
    }),
  );
}

/**
 * A network failure (fetch threw) is transient; an ActionError stays as it is. A redirect that was not followed is
 * the provider's answer, and permanent: asking again would be sent the same way.
 */
export function asActionError(error: unknown): ActionError {
  if (error instanceof ActionError) return error;
  if (error instanceof RedirectRefused)
    return new ActionError(error.message, { transient: false, status: error.status });
  return new ActionError(error instanceof Error ? error.message : String(error), { transient: true });
}

/** A stable 32-hex-digit id from an idempotency key (for $insert_id and similar). */
export async function stableId(key: string): Promise<string> {
  return toHex((await sha256(key)).subarray(0, 16));
}

/** Sends items in one provider call: every item shares its outcome (results, or the one error). */
export async function sendTogether(items: ActionItem[], send: () => Promise<unknown[]>): Promise<ActionOutcome[]> {
  try {
    const results = await send();
    return items.map((_, i) => ({ ok: true as const, result: results[i] }));
  } catch (error) {
    const failure = asActionError(error);
    return items.map(() => ({ ok: false as const, error: failure }));
  }
}
