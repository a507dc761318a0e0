/**
 * Failed attempts: one row per attempt that failed (an event's state that did not commit, an effect's send), with
 * its error and duration, for the event log's timeline. Nothing is written when an attempt succeeds.
 */

/** What is being attempted: the event's own state, or one of its effects (by step). */
export const EVENT_TARGET = 'event';

interface FailedAttempt {
  integration: string;
  id: string;
  target: string;
  n: number;
  durationMs: number;
  error: string;
}

export function attemptStatement(db: D1Database, a: FailedAttempt, at: string): D1PreparedStatement {
  return db
    .prepare(
      'INSERT INTO attempts (integration, event_id, target, n, at, duration_ms, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (integration, event_id, target, n) DO UPDATE SET at = excluded.at, duration_ms = excluded.duration_ms, error = excluded.error',
    )
    .bind(a.integration, a.id, a.target, a.n, at, Math.max(0, Math.round(a.durationMs)), a.error.slice(0, 2000));
}

/** An event's failed attempts, in order, for its detail (a primary-key range: reads what it returns). */
export async function attemptsOf(
  db: D1Database,
  integration: string,
  id: string,
): Promise<{ target: string; n: number; at: string; duration_ms: number | null; error: string }[]> {
  const rows = await db
    .prepare(
      'SELECT target, n, at, duration_ms, error FROM attempts WHERE integration = ?1 AND event_id = ?2 ORDER BY at, target, n',
    )
    .bind(integration, id)
    .all<{ target: string; n: number; at: string; duration_ms: number | null; error: string }>();
  return rows.results;
}
