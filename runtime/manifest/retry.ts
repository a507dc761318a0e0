import { parseDuration } from '../lib/duration.ts';
import { MANIFEST_DEFAULTS } from './defaults.gen.ts';
import type { RetryPolicy as RetryPolicySpec } from './types.gen.ts';

/** Cloudflare Queues refuses a `retry({ delaySeconds })` above 12 hours. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;

export interface RetryPolicy {
  backoff: 'fixed' | 'linear' | 'exponential';
  initialDelayMs: number;
  maxDelayMs: number;
  jitter: number;
  maxAttempts: number;
}

/** A retry policy as the manifest writes it (durations as text): the generated `RetryPolicy`. */
export type RetryPolicyInput = RetryPolicySpec;

/** A complete policy as the manifest writes it (`defaults.retry`, its defaults applied), parsed. */
export function retryPolicyOf(spec: Required<RetryPolicyInput>): RetryPolicy {
  return {
    backoff: spec.backoff,
    initialDelayMs: parseDuration(spec.initial_delay),
    maxDelayMs: parseDuration(spec.max_delay),
    jitter: spec.jitter,
    maxAttempts: spec.max_attempts,
  };
}

/** What applies when neither the manifest's `defaults.retry` nor the integration say otherwise (the spec's defaults). */
export const BUILTIN_RETRY: RetryPolicy = retryPolicyOf(
  MANIFEST_DEFAULTS.definitions.Defaults!.s!.retry!.d as Required<RetryPolicyInput>,
);

/** Layers policy fragments over a base, later ones winning field by field. */
export function resolveRetryPolicy(base: RetryPolicy, ...layers: (RetryPolicyInput | undefined)[]): RetryPolicy {
  let policy = base;
  for (const layer of layers) {
    if (!layer) continue;
    policy = {
      backoff: layer.backoff ?? policy.backoff,
      initialDelayMs: layer.initial_delay !== undefined ? parseDuration(layer.initial_delay) : policy.initialDelayMs,
      maxDelayMs: layer.max_delay !== undefined ? parseDuration(layer.max_delay) : policy.maxDelayMs,
      jitter: layer.jitter ?? policy.jitter,
      maxAttempts: layer.max_attempts ?? policy.maxAttempts,
    };
  }
  return policy;
}

/**
 * The delay before the next attempt, in whole seconds, capped at the policy's max_delay and at Queues' 12 h.
 * `attempt` is the attempt that just failed (1-based); `random` is in [0, 1).
 */
export function retryDelaySeconds(policy: RetryPolicy, attempt: number, random: number = Math.random()): number {
  const n = Math.max(1, attempt);
  const base =
    policy.backoff === 'fixed'
      ? policy.initialDelayMs
      : policy.backoff === 'linear'
        ? policy.initialDelayMs * n
        : policy.initialDelayMs * 2 ** (n - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  const spread = capped * policy.jitter * (2 * random - 1);
  const ms = Math.min(Math.max(0, capped + spread), policy.maxDelayMs);
  return Math.min(Math.round(ms / 1000), MAX_QUEUE_DELAY_SECONDS);
}
