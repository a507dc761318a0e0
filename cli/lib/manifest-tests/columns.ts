/**
 * Column coverage for `switchyard test`: the columns each `sql` step writes (an INSERT's column list, an upsert's
 * `DO UPDATE SET`, an UPDATE's `SET`), and which of them no case checks after that step ran. A column counts as
 * asserted when a case whose events committed the step lists that column in an expected row of that table
 * (`expect: tables:`), and no step the case committed later writes that column too. Worker-safe: the runner
 * computes which steps ran in workerd too. The statement text is read by a small tokenizer (quotes, comments and
 * parentheses respected), enough for the INSERT / UPSERT / UPDATE forms projections use.
 */
import type { Handler, Manifest } from '../../../runtime/manifest/types.gen.ts';
import { commandOf } from '../../../runtime/manifest/commands/compile.ts';
import type { Case } from './cases.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ------------------------------------------------------------------------------------------------------ SQL

interface Token {
  text: string;
  start: number;
  end: number;
  /** word (identifier or keyword), quoted identifier, string literal, or punctuation. */
  kind: 'word' | 'ident' | 'string' | 'punct';
}

const TOKEN =
  /(\s+|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'|[Ee]'(?:[^'\\]|\\.|'')*')|("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])|([A-Za-z_][A-Za-z0-9_$]*)|(:[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?)|(.)/gy;

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(sql); m; m = TOKEN.exec(sql)) {
    const [text, space, string, ident, word, param] = m;
    if (space !== undefined) continue;
    const kind =
      string !== undefined || param !== undefined
        ? 'string'
        : ident !== undefined
          ? 'ident'
          : word !== undefined
            ? 'word'
            : 'punct';
    out.push({ text, start: m.index, end: m.index + text.length, kind });
  }
  return out;
}

const unquote = (t: Token) => (t.kind === 'ident' ? t.text.slice(1, -1) : t.text);
const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text.toUpperCase());

/** One written value: the column it lands in and where its expression is in the statement (`[start, end)`). */
export interface Assignment {
  column: string;
  start: number;
  end: number;
}

/**
 * What one clause of a statement writes into one table: an INSERT's column list with each VALUES row, an
 * upsert's DO UPDATE SET, an UPDATE's SET. `assignments` is empty where the values are not written per column
 * (INSERT ... SELECT).
 */
export interface WrittenClause {
  table: string;
  kind: 'insert' | 'values' | 'do update' | 'update';
  columns: string[];
  assignments: Assignment[];
}

/** The tokens of a comma-separated list that starts after `open` (a `(`), up to its matching `)`: one span per item. */
function parenItems(tokens: Token[], open: number): { items: Token[][]; close: number } {
  const items: Token[][] = [[]];
  let depth = 0;
  for (let i = open + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      if (depth === 0) return { items: items.filter((x) => x.length), close: i };
      depth--;
    } else if (t.text === ',' && depth === 0) {
      items.push([]);
      continue;
    }
    items[items.length - 1]!.push(t);
  }
  return { items: items.filter((x) => x.length), close: tokens.length };
}

/** `a = expr, b = expr` after SET, up to WHERE / RETURNING / FROM / `;` at its own depth. */
function setList(tokens: Token[], from: number): Assignment[] {
  const out: Assignment[] = [];
  let i = from;
  while (i < tokens.length) {
    const column = tokens[i];
    if (!column || (column.kind !== 'word' && column.kind !== 'ident') || tokens[i + 1]?.text !== '=') return out;
    let depth = 0;
    let j = i + 2;
    for (; j < tokens.length; j++) {
      const t = tokens[j]!;
      if (t.text === '(') depth++;
      else if (t.text === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (t.text === ',' || t.text === ';' || isWord(t, 'WHERE', 'RETURNING', 'FROM', 'ON')))
        break;
    }
    if (j === i + 2) return out;
    out.push({ column: unquote(column), start: tokens[i + 2]!.start, end: tokens[j - 1]!.end });
    if (tokens[j]?.text !== ',') return out;
    i = j + 1;
  }
  return out;
}

/** A table name as written (`"users"`, `public.users`): its last part, unquoted. */
function tableAt(tokens: Token[], i: number): { name: string; next: number } | undefined {
  let name: string | undefined;
  let k = i;
  while (tokens[k] && (tokens[k]!.kind === 'word' || tokens[k]!.kind === 'ident')) {
    name = unquote(tokens[k]!);
    if (tokens[k + 1]?.text !== '.') return { name, next: k + 1 };
    k += 2;
  }
  return name === undefined ? undefined : { name, next: k };
}

/**
 * What a statement writes, clause by clause: `INSERT INTO t (a, b) VALUES (:a, :b) ON CONFLICT (a) DO UPDATE SET
 * b = excluded.b` is an insert of a and b, its VALUES row, and a DO UPDATE of b, all into t.
 * @example writtenColumns("UPDATE orders SET status = 'paid' WHERE id = :id") // [{ table: 'orders', kind: 'update', columns: ['status'], ... }]
 */
export function writtenColumns(sql: string): WrittenClause[] {
  const tokens = tokenize(sql);
  const out: WrittenClause[] = [];
  let inserting: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isWord(t, 'INTO') && (isWord(tokens[i - 1], 'INSERT', 'REPLACE') || isWord(tokens[i - 2], 'INSERT'))) {
      const table = tableAt(tokens, i + 1);
      if (!table) continue;
      inserting = table.name;
      if (tokens[table.next]?.text !== '(') continue;
      const list = parenItems(tokens, table.next);
      const columns = list.items.map((item) => unquote(item[0]!));
      out.push({ table: table.name, kind: 'insert', columns, assignments: [] });
      let k = list.close + 1;
      if (!isWord(tokens[k], 'VALUES')) continue;
      k++;
      while (tokens[k]?.text === '(') {
        const row = parenItems(tokens, k);
        out.push({
          table: table.name,
          kind: 'values',
          columns,
          assignments: row.items.map((item, n) => ({
            column: columns[n] ?? `#${n + 1}`,
            start: item[0]!.start,
            end: item[item.length - 1]!.end,
          })),
        });
        k = row.close + 1;
        if (tokens[k]?.text !== ',') break;
        k++;
      }
      i = k - 1;
    } else if (isWord(t, 'UPDATE') && isWord(tokens[i - 1], 'DO') && inserting && isWord(tokens[i + 1], 'SET')) {
      const assignments = setList(tokens, i + 2);
      out.push({ table: inserting, kind: 'do update', columns: assignments.map((a) => a.column), assignments });
    } else if (isWord(t, 'UPDATE') && !isWord(tokens[i - 1], 'DO', 'FOR', 'KEY')) {
      const table = tableAt(tokens, i + 1);
      if (!table || !isWord(tokens[table.next], 'SET')) continue;
      const assignments = setList(tokens, table.next + 1);
      out.push({ table: table.name, kind: 'update', columns: assignments.map((a) => a.column), assignments });
    }
  }
  return out;
}

/** The columns a statement writes, per table (lower-case names, in the order written). */
export function projectedColumns(sql: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const clause of writtenColumns(sql)) {
    const table = clause.table.toLowerCase();
    const list = out.get(table) ?? (out.set(table, []), out.get(table)!);
    for (const c of clause.columns) if (!list.includes(c.toLowerCase())) list.push(c.toLowerCase());
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------ the manifest's sql steps

/** A `sql` step of the manifest, in the handler (or command, or route's on_first_seen) that runs it. */
export interface SqlStepSite {
  /** The step's manifest path, as keys (`['integrations', 'stripe', 'handlers', 1, 'steps', 0]`) and as text. */
  path: (string | number)[];
  at: string;
  /** The handler's path as text (`integrations.stripe.handlers[1]`, `commands.sync_user`, `routes.api.on_first_seen`). */
  handler: string;
  handlerPath: (string | number)[];
  /** How the report names the handler: `stripe handler on customer.subscription.created, …`. */
  label: string;
  sql: string;
}

/** `integrations.stripe.handlers[1].steps[0]`. */
export const formatPath = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');

const sqlOf = (step: unknown) => (isObj(step) && typeof step.sql === 'string' ? step.sql : undefined);

/** Every sql step of every handler, command and on_first_seen of the manifest, in manifest order. */
export function sqlSteps(manifest: Manifest): SqlStepSite[] {
  const out: SqlStepSite[] = [];
  const add = (handlerPath: (string | number)[], label: string, steps: unknown, stepsKey: string | undefined) => {
    if (!Array.isArray(steps)) return;
    steps.forEach((step, s) => {
      const sql = sqlOf(step);
      if (sql === undefined) return;
      const path = [...handlerPath, ...(stepsKey ? [stepsKey] : []), s];
      out.push({ path, at: formatPath(path), handler: formatPath(handlerPath), handlerPath, label, sql });
    });
  };
  const handlers = (kind: 'integrations' | 'routes', name: string, list: Handler[] | undefined) =>
    (list ?? []).forEach((h, i) =>
      add(
        [kind, name, 'handlers', i],
        `${name} handler on ${([] as string[]).concat(h.on).join(', ')}`,
        h.steps,
        'steps',
      ),
    );
  for (const [name, spec] of Object.entries(manifest.integrations)) handlers('integrations', name, spec.handlers);
  for (const [name, spec] of Object.entries(manifest.routes ?? {})) {
    handlers('routes', name, spec.handlers);
    add(['routes', name, 'on_first_seen'], `${name} route's on_first_seen`, spec.on_first_seen, undefined);
  }
  for (const [name, spec] of Object.entries(manifest.commands ?? {}))
    add(['commands', name], `command ${name}`, spec.steps, 'steps');
  return out;
}

const patternRe = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** An event as the event log recorded it: its source, type, status and what each of its steps did (`steps` JSON). */
export interface LoggedEvent {
  integration: string;
  type: string;
  status: string;
  steps: string | null;
}

/**
 * The sql steps whose statements the applied events committed, by manifest path, in the order they committed (a
 * step once per event that ran it): an event's steps are its matching handlers' steps in order (as the consumer
 * runs them), each recorded with how many statements it made and, when a condition skipped it, which. `events` in
 * the event log's order.
 */
export function committedSqlSteps(manifest: Manifest, events: readonly LoggedEvent[], applied: string): string[] {
  const ran: string[] = [];
  for (const e of events) {
    if (e.status !== applied) continue;
    let outcomes: unknown;
    try {
      outcomes = e.steps ? JSON.parse(e.steps) : [];
    } catch {
      continue;
    }
    if (!Array.isArray(outcomes)) continue;
    const flat: ((string | number)[] | undefined)[] = [];
    const command = commandOf(e.integration);
    if (command !== undefined) {
      (manifest.commands?.[command]?.steps ?? []).forEach((s, i) =>
        flat.push(sqlOf(s) !== undefined ? ['commands', command, 'steps', i] : undefined),
      );
    } else {
      const kind = manifest.integrations[e.integration] ? 'integrations' : 'routes';
      const list =
        kind === 'integrations'
          ? manifest.integrations[e.integration]?.handlers
          : manifest.routes?.[e.integration]?.handlers;
      (list ?? []).forEach((h, i) => {
        if (!([] as string[]).concat(h.on).some((p) => patternRe(p).test(e.type))) return;
        h.steps.forEach((s, k) =>
          flat.push(sqlOf(s) !== undefined ? [kind, e.integration, 'handlers', i, 'steps', k] : undefined),
        );
      });
    }
    outcomes.forEach((o, i) => {
      const path = flat[i];
      if (
        path &&
        isObj(o) &&
        o.kind === 'sql' &&
        typeof o.statements === 'number' &&
        o.statements > 0 &&
        o.skipped === undefined
      )
        ran.push(formatPath(path));
    });
  }
  return ran;
}

/** A route path (`/api/*`, `/v1/items/:id`) as a pattern over request paths. */
const routeRe = (path: string) =>
  new RegExp(
    `^${path
      .split(/(\*|:[A-Za-z_][A-Za-z0-9_]*)/)
      .map((s) => (s === '*' ? '.*' : s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );

/**
 * The on_first_seen steps a case's signed-in requests committed: a request as a user the route then recorded as
 * seen (`seen`: the subs in seen_users, written in one transaction with the steps' statements), to a path of a
 * route that has on_first_seen, that the route answered below 400.
 */
export function firstSeenSqlSteps(
  manifest: Manifest,
  requests: readonly { path: string; sub: string; http: number }[],
  seen: ReadonlySet<string>,
): string[] {
  const ran = new Set<string>();
  const routes = Object.entries(manifest.routes ?? {}).filter(([, r]) => r.on_first_seen?.length);
  for (const request of requests) {
    if (request.http >= 400 || !seen.has(request.sub)) continue;
    const route = routes.find(([, r]) => routeRe(r.path).test(request.path.split('?')[0]!));
    if (!route) continue;
    (route[1].on_first_seen ?? []).forEach(
      (s, i) => sqlOf(s) !== undefined && ran.add(formatPath(['routes', route[0], 'on_first_seen', i])),
    );
  }
  return [...ran].sort();
}

// ------------------------------------------------------------------------------------------------------ coverage

/** The columns of one table a handler's sql step writes that no case asserted after the step ran. */
export interface ColumnGap {
  step: SqlStepSite;
  table: string;
  columns: string[];
  /** Whether any case committed the step at all (if not, no column of it can be asserted). */
  ran: boolean;
}

/**
 * Per sql step and table, the projected columns no case asserted: a column is asserted when a case that committed
 * the step (`ran`, per case, in commit order) expects rows of that table listing the column, and no step that
 * committed after it in that case writes the same column (else the value checked is that later step's: a
 * subscription's status checked after its delete says nothing of the upsert before it).
 */
export function columnCoverage(
  manifest: Manifest,
  cases: readonly { expect: Case['expect']; ran: readonly string[] }[],
): { gaps: ColumnGap[]; total: number; asserted: number } {
  const gaps: ColumnGap[] = [];
  let total = 0;
  let asserted = 0;
  const steps = sqlSteps(manifest);
  const written = new Map(steps.map((s) => [s.at, projectedColumns(s.sql)]));
  /** The step that last wrote `table.column` in a case. */
  const lastWriter = (ran: readonly string[], table: string, column: string) =>
    ran.findLast((at) => written.get(at)?.get(table)?.includes(column));
  for (const step of steps) {
    const ranIn = cases.filter((c) => c.ran.includes(step.at));
    for (const [table, columns] of written.get(step.at)!) {
      const checked = new Set<string>();
      for (const c of ranIn) {
        for (const [name, t] of Object.entries(c.expect.tables ?? {})) {
          if (name.toLowerCase() !== table) continue;
          for (const row of t.rows)
            for (const key of Object.keys(row))
              if (lastWriter(c.ran, table, key.toLowerCase()) === step.at) checked.add(key.toLowerCase());
        }
      }
      const missing = columns.filter((col) => !checked.has(col));
      total += columns.length;
      asserted += columns.length - missing.length;
      if (missing.length) gaps.push({ step, table, columns: missing, ran: ranIn.length > 0 });
    }
  }
  return { gaps, total, asserted };
}
