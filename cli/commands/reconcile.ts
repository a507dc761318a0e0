/**
 * `switchyard reconcile <integration> [--objects a,b] [--repair] [--json]`: lists the provider's objects (each
 * source with a `reconcile:` block), computes the row each should have projected (the declared columns), reads the
 * rows through the admin API (`POST /admin/api/rows`, bounded) and reports the drift: missing rows, extra rows (in
 * the source's `key_like` scope) and rows whose columns differ, column by column. `--repair` sends the missing and
 * different objects again as synthetic events (origin `repair`) through the same path as backfill, then checks
 * again. Extra rows are reported, never deleted: the provider cannot say what they were. Exit 1 when drift remains.
 */
import type { BackfillSource } from '../../runtime/manifest/sources.ts';
import { compileValue, type ValueContext } from '../../runtime/language/values.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, JSON_FLAG, parseCommand, URL_FLAG } from '../lib/command.ts';
import { ListError, Pager, type Cursor } from '../lib/backfill/pager.ts';
import { resolveSources } from '../lib/backfill/sources.ts';
import { synthesise, wanted, type SyntheticEvent } from '../lib/backfill/template.ts';
import { projectFor } from '../lib/project.ts';
import { adminCall, adminTarget } from '../lib/server.ts';
import { operatorEnv } from './backfill.ts';

const KEYS_PER_CALL = 100;

export interface Drift {
  source: string;
  table: string;
  objects: number;
  matching: number;
  missing: string[];
  extra: string[];
  different: { key: string; columns: { column: string; row: unknown; provider: unknown }[] }[];
}

/** Values compare as text, with null and undefined alike (D1 hands numbers back as numbers, JSON as text). */
const same = (a: unknown, b: unknown) =>
  (a ?? null) === (b ?? null) ||
  (a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b));

interface Listed {
  key: string;
  expected: Record<string, unknown>;
  object: unknown;
  fetchedAt: number;
}

async function listAll(pager: Pager, source: BackfillSource): Promise<Listed[]> {
  const r = source.reconcile!;
  const columns = Object.entries(r.columns).map(([column, spec]) => [column, compileValue(spec)] as const);
  const keyOf = compileValue(r.object_key ?? 'id');
  const out: Listed[] = [];
  let cursor: Cursor | null = null;
  do {
    const page = await pager.page(cursor);
    for (const object of page.items) {
      if (!wanted(source, object)) continue;
      const ctx: ValueContext = { payload: object };
      const expected: Record<string, unknown> = {};
      for (const [column, value] of columns) {
        try {
          expected[column] = value(ctx) ?? null;
        } catch {
          expected[column] = null;
        }
      }
      out.push({ key: String(keyOf(ctx)), expected, object, fetchedAt: page.fetchedAt });
    }
    cursor = page.next;
  } while (cursor);
  return out;
}

async function readRows(
  url: string,
  token: string,
  r: NonNullable<BackfillSource['reconcile']>,
  keys: string[],
): Promise<Map<string, Record<string, unknown>>> {
  const key = r.key ?? 'id';
  const rows = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < keys.length; i += KEYS_PER_CALL) {
    const answer = await adminCall<{ rows: Record<string, unknown>[] }>(url, token, '/rows', {
      method: 'POST',
      body: JSON.stringify({
        table: r.table,
        key,
        columns: Object.keys(r.columns),
        keys: keys.slice(i, i + KEYS_PER_CALL),
      }),
    });
    for (const row of answer.rows) rows.set(String(row[key]), row);
  }
  return rows;
}

async function allKeys(url: string, token: string, r: NonNullable<BackfillSource['reconcile']>): Promise<string[]> {
  const key = r.key ?? 'id';
  const keys: string[] = [];
  let after: string | null = '';
  while (after !== null) {
    const page: { rows: Record<string, unknown>[]; next: string | null } = await adminCall(url, token, '/rows', {
      method: 'POST',
      body: JSON.stringify({
        table: r.table,
        key,
        columns: [key],
        after,
        ...(r.key_like ? { key_like: r.key_like } : {}),
      }),
    });
    keys.push(...page.rows.map((row) => String(row[key])));
    after = page.next;
  }
  return keys;
}

function compare(
  name: string,
  source: BackfillSource,
  listed: Listed[],
  rows: Map<string, Record<string, unknown>>,
  present: string[] | null,
): Drift {
  const drift: Drift = {
    source: name,
    table: source.reconcile!.table,
    objects: listed.length,
    matching: 0,
    missing: [],
    extra: [],
    different: [],
  };
  for (const l of listed) {
    const row = rows.get(l.key);
    if (!row) {
      drift.missing.push(l.key);
      continue;
    }
    const columns = Object.entries(l.expected)
      .filter(([c, v]) => !same(row[c], v))
      .map(([column, provider]) => ({ column, row: row[column] ?? null, provider }));
    if (columns.length) drift.different.push({ key: l.key, columns });
    else drift.matching++;
  }
  if (present) {
    const known = new Set(listed.map((l) => l.key));
    drift.extra = present.filter((k) => !known.has(k));
  }
  return drift;
}

const show = (v: unknown) => JSON.stringify(v ?? null);

function report(integration: string, d: Drift): string[] {
  const lines = [`${integration} ${d.source} -> ${d.table}: ${d.objects} objects, ${d.matching} rows match`];
  for (const k of d.missing) lines.push(`  missing  ${k}`);
  for (const x of d.different)
    lines.push(
      `  differs  ${x.key}  ${x.columns.map((c) => `${c.column}: row ${show(c.row)}, provider ${show(c.provider)}`).join('; ')}`,
    );
  for (const k of d.extra) lines.push(`  extra    ${k}  (no such object at the provider)`);
  const n = d.missing.length + d.different.length + d.extra.length;
  lines.push(
    n ? `  drift: ${d.missing.length} missing, ${d.different.length} different, ${d.extra.length} extra` : '  no drift',
  );
  return lines;
}

export const reconcileSpec = defineCommand({
  name: 'reconcile',
  summary: 'compare projected rows with the provider, report drift (--repair: correct it)',
  description: `Lists the provider's objects (each backfill source with a reconcile: block), computes the row each
should have projected, reads the rows through the admin API and reports the drift: missing rows, extra rows (in the
source's key_like scope) and rows whose columns differ, column by column. --repair sends the missing and different
objects again as events (origin repair) through the same path as backfill, then checks again. Extra rows are
reported, never deleted: the provider cannot say what they were. Exit 1 when drift remains.`,
  arguments: [{ name: '<integration>', description: 'the integration to reconcile' }],
  flags: {
    objects: {
      type: 'string',
      value: 'a,b',
      defaultText: 'every source with a reconcile: block',
      description: 'the sources to compare, by name',
    },
    repair: { type: 'boolean', description: 'send the missing and different objects again, then compare again' },
    json: JSON_FLAG,
    url: URL_FLAG,
    env: ENV_FLAG,
  },
  examples: [
    { command: 'switchyard reconcile stripe', does: "compare the projected rows with Stripe's objects" },
    { command: 'switchyard reconcile stripe --repair', does: 'and correct what drifted' },
  ],
});

export async function reconcileCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(reconcileSpec, args);
  const [integration, extra] = positionals;
  if (!integration) throw new UsageError('name the integration to reconcile (e.g. switchyard reconcile stripe)');
  if (extra) throw new UsageError(`unexpected argument ${extra}`);
  const env = values.env;
  const project = projectFor();
  const resolved = resolveSources(project, integration, env);
  const named = values.objects
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of named ?? [])
    if (!resolved.sources.get(n)?.reconcile)
      throw new UsageError(
        `${integration} has no source ${n} with a reconcile: block; these have one: ${
          [...resolved.sources]
            .filter(([, s]) => s.reconcile)
            .map(([k]) => k)
            .join(', ') || 'none'
        }`,
      );
  const picked = [...resolved.sources].filter(([name, s]) => s.reconcile && (!named || named.includes(name)));
  if (!picked.length)
    throw new UsageError(`no source of ${integration} declares reconcile: (which table and columns to compare)`);
  const target = adminTarget(project, values.url);
  if (!target) return 2;
  const { url, token } = target;
  const vars = operatorEnv(project);
  const results: (Drift & { repaired?: { sent: number; counts: Record<string, number>; remaining: number } })[] = [];
  for (const [name, source] of picked) {
    const pager = new Pager(source, {
      env: vars,
      onWait: (ms, why) => ms >= 1000 && process.stderr.write(`waiting ${Math.round(ms / 1000)}s: ${why}\n`),
    });
    let listed: Listed[];
    try {
      listed = await listAll(pager, source);
    } catch (error) {
      if (error instanceof ListError) {
        console.error(`${integration} ${name}: ${error.message}`);
        return 1;
      }
      throw error;
    }
    const r = source.reconcile!;
    const rows = await readRows(
      url,
      token,
      r,
      listed.map((l) => l.key),
    );
    const drift = compare(name, source, listed, rows, await allKeys(url, token, r));
    const entry: (typeof results)[number] = { ...drift };
    if (values.repair && (drift.missing.length || drift.different.length)) {
      const fix = new Set([...drift.missing, ...drift.different.map((d) => d.key)]);
      const stamp = Date.now().toString(36);
      const events: SyntheticEvent[] = listed
        .filter((l) => fix.has(l.key))
        .map((l) => synthesise(source, l.object, l.fetchedAt, `repair-${stamp}`));
      const counts: Record<string, number> = {};
      const batch = 10; // within the free plan's bound (runtime/operations/backfill.ts MAX_BACKFILL_EVENTS)
      for (let i = 0; i < events.length; i += batch) {
        const answer = await adminCall<{
          counts: Record<string, number>;
          results: { status: string; error?: string }[];
        }>(url, token, `/backfill/${encodeURIComponent(integration)}`, {
          method: 'POST',
          body: JSON.stringify({
            origin: 'repair',
            events: events
              .slice(i, i + batch)
              .map((e) => ({ body: e.body, ...(e.headers ? { headers: e.headers } : {}) })),
          }),
        });
        for (const [k, v] of Object.entries(answer.counts)) counts[k] = (counts[k] ?? 0) + v;
      }
      // Check again (queued repairs may take a moment to apply).
      let after = drift;
      for (let attempt = 0; attempt < 10; attempt++) {
        after = compare(
          name,
          source,
          listed.filter((l) => fix.has(l.key)),
          await readRows(url, token, r, [...fix]),
          null,
        );
        if (!after.missing.length && !after.different.length) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      entry.repaired = { sent: events.length, counts, remaining: after.missing.length + after.different.length };
    }
    results.push(entry);
  }
  if (values.json) console.log(JSON.stringify({ integration, results }, null, 2));
  else {
    for (const d of results) {
      for (const line of report(integration, d)) console.log(line);
      if (d.repaired) {
        console.log(
          `  repair: sent ${d.repaired.sent} events (${Object.entries(d.repaired.counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(
              ', ',
            )}); ${d.repaired.remaining ? `${d.repaired.remaining} still differ (a newer event outranks the provider's object: see the event log)` : 'missing and different rows now match'}`,
        );
        if (d.extra.length)
          console.log(`  extra rows are left as they are: nothing at the provider says what they should be`);
      }
    }
  }
  const remaining = results.reduce(
    (n, d) => n + d.extra.length + (d.repaired ? d.repaired.remaining : d.missing.length + d.different.length),
    0,
  );
  return remaining ? 1 : 0;
}
