/**
 * Retention, declared in the manifest and applied by the cron trigger in bounded batches, so the event log stops
 * growing: raw bodies after `payloads`, event metadata (with its applied-markers and delivered effects) after
 * `events`, dead letters once replayed or after `dead_letters`, the refusal log after `refusals`. Events still waiting for an outcome are never pruned,
 * nor are their bodies (a queued large event's message points at its stored body).
 */
import { parseDuration } from '../lib/duration.ts';
import { sectionDefaults } from '../manifest/defaults.ts';
import { MANIFEST_DEFAULTS } from '../manifest/defaults.gen.ts';
import { pruneDeadLetters, pruneEvents } from '../store/index.ts';
import { pruneRefusalsStatement } from '../store/refusals.ts';
import type { Retention } from '../manifest/types.gen.ts';

export interface RetentionPolicy {
  payloadsMs: number;
  eventsMs: number;
  deadLettersMs: number;
  refusalsMs: number;
  batch: number;
}

/** Statements per prune run, at most: a run touches at most ROUNDS × batch rows per table. */
export const RETENTION_ROUNDS = 4;

/** The retention a manifest declares, its defaults applied (runtime/manifest/sections/retention.ts); none: every default. */
export function retentionPolicy(spec: Retention = sectionDefaults(MANIFEST_DEFAULTS.top.retention!.s) as Retention): RetentionPolicy {
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
export function replayProof(policy: RetentionPolicy, integrations: readonly { timestampToleranceMs?: number }[]): RetentionPolicy {
  return integrations.some((i) => i.timestampToleranceMs === undefined) && policy.eventsMs < policy.payloadsMs ? { ...policy, eventsMs: policy.payloadsMs } : policy;
}

/** How long a re-sent capture of one integration's delivery is refused as a duplicate: its event row's life. */
export const duplicateWindowMs = (policy: RetentionPolicy): number => policy.eventsMs;

export interface PruneResult {
  payloads: number;
  events: number;
  dead_letters: number;
  refusals: number;
}

/** One bounded prune run. Returns how many rows each step changed. */
export async function prune(db: D1Database, policy: RetentionPolicy, nowMs: number): Promise<PruneResult> {
  const cut = (ms: number) => new Date(nowMs - ms).toISOString();
  const result: PruneResult = { payloads: 0, events: 0, dead_letters: 0, refusals: 0 };
  // The log is walked by sequence (each step reads about what it changes); effects go with their event's row.
  for (let round = 0; round < RETENTION_ROUNDS; round++) {
    const changed = await pruneEvents(db, { payloads: cut(policy.payloadsMs), events: cut(policy.eventsMs) }, policy.batch);
    result.payloads += changed.payloads;
    result.events += changed.events;
    if (changed.payloads < policy.batch && changed.events < policy.batch) break;
  }
  for (let round = 0; round < RETENTION_ROUNDS; round++) {
    const changed = (await pruneDeadLetters(db, cut(policy.deadLettersMs), policy.batch).run()).meta.changes ?? 0;
    result.dead_letters += changed;
    if (changed < policy.batch) break;
  }
  for (let round = 0; round < RETENTION_ROUNDS; round++) {
    const changed = (await pruneRefusalsStatement(db, cut(policy.refusalsMs), policy.batch).run()).meta.changes ?? 0;
    result.refusals += changed;
    if (changed < policy.batch) break;
  }
  return result;
}
