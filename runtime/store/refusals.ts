/**
 * The refusal log's reads and its retention (the rows are written by runtime/edge/refusals.ts). The table is keyed by
 * time first and capped (at most REFUSAL_CAPS.per_hour rows an hour), so a page walks the key from the newest and a
 * prune deletes a range of it.
 */

/** A refused request, as the admin API answers it. */
export interface Refusal {
  at: string;
  integration: string;
  method: string;
  route: string;
  status: number;
  reason: string;
  secrets: string[];
  headers: Record<string, string>;
  body_sha256: string | null;
  body_size: number;
}

/** The refusals before `before` (newest first), of one integration or all. */
export async function listRefusals(
  db: D1Database,
  query: { integration: string | null; before: string | null },
  limit: number,
): Promise<Refusal[]> {
  const rows = await db
    .prepare(
      `SELECT at, integration, method, route, status, reason, secrets, headers, body_sha256, body_size FROM refusals
       WHERE at < coalesce(?1, '9999') AND (?2 IS NULL OR integration = ?2) ORDER BY at DESC LIMIT ?3`,
    )
    .bind(query.before, query.integration, limit)
    .all<Omit<Refusal, 'secrets' | 'headers'> & { secrets: string; headers: string }>();
  return rows.results.map((r) => ({
    ...r,
    secrets: JSON.parse(r.secrets) as string[],
    headers: JSON.parse(r.headers) as Record<string, string>,
  }));
}

/** Deletes up to `batch` refusals logged before `cut` (a range of the key, oldest first). */
export function pruneRefusalsStatement(db: D1Database, cut: string, batch: number): D1PreparedStatement {
  return db
    .prepare(
      'DELETE FROM refusals WHERE (at, integration, id) IN (SELECT at, integration, id FROM refusals WHERE at < ?1 ORDER BY at LIMIT ?2)',
    )
    .bind(cut, batch);
}
