import { durationSchema, parseDuration } from '../lib/duration.ts';
import type { RetryPolicy as RetryPolicySpec } from './types.gen.ts';

/** Cloudflare Queues refuses a `retry({ delaySeconds })` above 12 hours. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;

/** The shared retry-policy fragment: every field optional, so it serves as defaults and as an override. */
export const retryPolicySchema = {
  type: 'object',
  title: 'RetryPolicy',
  additionalProperties: false,
  properties: {
    backoff: { enum: ['fixed', 'linear', 'exponential'], description: 'How the delay grows between attempts.' },
    initial_delay: { ...durationSchema, description: 'Delay before the second attempt.' },
    max_delay: { ...durationSchema, description: 'Upper bound of any delay (Queues caps it at 12h).' },
    jitter: { type: 'number', minimum: 0, maximum: 1, description: 'Random spread as a fraction of the delay (0.2 = ±20%).' },
    max_attempts: { type: 'integer', minimum: 1, maximum: 100, description: 'Attempts before the message is dead-lettered.' },
  },
} as const;

export interface RetryPolicy {
  backoff: 'fixed' | 'linear' | 'exponential';
  initialDelayMs: number;
  maxDelayMs: number;
  jitter: number;
  maxAttempts: number;
}

/** A retry policy as the manifest writes it (durations as text): the generated `RetryPolicy`. */
export type RetryPolicyInput = RetryPolicySpec;

/** What applies when neither the manifest defaults nor the integration say otherwise. */
export const BUILTIN_RETRY: RetryPolicy = {
  backoff: 'exponential',
  initialDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  jitter: 0.2,
  maxAttempts: 5,
};

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
    policy.backoff === 'fixed' ? policy.initialDelayMs
    : policy.backoff === 'linear' ? policy.initialDelayMs * n
    : policy.initialDelayMs * 2 ** (n - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  const spread = capped * policy.jitter * (2 * random - 1);
  const ms = Math.min(Math.max(0, capped + spread), policy.maxDelayMs);
  return Math.min(Math.round(ms / 1000), MAX_QUEUE_DELAY_SECONDS);
}
