/**
 * Dashboard sessions' server-side records (admin_sessions, migration 0015): one row per session, written at sign-in,
 * read by each request the session makes, deleted at sign-out. D1, not KV: a sign-out must hold everywhere at once,
 * and KV's copies in other locations may answer the deleted entry for up to a minute.
 */

/** What a session's row keeps: when it ends, and what a token that opened it showed of admin.require. */
interface SessionRecord {
  /** Unix seconds. */
  expires_at: number;
  /** The admin auth provider whose token opened the session; null for ADMIN_TOKEN. */
  provider: string | null;
  /** JSON of the claims admin.require reads (null for ADMIN_TOKEN). */
  claims: string | null;
}

/** Opens a session: 1 row written (the table has no rowid, so no second key). */
export function openSessionStatement(
  db: D1Database,
  id: string,
  record: SessionRecord,
  at: string,
): D1PreparedStatement {
  return db
    .prepare('INSERT INTO admin_sessions (id, expires_at, provider, claims, created_at) VALUES (?1, ?2, ?3, ?4, ?5)')
    .bind(id, record.expires_at, record.provider, record.claims, at);
}

/** A session's row, through its primary key: 1 row read, or none once it was ended. */
export function sessionRecord(db: D1Database, id: string): Promise<SessionRecord | null> {
  return db
    .prepare('SELECT expires_at, provider, claims FROM admin_sessions WHERE id = ?1')
    .bind(id)
    .first<SessionRecord>();
}

/** Ends a session (sign-out). */
export function endSessionStatement(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM admin_sessions WHERE id = ?1').bind(id);
}

/** Removes up to `batch` rows of sessions that ended by themselves (the cron trigger). */
export function pruneSessionsStatement(db: D1Database, nowSeconds: number, batch: number): D1PreparedStatement {
  return db
    .prepare('DELETE FROM admin_sessions WHERE id IN (SELECT id FROM admin_sessions WHERE expires_at <= ?1 LIMIT ?2)')
    .bind(nowSeconds, batch);
}
