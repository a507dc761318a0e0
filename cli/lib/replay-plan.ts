/**
 * `switchyard plan --replay`: what a manifest change does to the data. The same events run through the base
 * manifest and the changed one, each into its own scratch database (the offline engine of `switchyard test`), and
 * the two results are compared row by row (by each table's primary key) and effect by effect. Events come from
 * the manifest tests' cases (`tests/*.test.yaml`, each case in its own database, seeds included) or from a running
 * environment's event log (the last N days, through the admin API, all in one database, in arrival order). An event
 * whose outcome changes (skipped by a condition before, applied now, or the other way; or other steps skipped) is
 * named with the conditions that decided on each side.
 */
import { loadOwnComponents } from './own-components.ts';
import { upgradeValue } from './upgrade.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { compileInputSchema } from './input-validators.ts';
import { parseManifest } from '../../runtime/manifest/load.ts';
import { resolveWithProviders } from './catalog.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { dirname } from 'node:path';
import { inlineTemplateFiles } from './check.ts';
import type { Case, Row, Step } from './manifest-tests/cases.ts';
import { findCaseFiles, loadCaseFiles, nodeTarget } from './manifest-tests/node.ts';
import { projectionTables, runCase, type Actual, type Target } from './manifest-tests/run.ts';
import type { Project } from './project.ts';
import { adminCall } from './server.ts';
import { migratedSchema } from './sqlite.ts';

export interface RowChange {
  table: string;
  sign: '+' | '-' | '~';
  key: string;
  /** Where the row came from: the case (fixtures) or "event log". */
  source: string;
  columns?: { column: string; before: unknown; after: unknown }[];
  row?: Row;
}

export interface EffectChange {
  sign: '+' | '-';
  source: string;
  kind: 'effect' | 'enqueued';
  value: Row;
}

/** An event whose outcome differs: its status on each side, and the conditions that skipped its steps on each. */
export interface OutcomeChange {
  source: string;
  integration: string;
  id: string;
  type: string;
  before: string;
  after: string;
  skipped: { before: string[]; after: string[] };
}

export interface ReplayPlan {
  events: number;
  source: string;
  rows: RowChange[];
  effects: EffectChange[];
  /** The events that end differently (applied, skipped, ignored...) or have other steps skipped by conditions. */
  outcomes: OutcomeChange[];
  summary: string;
}

/** The base manifest from its text, resolved, with template files inlined, compiled (throws what is wrong). */
export function manifestFromText(project: Project, text: string, environment: string, label: string): Manifest {
  const parsed = parseManifest(text, label);
  for (const p of parsed.problems) throw new Error(`${p.file}:${p.line}:${p.column}: ${p.message}`);
  const inlined = inlineTemplateFiles(
    resolveWithProviders(upgradeValue(parsed.value).value, environment),
    dirname(project.manifest),
  );
  if (inlined.problems.length) throw new Error(`${label}: ${inlined.problems.map((p) => p.message).join('; ')}`);
  const manifest = inlined.manifest as Manifest;
  try {
    compileManifest(manifest, loadOwnComponents(project.manifest, parsed.value).registry, {
      inputValidator: (_name, schema) => compileInputSchema(schema),
    });
  } catch (error) {
    if (error instanceof ManifestError)
      throw new Error(`${label} does not compile: ${error.problems.map((p) => p.message).join('; ')}`);
    throw error;
  }
  return manifest;
}

interface Listed {
  integration: string;
  id: string;
  type: string;
  received_at: string;
}

/** The last `days` of the event log as one case (every event, oldest first), for replay in one database. */
export async function eventLogCase(base: string, token: string, manifest: Manifest, days: number): Promise<Case> {
  const since = new Date(Date.now() - days * 86_400_000).toISOString();
  const listed: Listed[] = [];
  let cursor: string | null = null;
  do {
    const page: { events: Listed[]; next_cursor: string | null } = await adminCall(
      base,
      token,
      `/events?limit=200&since=${encodeURIComponent(since)}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    listed.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor && listed.length < 10_000);
  const steps: Step[] = [];
  for (const e of listed.reverse()) {
    const spec = manifest.integrations[e.integration];
    if (!spec) continue;
    const detail = await adminCall<{ event: { payload: unknown } }>(
      base,
      token,
      `/events/${encodeURIComponent(e.integration)}/${encodeURIComponent(e.id)}`,
    );
    let payload = detail.event.payload;
    if (typeof payload === 'string' && spec.format === 'form')
      payload = Object.fromEntries(new URLSearchParams(payload));
    steps.push({ path: [], json: payload, id: e.id, type: e.type, integration: e.integration });
  }
  return { file: 'event log', name: 'event log', path: [], now: Date.now(), seed: {}, steps, expect: {} };
}

/** Every case of the project's test files. */
export function fixtureCases(project: Project): Case[] {
  return loadCaseFiles(project, findCaseFiles(project)).flatMap((f) => f.cases);
}

const stable = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/**
 * Runs `cases` through both manifests and compares what they leave.
 * @example const plan = await replayPlan(project, 'default', before, after, fixtureCases(project), 'tests/');
 */
export async function replayPlan(
  project: Project,
  environment: string,
  before: Manifest,
  after: Manifest,
  cases: Case[],
  source: string,
): Promise<ReplayPlan> {
  const targets = [before, after].map((m) => nodeTarget(project, environment, m));
  for (const t of targets) if (!t.ok) throw new Error(t.problems.map((p) => p.message).join('; '));
  const [a, b] = targets.map((t) => (t as { target: Target }).target) as [Target, Target];
  const tables = [...new Set([...projectionTables(before), ...projectionTables(after)])].sort();
  const schema = migratedSchema(project.migrations);
  const keys = new Map(
    tables.map((t) => [
      t,
      (schema.query(`PRAGMA table_info(${JSON.stringify(t)})`) as { name: string; pk: number }[])
        .filter((c) => c.pk > 0)
        .sort((x, y) => x.pk - y.pk)
        .map((c) => c.name),
    ]),
  );
  schema.close();
  const rows: RowChange[] = [];
  const effects: EffectChange[] = [];
  const outcomes: OutcomeChange[] = [];
  let events = 0;
  try {
    for (const c of cases) {
      const [x, y] = [await runCase(a, c, { tables }), await runCase(b, c, { tables })];
      events += c.steps.length;
      const label = c.file === 'event log' ? 'event log' : `${c.file} › ${c.name}`;
      for (const table of tables)
        rows.push(
          ...diffRows(table, keys.get(table) ?? [], x.actual.tables[table] ?? [], y.actual.tables[table] ?? [], label),
        );
      effects.push(...diffEffects(x.actual, y.actual, label));
      outcomes.push(...diffOutcomes(x.actual, y.actual, label));
    }
  } finally {
    // A manifest with postgres stores keeps a Postgres engine for the run.
    await Promise.all([a.close?.(), b.close?.()]);
  }
  const count = (s: RowChange['sign']) => rows.filter((r) => r.sign === s).length;
  const touched = new Set(rows.map((r) => r.table)).size;
  const moved = outcomes.length
    ? `; ${outcomes.length} event${outcomes.length === 1 ? ' changes' : 's change'} outcome`
    : '';
  const summary =
    rows.length || effects.length || outcomes.length
      ? `${count('~')} row${count('~') === 1 ? '' : 's'} changed, ${count('+')} added, ${count('-')} removed in ${touched} table${touched === 1 ? '' : 's'}; ${effects.length} effect${effects.length === 1 ? '' : 's'} differ${moved} (${events} events replayed)`
      : `no difference in the data or effects (${events} events replayed)`;
  return { events, source, rows, effects, outcomes, summary };
}

/** The manifest path of a condition that skipped a step (`integrations.stripe.handlers[0].if`), without its leaf. */
function conditionPath(skipped: string): string {
  const colon = skipped.indexOf(': ');
  return colon < 0 ? skipped : skipped.slice(0, colon);
}

/** Whether the condition at `outer` guards the one at `inner`: a handler's `if` (…handlers[0].if) over its steps' (…handlers[0].steps[1].if). */
const guards = (outer: string, inner: string) => outer !== inner && inner.startsWith(outer.slice(0, -'if'.length));

/**
 * The events whose outcome differs: another status, or steps skipped by other conditions (compared by the
 * condition's place, since a changed condition also changes its leaf as written).
 */
function diffOutcomes(before: Actual, after: Actual, source: string): OutcomeChange[] {
  const key = (e: Row) => `${String(e.integration)}\n${String(e.id)}`;
  const then = new Map(before.events.map((e) => [key(e), e]));
  const out: OutcomeChange[] = [];
  for (const e of after.events) {
    const old = then.get(key(e));
    if (!old) continue;
    const skipped = {
      before: (old.skipped as string[] | undefined) ?? [],
      after: (e.skipped as string[] | undefined) ?? [],
    };
    const paths = (list: string[]) => stable(list.map(conditionPath).sort());
    if (old.status === e.status && paths(skipped.before) === paths(skipped.after)) continue;
    out.push({
      source,
      integration: String(e.integration),
      id: String(e.id),
      type: String(e.type),
      before: String(old.status),
      after: String(e.status),
      skipped,
    });
  }
  return out;
}

/**
 * An outcome change in one line: the statuses, then which conditions no longer skip steps and which now do. A step's
 * condition whose handler's condition now skips the event is not said to skip no longer: its step still does not run.
 */
function describeOutcome(o: OutcomeChange): string {
  const paths = (list: string[]) => new Set(list.map(conditionPath));
  const [was, now] = [paths(o.skipped.before), paths(o.skipped.after)];
  const parts = [o.before === o.after ? o.after : `${o.before} -> ${o.after}`];
  for (const s of o.skipped.before)
    if (!now.has(conditionPath(s)) && ![...now].some((p) => guards(p, conditionPath(s))))
      parts.push(`no longer skipped by ${s}`);
  for (const s of o.skipped.after) if (!was.has(conditionPath(s))) parts.push(`now skipped by ${s}`);
  return `${o.integration} ${o.id} ${o.type} (${o.source}): ${parts.join('; ')}`;
}

function diffRows(table: string, pk: string[], before: Row[], after: Row[], source: string): RowChange[] {
  const keyOf = (r: Row) => (pk.length ? pk.map((k) => String(r[k])).join(', ') : stable(r));
  const a = new Map(before.map((r) => [keyOf(r), r]));
  const b = new Map(after.map((r) => [keyOf(r), r]));
  const out: RowChange[] = [];
  for (const [key, row] of a) if (!b.has(key)) out.push({ table, sign: '-', key, source, row });
  for (const [key, row] of b) {
    const old = a.get(key);
    if (!old) out.push({ table, sign: '+', key, source, row });
    else {
      const columns = [...new Set([...Object.keys(old), ...Object.keys(row)])]
        .filter((c) => stable(old[c]) !== stable(row[c]))
        .map((column) => ({ column, before: old[column] ?? null, after: row[column] ?? null }));
      if (columns.length) out.push({ table, sign: '~', key, source, columns });
    }
  }
  return out;
}

function diffEffects(before: Actual, after: Actual, source: string): EffectChange[] {
  const shape = (a: Actual) => [
    ...a.effects.map((e) => ({
      kind: 'effect' as const,
      value: { action: e.action, status: e.status, payload: e.payload },
    })),
    ...a.enqueued.map((e) => ({ kind: 'enqueued' as const, value: e })),
  ];
  const out: EffectChange[] = [];
  const x = shape(before).map((e) => ({ ...e, s: stable(e.value) }));
  const y = shape(after).map((e) => ({ ...e, s: stable(e.value) }));
  const left = [...y];
  for (const e of x) {
    const i = left.findIndex((f) => f.s === e.s);
    if (i >= 0) left.splice(i, 1);
    else out.push({ sign: '-', source, kind: e.kind, value: e.value });
  }
  for (const e of left) out.push({ sign: '+', source, kind: e.kind, value: e.value });
  return out;
}

const short = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/** An effect in one line: the action and its short payload fields (a rendered HTML body is left out). */
function describe(e: EffectChange): string {
  if (e.kind === 'enqueued') return `${String(e.value.queue)} ${short(e.value.body)}`;
  const payload = (e.value.payload ?? {}) as Row;
  const fields = Object.entries(payload)
    .filter(([, v]) => JSON.stringify(v).length <= 100)
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return `${String(e.value.action)} (${String(e.value.status)}) ${fields.join(', ')}`;
}

/** The plan as lines of text, or Markdown for a pull-request comment. */
export function formatReplayPlan(plan: ReplayPlan, title: string, markdown: boolean): string {
  const lines: string[] = [markdown ? `### ${title}\n` : title];
  const bullet = (sign: string, text: string) => (markdown ? `- \`${sign}\` ${text}` : `  ${sign} ${text}`);
  for (const table of [...new Set(plan.rows.map((r) => r.table))]) {
    lines.push(markdown ? `\n**table \`${table}\`**\n` : `table ${table}`);
    for (const r of plan.rows.filter((x) => x.table === table)) {
      const what =
        r.sign === '~'
          ? r.columns!.map((c) => `${c.column} ${short(c.before)} -> ${short(c.after)}`).join(', ')
          : short(r.row);
      lines.push(bullet(r.sign, `${r.key} (${r.source}): ${what}`));
    }
  }
  if (plan.effects.length) {
    lines.push(markdown ? '\n**effects**\n' : 'effects');
    for (const e of plan.effects) lines.push(bullet(e.sign, `${e.kind} (${e.source}): ${describe(e)}`));
  }
  if (plan.outcomes.length) {
    lines.push(markdown ? '\n**events**\n' : 'events');
    for (const o of plan.outcomes) lines.push(bullet('~', describeOutcome(o)));
  }
  lines.push(markdown ? `\n**${plan.summary}**` : `summary: ${plan.summary}`);
  return lines.join('\n');
}
