/**
 * The cron trigger's prune: the retention the manifest declares (manifest/retention.ts), applied in bounded batches
 * so the event log stops growing.
 */
import { pruneDeadLetters, pruneEvents } from '../store/index.ts';
import { pruneRefusalsStatement } from '../store/refusals.ts';
import type { RetentionPolicy } from '../manifest/retention.ts';

/** Statements per prune run, at most: a run touches at most ROUNDS × batch rows per table. */
export const RETENTION_ROUNDS = 4;

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
    const changed = await pruneEvents(
      db,
      { payloads: cut(policy.payloadsMs), events: cut(policy.eventsMs) },
      policy.batch,
    );
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
