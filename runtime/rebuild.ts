/**
 * Rebuild: re-run projections from the event log into the tables, after a manifest change or a truncation.
 * Events are taken in order (received_at, integration, id) a page at a time; each page's statements commit in one
 * transaction. Only statements are run: rebuilding never sends email, enqueues or calls an API. Projections are
 * upserts with version guards, so running it twice changes nothing.
 */
import { stepContext } from './adapter.ts';
import type { Envelope, RuntimeEnv } from './envelope.ts';
import { parsePayload } from './ingest.ts';
import type { CompiledManifest } from './manifest/compile.ts';

export interface RebuildRequest {
  /** A table (only statements writing it run) or an event source name. */
  target: string;
  cursor?: string | null;
  limit?: number;
}

export interface RebuildPage {
  processed: number;
  statements: number;
  skipped: number;
  total: number;
  next_cursor: string | null;
}

/** Whether a statement writes the table (compiled once per page, not per statement). */
const writesTo = (table: string) => {
  const re = new RegExp(`\\b(INTO|UPDATE|FROM)\\s+["\`]?${table.replace(/[^A-Za-z0-9_]/g, '')}["\`]?\\b`, 'i');
  return (sql: string) => re.test(sql);
};

export async function rebuildPage(env: RuntimeEnv, compiled: CompiledManifest, request: RebuildRequest): Promise<RebuildPage> {
  const limit = Math.min(500, Math.max(1, request.limit ?? 200));
  const bySource = compiled.sources.has(request.target);
  const writes = writesTo(request.target);
  const sources = bySource ? [request.target] : [...compiled.sources.keys()];
  const placeholders = sources.map((_, i) => `?${i + 4}`).join(', ');
  const cursor = request.cursor ? (JSON.parse(atob(request.cursor)) as [string, string, string]) : null;
  const where = `body IS NOT NULL AND integration IN (${placeholders}) AND status NOT IN ('queued', 'failed')`;
  const rows = await env.DB.prepare(
    `SELECT integration, id, type, occurred_at, received_at, body FROM events WHERE ${where}
     AND (?1 IS NULL OR (received_at, integration, id) > (?1, ?2, ?3)) ORDER BY received_at, integration, id LIMIT ${limit}`,
  )
    .bind(cursor?.[0] ?? null, cursor?.[1] ?? null, cursor?.[2] ?? null, ...sources)
    .all<{ integration: string; id: string; type: string; occurred_at: string | null; received_at: string; body: string }>();
  const total = request.cursor ? -1 : ((await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE ${where} AND ?1 IS NULL`).bind(null, null, null, ...sources).first<{ n: number }>())?.n ?? 0);

  const statements: D1PreparedStatement[] = [];
  let skipped = 0;
  for (const row of rows.results) {
    const source = compiled.sources.get(row.integration)!;
    let payload: unknown;
    try {
      payload = parsePayload(source.format, row.body);
    } catch {
      skipped++;
      continue;
    }
    const envelope: Envelope = { integration: row.integration, id: row.id, type: row.type, occurred_at: row.occurred_at, received_at: row.received_at, payload };
    for (const step of source.stepsFor(row.type)) {
      try {
        const output = await step.run(stepContext(envelope, env));
        for (const s of output.statements ?? []) if (bySource || writes(s.sql)) statements.push(env.DB.prepare(s.sql).bind(...s.params));
      } catch {
        skipped++;
      }
    }
  }
  if (statements.length) await env.DB.batch(statements);
  const last = rows.results[rows.results.length - 1];
  return {
    processed: rows.results.length,
    statements: statements.length,
    skipped,
    total,
    next_cursor: rows.results.length === limit && last ? btoa(JSON.stringify([last.received_at, last.integration, last.id])) : null,
  };
}
