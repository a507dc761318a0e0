/**
 * Learnt handshake secrets and the operator's arming window, one row per integration (table handshake_secrets).
 * Every change is one statement whose condition decides it, so concurrent handshakes and admin calls cannot both
 * win: arming is refused while a secret is kept, and only one armed handshake keeps its secret. A delivery reads
 * one row (1 row read); arm, keep and forget write one (2 rows written with the key on insert, 1 on update).
 */

/** One integration's row, when it has one. */
export interface HandshakeRow {
  secret: string | null;
  armed_until: string | null;
}

export async function handshakeRow(db: D1Database, integration: string): Promise<HandshakeRow | null> {
  return db
    .prepare('SELECT secret, armed_until FROM handshake_secrets WHERE integration = ?1')
    .bind(integration)
    .first<HandshakeRow>();
}

/** Opens the window until `until`, unless a secret is kept: returns false (nothing written) when one is. */
export async function armHandshake(db: D1Database, integration: string, until: string, at: string): Promise<boolean> {
  const row = await db
    .prepare(
      `INSERT INTO handshake_secrets (integration, armed_until, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (integration) DO UPDATE SET armed_until = excluded.armed_until, updated_at = excluded.updated_at WHERE handshake_secrets.secret IS NULL
       RETURNING integration`,
    )
    .bind(integration, until, at)
    .first();
  return row !== null;
}

/**
 * Keeps `secret` if the window is open at `at` and no secret is kept, closing the window in the same write: of
 * two racing handshakes exactly one changes the row. Returns whether this one did.
 */
export async function keepHandshakeSecret(
  db: D1Database,
  integration: string,
  secret: string,
  at: string,
): Promise<boolean> {
  const result = await db
    .prepare(
      'UPDATE handshake_secrets SET secret = ?2, armed_until = NULL, kept_at = ?3, updated_at = ?3 WHERE integration = ?1 AND secret IS NULL AND armed_until > ?3',
    )
    .bind(integration, secret, at)
    .run();
  return (result.meta.changes ?? 0) === 1;
}

/** Adopts a secret kept in KV before the table existed, unless the row already has one (or the operator armed since). */
export function adoptHandshakeSecret(
  db: D1Database,
  integration: string,
  secret: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      'INSERT INTO handshake_secrets (integration, secret, kept_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT (integration) DO NOTHING',
    )
    .bind(integration, secret, at);
}

/** Forgets the kept secret and any open window. */
export function forgetHandshake(db: D1Database, integration: string): D1PreparedStatement {
  return db.prepare('DELETE FROM handshake_secrets WHERE integration = ?1').bind(integration);
}
