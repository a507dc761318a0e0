/**
 * The manifest test file format (`tests/*.test.yaml`), parsed with every node's position, so a failed expectation
 * is reported at the file:line:column it was written at. Worker-safe (no Node APIs): the agreement test in workerd
 * parses the same files.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { closest } from '../../../runtime/language/closest.ts';
import { parseDuration } from '../../../runtime/lib/duration.ts';

export type Path = (string | number)[];
export type Row = Record<string, unknown>;

export interface Location {
  file: string;
  line: number;
  column: number;
}

/** One step of a case: an event sent to an integration, a raw request, a redelivery or a wait. */
export interface Step {
  path: Path;
  /** The integration this event goes to, when not the case's. */
  integration?: string;
  sample?: string;
  json?: unknown;
  file?: string;
  type?: string;
  id?: string;
  set?: Record<string, unknown>;
  headers?: Record<string, string>;
  signature?: 'valid' | 'bad' | 'none';
  /** Advance the clock by this much before the step (ms). */
  afterMs?: number;
  /** 1-based index of an earlier step to deliver again. */
  redeliver?: number;
  /** Only advance the clock by this much (ms) and deliver what became due. */
  waitMs?: number;
  request?: { method: string; path: string; headers: Record<string, string>; body?: string; user?: TestUser };
  expect?: { http?: number; body?: Record<string, unknown>; event?: string; skippedBy?: string[] };
}

/** A signed-in user a request is sent as: a token from the local dev issuer standing in for an `auth:` provider. */
export interface TestUser {
  sub: string;
  /** The provider's name under `auth:`; default: the only one declared. */
  provider?: string;
  claims?: Record<string, unknown>;
}

/** A table expectation: exactly these rows, or rows the table contains. */
export interface TableExpectation {
  mode: 'rows' | 'contains';
  rows: Row[];
  path: Path;
}

export interface Case {
  file: string;
  name: string;
  path: Path;
  integration?: string;
  now: number;
  seed: Record<string, Row[]>;
  steps: Step[];
  expect: {
    tables?: Record<string, TableExpectation>;
    effects?: Row[];
    enqueued?: Row[];
    dead_letters?: Row[];
  };
}

export interface CaseFile {
  file: string;
  text: string;
  doc: Document;
  cases: Case[];
  problems: { location: Location; message: string }[];
  /** Where a path in the document was written. */
  locate(path: Path): Location;
}

/** A fixed default time, so results do not depend on when the tests run. */
export const DEFAULT_NOW = '2026-01-01T00:00:00.000Z';

const CASE_KEYS = ['name', 'integration', 'now', 'seed', 'events', 'expect'];
const STEP_KEYS = [
  'integration',
  'sample',
  'json',
  'file',
  'type',
  'id',
  'set',
  'headers',
  'signature',
  'after',
  'redeliver',
  'wait',
  'request',
  'expect',
];
const STEP_EXPECT_KEYS = ['http', 'body', 'event', 'skipped_by'];
const EXPECT_KEYS = ['tables', 'effects', 'enqueued', 'dead_letters'];
const FILE_KEYS = ['integration', 'now', 'cases'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses one test file.
 * @example parseCaseFile('tests/stripe.test.yaml', text).cases[0].steps[0].sample // 'customer.subscription.created'
 */
export function parseCaseFile(file: string, text: string): CaseFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  const locate = (path: Path): Location => {
    for (let p = path; ; p = p.slice(0, -1)) {
      const node = (p.length ? doc.getIn(p, true) : doc.contents) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { file, line, column: col };
      }
      if (!p.length) return { file, line: 1, column: 1 };
    }
  };
  const problems: CaseFile['problems'] = doc.errors.map((e) => ({
    location: { file, line: e.linePos?.[0].line ?? 1, column: e.linePos?.[0].col ?? 1 },
    message: e.message,
  }));
  const out: CaseFile = { file, text, doc, cases: [], problems, locate };
  if (problems.length) return out;
  const problem = (path: Path, message: string) => problems.push({ location: locate(path), message });
  const unknownKeys = (value: Obj, allowed: string[], path: Path, what: string) => {
    for (const key of Object.keys(value)) {
      if (allowed.includes(key)) continue;
      const guess = closest(key, allowed);
      problem(
        [...path, key],
        `unknown key ${key} in ${what}${guess ? ` (did you mean ${guess}?)` : ''}; keys: ${allowed.join(', ')}`,
      );
    }
  };
  const root = doc.toJS() as unknown;
  if (!isObj(root) || !Array.isArray(root.cases)) {
    problem([], 'a test file is a map with a `cases:` list');
    return out;
  }
  unknownKeys(root, FILE_KEYS, [], 'the file');
  const time = (value: unknown, path: Path): number => {
    const ms = typeof value === 'number' ? value : Date.parse(String(value));
    if (!Number.isFinite(ms))
      problem(path, `now: ${JSON.stringify(value)} is not an ISO time (2026-01-01T00:00:00Z) or ms since 1970`);
    return ms;
  };
  const duration = (value: unknown, path: Path): number | undefined => {
    try {
      return parseDuration(String(value));
    } catch {
      problem(path, `${JSON.stringify(value)} is not a duration (30s, 5m, 1h)`);
      return undefined;
    }
  };
  const fileNow = root.now !== undefined ? time(root.now, ['now']) : Date.parse(DEFAULT_NOW);
  root.cases.forEach((raw, i) => {
    const path: Path = ['cases', i];
    if (!isObj(raw)) return problem(path, 'a case is a map with a name, events and expect');
    unknownKeys(raw, CASE_KEYS, path, 'a case');
    if (typeof raw.name !== 'string') problem(path, 'a case needs a `name`');
    const integration = (raw.integration ?? root.integration) as string | undefined;
    const steps: Step[] = [];
    if (!Array.isArray(raw.events) || !raw.events.length)
      problem(path, 'a case needs `events:`, a list of at least one event');
    (Array.isArray(raw.events) ? raw.events : []).forEach((e, j) => {
      const at: Path = [...path, 'events', j];
      if (!isObj(e)) return problem(at, 'an event is a map (sample:, json:, file:, redeliver:, wait: or request:)');
      unknownKeys(e, STEP_KEYS, at, 'an event');
      const sources = ['sample', 'json', 'file', 'redeliver', 'wait', 'request'].filter((k) => e[k] !== undefined);
      if (sources.length !== 1)
        problem(
          at,
          `an event has exactly one of sample:, json:, file:, redeliver:, wait: or request: (found ${sources.join(', ') || 'none'})`,
        );
      const step: Step = { path: at };
      if (e.integration !== undefined) step.integration = String(e.integration);
      if (e.sample !== undefined) step.sample = String(e.sample);
      if (e.json !== undefined) step.json = e.json;
      if (e.file !== undefined) step.file = String(e.file);
      if (e.type !== undefined) step.type = String(e.type);
      if (e.id !== undefined) step.id = String(e.id);
      if (e.set !== undefined)
        isObj(e.set) ? (step.set = e.set) : problem([...at, 'set'], 'set: maps paths (data.object.status) to values');
      if (e.headers !== undefined)
        isObj(e.headers)
          ? (step.headers = Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), String(v)])))
          : problem([...at, 'headers'], 'headers: is a map');
      if (e.signature !== undefined) {
        if (e.signature === 'bad' || e.signature === 'none' || e.signature === 'valid') step.signature = e.signature;
        else
          problem([...at, 'signature'], 'signature: is valid (the default), bad (signed with a wrong secret) or none');
      }
      if (e.after !== undefined) step.afterMs = duration(e.after, [...at, 'after']);
      if (e.wait !== undefined) step.waitMs = duration(e.wait, [...at, 'wait']);
      if (e.redeliver !== undefined) {
        if (typeof e.redeliver !== 'number' || !Number.isInteger(e.redeliver) || e.redeliver < 1 || e.redeliver > j)
          problem([...at, 'redeliver'], `redeliver: is the number (1 to ${j}) of an earlier event of this case`);
        else step.redeliver = e.redeliver;
      }
      if (e.request !== undefined) {
        const r = e.request;
        if (!isObj(r) || typeof r.path !== 'string')
          problem([...at, 'request'], 'request: needs a path (and optionally method, headers, json or body, user)');
        else {
          const headers = isObj(r.headers)
            ? Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
            : {};
          const body =
            r.json !== undefined ? JSON.stringify(r.json) : r.body !== undefined ? String(r.body) : undefined;
          if (r.json !== undefined) headers['content-type'] ??= 'application/json';
          let user: TestUser | undefined;
          if (r.user !== undefined) {
            const u = r.user;
            if (
              !isObj(u) ||
              typeof u.sub !== 'string' ||
              (u.provider !== undefined && typeof u.provider !== 'string') ||
              (u.claims !== undefined && !isObj(u.claims))
            )
              problem(
                [...at, 'request', 'user'],
                'user: is { sub, provider?, claims? }: who the request is signed in as',
              );
            else
              user = {
                sub: u.sub,
                ...(typeof u.provider === 'string' ? { provider: u.provider } : {}),
                ...(isObj(u.claims) ? { claims: u.claims } : {}),
              };
          }
          step.request = {
            method: String(r.method ?? (body === undefined ? 'GET' : 'POST')),
            path: r.path,
            headers,
            ...(body !== undefined ? { body } : {}),
            ...(user ? { user } : {}),
          };
        }
      }
      if (e.expect !== undefined) {
        if (!isObj(e.expect)) problem([...at, 'expect'], 'expect: is a map (http, body, event, skipped_by)');
        else {
          unknownKeys(e.expect, STEP_EXPECT_KEYS, [...at, 'expect'], "an event's expect");
          step.expect = {};
          if (e.expect.http !== undefined) step.expect.http = Number(e.expect.http);
          if (e.expect.body !== undefined)
            isObj(e.expect.body)
              ? (step.expect.body = e.expect.body)
              : problem([...at, 'expect', 'body'], 'body: is a map of the fields expected in the JSON answer');
          if (e.expect.event !== undefined) step.expect.event = String(e.expect.event);
          const skippedBy = e.expect.skipped_by;
          if (skippedBy !== undefined) {
            if (Array.isArray(skippedBy) && skippedBy.every((s) => typeof s === 'string'))
              step.expect.skippedBy = skippedBy;
            else
              problem(
                [...at, 'expect', 'skipped_by'],
                'skipped_by: lists the conditions that skip steps of the event (their manifest paths, as "integrations.stripe.handlers[0].if"); [] for none',
              );
          }
        }
      }
      steps.push(step);
    });
    const seed: Record<string, Row[]> = {};
    if (raw.seed !== undefined) {
      if (!isObj(raw.seed)) problem([...path, 'seed'], 'seed: maps table names to lists of rows');
      else
        for (const [table, rows] of Object.entries(raw.seed))
          Array.isArray(rows) && rows.every(isObj)
            ? (seed[table] = rows as Row[])
            : problem([...path, 'seed', table], `seed.${table} is a list of rows`);
    }
    const expect: Case['expect'] = {};
    if (raw.expect !== undefined) {
      if (!isObj(raw.expect))
        problem([...path, 'expect'], 'expect: is a map (tables, effects, enqueued, dead_letters)');
      else {
        unknownKeys(raw.expect, EXPECT_KEYS, [...path, 'expect'], "a case's expect");
        const tables = raw.expect.tables;
        if (tables !== undefined) {
          expect.tables = {};
          if (!isObj(tables))
            problem(
              [...path, 'expect', 'tables'],
              'tables: maps table names to rows (exactly these) or { contains: rows }',
            );
          else
            for (const [table, spec] of Object.entries(tables)) {
              const tp: Path = [...path, 'expect', 'tables', table];
              if (Array.isArray(spec) && spec.every(isObj))
                expect.tables[table] = { mode: 'rows', rows: spec as Row[], path: tp };
              else if (isObj(spec) && Array.isArray(spec.contains) && spec.contains.every(isObj))
                expect.tables[table] = { mode: 'contains', rows: spec.contains as Row[], path: [...tp, 'contains'] };
              else
                problem(
                  tp,
                  `tables.${table} is a list of rows (the table holds exactly these) or { contains: [rows] }`,
                );
            }
        }
        for (const key of ['effects', 'enqueued', 'dead_letters'] as const) {
          const list = raw.expect[key];
          if (list === undefined) continue;
          if (Array.isArray(list) && list.every(isObj)) expect[key] = list as Row[];
          else problem([...path, 'expect', key], `${key}: is a list of maps`);
        }
      }
    }
    out.cases.push({
      file,
      name: String(raw.name ?? `case ${i + 1}`),
      path,
      ...(integration ? { integration } : {}),
      now: raw.now !== undefined ? time(raw.now, [...path, 'now']) : fileNow,
      seed,
      steps,
      expect,
    });
  });
  return out;
}

/** Writes `value` at `path` (for `--update`), keeping the file's comments and layout elsewhere. */
export function setInDocument(doc: Document, path: Path, value: unknown): void {
  const node = doc.createNode(value);
  // Short rows read best on one line each.
  if (isSeq(node))
    for (const item of node.items) if (isMap(item) && JSON.stringify(item.toJSON()).length <= 100) item.flow = true;
  if (isMap(node) && JSON.stringify(node.toJSON()).length <= 100) node.flow = true;
  doc.setIn(path, node);
}
