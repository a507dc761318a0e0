/**
 * The retry policy (`retry:` under defaults, an integration, a route, a command, an action step): every field
 * optional, so one shape serves as the defaults and as an override. Only `defaults.retry` has defaults (the
 * built-in policy, RETRY_DEFAULTS); an override says only what it changes. The consumer (consumer/retry.ts) parses it.
 */
import { field } from '../../component/spec.ts';

export const retryPolicySpec = {
  backoff: field.enum(['fixed', 'linear', 'exponential']).describe('How the delay grows between attempts.').optional(),
  initial_delay: field.duration().describe('Delay before the second attempt.').optional(),
  max_delay: field.duration().describe('Upper bound of any delay (Queues caps it at 12h).').optional(),
  jitter: field
    .number({ minimum: 0, maximum: 1 })
    .describe('Random spread as a fraction of the delay (0.2 = ±20%).')
    .optional(),
  max_attempts: field
    .integer({ minimum: 1, maximum: 100 })
    .describe('Attempts before the message is dead-lettered.')
    .optional(),
};

/** The RetryPolicy definition. */
export const retryPolicy = field.object(retryPolicySpec).title('RetryPolicy');

/** What applies when neither the manifest's `defaults.retry` nor the integration say otherwise. */
export const RETRY_DEFAULTS = {
  backoff: 'exponential',
  initial_delay: '30s',
  max_delay: '1h',
  jitter: 0.2,
  max_attempts: 5,
} as const;
