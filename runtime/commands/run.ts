/**
 * One command call, whichever way it came (HTTP or a Service Binding): the Idempotency-Key and the input checked,
 * then the call recorded in the event log under (command:<name>, key) and applied: in the request when its steps
 * are SQL only, synchronously when it is `sync:`, else through the queue. A repeat of a key is found by the event
 * log's UNIQUE key (the insert does nothing) and answers what the first call answered.
 *
 * Idempotency follows the IETF draft "The Idempotency-Key HTTP Header Field": the key is required; a repeat with the
 * same input answers the first outcome with `Idempotent-Replayed: true`; the same key with another input is a 422; a
 * repeat while a synchronous first call is still running is a 409.
 */
import type { Failure } from '../consumer.ts';
import type { Delivered } from '../effects.ts';
import { messageFor } from '../ingest.ts';
import type { Envelope, RuntimeEnv } from '../envelope.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import type { PlatformUsage } from '../platform.ts';
import { sha256, toHex } from '../bytes.ts';
import { kvExpirationTtl } from '../kv.ts';
import * as store from '../store/index.ts';
import type { Emit } from '../telemetry.ts';
import { MappingError } from '../values.ts';
import type { ErrorBody } from '../http.ts';
import type { CompiledCommand } from './compile.ts';

/** The IETF draft's header, and the one a replayed answer carries. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/**
 * Longest accepted Idempotency-Key (a UUID is 36). The key a provider sees is `command:<name>:<key>:<step>`, which
 * must stay within the 255 or 256 characters Stripe and Resend allow.
 */
export const MAX_KEY_LENGTH = 128;

/** An answer, the same over HTTP and RPC: status, JSON body, and whether it repeats a first call's answer. */
export interface CommandAnswer {
  status: number;
  body: Record<string, unknown>;
  replayed?: boolean;
  headers?: Record<string, string>;
}

/** What running a command needs from the runtime: the consumer's in-request paths, and the edge's clock and meters. */
export interface CommandDeps {
  compiled: CompiledManifest;
  emit: Emit;
  now: () => number;
  usage?: PlatformUsage;
  applyInRequest(envelope: Envelope, text: string, env: RuntimeEnv): Promise<'applied' | 'ignored' | 'recorded' | 'queue'>;
  applySync(envelope: Envelope, text: string, env: RuntimeEnv, keep: (result: unknown) => unknown): Promise<{ recorded: true } | { failure: Failure } | { delivered: Delivered[] }>;
  retrySync(key: store.EventKey, env: RuntimeEnv, keep: (result: unknown) => unknown): Promise<Delivered[]>;
}

const fail = (status: number, body: ErrorBody, headers?: Record<string, string>): CommandAnswer => ({ status, body: { ...body }, ...(headers ? { headers } : {}) });

/** A printable ASCII key of 1 to MAX_KEY_LENGTH characters; a message for anything else. */
export function keyProblem(key: unknown): string | undefined {
  if (key === undefined || key === null || key === '') return `an ${IDEMPOTENCY_HEADER} is required: send a unique key per operation (a UUID), and the same key when you retry it`;
  if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) return `the ${IDEMPOTENCY_HEADER} must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`;
  return undefined;
}

/** JSON with object keys sorted at every level: the same input gives the same text, whatever order it was sent in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The KV key a synchronous result is cached under: per command and Idempotency-Key. */
export const syncCacheKey = (command: string, key: string) => `command:${command}:${key}`;

interface CachedResult {
  /** SHA-256 of the canonical input, so a repeat with another input is still a 422. */
  input: string;
  status: number;
  body: Record<string, unknown>;
}

/**
 * Runs one call. Never throws for what the caller sent or what a provider answered: every outcome is an answer.
 * @example await runCommand(command, { email: 'a@b.c' }, 'a1b2…', env, 'rpc', deps)
 */
export async function runCommand(command: CompiledCommand, rawInput: unknown, key: unknown, env: RuntimeEnv, via: 'http' | 'rpc', deps: CommandDeps): Promise<CommandAnswer> {
  const { emit } = deps;
  const refuse = (status: number, body: ErrorBody, headers?: Record<string, string>) => {
    emit({ kind: 'command.rejected', command: command.name, via, reason: body.reason ?? body.error });
    return fail(status, body, headers);
  };
  const keyError = keyProblem(key);
  if (keyError) return refuse(400, { error: 'bad_request', message: keyError, reason: key ? 'invalid_idempotency_key' : 'missing_idempotency_key' });
  const id = key as string;
  let input: unknown;
  let text: string;
  try {
    // A Service Binding hands over structured-cloned values: the command sees them as JSON, like an HTTP body.
    text = canonicalJson(rawInput);
    input = JSON.parse(text);
  } catch {
    return refuse(400, { error: 'bad_request', message: 'the input must be JSON', reason: 'malformed_input' });
  }
  // Over HTTP the body was bounded as it was read; a Service Binding hands over whatever it was given.
  if (text.length > command.maxBody) return refuse(413, { error: 'payload_too_large', message: `the input exceeds ${command.maxBody} bytes`, reason: 'payload_too_large' });
  const problems = command.validate(input);
  if (problems.length) {
    const [first] = problems;
    return refuse(422, { error: 'unprocessable', message: `${first!.path || 'the input'} ${first!.message}`, reason: 'invalid_input', problems });
  }

  const at = new Date(deps.now()).toISOString();
  const envelope: Envelope = { integration: command.source, id, type: command.name, occurred_at: at, received_at: at, payload: input };
  const replay = (answer: CommandAnswer): CommandAnswer => {
    emit({ kind: 'command.replayed', command: command.name, id, via });
    return { ...answer, replayed: true, headers: { ...answer.headers, [REPLAYED_HEADER]: 'true' } };
  };
  if (command.sync) return runSync(command, envelope, text, env, via, deps, replay, refuse);

  const source = deps.compiled.sources.get(command.source)!;
  if (source.appliesInRequest(command.name)) {
    // SQL only: recorded and applied in one transaction, answered after the commit; queued if that cannot be done.
    const outcome = await deps.applyInRequest(envelope, text, env).catch(() => 'queue' as const);
    if (outcome === 'applied' || outcome === 'ignored') {
      deps.usage?.event(command.source, 'accepted');
      emit({ kind: 'command.accepted', command: command.name, id, via, status: outcome });
      return { status: 200, body: { id, status: outcome } };
    }
    if (outcome === 'recorded') return repeated(command, id, text, env, deps, replay, refuse);
  }

  const queue = env[source.queue.binding] as Queue | undefined;
  if (!queue || typeof queue.send !== 'function') {
    emit({ kind: 'runtime.error', where: `commands.${command.name}.queue`, error: `queue binding ${source.queue.binding} is not bound` });
    return fail(500, { error: 'misconfigured', message: `command ${command.name} is not configured on this server` });
  }
  const token = crypto.randomUUID();
  const claimed = await store.commandClaimStatement(env.DB, envelope, text, token).all<{ seq: number }>();
  deps.usage?.count('d1_rows_written', claimed.meta.rows_written ?? 0);
  const row = claimed.results[0];
  if (!row) return repeated(command, id, text, env, deps, replay, refuse);
  try {
    await queue.send(messageFor({ ...envelope, seq: row.seq }, text), { contentType: 'json' });
  } catch (error) {
    emit({ kind: 'command.failed', command: command.name, id, via, error: `queueing: ${error instanceof Error ? error.message : String(error)}` });
    await store.releaseClaim(env.DB, command.source, id, token).catch(() => undefined);
    return fail(503, { error: 'unavailable', message: 'the command could not be queued; retry later with the same Idempotency-Key' }, { 'retry-after': '30' });
  }
  deps.usage?.count('queue_operations');
  deps.usage?.event(command.source, 'accepted');
  emit({ kind: 'command.accepted', command: command.name, id, via, status: 'queued' });
  return { status: 202, body: { id, status: 'queued' } };
}

type Refuse = (status: number, body: ErrorBody, headers?: Record<string, string>) => CommandAnswer;
type Replay = (answer: CommandAnswer) => CommandAnswer;

const reused = (refuse: Refuse) =>
  refuse(422, { error: 'unprocessable', message: 'this Idempotency-Key was used with a different input: use a new key for a new operation', reason: 'idempotency_key_reused' });

const inFlight = (refuse: Refuse) =>
  refuse(409, { error: 'conflict', message: 'a call with this Idempotency-Key is still in progress; retry later', reason: 'in_progress' }, { 'retry-after': '1' });

/** A queued or in-request command's key seen before: the first answer again, or 422 for another input. */
async function repeated(command: CompiledCommand, id: string, text: string, env: RuntimeEnv, deps: CommandDeps, replay: Replay, refuse: Refuse): Promise<CommandAnswer> {
  const call = await store.commandCall(env.DB, [command.source, id]);
  // Recorded a moment ago by a call whose queue send failed, and forgotten since: that caller was told to retry.
  if (!call) return inFlight(refuse);
  if (call.body !== null && call.body !== text) return reused(refuse);
  // Applied in its request (200), or queued (202): the first call's answer, whatever has happened since.
  return replay(call.claimed_at === null ? { status: 200, body: { id, status: call.status } } : { status: 202, body: { id, status: 'queued' } });
}

/** What a synchronous call's effect row keeps of the provider's answer: its HTTP status, never the body. */
const keepStatus = (result: unknown) => {
  const status = (result as { status?: unknown } | null)?.status;
  return { status: typeof status === 'number' ? status : null, kept: 'answered to the caller and cached in KV, not stored' };
};

async function runSync(command: CompiledCommand, envelope: Envelope, text: string, env: RuntimeEnv, via: 'http' | 'rpc', deps: CommandDeps, replay: Replay, refuse: Refuse): Promise<CommandAnswer> {
  // `cache: 0s` keeps nothing in KV (whose free plan allows 1,000 writes a day): a repeat asks the provider again.
  const kv = command.sync!.cacheSeconds > 0 ? (env.KV as KVNamespace | undefined) : undefined;
  const cacheKey = syncCacheKey(command.name, envelope.id);
  const inputHash = toHex(await sha256(text));
  if (kv) {
    const hit = await kv.get<CachedResult>(cacheKey, 'json');
    if (hit) return hit.input === inputHash ? replay({ status: hit.status, body: hit.body }) : reused(refuse);
  }
  const first = await deps.applySync(envelope, text, env, keepStatus);
  let delivered: Delivered[];
  // A repeat of a call that succeeded (its result no longer cached) answers as a replay; a retry of a failure does not.
  let repeatOfSuccess = false;
  if ('failure' in first) {
    if (first.failure.reason === 'mapping') return refuse(422, { error: 'unprocessable', message: first.failure.error.replace(/^MappingError: /, ''), reason: 'invalid_input' });
    deps.emit({ kind: 'command.failed', command: command.name, id: envelope.id, via, error: first.failure.error });
    return fail(first.failure.kind === 'transient' ? 503 : 500, { error: first.failure.kind === 'transient' ? 'unavailable' : 'internal', message: 'the command could not be recorded; retry with the same Idempotency-Key' });
  }
  if ('recorded' in first) {
    const call = await store.commandCall(env.DB, [command.source, envelope.id], true);
    if (!call) return inFlight(refuse);
    if (call.body !== null && call.body !== text) return reused(refuse);
    if (call.effect_status === store.EffectStatus.sending && call.effect_next_at !== null && call.effect_next_at > new Date(deps.now()).toISOString()) return inFlight(refuse);
    // Failed before, or its result is no longer cached: the provider is asked again with the same idempotency key.
    repeatOfSuccess = call.effect_status === store.EffectStatus.sent;
    delivered = await deps.retrySync([command.source, envelope.id], env, keepStatus);
    if (!delivered.length) return inFlight(refuse);
  } else delivered = first.delivered;

  const answer = syncAnswer(command, envelope, delivered[0], deps);
  if (answer.status === 200 && kv) {
    await kv.put(cacheKey, JSON.stringify({ input: inputHash, status: answer.status, body: answer.body } satisfies CachedResult), { expirationTtl: kvExpirationTtl(command.sync!.cacheSeconds) });
    deps.usage?.count('kv_writes');
  }
  if (answer.status === 200) deps.emit({ kind: 'command.accepted', command: command.name, id: envelope.id, via, status: 'applied' });
  else deps.emit({ kind: 'command.failed', command: command.name, id: envelope.id, via, error: String(answer.body.message) });
  return repeatOfSuccess && answer.status === 200 ? replay(answer) : answer;
}

/** The answer for a synchronous call's one effect: the mapped result, or why not (never the provider's own text). */
function syncAnswer(command: CompiledCommand, envelope: Envelope, d: Delivered | undefined, deps: CommandDeps): CommandAnswer {
  const id = envelope.id;
  if (!d) return fail(500, { error: 'internal', message: 'the command has no action to run' });
  if (d.outcome.status === store.EffectStatus.sent) {
    const spec = deps.compiled.effects.byId.get(d.effect.source);
    const response = spec?.action.response ? spec.action.response(d.result) : d.result;
    try {
      const result = Object.fromEntries(command.sync!.result.map(([field, value]) => [field, value({ payload: response })]));
      return { status: 200, body: { id, status: 'applied', result } };
    } catch (error) {
      const message = error instanceof MappingError ? error.logText : 'its answer could not be read';
      return fail(502, { error: 'bad_gateway', message: `the provider answered, but not as the command expects: ${message}`, reason: 'unexpected_response' });
    }
  }
  if (d.outcome.status === store.EffectStatus.dropped || d.outcome.status === store.EffectStatus.deferred) {
    return fail(429, { error: 'rate_limited', message: d.outcome.error, reason: 'limit' });
  }
  return {
    status: 502,
    body: {
      error: 'bad_gateway',
      message: `the provider did not complete the call${d.status ? ` (it answered ${d.status})` : ''}; it is dead-lettered, and a retry with the same Idempotency-Key asks again`,
      ...(d.code ? { reason: d.code } : { reason: 'provider_error' }),
      ...(d.status ? { provider_status: d.status } : {}),
    },
  };
}

