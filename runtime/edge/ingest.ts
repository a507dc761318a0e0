/**
 * The inbound pipeline for one webhook request: bounded raw read, verification on the raw bytes, parse,
 * envelope, deduplication in D1, then applied in the request or queued, and a 2xx only once the event is safely
 * committed or queued.
 */
import { MissingSecretError, type InboundRequest, type SecretEnv } from '../component/context.ts';
import { VerificationError } from '../component/verifier.ts';
import type { HandshakeAnswer, HandshakeContext } from '../component/handshake.ts';
import { learntSecrets, type HandshakeBindings } from './handshake.ts';
import { sha256, toBase64, toHex, utf8Strict as utf8 } from '../lib/bytes.ts';
import { byReference, MAX_INLINE_MESSAGE_BYTES, type Envelope, type RuntimeEnv } from '../lib/envelope.ts';
import { HTTPException } from 'hono/http-exception';
import { httpError, readBody } from '../lib/http.ts';
import type { CompiledIntegration } from '../manifest/compile.ts';
import { decide } from '../manifest/decide.ts';
import type { PlatformUsage } from '../lib/platform.ts';
import type { Emit, TelemetryEvent } from '../lib/telemetry.ts';
import { MappingError } from '../language/values.ts';
import { secretState } from '../manifest/secrets.ts';
import type { DeclaredAnswer } from '../manifest/response.ts';
import { claimStatement, EventStatus, ingestDeadLetter, isSettled, recorded, releaseClaim, Stage, type ClaimResult, type EventOrigin, type SettledEventStatus } from '../store/index.ts';


/**
 * Parses a verified body by the integration's format. Throws on malformed input. A form field sent several times
 * becomes an array of its values; the same value twice is refused, since a scheme that signs a field's values as
 * a set (Twilio) signs it once: the payload never holds more than the signature covered.
 */
export function parsePayload(format: 'json' | 'form', text: string): unknown {
  if (format === 'json') return JSON.parse(text);
  const fields: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const seen = fields[k];
    if (seen !== undefined && (seen === v || (Array.isArray(seen) && seen.includes(v)))) throw new MappingError(`form field ${k} repeats a value`);
    fields[k] = seen === undefined ? v : ([] as string[]).concat(seen, v);
  }
  return fields;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}


/**
 * Reads the envelope out of a verified body by the manifest's extraction rules. Throws (SyntaxError or
 * MappingError) when the body does not parse or lacks what the rules need.
 */
export function extractEnvelope(integration: CompiledIntegration, text: string, headers: Headers, receivedAt: string, bodySha256?: string): Envelope {
  const payload = parsePayload(integration.format, text);
  const ctx = { payload, headers, now: () => receivedAt, ...(bodySha256 ? { bodySha256 } : {}) };
  const id = asText(integration.extract.id(ctx));
  const type = asText(integration.extract.type(ctx));
  if (!id || !type) throw new MappingError(`event ${id ? 'type' : 'id'} is empty or not a string`);
  const occurred = asText(integration.extract.occurredAt?.(ctx)) ?? null;
  return { integration: integration.name, id, type, occurred_at: notAfterArrival(occurred, receivedAt, integration.timestampToleranceMs ?? DEFAULT_CLOCK_SKEW_MS), received_at: receivedAt, payload };
}

/** How far ahead of its arrival an event may say it occurred when its verifier signs no timestamp: 5 minutes. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * An event's `occurred_at`, at most its arrival plus the clock skew its verifier accepts: ordering compares
 * occurred_at first, so an event dated an hour ahead (a provider's clock, or a field the manifest maps wrongly)
 * would otherwise outrank every correctly dated event for that hour. Values that are not dates stay as they are.
 */
function notAfterArrival(occurred: string | null, receivedAt: string, skewMs: number): string | null {
  if (occurred === null) return null;
  const at = Date.parse(occurred);
  const latest = Date.parse(receivedAt) + skewMs;
  return Number.isFinite(at) && at > latest ? new Date(latest).toISOString() : occurred;
}

/**
 * The message to queue: the envelope, or a reference to the event row when it may be too large for a message.
 * Decided without serializing a large body (JSON.stringify of 1 MB costs milliseconds of the request's CPU):
 *  - a body (`text`) longer than the limit takes a reference: its envelope may shrink below the limit when
 *    re-serialized (whitespace, escapes), but a reference is always safe: the consumer reads the stored body;
 *  - re-serializing a parsed body grows it at most ~6x (control characters in form values, exponent numbers),
 *    so below an eighth of the limit it cannot be oversized and is inlined;
 *  - in between (at most the limit itself), the envelope is serialized and measured exactly.
 */
export function messageFor(envelope: Envelope, text: string): Envelope {
  if (text.length > MAX_INLINE_MESSAGE_BYTES) return byReference(envelope);
  if (text.length <= MAX_INLINE_MESSAGE_BYTES / 8) return envelope;
  return utf8Length(JSON.stringify(envelope)) > MAX_INLINE_MESSAGE_BYTES ? byReference(envelope) : envelope;
}

/** The UTF-8 byte length of a string, without encoding it (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

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
  applyInRequest?: (envelope: Envelope, text: string, env: RuntimeEnv, options?: InRequestOptions) => Promise<InRequestOutcome>;
  /** The request's `ctx.waitUntil`, for deliveries after the answer; absent (tests, backfill, the CLI) they are awaited. */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** Integrations whose unset rotation secrets were logged already: once per isolate (the compiled integration's life). */
const checkedSecrets = new WeakSet<CompiledIntegration>();

/**
 * Logs, on an integration's first request in this isolate, each name of a rotation list that is not set while
 * another is (the verifier reads the set ones): a warning once, not a line per request. A list with no name set is
 * the verifier's MissingSecretError, a 500 on every request.
 */
function warnUnsetSecrets(integration: CompiledIntegration, env: SecretEnv, emit: Emit): void {
  if (checkedSecrets.has(integration)) return;
  checkedSecrets.add(integration);
  for (const { variable, verifyingWith } of secretState(integration.secrets, env).partial) emit({ kind: 'secret.unset', integration: integration.name, variable, verifying_with: verifyingWith });
}

/** The event naming the secrets a refused request lacked. */
const missingSecret = (integration: string, error: MissingSecretError): TelemetryEvent => ({ kind: 'secret.missing', integration, variable: error.variable, ...(error.variables.length > 1 ? { variables: error.variables } : {}) });

/** Runs the integration's verifier; a refusal is a 401 (a missing secret a 500), counted and never echoed. */
async function verifyOrRefuse(integration: CompiledIntegration, inbound: InboundRequest, env: SecretEnv, { emit }: IngestDeps): Promise<void> {
  const name = integration.name;
  warnUnsetSecrets(integration, env, emit);
  try {
    await integration.verifier.verify(inbound, env);
  } catch (error) {
    if (error instanceof VerificationError) {
      emit({ kind: 'webhook.rejected', integration: name, reason: error.reason });
      throw httpError(401, { error: 'unauthorized', message: 'signature verification failed', reason: error.reason });
    }
    if (error instanceof MissingSecretError) {
      emit(missingSecret(name, error));
      throw httpError(500, { error: 'misconfigured', message: `integration ${name} is not configured on this server` });
    }
    throw error;
  }
}

/** Where handshakes keep learnt secrets and the operator's arming: D1, and KV only to adopt an earlier version's. */
export function handshakeBindings(env: RuntimeEnv): HandshakeBindings {
  const kv = env.KV as KVNamespace | undefined;
  return { db: env.DB, ...(kv ? { kv } : {}) };
}

function handshakeContext(integration: string, env: RuntimeEnv, now: number): HandshakeContext {
  return { integration, env, learnt: learntSecrets(integration, env, handshakeBindings(env), now) };
}

/** Verifies (when the provider signs it) and answers a handshake, exactly as the adapter says. */
async function answerHandshake(integration: CompiledIntegration, inbound: InboundRequest, ctx: HandshakeContext, deps: IngestDeps): Promise<Response> {
  const handshake = integration.handshake!;
  if (handshake.verify) await verifyOrRefuse(integration, inbound, ctx.env, deps);
  let answer: HandshakeAnswer;
  try {
    answer = await handshake.answer(inbound, ctx);
  } catch (error) {
    if (error instanceof MissingSecretError) {
      deps.emit(missingSecret(integration.name, error));
      throw httpError(500, { error: 'misconfigured', message: `integration ${integration.name} is not configured on this server` });
    }
    throw error;
  }
  deps.emit({ kind: 'webhook.handshake', integration: integration.name, status: answer.status });
  const empty = answer.status === 204;
  return new Response(empty ? null : answer.body, {
    status: answer.status,
    headers: { ...(empty ? {} : { 'content-type': `${answer.contentType}; charset=utf-8` }), 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...answer.headers },
  });
}

/** The body ingest read from a request it refused, for the refusal log (its hash and size). */
export const bodiesRead = new WeakMap<Request, Uint8Array>();

/** Handles one request for a compiled integration. Throws HTTPException for every refusal. */
export async function ingest(integration: CompiledIntegration, request: Request, env: RuntimeEnv, deps: IngestDeps): Promise<Response> {
  const body = await readBody(request, integration.maxBody);
  if (!body) {
    deps.emit({ kind: 'webhook.rejected', integration: integration.name, reason: 'payload_too_large' });
    throw httpError(413, { error: 'payload_too_large', message: `body exceeds ${integration.maxBody} bytes` });
  }
  try {
    return await ingestBody(integration, request, body, env, deps);
  } catch (error) {
    // Kept for a refusal only: an accepted request pays nothing for the refusal log.
    if (error instanceof HTTPException) bodiesRead.set(request, body);
    throw error;
  }
}

/** The request once its body is read: verified, mapped, admitted, answered. */
async function ingestBody(integration: CompiledIntegration, request: Request, body: Uint8Array, env: RuntimeEnv, deps: IngestDeps): Promise<Response> {
  const { emit } = deps;
  const name = integration.name;
  const nowMs = deps.now ? deps.now() : Date.now();
  // The URL is parsed only for a verifier or handshake that reads it (most sign the body alone).
  let url: URL | undefined;
  const inbound: InboundRequest = {
    method: request.method,
    get url() {
      return (url ??= new URL(request.url));
    },
    headers: request.headers,
    body,
    now: nowMs,
  };
  let secrets: SecretEnv = env;
  if (integration.handshake) {
    const ctx = handshakeContext(name, env, nowMs);
    // The request that proves ownership is answered here, verified first when the provider signs it: it is
    // never queued and never written to the event log.
    if (integration.handshake.matches(inbound)) return answerHandshake(integration, inbound, ctx, deps);
    if (integration.handshake.secrets) secrets = { ...env, ...(await integration.handshake.secrets(ctx)) };
  }
  await verifyOrRefuse(integration, inbound, secrets, deps);

  const receivedAt = new Date(nowMs).toISOString();
  let envelope: Envelope;
  let text: string;
  let declared: DeclaredAnswer | undefined;
  try {
    text = utf8.decode(body);
    envelope = extractEnvelope(integration, text, request.headers, receivedAt, integration.hashesBody ? toHex(await sha256(text)) : undefined);
    // Built before the event is recorded: an answer the event cannot give is refused like an unmappable event.
    declared = integration.response?.(envelope);
  } catch (error) {
    // Authentic but unusable: keep it whole as a dead letter (replayable after a manifest fix), answer 400.
    const reason = error instanceof MappingError ? 'unmappable_event' : 'malformed_body';
    const detail = error instanceof Error ? error.message : String(error);
    // Logged: what was wrong and where, never the value (the sender's own answer and the dead letter keep it).
    const logged = error instanceof MappingError ? error.logText : `the body is not valid ${error instanceof TypeError ? 'UTF-8' : integration.format === 'json' ? 'JSON' : 'form data'}`;
    const key = toHex(await sha256(body));
    let rawBody: string;
    try {
      rawBody = utf8.decode(body);
    } catch {
      rawBody = `base64:${toBase64(body)}`;
    }
    const headers = JSON.stringify(Object.fromEntries(integration.extractHeaders.map((h) => [h, request.headers.get(h)])));
    await ingestDeadLetter(env.DB, { integration: name, key, reason, error: detail, rawBody, contentType: request.headers.get('content-type'), headers }, receivedAt).run();
    emit({ kind: 'webhook.rejected', integration: name, reason, detail: logged });
    emit({ kind: 'webhook.dead_lettered', integration: name, id: key, stage: Stage.ingest, reason });
    throw httpError(400, { error: 'bad_request', message: detail, reason });
  }

  const outcome = await admit(integration, envelope, text, env, deps, nowMs, integration.replayWindowMs ? toHex(await sha256(body)) : undefined);
  return answerFor(outcome, envelope.id, name, declared);
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
 * The HTTP answer a webhook delivery gets for an admission. An integration's declared answer (`response:`) replaces
 * the 2xx ones, duplicates included (a provider that retries a lost answer must get the answer it expects again);
 * the outcome and id then travel in headers. Errors keep their own answers.
 */
function answerFor(outcome: Admission, id: string, integration: string, declared?: DeclaredAnswer): Response {
  if (declared && (outcome.status === 'accepted' || outcome.status === 'duplicate' || isSettled(outcome.status))) {
    const headers: Record<string, string> = { 'x-content-type-options': 'nosniff', 'x-switchyard-status': outcome.status, 'x-switchyard-id': id };
    if (outcome.status === 'duplicate' && outcome.reason) headers['x-switchyard-reason'] = outcome.reason;
    return new Response(declared.body === '' ? null : declared.body, { status: declared.status, headers: declared.body === '' ? headers : { ...headers, 'content-type': declared.contentType } });
  }
  switch (outcome.status) {
    case EventStatus.applied:
    case EventStatus.ignored:
    case EventStatus.skipped:
      return Response.json({ status: outcome.status, id }, { status: 200 });
    case 'accepted':
      return Response.json({ status: 'accepted', id }, { status: 202 });
    case 'duplicate':
      return Response.json({ status: 'duplicate', id, ...(outcome.reason ? { reason: outcome.reason } : {}) }, { status: 200 });
    case 'in_flight':
      // Queued (or being queued) and not consumed yet: ask the provider to retry later rather than answer 2xx
      // for a send this request cannot see, which may yet fail.
      throw httpError(409, { error: 'conflict', message: 'this event is already queued and not yet processed; retry later' }, { 'retry-after': '60' });
    case 'misconfigured':
      throw httpError(500, { error: 'misconfigured', message: `integration ${integration} is not configured on this server` });
    case 'unavailable':
      throw httpError(503, { error: 'unavailable', message: 'the event could not be queued; retry later' }, { 'retry-after': '30' });
  }
}

/**
 * Hands a verified, extracted event to the pipeline, as ingest does for every delivery: applied in the request when
 * its steps all commit in the event log's D1 (SQL, effects, outbox; sent after the answer), else claimed in the event
 * log (the dedup record) and queued. Used by ingest and by the
 * admin API's backfill endpoint (runtime/operations/backfill.ts), so a synthesised event takes exactly the same path. `origin`
 * marks a synthesised event in the log. `bodyHash` is the raw body's hash when the integration has a replay window.
 */
export async function admit(integration: CompiledIntegration, envelope: Envelope, text: string, env: RuntimeEnv, deps: IngestDeps, nowMs: number, bodyHash?: string, origin?: EventOrigin): Promise<Admission> {
  const { emit } = deps;
  const name = integration.name;
  const queue = env[integration.queue.binding] as Queue | undefined;
  if (!queue || typeof queue.send !== 'function') {
    emit({ kind: 'runtime.error', where: `integrations.${name}.queue`, error: `queue binding ${integration.queue.binding} is not bound` });
    return { status: 'misconfigured' };
  }

  // The one decision `plan --budget` prices too (runtime/manifest/decide.ts).
  const decision = decide(integration, envelope.type);
  const replay = decision.dedup === 'id+body window' && bodyHash ? { bodyHash, since: new Date(nowMs - integration.replayWindowMs!).toISOString() } : undefined;
  if (deps.applyInRequest && decision.path === 'direct') {
    // Record and apply it now, with its effects and outbox rows, in one transaction, answer after the commit, and
    // deliver after the answer. An event already in the log (or its body under another id) goes on to the claim
    // below, which answers the duplicate; one that cannot be applied here is queued.
    const outcome = await deps.applyInRequest(envelope, text, env, { ...(origin ? { origin } : {}), ...(replay ? { replay } : {}), ...(deps.waitUntil ? { waitUntil: deps.waitUntil } : {}) }).catch(() => 'queue' as const);
    if (isSettled(outcome)) {
      emit({ kind: 'webhook.accepted', integration: name, id: envelope.id, type: envelope.type, stored_payload: false });
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
    emit({ kind: 'webhook.enqueue_failed', integration: name, id: envelope.id, error: error instanceof Error ? error.message : String(error) });
    await releaseClaim(env.DB, name, envelope.id, token).catch(() => undefined);
    return { status: 'unavailable' };
  }
  deps.usage?.count('queue_operations');
  emit({ kind: 'webhook.accepted', integration: name, id: envelope.id, type: envelope.type, stored_payload: message.payload_ref !== undefined });
  return { status: 'accepted' };
}
