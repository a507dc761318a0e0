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
import type { Envelope, RuntimeEnv } from '../lib/envelope.ts';
import { HTTPException } from 'hono/http-exception';
import { httpError, readBody } from '../lib/http.ts';
import type { CompiledIntegration } from '../manifest/compile.ts';
import type { Emit, TelemetryEvent } from '../lib/telemetry.ts';
import { MappingError } from '../language/values.ts';
import { secretState } from '../manifest/secrets.ts';
import type { DeclaredAnswer } from '../manifest/response.ts';
import { EventStatus, ingestDeadLetter, isSettled, Stage } from '../store/index.ts';
import { extractEnvelope } from '../event/extract.ts';
import { admit, type Admission, type IngestDeps } from '../event/admit.ts';

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
  for (const { variable, verifyingWith } of secretState(integration.secrets, env).partial)
    emit({ kind: 'secret.unset', integration: integration.name, variable, verifying_with: verifyingWith });
}

/** The event naming the secrets a refused request lacked. */
const missingSecret = (integration: string, error: MissingSecretError): TelemetryEvent => ({
  kind: 'secret.missing',
  integration,
  variable: error.variable,
  ...(error.variables.length > 1 ? { variables: error.variables } : {}),
});

/** Runs the integration's verifier; a refusal is a 401 (a missing secret a 500), counted and never echoed. */
async function verifyOrRefuse(
  integration: CompiledIntegration,
  inbound: InboundRequest,
  env: SecretEnv,
  { emit }: IngestDeps,
): Promise<void> {
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
async function answerHandshake(
  integration: CompiledIntegration,
  inbound: InboundRequest,
  ctx: HandshakeContext,
  deps: IngestDeps,
): Promise<Response> {
  const handshake = integration.handshake!;
  if (handshake.verify) await verifyOrRefuse(integration, inbound, ctx.env, deps);
  let answer: HandshakeAnswer;
  try {
    answer = await handshake.answer(inbound, ctx);
  } catch (error) {
    if (error instanceof MissingSecretError) {
      deps.emit(missingSecret(integration.name, error));
      throw httpError(500, {
        error: 'misconfigured',
        message: `integration ${integration.name} is not configured on this server`,
      });
    }
    throw error;
  }
  deps.emit({ kind: 'webhook.handshake', integration: integration.name, status: answer.status });
  const empty = answer.status === 204;
  return new Response(empty ? null : answer.body, {
    status: answer.status,
    headers: {
      ...(empty ? {} : { 'content-type': `${answer.contentType}; charset=utf-8` }),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      ...answer.headers,
    },
  });
}

/** The body ingest read from a request it refused, for the refusal log (its hash and size). */
export const bodiesRead = new WeakMap<Request, Uint8Array>();

/** Handles one request for a compiled integration. Throws HTTPException for every refusal. */
export async function ingest(
  integration: CompiledIntegration,
  request: Request,
  env: RuntimeEnv,
  deps: IngestDeps,
): Promise<Response> {
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
async function ingestBody(
  integration: CompiledIntegration,
  request: Request,
  body: Uint8Array,
  env: RuntimeEnv,
  deps: IngestDeps,
): Promise<Response> {
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
    envelope = extractEnvelope(
      integration,
      text,
      request.headers,
      receivedAt,
      integration.hashesBody ? toHex(await sha256(text)) : undefined,
    );
    // Built before the event is recorded: an answer the event cannot give is refused like an unmappable event.
    declared = integration.response?.(envelope);
  } catch (error) {
    // Authentic but unusable: keep it whole as a dead letter (replayable after a manifest fix), answer 400.
    const reason = error instanceof MappingError ? 'unmappable_event' : 'malformed_body';
    const detail = error instanceof Error ? error.message : String(error);
    // Logged: what was wrong and where, never the value (the sender's own answer and the dead letter keep it).
    const logged =
      error instanceof MappingError
        ? error.logText
        : `the body is not valid ${error instanceof TypeError ? 'UTF-8' : integration.format === 'json' ? 'JSON' : 'form data'}`;
    const key = toHex(await sha256(body));
    let rawBody: string;
    try {
      rawBody = utf8.decode(body);
    } catch {
      rawBody = `base64:${toBase64(body)}`;
    }
    const headers = JSON.stringify(
      Object.fromEntries(integration.extractHeaders.map((h) => [h, request.headers.get(h)])),
    );
    await ingestDeadLetter(
      env.DB,
      {
        integration: name,
        key,
        reason,
        error: detail,
        rawBody,
        contentType: request.headers.get('content-type'),
        headers,
      },
      receivedAt,
    ).run();
    emit({ kind: 'webhook.rejected', integration: name, reason, detail: logged });
    emit({ kind: 'webhook.dead_lettered', integration: name, id: key, stage: Stage.ingest, reason });
    throw httpError(400, { error: 'bad_request', message: detail, reason });
  }

  const outcome = await admit(
    integration,
    envelope,
    text,
    env,
    deps,
    nowMs,
    integration.replayWindowMs ? toHex(await sha256(body)) : undefined,
  );
  return answerFor(outcome, envelope.id, name, declared);
}

/**
 * The HTTP answer a webhook delivery gets for an admission. An integration's declared answer (`response:`) replaces
 * the 2xx ones, duplicates included (a provider that retries a lost answer must get the answer it expects again);
 * the outcome and id then travel in headers. Errors keep their own answers.
 */
function answerFor(outcome: Admission, id: string, integration: string, declared?: DeclaredAnswer): Response {
  if (declared && (outcome.status === 'accepted' || outcome.status === 'duplicate' || isSettled(outcome.status))) {
    const headers: Record<string, string> = {
      'x-content-type-options': 'nosniff',
      'x-switchyard-status': outcome.status,
      'x-switchyard-id': id,
    };
    if (outcome.status === 'duplicate' && outcome.reason) headers['x-switchyard-reason'] = outcome.reason;
    return new Response(declared.body === '' ? null : declared.body, {
      status: declared.status,
      headers: declared.body === '' ? headers : { ...headers, 'content-type': declared.contentType },
    });
  }
  switch (outcome.status) {
    case EventStatus.applied:
    case EventStatus.ignored:
    case EventStatus.skipped:
      return Response.json({ status: outcome.status, id }, { status: 200 });
    case 'accepted':
      return Response.json({ status: 'accepted', id }, { status: 202 });
    case 'duplicate':
      return Response.json(
        { status: 'duplicate', id, ...(outcome.reason ? { reason: outcome.reason } : {}) },
        { status: 200 },
      );
    case 'in_flight':
      // Queued (or being queued) and not consumed yet: ask the provider to retry later rather than answer 2xx
      // for a send this request cannot see, which may yet fail.
      throw httpError(
        409,
        { error: 'conflict', message: 'this event is already queued and not yet processed; retry later' },
        { 'retry-after': '60' },
      );
    case 'misconfigured':
      throw httpError(500, {
        error: 'misconfigured',
        message: `integration ${integration} is not configured on this server`,
      });
    case 'unavailable':
      throw httpError(
        503,
        { error: 'unavailable', message: 'the event could not be queued; retry later' },
        { 'retry-after': '30' },
      );
  }
}
