/**
 * Effects in the admin API, failure first: what the event list shows beside each event (its worst effect), what an
 * effect's dead letter was sending and what the provider answered, the failing effects grouped by reason, and retry
 * now (one effect, or every effect failing for one reason, previewed first). A retry goes through the consumer's
 * own delivery under the effect's idempotency key: an effect is sent once.
 */
import type { Hono } from 'hono/tiny';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { httpError } from '../lib/http.ts';
import { CREDENTIAL_FIELD, secretRedactor } from '../lib/redact.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import type { Delivered } from '../consumer/effects.ts';
import * as store from '../store/index.ts';
import { EffectStatus, type EffectKey, type EffectState } from '../store/index.ts';

/** The consumer's retry now (runtime/consumer/consumer.ts `retryEffects`). */
export type RetryEffects = (
  keys: readonly EffectKey[],
  env: RuntimeEnv,
) => Promise<{ delivered: Delivered[]; skipped: { key: EffectKey; reason: string; found: boolean }[] }>;

/** Failing effects one bulk retry (or its preview) reads, at most; the rest wait for the next call. */
export const BULK_RETRY_LIMIT = 100;
/** Failing effects the reasons report reads, at most (they are the open ones: a small set unless an outage lasts). */
export const FAILING_SCAN = 1000;
/** Effects shown as a bulk retry's sample. */
const SAMPLE = 5;

/** An effect as a person reads it: its step as the manifest names it, and its action (`stripe.handlers[2].steps[1] resend`). */
export const effectLabel = (source: string, action: string) => `${source.replace(/^integrations\./, '')} ${action}`;

/**
 * Why an effect failed, as a key shared by every effect that failed the same way: the provider's status and error
 * code (`resend answered 500`, `resend answered 422 validation_error`), a host it could not reach, or else the
 * error's first words. The error texts come from the actions' ActionError messages.
 */
export function failureReason(action: string, error: string | null): string {
  const text = error ?? '';
  const answered = /\banswered (\d{3})/.exec(text);
  if (answered) {
    const code = /"(?:name|code|type)"\s*:\s*"([A-Za-z0-9_.:-]{1,64})"/.exec(text)?.[1];
    return `${action} answered ${answered[1]}${code ? ` ${code}` : ''}`;
  }
  const unreachable = /could not reach ([^\s:]+)/.exec(text);
  if (unreachable) return `${action} could not reach ${unreachable[1]}`;
  const words = text
    .replace(/[0-9a-f]{8,}|\d+/gi, '#')
    .split(/[:(]/)[0]!
    .trim()
    .slice(0, 80);
  return `${action}: ${words || 'no error recorded'}`;
}

/** Which statuses read worst in the list: an open dead letter, then a retry, then a limit holding it back. */
const SEVERITY: Record<string, number> = {
  [EffectStatus.dead_lettered]: 4,
  [EffectStatus.retrying]: 3,
  [EffectStatus.deferred]: 2,
  [EffectStatus.dropped]: 1,
};
const severity = (e: EffectState) =>
  e.status === EffectStatus.dead_lettered && e.dismissed_at ? 0.5 : (SEVERITY[e.status] ?? 0);
const isFailing = (e: EffectState) =>
  e.status === EffectStatus.retrying || (e.status === EffectStatus.dead_lettered && !e.dismissed_at);

/** The words of an effect's badge: "resend retrying, attempt 3 of 5 failed", "resend dead-lettered after 5 attempts". */
export function effectSummary(e: EffectState, maxAttempts: number | null): string {
  const of = maxAttempts ? ` of ${maxAttempts}` : '';
  switch (e.status) {
    case EffectStatus.retrying:
      return `${e.action} retrying, attempt ${e.attempts}${of} failed`;
    case EffectStatus.dead_lettered:
      return `${e.action} dead-lettered after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${e.dismissed_at ? ' (dismissed)' : ''}`;
    case EffectStatus.deferred:
      return `${e.action} deferred by a limit`;
    default:
      return `${e.action} dropped by a limit`;
  }
}

/** An effect for the console: its key, label, status, attempts (of how many) and badge words. */
function shown(compiled: CompiledManifest, e: EffectState) {
  const maxAttempts = compiled.effects.byId.get(e.source)?.retry.maxAttempts ?? null;
  return {
    integration: e.integration,
    id: e.event_id,
    step: e.step,
    action: e.action,
    label: effectLabel(e.source, e.action),
    status: e.status,
    attempts: e.attempts,
    max_attempts: maxAttempts,
    next_at: e.next_at,
    error: e.error,
    summary: effectSummary(e, maxAttempts),
    dismissed_at: e.dismissed_at,
  };
}

/** An effect as the event list shows it (an event's worst): the dashboard reads these fields. */
export type ShownEffect = ReturnType<typeof shown>;

/**
 * A page of the event list with each event's worst effect (`effect`, null when all went well or are in flight) and
 * how many of its effects are failing now (`effects_failing`). One read of the page's effects by key.
 */
export async function withEffects(
  db: D1Database,
  compiled: CompiledManifest,
  events: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const effects = await store.shownEffectsOf(
    db,
    events.map((e) => [String(e.integration), String(e.id)] as const),
  );
  const byEvent = new Map<string, EffectState[]>();
  for (const e of effects)
    byEvent.set(store.keyOf([e.integration, e.event_id]), [
      ...(byEvent.get(store.keyOf([e.integration, e.event_id])) ?? []),
      e,
    ]);
  return events.map((event) => {
    const own = byEvent.get(store.keyOf([String(event.integration), String(event.id)])) ?? [];
    const worst = [...own].sort((a, b) => severity(b) - severity(a))[0];
    return { ...event, effect: worst ? shown(compiled, worst) : null, effects_failing: own.filter(isFailing).length };
  });
}

/** Every form a secret of this environment could take in text: values of variables whose names say they are secret. */
function redactorFor(env: RuntimeEnv): (text: string) => string {
  const values = Object.entries(env).flatMap(([name, value]) =>
    typeof value === 'string' && /KEY|TOKEN|SECRET|PASS|AUTH|CREDENTIAL/i.test(name) ? [value] : [],
  );
  return secretRedactor(values);
}

/**
 * What an effect was sending, for a person: the action's own description (recipient, subject, template; method and
 * URL), or the payload's top-level values. Values of fields named like credentials, and any secret of this
 * environment, are redacted; each value is bounded.
 */
export function describeRequest(
  compiled: CompiledManifest,
  source: string,
  payload: unknown,
  env: RuntimeEnv,
): Record<string, string> {
  const action = compiled.effects.byId.get(source)?.action;
  let lines: Record<string, string>;
  try {
    lines = action?.describe ? action.describe(payload) : fallback(payload);
  } catch {
    lines = fallback(payload);
  }
  const redact = redactorFor(env);
  return Object.fromEntries(
    Object.entries(lines).map(([k, v]) => [
      k,
      CREDENTIAL_FIELD.test(k) && !/\[secret [A-Z0-9_]+\]/.test(v) ? '[redacted]' : redact(String(v)).slice(0, 300),
    ]),
  );
}

/**
 * A stored value (an effect letter's envelope) as the admin API shows it: fields named like credentials and any
 * secret of this environment redacted, at any depth. Replay reads the stored row, never this.
 */
export function redactStored(value: unknown, env: RuntimeEnv): unknown {
  const redact = redactorFor(env);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v).map(([k, inner]) => [
          k,
          CREDENTIAL_FIELD.test(k) && typeof inner === 'string' ? '[redacted]' : walk(inner),
        ]),
      );
    return v;
  };
  return walk(value);
}

function fallback(payload: unknown): Record<string, string> {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload))
    return { payload: JSON.stringify(payload ?? null) };
  const entries = Object.entries(payload as Record<string, unknown>).slice(0, 12);
  return Object.fromEntries(entries.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** An effect dead letter's detail: the effect's label, what it was sending, the provider's last answer, each attempt. */
export async function effectLetterDetail(
  db: D1Database,
  compiled: CompiledManifest,
  env: RuntimeEnv,
  letter: Record<string, unknown>,
) {
  let stored: {
    action?: string;
    source?: string;
    step?: string;
    payload?: unknown;
    answer?: { status: number | null; code: string | null; excerpt: string; at: string };
  } = {};
  try {
    stored = JSON.parse(String(letter.envelope ?? '{}')) as typeof stored;
  } catch {
    // an unreadable envelope: described from the letter's own columns
  }
  const { id, step } = store.parseEffectLetterId(String(letter.event_id));
  const action = stored.action ?? '';
  const source = stored.source ?? '';
  const attempts = (await store.attemptsOf(db, String(letter.integration), id))
    .filter((a) => a.target === step)
    .map(({ target: _, ...a }) => a);
  const redact = redactorFor(env);
  // Letters written before the answer was kept: their error and last failure stand for it.
  const answer = stored.answer ?? {
    status: Number(/\banswered (\d{3})/.exec(String(letter.error ?? ''))?.[1]) || null,
    code: null,
    excerpt: String(letter.error ?? '').slice(0, 500),
    at: String(letter.last_failed_at),
  };
  return {
    action,
    label: effectLabel(source, action),
    request:
      stored.payload === null || stored.payload === undefined
        ? { payload: '(not built: see the error)' }
        : describeRequest(compiled, source, stored.payload, env),
    answer: { ...answer, excerpt: redact(answer.excerpt) },
    attempts: attempts.map((a) => ({ ...a, error: redact(a.error) })),
  };
}

/** Reads a JSON body, or answers 400 saying what to send. */
async function body<T>(req: { json(): Promise<unknown> }, usage: string): Promise<T> {
  const value = await req.json().catch(() => null);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw httpError(400, { error: 'bad_request', message: usage });
  return value as T;
}

const RETRY_USAGE =
  'send {"integration": "..", "id": "..", "step": ".."} for one effect, or {"reason": "..", "integration"?: "..", "dry_run"?: true} for every effect failing for that reason';

/** Registers GET /effects/failing and POST /effects/retry on the admin API. */
export function registerEffects(
  api: Hono<{ Bindings: RuntimeEnv; Variables: { actor: string } }>,
  _compiled: CompiledManifest,
  retry: RetryEffects | undefined,
): void {
  const label = (e: EffectState) => effectLabel(e.source, e.action);

  /** The effects failing now, grouped by reason (most first), each with a sample. */
  api.get('/effects/failing', async (c) => {
    const failing = await store.failingEffects(c.env.DB, c.req.query('integration') ?? null, FAILING_SCAN + 1);
    const groups = new Map<string, EffectState[]>();
    for (const e of failing.slice(0, FAILING_SCAN)) {
      const reason = failureReason(e.action, e.error);
      groups.set(reason, [...(groups.get(reason) ?? []), e]);
    }
    const reasons = [...groups]
      .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
      .map(([reason, list]) => ({
        reason,
        count: list.length,
        statuses: tally(list.map((e) => e.status)),
        integrations: tally(list.map((e) => e.integration)),
        sample: list.slice(0, SAMPLE).map((e) => ({
          integration: e.integration,
          id: e.event_id,
          step: e.step,
          label: label(e),
          status: e.status,
          attempts: e.attempts,
          error: e.error,
        })),
      }));
    return c.json({ reasons, truncated: failing.length > FAILING_SCAN });
  });

  /**
   * Retry now: one effect by its key (404 when there is none, 409 when it is sent or being sent: it is not sent
   * again), or every effect failing for one reason (a dry run first says how many, with a sample).
   */
  api.post('/effects/retry', async (c) => {
    const asked = await body<{
      integration?: unknown;
      id?: unknown;
      step?: unknown;
      reason?: unknown;
      dry_run?: unknown;
    }>(c.req, RETRY_USAGE);
    let keys: EffectKey[];
    if (typeof asked.reason === 'string' && asked.reason) {
      if (asked.integration !== undefined && typeof asked.integration !== 'string')
        throw httpError(400, { error: 'bad_request', message: 'integration must be a name (a string)' });
      const failing = (
        await store.failingEffects(c.env.DB, (asked.integration as string | undefined) ?? null, FAILING_SCAN)
      ).filter((e) => failureReason(e.action, e.error) === asked.reason);
      const chosen = failing.slice(0, BULK_RETRY_LIMIT);
      if (asked.dry_run === true) {
        return c.json({
          dry_run: true,
          reason: asked.reason,
          count: chosen.length,
          truncated: failing.length > chosen.length,
          statuses: tally(chosen.map((e) => e.status)),
          sample: chosen.slice(0, SAMPLE).map((e) => ({
            integration: e.integration,
            id: e.event_id,
            step: e.step,
            label: label(e),
            status: e.status,
            attempts: e.attempts,
            error: e.error,
          })),
        });
      }
      keys = chosen.map((e) => ({ integration: e.integration, id: e.event_id, step: e.step }));
    } else if (
      typeof asked.integration === 'string' &&
      typeof asked.id === 'string' &&
      typeof asked.step === 'string' &&
      asked.integration &&
      asked.id &&
      asked.step
    ) {
      keys = [{ integration: asked.integration, id: asked.id, step: asked.step }];
    } else {
      throw httpError(400, { error: 'bad_request', message: RETRY_USAGE });
    }
    if (!retry)
      throw httpError(503, { error: 'unavailable', message: 'this runtime has no consumer to deliver effects with' });
    const { delivered, skipped } = keys.length ? await retry(keys, c.env) : { delivered: [], skipped: [] };
    const one = typeof asked.reason !== 'string';
    if (one && skipped.length) {
      const [s] = skipped;
      throw httpError(s!.found ? 409 : 404, { error: s!.found ? 'conflict' : 'not_found', message: s!.reason });
    }
    return c.json({
      retried: delivered.map((d) => ({
        integration: d.effect.integration,
        id: d.effect.id,
        step: d.effect.step,
        label: effectLabel(d.effect.source, d.effect.action),
        status: d.outcome.status,
        attempt: d.effect.attempts,
        ...('error' in d.outcome ? { error: d.outcome.error } : {}),
      })),
      skipped: skipped.map((s) => ({ ...s.key, reason: s.reason })),
    });
  });
}

const tally = (values: string[]) => {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
};
