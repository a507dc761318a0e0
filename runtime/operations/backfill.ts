/**
 * The admin API's side of backfill and reconcile (the CLI drives both: cli/commands/backfill.ts, reconcile.ts).
 *
 * `POST /admin/api/backfill/:integration` takes a bounded batch of events the CLI synthesised from a provider's list
 * API and hands each to the same pipeline a webhook takes after verification (`admit`: the integration's envelope
 * extraction, the dedup claim, apply in the request or queue, the same projections and @version guards), marked in
 * the event log with its origin. It is the only path that skips signature verification, and it is behind the admin
 * credential. Cost: what the same event costs from a webhook (`switchyard plan --budget`), one Worker request per
 * batch (MAX_BACKFILL_EVENTS).
 *
 * `POST /admin/api/rows` reads projected rows for reconcile: by key (at most MAX_ROW_KEYS) or a key-ordered page (at
 * most MAX_ROWS), of a table the manifest's SQL steps write and of columns that table has. Reads about the rows it
 * returns (by primary key, or a key-ordered range).
 */
import type { Hono } from 'hono';
import { sha256, toHex, utf8 } from '../lib/bytes.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { httpError, readBody } from '../lib/http.ts';
import { admit, type IngestDeps } from '../event/admit.ts';
import { extractEnvelope } from '../event/extract.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import { EventOrigin, type SettledEventStatus } from '../store/index.ts';

/**
 * Events per backfill call, by plan: a batch is one Worker request, and each event is one to three D1 calls (its
 * transaction; a duplicate's failed insert, claim and lookup). The free plan allows 50 D1 queries and 10 ms of CPU
 * per invocation, so 10 events; the paid plan 1,000 queries, so 100.
 */
export const MAX_BACKFILL_EVENTS = { free: 10, paid: 100 } as const;
/** Bytes per backfill call (the CLI sends smaller batches when objects are large). */
export const MAX_BACKFILL_BYTES = 4 * 1024 * 1024;
/** Keys per rows call, and rows per page. */
export const MAX_ROW_KEYS = 100;
export const MAX_ROWS = 500;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One synthesised event: the payload as the provider would send it, and the headers its envelope reads. */
export interface BackfillItem {
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** What became of each event of a batch, in order. */
export interface BackfillResult {
  id: string | null;
  status: SettledEventStatus | 'accepted' | 'duplicate' | 'in_flight' | 'rejected' | 'unavailable' | 'misconfigured';
  error?: string;
}

/** The tables the manifest's D1 SQL steps write (what reconcile may read). */
export function projectedTables(compiled: CompiledManifest): Set<string> {
  const tables = new Set<string>();
  for (const source of compiled.sources.values()) {
    for (const handler of source.handlers) {
      for (const step of handler.steps) for (const table of step.writes ?? []) tables.add(table);
    }
  }
  return tables;
}

const bad = (message: string) => httpError(400, { error: 'bad_request', message });

function parseBatch(value: unknown, max: number): { origin: EventOrigin; events: BackfillItem[] } {
  const v = value as { origin?: unknown; events?: unknown } | null;
  if (!v || typeof v !== 'object' || !Array.isArray(v.events))
    throw bad('send {"events": [{"body": {...}, "headers"?: {...}}], "origin"?: "backfill" | "repair"}');
  if (!v.events.length || v.events.length > max)
    throw bad(
      `a batch holds 1 to ${max} events on the ${max === MAX_BACKFILL_EVENTS.paid ? 'paid' : 'free'} plan; got ${v.events.length}`,
    );
  const origin = v.origin ?? EventOrigin.backfill;
  if (origin !== EventOrigin.backfill && origin !== EventOrigin.repair) throw bad('origin is backfill or repair');
  v.events.forEach((e, i) => {
    const item = e as BackfillItem | null;
    if (!item || typeof item.body !== 'object' || item.body === null || Array.isArray(item.body))
      throw bad(`events[${i}].body must be a JSON object`);
    if (
      item.headers !== undefined &&
      (typeof item.headers !== 'object' ||
        item.headers === null ||
        Object.values(item.headers).some((h) => typeof h !== 'string'))
    )
      throw bad(`events[${i}].headers must map names to strings`);
  });
  return { origin, events: v.events as BackfillItem[] };
}

/** Adds the backfill and rows endpoints to the admin API (its credential check runs first). */
export function registerBackfill(
  api: Hono<{ Bindings: RuntimeEnv; Variables: { actor: string } }>,
  compiled: CompiledManifest,
  deps: IngestDeps & { now: () => number },
): void {
  api.post('/backfill/:integration', async (c) => {
    const name = c.req.param('integration');
    const integration = compiled.integrations.get(name);
    if (!integration) throw httpError(404, { error: 'not_found', message: `no integration ${name}` });
    if (integration.format !== 'json')
      throw bad(`${name} takes ${integration.format} bodies; backfill sends JSON events`);
    const raw = await readBody(c.req.raw, MAX_BACKFILL_BYTES);
    if (!raw)
      throw httpError(413, {
        error: 'payload_too_large',
        message: `a backfill batch is at most ${MAX_BACKFILL_BYTES} bytes`,
      });
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(raw));
    } catch {
      throw bad('the batch is not JSON');
    }
    const { origin, events } = parseBatch(parsed, MAX_BACKFILL_EVENTS[compiled.plan]);
    const results: BackfillResult[] = [];
    for (const item of events) {
      const nowMs = deps.now();
      const text = JSON.stringify(item.body);
      let envelope;
      try {
        const hash = integration.hashesBody || integration.replayWindowMs ? toHex(await sha256(text)) : undefined;
        envelope = extractEnvelope(
          integration,
          text,
          new Headers(item.headers ?? {}),
          new Date(nowMs).toISOString(),
          integration.hashesBody ? hash : undefined,
        );
        const outcome = await admit(
          integration,
          envelope,
          text,
          c.env,
          deps,
          nowMs,
          integration.replayWindowMs ? hash : undefined,
          origin,
        );
        results.push({ id: envelope.id, status: outcome.status });
      } catch (error) {
        // Not the provider's delivery: nothing to keep as a dead letter; the CLI reports it and stops.
        results.push({
          id: envelope?.id ?? null,
          status: 'rejected',
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    deps.emit({ kind: 'backfill.batch', integration: name, origin, events: results.length, counts });
    return c.json({ integration: name, origin, counts, results });
  });

  api.post('/rows', async (c) => {
    const q = (await c.req.json().catch(() => null)) as {
      table?: unknown;
      key?: unknown;
      columns?: unknown;
      keys?: unknown;
      after?: unknown;
      limit?: unknown;
      key_like?: unknown;
    } | null;
    if (!q || typeof q.table !== 'string' || !Array.isArray(q.columns) || !q.columns.length)
      throw bad(
        'send {"table": "...", "key"?: "id", "columns": [..], "keys"?: [..] | "after"?: "..", "limit"?: 500, "key_like"?: ".."}',
      );
    const table = q.table.toLowerCase();
    const tables = projectedTables(compiled);
    if (!IDENTIFIER.test(table) || !tables.has(table))
      throw bad(`${q.table} is not a table this manifest's SQL writes (${[...tables].sort().join(', ')})`);
    const key = typeof q.key === 'string' ? q.key : 'id';
    const wanted = [key, ...(q.columns as unknown[]).filter((col) => col !== key)];
    const info = await c.env.DB.prepare('SELECT name FROM pragma_table_info(?1)').bind(table).all<{ name: string }>();
    const have = new Set(info.results.map((r) => r.name));
    const missing = wanted.filter((col) => typeof col !== 'string' || !IDENTIFIER.test(col) || !have.has(col));
    if (missing.length) throw bad(`${table} has no column ${missing.map(String).join(', ')}`);
    const cols = wanted.map((col) => `"${col as string}"`).join(', ');
    if (q.keys !== undefined) {
      if (!Array.isArray(q.keys) || q.keys.length > MAX_ROW_KEYS || q.keys.some((k) => typeof k !== 'string'))
        throw bad(`keys is a list of at most ${MAX_ROW_KEYS} strings`);
      if (!q.keys.length) return c.json({ rows: [] });
      const rows = await c.env.DB.prepare(
        `SELECT ${cols} FROM "${table}" WHERE "${key}" IN (${q.keys.map((_, i) => `?${i + 1}`).join(', ')})`,
      )
        .bind(...(q.keys as string[]))
        .all();
      return c.json({ rows: rows.results });
    }
    const limit = Math.min(MAX_ROWS, Math.max(1, Number(q.limit ?? MAX_ROWS) || MAX_ROWS));
    const after = typeof q.after === 'string' ? q.after : '';
    const like = typeof q.key_like === 'string' ? q.key_like : null;
    // D1 refuses LIKE patterns over 50 bytes: a clear 400 here, not its error.
    if (like !== null && new TextEncoder().encode(like).length > 50) throw bad('key_like is at most 50 bytes');
    const rows = await c.env.DB.prepare(
      `SELECT ${cols} FROM "${table}" WHERE "${key}" > ?1 AND (?2 IS NULL OR "${key}" LIKE ?2) ORDER BY "${key}" LIMIT ?3`,
    )
      .bind(after, like, limit)
      .all<Record<string, unknown>>();
    const last = rows.results.length === limit ? String(rows.results[rows.results.length - 1]![key]) : null;
    return c.json({ rows: rows.results, next: last });
  });
}
