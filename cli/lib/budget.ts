/**
 * The cost of an event in the units Cloudflare bills, from the manifest's statements and the schema the
 * migrations build (a static model: nothing runs). D1's counting rules, as measured in workerd
 * (test/worker/d1-counting.test.ts):
 *
 *   INSERT            1 per row + 1 per index entry it adds (a rowid table's TEXT PRIMARY KEY is an index; a
 *                     WITHOUT ROWID table is its primary key; a partial index only when the row satisfies its
 *                     WHERE). Reads 0 (1 when an INTEGER PRIMARY KEY is given); RETURNING reads each row again.
 *   upsert, updates   reads 1; writes 1 + 1 per index whose columns it sets. DO NOTHING on a conflict: 0 and 0.
 *   UPDATE            reads the rows it passes (1 by key, the whole table on a scan); writes 1 per row changed +
 *                     1 per index entry it adds: an index on a column it sets, a partial index it enters. A
 *                     removed index entry is not counted.
 *   DELETE            reads 1 and writes 1 per row (index entries removed are not counted).
 *   SELECT            reads the rows it passes.
 *
 * An upsert is priced at its dearer case (it inserts), unless it is marked ROW_EXISTS (the bookkeeping's applied-
 * marker on a row ingest claimed). Reads by key count the row as found (an upper bound).
 */
import type { CompiledManifest, EventSource } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { formatPath } from '../../runtime/manifest/problems.ts';
import { branches, decide, dedupOf, type Branch } from '../../runtime/manifest/decide.ts';
import { EventStatus } from '../../runtime/store/status.ts';
import { countManyStatement, countStatement } from '../../runtime/consumer/limits.ts';
import {
  capacity,
  perRequest,
  type BudgetTable,
  type HandlerCost,
  type PlanResource,
} from '../../runtime/lib/platform.ts';
import {
  bookkeeping,
  inlineBinds,
  recordStatements,
  ROW_EXISTS,
  type BookkeepingPath,
} from '../../runtime/store/cost.ts';
import { commandClaimStatement } from '../../runtime/store/commands.ts';
import { commandSource } from '../../runtime/manifest/commands/compile.ts';
import type { MigratedSchema } from './sqlite.ts';
import { storeType } from './postgres-check.ts';

export type { BudgetTable, HandlerCost };

/** What one statement costs. */
export interface StatementCost {
  written: number;
  read: number;
  /** Tables the statement scans: its reads grow with them (not in `read`). */
  scans: string[];
}

interface Index {
  name: string;
  columns: string[];
  unique: boolean;
  /** The partial index's WHERE, if it is one. */
  where?: string;
  /** The primary key of a WITHOUT ROWID table: the table itself, not an extra entry. */
  isTable: boolean;
}

interface Table {
  name: string;
  columns: Map<string, { default: string | null }>;
  indexes: Index[];
  integerPk?: string;
}

/** Top-level comma split (ignores commas inside parentheses and quotes). */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p.length);
}

/** The text up to the first top-level occurrence of a keyword (outside parentheses and quotes). */
function untilKeyword(text: string, keywords: RegExp): [string, string] {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /\s/.test(c)) {
      const m = text.slice(i + 1).match(keywords);
      if (m && m.index === 0) return [text.slice(0, i).trim(), text.slice(i).trim()];
    }
  }
  return [text.trim(), ''];
}

const normalize = (sql: string) =>
  sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/;$/, '');
const isConstant = (expr: string) => /^(NULL|'(?:[^']|'')*'|-?\d+(\.\d+)?)$/i.test(expr.trim());
const unquote = (name: string) => name.replace(/^["`[]|["`\]]$/g, '').toLowerCase();

/** The priced view of a migrated schema. */
export class CostModel {
  private tables = new Map<string, Table>();
  private readonly schema: MigratedSchema;
  constructor(schema: MigratedSchema) {
    this.schema = schema;
  }

  private table(name: string): Table {
    const key = unquote(name);
    let t = this.tables.get(key);
    if (t) return t;
    const info = this.schema.query(`PRAGMA table_info(${JSON.stringify(key)})`) as {
      name: string;
      type: string;
      pk: number;
      dflt_value: string | null;
    }[];
    if (!info.length) throw new Error(`no such table: ${key}`);
    const ddl = String(
      this.schema.query(
        `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ${JSON.stringify(key).replace(/"/g, "'")}`,
      )[0]?.sql ?? '',
    );
    const withoutRowid = /WITHOUT\s+ROWID\s*$/i.test(ddl.trim());
    const pk = info.filter((c) => c.pk > 0);
    const integerPk = !withoutRowid && pk.length === 1 && /^INTEGER$/i.test(pk[0]!.type) ? pk[0]!.name : undefined;
    const list = this.schema.query(`PRAGMA index_list(${JSON.stringify(key)})`) as {
      name: string;
      unique: number;
      origin: string;
      partial: number;
    }[];
    const indexes = list.map((ix) => {
      const columns = (
        this.schema.query(`PRAGMA index_info(${JSON.stringify(ix.name)})`) as { name: string | null }[]
      ).map((c) => (c.name ?? '').toLowerCase());
      const sql = ix.partial
        ? String(
            this.schema.query(
              `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = '${ix.name.replace(/'/g, "''")}'`,
            )[0]?.sql ?? '',
          )
        : '';
      const where = ix.partial ? sql.replace(/^[\s\S]*?\)\s*WHERE\s+/i, '') : undefined;
      return {
        name: ix.name,
        columns,
        unique: ix.unique === 1,
        ...(where ? { where } : {}),
        isTable: withoutRowid && ix.origin === 'pk',
      };
    });
    t = {
      name: key,
      columns: new Map(info.map((c) => [c.name.toLowerCase(), { default: c.dflt_value }])),
      indexes,
      ...(integerPk ? { integerPk: integerPk.toLowerCase() } : {}),
    };
    this.tables.set(key, t);
    return t;
  }

  /** Whether a row with these column values (constants where known) satisfies a partial index's WHERE; unknown counts as yes. */
  private satisfies(where: string, values: Map<string, string | undefined>): boolean {
    const cols = [...values.keys()];
    const referenced = cols.filter((c) => new RegExp(`\\b${c}\\b`, 'i').test(where));
    const known = (c: string) => values.get(c) !== undefined && isConstant(values.get(c)!);
    if (referenced.some((c) => !known(c))) {
      // One conjunct false on the values known decides it (`status IN (open) AND order_key IS NOT NULL` on a sent row).
      const parts = conjuncts(where);
      return (
        parts.length < 2 ||
        parts.every(
          (part) =>
            cols.filter((c) => new RegExp(`\\b${c}\\b`, 'i').test(part)).some((c) => !known(c)) ||
            this.satisfies(part, values),
        )
      );
    }
    try {
      const select = referenced.length
        ? ` FROM (SELECT ${referenced.map((c) => `${values.get(c)} AS ${c}`).join(', ')})`
        : '';
      return Boolean(Object.values(this.schema.query(`SELECT (${where}) AS ok${select}`)[0] ?? { ok: 1 })[0]);
    } catch {
      return true;
    }
  }

  /** Index entries an inserted row adds. */
  private insertEntries(t: Table, values: Map<string, string | undefined>): number {
    const row = new Map(
      [...t.columns].map(([c, info]) => [c, values.has(c) ? values.get(c) : (info.default ?? 'NULL')]),
    );
    return t.indexes.filter((ix) => !ix.isTable && (!ix.where || this.satisfies(ix.where, row))).length;
  }

  /** Index entries an update adds: indexes on a column it sets, partial indexes it may enter. */
  private updateEntries(t: Table, set: Map<string, string>): number {
    return t.indexes.filter((ix) => {
      if (ix.isTable) return false;
      const touched =
        ix.columns.some((c) => set.has(c)) ||
        (ix.where !== undefined && [...set.keys()].some((c) => new RegExp(`\\b${c}\\b`, 'i').test(ix.where!)));
      if (!touched) return false;
      if (!ix.where) return true;
      const row = new Map<string, string | undefined>([...t.columns.keys()].map((c) => [c, set.get(c)]));
      return this.satisfies(ix.where, row);
    }).length;
  }

  /** Reads the query plan implies: a key search 1 row, a range 1 (rows matched, estimated), a scan the table (listed). */
  private planReads(sql: string, skip?: string): StatementCost {
    let rows: { detail: string }[];
    try {
      rows = this.schema.query(`EXPLAIN QUERY PLAN ${sql}`) as { detail: string }[];
    } catch {
      return { written: 0, read: 0, scans: [] };
    }
    const cost: StatementCost = { written: 0, read: 0, scans: [] };
    for (const { detail } of rows) {
      const m = detail.match(/^(SCAN|SEARCH) (\w+)/);
      if (!m || m[2]!.toLowerCase() === skip) continue;
      if (m[1] === 'SCAN' && !/CONSTANT ROW|SUBQUERY|LIST SUBQUERY/.test(detail)) cost.scans.push(m[2]!.toLowerCase());
      else if (m[1] === 'SEARCH') cost.read += 1;
    }
    return cost;
  }

  /** What a statement costs, by D1's rules (see the file comment). */
  statement(rawSql: string): StatementCost {
    const sql = normalize(rawSql);
    // The bookkeeping marks an upsert whose row is known to exist (ROW_EXISTS): priced at its update case.
    const exists = rawSql.startsWith(ROW_EXISTS);
    const insert = sql.match(/^(?:INSERT|REPLACE)\s+(?:OR\s+\w+\s+)?INTO\s+([\w"`]+)\s*\(([^)]*)\)\s*([\s\S]*)$/i);
    if (insert) {
      const t = this.table(insert[1]!);
      const columns = splitTop(insert[2]!).map(unquote);
      let rest = insert[3]!;
      let tuples: string[][];
      let sourceReads: StatementCost = { written: 0, read: 0, scans: [] };
      const [body, tail] = untilKeyword(rest, /^(ON\s+CONFLICT|RETURNING)\b/i);
      if (/^VALUES\b/i.test(body)) {
        tuples = splitTop(body.replace(/^VALUES\s*/i, '')).map((tuple) => splitTop(tuple.replace(/^\(|\)$/g, '')));
      } else {
        const [list] = untilKeyword(body.replace(/^SELECT\s+/i, ''), /^(FROM|WHERE)\b/i);
        tuples = [splitTop(list)];
        sourceReads = this.planReads(sql, t.name);
      }
      rest = tail;
      const rows = tuples.length;
      const values = new Map(columns.map((c, i) => [c, tuples[0]?.[i]]));
      const returning = /\bRETURNING\b/i.test(rest) ? rows : 0;
      const given = t.integerPk && columns.includes(t.integerPk) ? rows : 0;
      const inserted = { written: rows * (1 + this.insertEntries(t, values)), read: returning + given };
      const conflict = rest.match(/^ON\s+CONFLICT\b[\s\S]*?\bDO\s+(NOTHING|UPDATE\s+SET\s+([\s\S]*))$/i);
      let updated = { written: 0, read: 0 };
      if (conflict?.[2]) {
        const [assignments] = untilKeyword(conflict[2], /^(WHERE|RETURNING)\b/i);
        const set = new Map(
          splitTop(assignments).map((a) => {
            const [col, ...expr] = a.split('=');
            // `excluded.x` is the value the insert carried: a constant the partial indexes can be decided on.
            const value = expr.join('=').trim();
            const carried = /^excluded\.(\w+)$/i.exec(value);
            return [unquote(col!.trim()), carried ? (values.get(carried[1]!.toLowerCase()) ?? value) : value] as [
              string,
              string,
            ];
          }),
        );
        updated = { written: rows * (1 + this.updateEntries(t, set)), read: rows * (1 + (returning ? 1 : 0)) };
      }
      if (exists && conflict?.[2])
        return { written: updated.written, read: updated.read + sourceReads.read, scans: sourceReads.scans };
      return {
        written: Math.max(inserted.written, updated.written),
        read: Math.max(inserted.read, updated.read) + sourceReads.read,
        scans: sourceReads.scans,
      };
    }
    const update = sql.match(/^UPDATE\s+(?:OR\s+\w+\s+)?([\w"`]+)\s+SET\s+([\s\S]*)$/i);
    if (update) {
      const t = this.table(update[1]!);
      const [assignments, rest] = untilKeyword(update[2]!, /^(FROM|WHERE|RETURNING)\b/i);
      const set = new Map(
        splitTop(assignments).map((a) => {
          const [col, ...expr] = a.split('=');
          return [unquote(col!.trim()), expr.join('=').trim()] as [string, string];
        }),
      );
      const reads = this.planReads(sql);
      const returning = /\bRETURNING\b/i.test(rest) ? 1 : 0;
      return { written: 1 + this.updateEntries(t, set), read: Math.max(reads.read, 1) + returning, scans: reads.scans };
    }
    if (/^DELETE\s+FROM\s+/i.test(sql)) {
      const reads = this.planReads(sql);
      return { written: 1, read: Math.max(reads.read, 1), scans: reads.scans };
    }
    if (/^(SELECT|WITH)\b/i.test(sql)) return this.planReads(sql);
    throw new Error(`cannot price this statement: ${sql.slice(0, 60)}`);
  }

  /** The sum of several statements. */
  statements(list: readonly string[]): StatementCost {
    return list
      .map((s) => this.statement(s))
      .reduce(
        (a, b) => ({
          written: a.written + b.written,
          read: a.read + b.read,
          scans: [...new Set([...a.scans, ...b.scans])],
        }),
        { written: 0, read: 0, scans: [] },
      );
  }
}

/** A value that stands for anything an action's log statement reads from its payload or result. */
const anything: unknown = new Proxy(() => anything, {
  get: (_, p) => (p === Symbol.toPrimitive ? () => 'x' : anything),
});

type RawHandler = { on: string | string[]; steps: Record<string, unknown>[] };

/** What a queued command's call writes at the edge (its row and the UNIQUE key), as SQL text. */
const commandIngest = () =>
  recordStatements((db) =>
    commandClaimStatement(
      db,
      {
        integration: 'command:c',
        id: 'k',
        type: 'c',
        occurred_at: null,
        received_at: '2026-01-01T00:00:00.000Z',
        payload: {},
      },
      '{}',
      'token',
    ),
  );

/**
 * Events per browser request `plan --budget` assumes for a route's events (/v1/track): a request is ONE queue message
 * and ONE event-log row, its counts (rate limit, tracked events) run once, and each batched action step (maxBatch > 1)
 * is ONE effect, all shared by the batch's events. The api route's api_request events travel alone (dearer).
 */
export const TRACK_BATCH_SIZE = 10;

/** The row of an integration's events that no handler matches (recorded as ignored). */
export const NO_HANDLER = '(no handler)';

/** A step's place within its source, from its `if`'s manifest path: `handlers[4].steps[1]` (a command's: `steps[1]`). */
export const stepName = (at: string) =>
  at.replace(/^(integrations|routes|commands)\.[^.[]+\./, '').replace(/\.if$/, '');

/** Every handler's cost per event, by integration (or queued route) and event-type pattern. */
export function handlerCosts(
  model: CostModel,
  manifest: Manifest,
  compiled: CompiledManifest,
  options: { path?: 'queued' | 'direct' } = {},
): HandlerCost[] {
  const at = '2026-01-01T00:00:00.000Z';
  const out: HandlerCost[] = [];
  const sources: [string, 'integration' | 'route' | 'command', RawHandler[], EventSource][] = [];
  for (const [name, spec] of Object.entries(manifest.integrations)) {
    const source = compiled.sources.get(name);
    if (source) sources.push([name, 'integration', (spec.handlers ?? []) as unknown as RawHandler[], source]);
  }
  for (const [name, spec] of Object.entries(manifest.routes ?? {})) {
    const source = compiled.sources.get(name);
    if (source)
      sources.push([name, 'route', ((spec as { handlers?: RawHandler[] }).handlers ?? []) as RawHandler[], source]);
  }
  // A command's call is an event of its source, with one handler: its steps, on its own name.
  for (const [name, spec] of Object.entries(manifest.commands ?? {})) {
    const source = compiled.sources.get(commandSource(name));
    if (source)
      sources.push([
        name,
        'command',
        [{ on: name, steps: spec.steps as unknown as Record<string, unknown>[] }],
        source,
      ]);
  }
  for (const [name, kind, handlers, source] of sources) {
    const syncSpec = kind === 'command' ? manifest.commands?.[name]?.sync : undefined;
    const cached = Boolean(syncSpec) && !/^0+(ms|s|m|h|d)$/.test(syncSpec?.cache ?? '1h');
    const paths = bookkeeping({ bodyHash: dedupOf(source) === 'id+body window' });
    const patterns = [...new Set(handlers.flatMap((h) => ([] as string[]).concat(h.on)))];
    // An integration's events that no handler matches (a provider sends more types than a manifest handles).
    if (kind === 'integration' && !source.stepsFor(NO_HANDLER).length) patterns.push(NO_HANDLER);
    for (const on of patterns) {
      // The path the runtime takes, decided by the function the runtime asks (runtime/manifest/decide.ts).
      const wanted = options.path ?? decide(source, on).path;
      const path: BookkeepingPath = paths.find((p) => p.name === wanted) ?? paths.find((p) => p.name === 'queued')!;
      // A route's events are queued from the request, without the event log's claim; a queued command is claimed by
      // its own statement (the same row and key).
      const ingest =
        kind === 'integration' || (kind === 'command' && path.name === 'direct')
          ? path.ingest
          : kind === 'command'
            ? commandIngest()
            : [];
      const matching = handlers
        .map((h, i) => [h, i] as const)
        .filter(
          ([h]) =>
            ([] as string[]).concat(h.on).includes(on) ||
            (!on.includes('*') && source.handlers[handlers.indexOf(h)]?.matches(on)),
        );
      // A route's events travel in batches: what a batch shares is priced once per TRACK_BATCH_SIZE events.
      const batch = kind === 'route' ? TRACK_BATCH_SIZE : 1;
      // Conditions (`if:`) make several outcomes of one type: each is a row (runtime/manifest/decide.ts `branches`).
      const compiledMatching = matching
        .map(([, i]) => source.handlers[i])
        .filter((h): h is NonNullable<typeof h> => Boolean(h));
      const outcomes: Branch[] =
        compiledMatching.length === matching.length
          ? branches(compiledMatching)
          : [{ label: '', status: EventStatus.applied, handlers: matching.map((_, k) => k), optional: [] }];
      for (const branch of outcomes) {
        for (const without of branch.optional.length ? [false, true] : [false]) {
          const runs = (k: number, s: number) =>
            branch.handlers.includes(k) && !(without && branch.optional.some((o) => o.handler === k && o.step === s));
          const statements: string[] = [];
          // A route's events have no row before the applied-marker: it inserts one.
          const shared = [
            ...ingest,
            ...(kind !== 'route' ? path.consume : path.consume.map((sql) => sql.replace(ROW_EXISTS, ''))),
          ];
          if (kind === 'route') shared.push(...routeCounts(manifest, compiled, name, at));
          let queueMessages = path.queueMessages / batch;
          let subrequests = 0;
          let kvReads = 0;
          const batched: string[] = [];
          for (const [k, [h, i]] of matching.entries()) {
            for (const [s, step] of h.steps.entries()) {
              if (!runs(k, s)) continue;
              // SQL for a Postgres store costs no D1 rows (its queries are Hyperdrive's: docs/postgres.md).
              if (typeof step.sql === 'string') {
                if (
                  storeType(manifest, (step as { store?: string }).store ?? (h as { store?: string }).store ?? 'd1') ===
                  'd1'
                )
                  statements.push(step.sql);
              } else if (typeof step.enqueue === 'string') {
                statements.push(...path.outbox);
                queueMessages += 1;
              } else if (typeof step.action === 'string') {
                const spec = compiled.effects.byId.get(
                  formatPath(
                    kind === 'command'
                      ? ['commands', name, 'steps', s]
                      : [kind === 'integration' ? 'integrations' : 'routes', name, 'handlers', i, 'steps', s],
                  ),
                );
                const action = spec?.action;
                // A batch's events share one effect per batched action step, its limits counted for them at once. A limit's
                // counter row exists all period but for its first send: priced as the update it is then.
                const perBatch = batch > 1 && (action?.maxBatch ?? 1) > 1 && !action?.sharedBatchKey;
                (perBatch ? shared : statements).push(
                  ...(action?.orderKey ? [...path.orderedEffect, ...path.orderCheck] : path.effect),
                  ...(action?.readsEvent ? path.eventRead : []),
                );
                for (const limit of (step.limits as string[] | undefined) ?? [])
                  (perBatch ? shared : statements).push(
                    ...recordStatements((db) =>
                      perBatch
                        ? countManyStatement(db, limit, '*', at, compiled.limits.get(limit)?.limit ?? 1, batch)
                        : countStatement(db, limit, '*', at, 1),
                    ).map((sql) => ROW_EXISTS + sql),
                  );
                for (const log of action?.logStatements?.({ key: 'k', payload: anything }, anything, at) ?? [])
                  statements.push(inlineBinds(log.sql, log.params));
                const maxBatch = action?.maxBatch ?? 1;
                subrequests += 1 / maxBatch;
                if (maxBatch > 1) batched.push(`${step.action} (up to ${maxBatch} events per call)`);
                if ((step as { cache?: unknown }).cache) kvReads += 1;
              }
            }
          }
          const each = model.statements(statements);
          const once = model.statements(shared);
          const d1 = {
            written: each.written + once.written / batch,
            read: each.read + once.read / batch,
            scans: [...new Set([...each.scans, ...once.scans])],
          };
          const left = without ? branch.optional.map((o) => stepName(o.at)) : [];
          out.push({
            source: kind === 'command' ? commandSource(name) : name,
            kind,
            on,
            path: path.name,
            ...(branch.label ? { branch: branch.label } : {}),
            ...(left.length ? { without: left } : {}),
            ...(branch.status === EventStatus.skipped ||
            (without && branch.handlers.every((k) => matching[k]![0].steps.every((_, s) => !runs(k, s))))
              ? { status: EventStatus.skipped }
              : {}),
            d1_rows_written: d1.written,
            d1_rows_read: d1.read,
            scans: d1.scans,
            queue_operations: queueMessages * 3,
            kv_reads: kvReads,
            // A synchronous command caches its result in KV.
            kv_writes: cached ? 1 : 0,
            subrequests,
            // A route's request is shared by its batch.
            worker_requests: 1 / batch,
            ...(batched.length ? { batched } : {}),
            ...(batch > 1 ? { batch_size: batch } : {}),
          });
        }
      }
    }
  }
  return out;
}

/** What a route's request counts in D1 besides its events: its rate limit and its tracked_events limits, as SQL text. */
function routeCounts(manifest: Manifest, compiled: CompiledManifest, name: string, at: string): string[] {
  const spec = manifest.routes?.[name];
  const route = compiled.routes.find((r) => r.name === name);
  const out: string[] = [];
  if (route?.rateLimit)
    out.push(...recordStatements((db) => countStatement(db, `route.${name}`, 'key', at, route.rateLimit!.limit)));
  for (const limit of spec?.limits ?? []) {
    const compiledLimit = compiled.limits.get(limit);
    // The period's counter row exists but for its first request: priced as the update it is then.
    if (compiledLimit?.counts === 'tracked_events')
      out.push(
        ...recordStatements((db) => countManyStatement(db, limit, '*', at, compiledLimit.limit, TRACK_BATCH_SIZE)).map(
          (sql) => ROW_EXISTS + sql,
        ),
      );
  }
  return out;
}

/** The default manifest's Stripe subscription flow is the headline when present; else the first handler. */
const HEADLINE = { source: 'stripe', on: 'customer.subscription.updated' };

export function budgetTable(model: CostModel, manifest: Manifest, compiled: CompiledManifest): BudgetTable {
  const handlers = handlerCosts(model, manifest, compiled).map((h) => ({ ...h, capacity: capacity(h) }));
  const headline = handlers.find((h) => h.source === HEADLINE.source && h.on === HEADLINE.on) ?? handlers[0];
  return {
    handlers,
    ...(headline ? { headline: { source: headline.source, on: headline.on, capacity: headline.capacity } } : {}),
  };
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n < 1 ? `≤${Math.round(n * 1000) / 1000}` : n.toFixed(2));
const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
const thousands = (n: number) => (Number.isFinite(n) ? Math.floor(n).toLocaleString('en-US') : 'unbounded');
const RESOURCE_NAMES: Record<PlanResource, string> = {
  worker_requests: 'Workers requests',
  d1_rows_written: 'D1 rows written',
  d1_rows_read: 'D1 rows read',
  queue_operations: 'Queues operations',
  kv_reads: 'KV reads',
  kv_writes: 'KV writes',
};

/** The table and the capacity block, as text. */
export function formatBudget(table: BudgetTable): string {
  const head = [
    'integration',
    'on',
    'path',
    'D1 written',
    'D1 read',
    'queue ops',
    'Workers req',
    'KV r/w',
    'subrequests',
    'free: events/day (binds)',
  ];
  const cells = (h: Omit<HandlerCost, 'source' | 'kind' | 'on' | 'path'>, unit = '') => {
    const [free] = capacity(h);
    return [
      num(h.d1_rows_written),
      `${num(h.d1_rows_read)}${h.scans.length ? ` + scan ${h.scans.join(', ')}` : ''}`,
      num(h.queue_operations),
      num(h.worker_requests),
      `${num(h.kv_reads)}/${num(h.kv_writes)}`,
      h.subrequests ? fmt(h.subrequests) : '0',
      `${thousands(free!.events_per_day)}${unit} (${RESOURCE_NAMES[free!.binding]})`,
    ];
  };
  // A long condition is cut in the table (a terminal's width); --json has it whole.
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  const rows = table.handlers.flatMap((h) => {
    // A branch of a type with conditions: `on [if …]`; the same branch without its conditional steps under it.
    const on = h.without
      ? `  without ${h.without.join(', ')}${h.status ? ` (${h.status})` : ''}`
      : h.branch
        ? `${h.on} [${clip(h.branch, 64)}]`
        : h.on;
    const own = [h.source, on, h.path, ...cells(h)];
    if (!h.batch_size) return [own];
    // A route's events come in requests: each event's share of its request (above), and the request of a batch.
    return [own, [h.source, `  a request of ${h.batch_size}`, h.path, ...cells(perRequest(h), ' requests')]];
  });
  const widths = head.map((_, i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    "Cost per event (D1 rows by D1's counting; an upsert at its dearer case, inserting)",
    line(head),
    ...rows.map(line),
  ];
  const batched = [...new Set(table.handlers.flatMap((h) => h.batched ?? []))];
  if (batched.length) out.push(`batched providers share a call: ${batched.join(', ')}`);
  const sizes = [...new Set(table.handlers.flatMap((h) => (h.batch_size ? [h.batch_size] : [])))];
  if (table.handlers.some((h) => h.branch || h.without))
    out.push(
      "conditions (if:): a row per outcome, [the conditions that hold] or [skipped] (the event row alone); 'without' a step whose own if: is false",
    );
  if (sizes.length)
    out.push(
      `routes' events (/v1/track) priced in browser batches of ${sizes.join(', ')}: one queue message, one event-log row, the request's counts and one effect per batched action step shared by a batch`,
    );
  out.push('', 'Capacity (events/day if all traffic were one handler; the free plan column above)');
  if (table.headline) {
    const h = table.headline;
    out.push(`headline: ${h.source} ${h.on}`);
    for (const c of h.capacity)
      out.push(
        `  ${c.plan.padEnd(5)} ${thousands(c.events_per_day).padStart(12)} events/day, bound by ${RESOURCE_NAMES[c.binding]}`,
      );
  }
  const free = table.handlers.map((h) => h.capacity[0]!);
  const worst =
    table.handlers[free.indexOf(free.reduce((a, b) => (b.events_per_day < a.events_per_day ? b : a), free[0]!))];
  if (worst)
    out.push(
      `dearest handler: ${worst.source} ${worst.on}${worst.branch ? ` [${worst.branch}]` : ''}${worst.without ? ` without ${worst.without.join(', ')}` : ''}: ${thousands(worst.capacity[0]!.events_per_day)} events/day free, ${thousands(worst.capacity[1]!.events_per_day)} paid`,
    );
  out.push(
    'not counted: the usage flush (a few D1 upserts per isolate per 10 minutes), retries, the cron sweep and retention, KV reads of routes (per request)',
  );
  return out.join('\n');
}

/** The terms of a WHERE joined by a top-level AND (none split inside parentheses or quotes). */
function conjuncts(where: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < where.length; i++) {
    const ch = where[i]!;
    if (ch === "'") quoted = !quoted;
    if (quoted) continue;
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth === 0 && /^\sAND\s/i.test(where.slice(i, i + 5))) {
      parts.push(where.slice(start, i).trim());
      start = i + 5;
    }
  }
  parts.push(where.slice(start).trim());
  return parts.filter(Boolean);
}
