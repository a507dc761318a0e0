/**
 * What a command call answers, the same over HTTP and RPC, and the refusals more than one path gives.
 */
import type { Delivered } from '../../consumer/effects.ts';
import type { Failure } from '../../consumer/consumer.ts';
import type { InRequestOptions, InRequestOutcome } from '../../event/admit.ts';
import type { Envelope, RuntimeEnv } from '../../lib/envelope.ts';
import type { ErrorBody } from '../../lib/http.ts';
import type { CompiledManifest } from '../../manifest/compile.ts';
import type { PlatformUsage } from '../../lib/platform.ts';
import type * as store from '../../store/index.ts';
import type { Emit } from '../../lib/telemetry.ts';

/** The header a replayed answer carries (IETF draft "The Idempotency-Key HTTP Header Field"). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

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
  applyInRequest(
    envelope: Envelope,
    text: string,
    env: RuntimeEnv,
    options?: InRequestOptions,
  ): Promise<InRequestOutcome>;
  /** The fetch a limit's notification is sent with (tests point it at fakes); absent, the global fetch. */
  fetch?: typeof fetch;
  /** The call's `ctx.waitUntil`, for effects delivered after the answer; absent, they are awaited before it. */
  waitUntil?: (work: Promise<unknown>) => void;
  applySync(
    envelope: Envelope,
    text: string,
    env: RuntimeEnv,
    keep: (result: unknown) => unknown,
  ): Promise<{ recorded: true } | { failure: Failure } | { delivered: Delivered[] }>;
  retrySync(key: store.EventKey, env: RuntimeEnv, keep: (result: unknown) => unknown): Promise<Delivered[]>;
}

/** A refusal or failure as an answer. */
export const fail = (status: number, body: ErrorBody, headers?: Record<string, string>): CommandAnswer => ({
  status,
  body: { ...body },
  ...(headers ? { headers } : {}),
});

export type Refuse = (status: number, body: ErrorBody, headers?: Record<string, string>) => CommandAnswer;
export type Replay = (answer: CommandAnswer) => CommandAnswer;

/** The same key with another input. */
export const reused = (refuse: Refuse) =>
  refuse(422, {
    error: 'unprocessable',
    message: 'this Idempotency-Key was used with a different input: use a new key for a new operation',
    reason: 'idempotency_key_reused',
  });

/** A repeat while the first call still runs. */
export const inFlight = (refuse: Refuse) =>
  refuse(
    409,
    {
      error: 'conflict',
      message: 'a call with this Idempotency-Key is still in progress; retry later',
      reason: 'in_progress',
    },
    { 'retry-after': '1' },
  );
