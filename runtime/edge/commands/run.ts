/**
 * One command call, whichever way it came (HTTP or a Service Binding): the Idempotency-Key and the input checked,
 * then the call recorded in the event log under (command:<name>, key scoped to its caller) and applied: in the request when its steps
 * all commit in the event log's D1 (SQL, effects delivered right after the answer), synchronously when it is `sync:`,
 * else through the queue. A repeat of a key is found by the event
 * log's UNIQUE key (the insert does nothing) and answers what the first call answered.
 *
 * Idempotency follows the IETF draft "The Idempotency-Key HTTP Header Field": the key is required; a repeat with the
 * same input answers the first outcome with `Idempotent-Replayed: true`; the same key with another input is a 422; a
 * repeat while a synchronous first call is still running is a 409. A key is the caller's own: a service token (by
 * its name), a user (`<auth provider>:<sub>`) or a Service Binding (`rpc`, or `rpc/<name>` from the binding's props)
 * each has its keys, so nobody is answered another caller's result or refused for a key another caller used.
 */
import { messageFor } from '../../event/extract.ts';
import type { Envelope, RuntimeEnv } from '../../lib/envelope.ts';
import type { ErrorBody } from '../../lib/http.ts';
import * as store from '../../store/index.ts';
import {
  fail,
  inFlight,
  REPLAYED_HEADER,
  reused,
  type CommandAnswer,
  type CommandDeps,
  type Refuse,
  type Replay,
} from './answers.ts';
import type { CompiledCommand } from '../../manifest/commands/compile.ts';
import { decide } from '../../manifest/decide.ts';
import { runSync } from './sync.ts';
import { runCount } from './count.ts';

export { REPLAYED_HEADER, type CommandAnswer, type CommandDeps };

/** The request header of the IETF draft: one key per operation, the same key when it is retried. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/**
 * Longest accepted Idempotency-Key (a UUID is 36). The key a provider sees is `command:<name>:<key>~<tag>:<step>`
 * (the tag: 16 hex digits of who called), which must stay within the 255 or 256 characters Stripe and Resend allow.
 */
export const MAX_KEY_LENGTH = 128;

/** A printable ASCII key of 1 to MAX_KEY_LENGTH characters; a message for anything else. */
export function keyProblem(key: unknown): string | undefined {
  if (key === undefined || key === null || key === '')
    return `an ${IDEMPOTENCY_HEADER} is required: send a unique key per operation (a UUID), and the same key when you retry it`;
  if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key))
    return `the ${IDEMPOTENCY_HEADER} must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`;
  return undefined;
}

/** A number JSON cannot carry: `1e400` parses to Infinity, which JSON.stringify would silently write as null. */
class NonFiniteNumber extends Error {}

/**
 * JSON with object keys sorted at every level: the same input gives the same text, whatever order it was sent in.
 * Throws NonFiniteNumber for Infinity or NaN, so such an input is refused, never stored (or compared) as null.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new NonFiniteNumber();
    return v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v;
  });
}

/**
 * Runs one call for `caller` (who the edge authenticated). Never throws for what the caller sent or what a provider
 * answered: every outcome is an answer.
 * @example await runCommand(command, { email: 'a@b.c' }, 'a1b2…', env, 'rpc', 'rpc', deps)
 */
export async function runCommand(
  command: CompiledCommand,
  rawInput: unknown,
  key: unknown,
  env: RuntimeEnv,
  via: 'http' | 'rpc',
  caller: string,
  deps: CommandDeps,
): Promise<CommandAnswer> {
  const { emit } = deps;
  const refuse = (status: number, body: ErrorBody, headers?: Record<string, string>) => {
    emit({ kind: 'command.rejected', command: command.name, via, reason: body.reason ?? body.error });
    return fail(status, body, headers);
  };
  const keyError = keyProblem(key);
  if (keyError)
    return refuse(400, {
      error: 'bad_request',
      message: keyError,
      reason: key ? 'invalid_idempotency_key' : 'missing_idempotency_key',
    });
  const sent = key as string;
  let input: unknown;
  let text: string;
  try {
    // A Service Binding hands over structured-cloned values: the command sees them as JSON, like an HTTP body.
    text = canonicalJson(rawInput);
    input = JSON.parse(text);
  } catch (error) {
    const message =
      error instanceof NonFiniteNumber
        ? 'the input must be JSON with finite numbers (1e400 is out of range)'
        : 'the input must be JSON';
    return refuse(400, { error: 'bad_request', message, reason: 'malformed_input' });
  }
  // Over HTTP the body was bounded as it was read; a Service Binding hands over whatever it was given.
  if (text.length > command.maxBody)
    return refuse(413, {
      error: 'payload_too_large',
      message: `the input exceeds ${command.maxBody} bytes`,
      reason: 'payload_too_large',
    });
  const problems = command.validate(input);
  if (problems.length) {
    const [first] = problems;
    return refuse(422, {
      error: 'unprocessable',
      message: `${first!.path || 'the input'} ${first!.message}`,
      reason: 'invalid_input',
      problems,
    });
  }

  const at = new Date(deps.now()).toISOString();
  // The log's id for the call; answers name it by the key the caller sent.
  const id = await store.commandCallId(sent, caller);
  const envelope: Envelope = {
    integration: command.source,
    id,
    type: command.name,
    occurred_at: at,
    received_at: at,
    payload: input,
    caller,
  };
  const replay = (answer: CommandAnswer): CommandAnswer => {
    emit({ kind: 'command.replayed', command: command.name, id, via });
    return { ...answer, replayed: true, headers: { ...answer.headers, [REPLAYED_HEADER]: 'true' } };
  };
  if (command.count) return runCount(command, envelope, sent, env, via, deps, replay, refuse);
  if (command.sync) return runSync(command, envelope, sent, text, env, via, deps, replay, refuse);

  const source = deps.compiled.sources.get(command.source)!;
  if (decide(source, command.name).path === 'direct') {
    // Recorded and applied in one transaction (its effects leased to this call), answered after the commit, its
    // effects delivered after the answer; queued if that cannot be done.
    const outcome = await deps
      .applyInRequest(envelope, text, env, deps.waitUntil ? { waitUntil: deps.waitUntil } : {})
      .catch(() => 'queue' as const);
    if (store.isSettled(outcome)) {
      emit({ kind: 'command.accepted', command: command.name, id, via, status: outcome });
      return { status: 200, body: { id: sent, status: outcome } };
    }
    if (outcome === 'recorded') return repeated(command, id, sent, text, env, deps, replay, refuse);
  }

  const queue = env[source.queue.binding] as Queue | undefined;
  if (!queue || typeof queue.send !== 'function') {
    emit({
      kind: 'runtime.error',
      where: `commands.${command.name}.queue`,
      error: `queue binding ${source.queue.binding} is not bound`,
    });
    return fail(500, { error: 'misconfigured', message: `command ${command.name} is not configured on this server` });
  }
  const token = crypto.randomUUID();
  const claimed = await store.commandClaimStatement(env.DB, envelope, text, token).all<{ seq: number }>();
  deps.usage?.count('d1_rows_written', claimed.meta.rows_written ?? 0);
  const row = claimed.results[0];
  if (!row) return repeated(command, id, sent, text, env, deps, replay, refuse);
  try {
    await queue.send(messageFor({ ...envelope, seq: row.seq }, text), { contentType: 'json' });
  } catch (error) {
    emit({
      kind: 'command.failed',
      command: command.name,
      id,
      via,
      error: `queueing: ${error instanceof Error ? error.message : String(error)}`,
    });
    await store.releaseClaim(env.DB, command.source, id, token).catch(() => undefined);
    return fail(
      503,
      { error: 'unavailable', message: 'the command could not be queued; retry later with the same Idempotency-Key' },
      { 'retry-after': '30' },
    );
  }
  deps.usage?.count('queue_operations');
  emit({ kind: 'command.accepted', command: command.name, id, via, status: store.EventStatus.queued });
  return { status: 202, body: { id: sent, status: store.EventStatus.queued } };
}

/** A queued or in-request command's key seen before: the first answer again, or 422 for another input. */
async function repeated(
  command: CompiledCommand,
  id: string,
  sent: string,
  text: string,
  env: RuntimeEnv,
  _deps: CommandDeps,
  replay: Replay,
  refuse: Refuse,
): Promise<CommandAnswer> {
  const call = await store.commandCall(env.DB, [command.source, id]);
  // Recorded a moment ago by a call whose queue send failed, and forgotten since: that caller was told to retry.
  if (!call) return inFlight(refuse);
  if (call.body !== null && call.body !== text) return reused(refuse);
  // Applied in its request (200), or queued (202): the first call's answer, whatever has happened since.
  return replay(
    call.claimed_at === null
      ? { status: 200, body: { id: sent, status: call.status } }
      : { status: 202, body: { id: sent, status: store.EventStatus.queued } },
  );
}
