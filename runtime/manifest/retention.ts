/**
 * Retention, declared in the manifest and applied by the cron trigger in bounded batches, so the event log stops
 * growing: raw bodies after `payloads`, event metadata (with its applied-markers and delivered effects) after
 * `events`, dead letters once replayed or after `dead_letters`, the refusal log after `refusals`. Events still waiting for an outcome are never pruned,
 * nor are their bodies (a queued large event's message points at its stored body).
 */
import { durationSchema, parseDuration } from '../lib/duration.ts';
import type { Retention } from './types.gen.ts';

export const retentionSchema = {
  type: 'object',
  title: 'Retention',
  additionalProperties: false,
  properties: {
    payloads: { ...durationSchema, description: 'Keep raw webhook bodies this long (default 30d).' },
    events: { ...durationSchema, description: 'Keep event metadata this long (default 90d).' },
    dead_letters: { ...durationSchema, description: 'Keep unreplayed dead letters this long (default 90d); replayed ones go at the next prune.' },
    refusals: { ...durationSchema, description: 'Keep the log of refused requests this long (default 7d).' },
    batch: { type: 'integer', minimum: 10, maximum: 5000, description: 'Rows per statement (default 500).' },
  },
} as const;

export interface RetentionPolicy {
  payloadsMs: number;
  eventsMs: number;
  deadLettersMs: number;
  refusalsMs: number;
  batch: number;
}

export function retentionPolicy(spec: Retention | undefined): RetentionPolicy {
  return {
    payloadsMs: parseDuration(spec?.payloads ?? '30d'),
    eventsMs: parseDuration(spec?.events ?? '90d'),
    deadLettersMs: parseDuration(spec?.dead_letters ?? '90d'),
    refusalsMs: parseDuration(spec?.refusals ?? '7d'),
    batch: spec?.batch ?? 500,
  };
}

/**
 * The policy with event rows kept at least as long as bodies when an integration's verifier signs no timestamp
 * (GitHub, Meta, Asana): a capture of such a delivery verifies forever, and only its event row (the deduplication
 * record) refuses it again, so the row must not go before the body it was recorded with.
 */
export function replayProof(policy: RetentionPolicy, integrations: readonly { timestampToleranceMs?: number }[]): RetentionPolicy {
  return integrations.some((i) => i.timestampToleranceMs === undefined) && policy.eventsMs < policy.payloadsMs ? { ...policy, eventsMs: policy.payloadsMs } : policy;
}

/** How long a re-sent capture of one integration's delivery is refused as a duplicate: its event row's life. */
export const duplicateWindowMs = (policy: RetentionPolicy): number => policy.eventsMs;
