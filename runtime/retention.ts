/**
 * Retention, declared in the manifest and applied by the cron trigger in bounded batches, so the event log stops
 * growing: raw bodies after `payloads`, event metadata (with its applied-markers and send-ledger entries) after
 * `events`, dead letters once replayed or after `dead_letters`. In-flight events (queued, failed) are never pruned.
 */
import { durationSchema, parseDuration } from './duration.ts';

export const retentionSchema = {
  type: 'object',
  title: 'Retention',
  additionalProperties: false,
  properties: {
    payloads: { ...durationSchema, description: 'Keep raw webhook bodies this long (default 30d).' },
    events: { ...durationSchema, description: 'Keep event metadata this long (default 90d).' },
    dead_letters: { ...durationSchema, description: 'Keep unreplayed dead letters this long (default 90d); replayed ones go at the next prune.' },
    batch: { type: 'integer', minimum: 10, maximum: 5000, description: 'Rows per statement (default 500).' },
  },
} as const;

export interface RetentionPolicy {
  payloadsMs: number;
  eventsMs: number;
  deadLettersMs: number;
  batch: number;
}

/** Statements per prune run, at most: a run touches at most ROUNDS × batch rows per table. */
export const RETENTION_ROUNDS = 4;

export function retentionPolicy(spec: { payloads?: string; events?: string; dead_letters?: string; batch?: number } | undefined): RetentionPolicy {
  return {
    payloadsMs: parseDuration(spec?.payloads ?? '30d'),
    eventsMs: parseDuration(spec?.events ?? '90d'),
    deadLettersMs: parseDuration(spec?.dead_letters ?? '90d'),
    batch: spec?.batch ?? 500,
  };
}

export interface PruneResult {
  payloads: number;
  events: number;
  dead_letters: number;
  applied_messages: number;
  action_ledger: number;
}

/** One bounded prune run. Returns how many rows each step changed. */
export async function prune(db: D1Database, policy: RetentionPolicy, nowMs: number): Promise<PruneResult> {
  const cut = (ms: number) => new Date(nowMs - ms).toISOString();
  const steps: [keyof PruneResult, D1PreparedStatement][] = [
    ['payloads', db.prepare('UPDATE events SET body = NULL WHERE rowid IN (SELECT rowid FROM events WHERE body IS NOT NULL AND received_at < ?1 LIMIT ?2)').bind(cut(policy.payloadsMs), policy.batch)],
    ['events', db.prepare("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE received_at < ?1 AND status NOT IN ('queued', 'failed') LIMIT ?2)").bind(cut(policy.eventsMs), policy.batch)],
    ['applied_messages', db.prepare('DELETE FROM applied_messages WHERE rowid IN (SELECT rowid FROM applied_messages WHERE applied_at < ?1 LIMIT ?2)').bind(cut(policy.eventsMs), policy.batch)],
    ['action_ledger', db.prepare('DELETE FROM action_ledger WHERE rowid IN (SELECT rowid FROM action_ledger WHERE sent_at < ?1 LIMIT ?2)').bind(cut(policy.eventsMs), policy.batch)],
    ['dead_letters', db.prepare('DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters WHERE replayed_at IS NOT NULL OR last_failed_at < ?1 LIMIT ?2)').bind(cut(policy.deadLettersMs), policy.batch)],
  ];
  const result: PruneResult = { payloads: 0, events: 0, dead_letters: 0, applied_messages: 0, action_ledger: 0 };
  let pending = steps;
  for (let round = 0; round < RETENTION_ROUNDS && pending.length; round++) {
    const results = await db.batch(pending.map(([, statement]) => statement));
    const next: typeof steps = [];
    pending.forEach(([name, statement], i) => {
      const changed = results[i]!.meta.changes ?? 0;
      result[name] += changed;
      if (changed >= policy.batch) next.push([name, statement]);
    });
    pending = next;
  }
  return result;
}
