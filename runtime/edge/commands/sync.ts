/**
 * A synchronous command: its one action runs in the request through the same effect delivery as every effect, its
 * answer is mapped to the result, cached in KV for the declared time, and a repeat is served from there.
 */
import { sha256, toHex } from '../../lib/bytes.ts';
import type { Delivered } from '../../consumer/effects.ts';
import type { Envelope, RuntimeEnv } from '../../lib/envelope.ts';
import { kvExpirationTtl } from '../../lib/kv.ts';
import * as store from '../../store/index.ts';
import { MappingError } from '../../language/values.ts';
import { fail, inFlight, reused, type CommandAnswer, type CommandDeps, type Refuse, type Replay } from './answers.ts';
import type { CompiledCommand } from '../../manifest/commands/compile.ts';

/** The KV key a synchronous result is cached under: per command and call (the Idempotency-Key scoped to its caller). */
export const syncCacheKey = (command: string, id: string) => `command:${command}:${id}`;

interface CachedResult {
  /** SHA-256 of the canonical input, so a repeat with another input is still a 422. */
  input: string;
  status: number;
  body: Record<string, unknown>;
}

/** What a synchronous call's effect row keeps of the provider's answer: its HTTP status, never the body. */
const keepStatus = (result: unknown) => {
  const status = (result as { status?: unknown } | null)?.status;
  return {
    status: typeof status === 'number' ? status : null,
    kept: 'answered to the caller and cached in KV, not stored',
  };
};

/** Runs a synchronous call (after its key and input were checked): from KV, in the request, or a retry of the first. */
export async function runSync(
  command: CompiledCommand,
  envelope: Envelope,
  sent: string,
  text: string,
  env: RuntimeEnv,
  via: 'http' | 'rpc',
  deps: CommandDeps,
  replay: Replay,
  refuse: Refuse,
): Promise<CommandAnswer> {
  // `cache: 0s` keeps nothing in KV (whose free plan allows 1,000 writes a day): a repeat asks the provider again.
  const kv = command.sync!.cacheSeconds > 0 ? (env.KV as KVNamespace | undefined) : undefined;
  const cacheKey = syncCacheKey(command.name, envelope.id);
  // Only a cached answer is compared with a later call's input.
  const inputHash = kv ? toHex(await sha256(text)) : '';
  if (kv) {
    const hit = await kv.get<CachedResult>(cacheKey, 'json');
    if (hit) return hit.input === inputHash ? replay({ status: hit.status, body: hit.body }) : reused(refuse);
  }
  const first = await deps.applySync(envelope, text, env, keepStatus);
  let delivered: Delivered[];
  // A repeat of a call that succeeded (its result no longer cached) answers as a replay; a retry of a failure does not.
  let repeatOfSuccess = false;
  if ('failure' in first) {
    if (first.failure.reason === 'mapping')
      return refuse(422, {
        error: 'unprocessable',
        message: first.failure.error.replace(/^MappingError: /, ''),
        reason: 'invalid_input',
      });
    deps.emit({ kind: 'command.failed', command: command.name, id: envelope.id, via, error: first.failure.error });
    return fail(first.failure.kind === 'transient' ? 503 : 500, {
      error: first.failure.kind === 'transient' ? 'unavailable' : 'internal',
      message: 'the command could not be recorded; retry with the same Idempotency-Key',
    });
  }
  if ('recorded' in first) {
    const call = await store.commandCall(env.DB, [command.source, envelope.id], true);
    if (!call) return inFlight(refuse);
    if (call.body !== null && call.body !== text) return reused(refuse);
    if (
      call.effect_status === store.EffectStatus.sending &&
      call.effect_next_at !== null &&
      call.effect_next_at > new Date(deps.now()).toISOString()
    )
      return inFlight(refuse);
    // Failed before, or its result is no longer cached: the provider is asked again with the same idempotency key.
    repeatOfSuccess = call.effect_status === store.EffectStatus.sent;
    delivered = await deps.retrySync([command.source, envelope.id], env, keepStatus);
    if (!delivered.length) return inFlight(refuse);
  } else delivered = first.delivered;

  const answer = syncAnswer(command, sent, delivered[0], deps);
  if (answer.status === 200 && kv) {
    await kv.put(
      cacheKey,
      JSON.stringify({ input: inputHash, status: answer.status, body: answer.body } satisfies CachedResult),
      { expirationTtl: kvExpirationTtl(command.sync!.cacheSeconds) },
    );
    deps.usage?.count('kv_writes');
  }
  if (answer.status === 200)
    deps.emit({
      kind: 'command.accepted',
      command: command.name,
      id: envelope.id,
      via,
      status: store.EventStatus.applied,
    });
  else
    deps.emit({
      kind: 'command.failed',
      command: command.name,
      id: envelope.id,
      via,
      error: String(answer.body.message),
    });
  return repeatOfSuccess && answer.status === 200 ? replay(answer) : answer;
}

/** The answer for a synchronous call's one effect: the mapped result, or why not (never the provider's own text). */
function syncAnswer(command: CompiledCommand, id: string, d: Delivered | undefined, deps: CommandDeps): CommandAnswer {
  if (!d) return fail(500, { error: 'internal', message: 'the command has no action to run' });
  if (d.outcome.status === store.EffectStatus.sent) {
    const spec = deps.compiled.effects.byId.get(d.effect.source);
    const response = spec?.action.response ? spec.action.response(d.result) : d.result;
    try {
      const result = Object.fromEntries(
        command.sync!.result.map(([field, value]) => [field, value({ payload: response })]),
      );
      return { status: 200, body: { id, status: store.EventStatus.applied, result } };
    } catch (error) {
      const message = error instanceof MappingError ? error.logText : 'its answer could not be read';
      return fail(502, {
        error: 'bad_gateway',
        message: `the provider answered, but not as the command expects: ${message}`,
        reason: 'unexpected_response',
      });
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
