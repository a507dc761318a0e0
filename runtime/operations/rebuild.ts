/**
 * Rebuild: re-run projections from the event log into the tables, after a manifest change or a truncation.
 * Events are taken in arrival order (their sequence) a page at a time; each page's statements commit in one
 * transaction. Only statements are run: rebuilding never sends email, enqueues or calls an API. Projections are
 * upserts with version guards, so running it twice changes nothing.
 */
import { stepContext } from '../component/context.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { parsePayload } from '../event/extract.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import { rebuildPageRows, rebuildTotal, storedEnvelope } from '../store/index.ts';
import type { PostgresConnect } from '../store/postgres.ts';
import { runExternal } from '../consumer/projections.ts';
import { isExternal } from '../manifest/stores.ts';
import type { Statement } from '../component/context.ts';

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

export async function rebuildPage(
  env: RuntimeEnv,
  compiled: CompiledManifest,
  request: RebuildRequest,
  connectPostgres?: PostgresConnect,
): Promise<RebuildPage> {
  const limit = Math.min(500, Math.max(1, request.limit ?? 200));
  const bySource = compiled.sources.has(request.target);
  const writes = writesTo(request.target);
  const sources = bySource ? [request.target] : [...compiled.sources.keys()];
  const after = request.cursor ? Number(request.cursor) : 0;
  if (!Number.isSafeInteger(after) || after < 0) throw new Error('cursor is not one rebuild returned');
  const rows = await rebuildPageRows(env.DB, sources, after, limit);
  // Rebuild is a full pass over the log by design: counting what it will go through costs the same order.
  const total = request.cursor ? -1 : await rebuildTotal(env.DB, sources);

  const statements: D1PreparedStatement[] = [];
  // Statements for an external store (Postgres) run there, in one transaction per store and page.
  const external: Statement[] = [];
  let skipped = 0;
  for (const row of rows) {
    const source = compiled.sources.get(row.integration)!;
    let payload: unknown;
    try {
      payload = parsePayload(source.format, row.body);
    } catch {
      skipped++;
      continue;
    }
    const ctx = stepContext(storedEnvelope(row, payload), env);
    for (const step of source.stepsFor(row.type)) {
      try {
        const output = await step.run(ctx);
        for (const s of output.statements ?? []) {
          if (!bySource && !writes(s.sql)) continue;
          if (isExternal(s)) external.push(s);
          else statements.push(env.DB.prepare(s.sql).bind(...s.params));
        }
      } catch {
        skipped++;
      }
    }
  }
  if (external.length) await runExternal(compiled, env, external, connectPostgres);
  if (statements.length) await env.DB.batch(statements);
  const last = rows[rows.length - 1];
  return {
    processed: rows.length,
    statements: statements.length + external.length,
    skipped,
    total,
    next_cursor: rows.length === limit && last ? String(last.seq) : null,
  };
}
