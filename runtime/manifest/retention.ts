/**
 * Retention, declared in the manifest and applied by the cron trigger in bounded batches, so the event log stops
 * growing: raw bodies after `payloads`, event metadata (with its applied-markers and delivered effects) after
 * `events`, dead letters once replayed or after `dead_letters`, the refusal log after `refusals`. Events still waiting for an outcome are never pruned,
 * nor are their bodies (a queued large event's message points at its stored body).
 */
import { durationSchema, parseDuration } from '../lib/duration.ts';
import { pruneDeadLetters, pruneEvents } from '../store/index.ts';
import { pruneRefusalsStatement } from '../store/refusals.ts';
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

/** Statements per prune run, at most: a run touches at most ROUNDS × batch rows per table. */
export const RETENTION_ROUNDS = 4;

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
