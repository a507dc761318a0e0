/**
 * Retention, declared in the manifest and applied by the cron trigger in bounded batches, so the event log stops
 * growing: raw bodies after `payloads`, event metadata (with its applied-markers and delivered effects) after
 * `events`, dead letters once replayed or after `dead_letters`, the refusal log after `refusals`. Events still waiting for an outcome are never pruned,
 * nor are their bodies (a queued large event's message points at its stored body).
 */
import { parseDuration } from '../lib/duration.ts';
import { sectionDefaults } from './defaults.ts';
import { MANIFEST_DEFAULTS } from './defaults.gen.ts';
import type { Retention } from './types.gen.ts';

export interface RetentionPolicy {
  payloadsMs: number;
  eventsMs: number;
  deadLettersMs: number;
  refusalsMs: number;
  batch: number;
}

/** The retention a manifest declares, its defaults applied (runtime/manifest/sections/retention.ts); none: every default. */
export function retentionPolicy(
  spec: Retention = sectionDefaults(MANIFEST_DEFAULTS.top.retention!.s) as Retention,
): RetentionPolicy {
  return {
    payloadsMs: parseDuration(spec.payloads!),
    eventsMs: parseDuration(spec.events!),
    deadLettersMs: parseDuration(spec.dead_letters!),
    refusalsMs: parseDuration(spec.refusals!),
    batch: spec.batch!,
  };
}

/**
 * The policy with event rows kept at least as long as bodies when an integration's verifier signs no timestamp
 * (GitHub, Meta, Asana): a capture of such a delivery verifies forever, and only its event row (the deduplication
 * record) refuses it again, so the row must not go before the body it was recorded with.
 */
export function replayProof(
  policy: RetentionPolicy,
  integrations: readonly { timestampToleranceMs?: number }[],
): RetentionPolicy {
  return integrations.some((i) => i.timestampToleranceMs === undefined) && policy.eventsMs < policy.payloadsMs
    ? { ...policy, eventsMs: policy.payloadsMs }
    : policy;
}

/** How long a re-sent capture of one integration's delivery is refused as a duplicate: its event row's life. */
export const duplicateWindowMs = (policy: RetentionPolicy): number => policy.eventsMs;
