/**
 * What `validate` checks for Postgres stores: every sql step bound for one is PREPAREd against that store's own
 * migrations (in a child process: see postgres-prepare.ts), and no event's SQL may go to two stores.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { compilePattern } from '../../runtime/manifest/compile.ts';
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { compileNamedSql } from '../../runtime/language/sql.ts';
import { DEFAULT_STORE } from '../../runtime/manifest/stores.ts';

type Path = (string | number)[];
interface SqlUse {
  path: Path;
  sql: string;
  store: string;
}
interface HandlerLike {
  on: string | string[];
  store?: string;
  steps: unknown[];
}

/** Each sql step of every integration's and route's handlers, with the store it writes. */
export function sqlUses(manifest: Manifest): { handler: Path; patterns: string[]; uses: SqlUse[] }[] {
  const sources: [Path, HandlerLike[] | undefined][] = [
    ...Object.entries(manifest.integrations ?? {}).map(([n, i]): [Path, HandlerLike[] | undefined] => [
      ['integrations', n],
      i.handlers as HandlerLike[] | undefined,
    ]),
    ...Object.entries(manifest.routes ?? {}).map(([n, r]): [Path, HandlerLike[] | undefined] => [
      ['routes', n],
      r.handlers as HandlerLike[] | undefined,
    ]),
  ];
  return sources.flatMap(([at, handlers]) =>
    (handlers ?? []).map((h, i) => ({
      handler: [...at, 'handlers', i],
      patterns: typeof h.on === 'string' ? [h.on] : h.on,
      uses: h.steps.flatMap((step, s) => {
        const st = step as { sql?: unknown; store?: string };
        return typeof st.sql === 'string'
          ? [
              {
                path: [...at, 'handlers', i, 'steps', s, 'sql'],
                sql: st.sql,
                store: st.store ?? h.store ?? DEFAULT_STORE,
              },
            ]
          : [];
      }),
    })),
  );
}

/** The store type a name refers to (`d1` unless the manifest declares it otherwise). */
export const storeType = (manifest: Manifest, name: string): string =>
  (manifest.stores as Record<string, { type: string }> | undefined)?.[name]?.type ??
  (name === DEFAULT_STORE ? 'd1' : 'unknown');

/** Whether two `on` patterns can match one event type (exactly for names; for two wildcards, by example). */
function overlap(a: string, b: string): boolean {
  const [ra, rb] = [compilePattern(a), compilePattern(b)];
  return rb.test(a) || ra.test(b) || rb.test(a.replace(/\*/g, 'x')) || ra.test(b.replace(/\*/g, 'x'));
}

/** Handlers of one source whose SQL goes to different stores for the same event type: no transaction spans both. */
export function mixedStoreProblems(manifest: Manifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const handlers = sqlUses(manifest).filter((h) => h.uses.length);
  for (const h of handlers) {
    const stores = [...new Set(h.uses.map((u) => u.store))];
    if (stores.length > 1)
      problems.push({
        path: h.handler,
        message: `its sql steps write ${stores.join(' and ')}: one event's SQL must go to one store, as no transaction spans two databases`,
      });
  }
  for (let i = 0; i < handlers.length; i++) {
    for (let j = i + 1; j < handlers.length; j++) {
      const [a, b] = [handlers[i]!, handlers[j]!];
      if (a.handler.slice(0, 2).join('.') !== b.handler.slice(0, 2).join('.')) continue;
      const [sa, sb] = [a.uses[0]!.store, b.uses[0]!.store];
      if (sa === sb) continue;
      const shared = a.patterns.flatMap((p) =>
        b.patterns.filter((q) => overlap(p, q)).map((q) => (p.includes('*') ? q : p)),
      );
      if (shared.length) {
        problems.push({
          path: b.handler,
          message: `an event ${shared[0]} runs this handler (store ${sb}) and handler ${a.handler[a.handler.length - 1]} (store ${sa}): one event's SQL must go to one store, as no transaction spans two databases`,
        });
      }
    }
  }
  return problems;
}

type PrepareResult = { engine: string; errors: ({ message: string; at: number | null } | null)[][] };
/** Results by input: every environment of one validate run usually has the same statements and migrations. */
const prepared = new Map<string, PrepareResult>();

// Beside this module in the repository (postgres-prepare.ts); in the package's dist/, beside the bundled CLI (.js).
const PREPARE_SCRIPT =
  ['postgres-prepare.ts', 'postgres-prepare.js']
    .map((f) => join(dirname(fileURLToPath(import.meta.url)), f))
    .find((f) => existsSync(f)) ?? 'postgres-prepare.ts';

/**
 * Prepares every statement bound for a Postgres store against its migrations folder (relative to the manifest),
 * in a real Postgres when SWITCHYARD_PG_URL answers, else in PGlite. Returns the problems and which engine checked.
 */
export function checkPostgresSql(
  manifest: Manifest,
  manifestDir: string,
): { problems: ManifestProblem[]; engine?: string } {
  const stores = Object.entries(
    (manifest.stores ?? {}) as Record<string, { type: string; migrations?: string }>,
  ).filter(([, s]) => s.type === 'postgres');
  if (!stores.length) return { problems: [] };
  const problems: ManifestProblem[] = [];
  const uses = sqlUses(manifest).flatMap((h) => h.uses);
  const jobs: { store: string; migrations: string; uses: SqlUse[]; statements: string[] }[] = [];
  for (const [name, spec] of stores) {
    const migrations = resolve(manifestDir, spec.migrations ?? '');
    if (!existsSync(migrations)) {
      problems.push({
        path: ['stores', name, 'migrations'],
        message: `migrations folder ${spec.migrations} not found next to the manifest`,
      });
      continue;
    }
    const mine = uses.filter((u) => u.store === name);
    const statements: string[] = [];
    const compiled: SqlUse[] = [];
    for (const u of mine) {
      try {
        statements.push(compileNamedSql(u.sql, '$').text);
        compiled.push(u);
      } catch {
        // The step's own compile reports it.
      }
    }
    if (statements.length) jobs.push({ store: name, migrations, uses: compiled, statements });
  }
  if (!jobs.length) return { problems };
  const input = JSON.stringify({ jobs: jobs.map(({ migrations, statements }) => ({ migrations, statements })) });
  let result = prepared.get(input);
  if (!result) {
    try {
      result = JSON.parse(
        execFileSync(process.execPath, [PREPARE_SCRIPT], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }),
      ) as PrepareResult;
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '')
        .trim()
        .split('\n')
        .pop();
      return {
        problems: [
          ...problems,
          {
            path: ['stores'],
            message: `could not check the Postgres stores' SQL: ${stderr || (error as Error).message}`,
          },
        ],
      };
    }
    prepared.set(input, result);
  }
  jobs.forEach((job, j) =>
    job.uses.forEach((u, i) => {
      const error = result!.errors[j]?.[i];
      if (!error) return;
      const text = job.statements[i]!;
      const word = error.at === null ? undefined : /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(error.at))?.[0];
      const folder = (manifest.stores as Record<string, { migrations: string }>)[job.store]!.migrations;
      problems.push({
        path: u.path,
        message: `SQL does not prepare against store ${job.store} (${folder}, in ${result!.engine}): ${error.message}`,
        ...(word ? { word } : {}),
      });
    }),
  );
  return { problems, engine: result.engine };
}

/**
 * A postgres store whose binding is no [[hyperdrive]] entry of this environment in wrangler.toml: its events would be
 * retried (and dead-lettered) until it is bound. A warning, so a manifest can be checked before its database exists.
 */
export function hyperdriveWarnings(manifest: Manifest, wranglerText: string, env: string): ManifestProblem[] {
  const config = parse(wranglerText) as Record<string, unknown>;
  const table =
    (env === 'default'
      ? config
      : ((config.env as Record<string, unknown> | undefined)?.[env] as Record<string, unknown> | undefined)) ?? {};
  const bound = new Set(((table.hyperdrive as { binding?: string }[] | undefined) ?? []).map((h) => h.binding));
  return Object.entries((manifest.stores ?? {}) as Record<string, { type: string; binding: string }>)
    .filter(([, s]) => s.type === 'postgres' && !bound.has(s.binding))
    .map(([name, s]) => ({
      path: ['stores', name, 'binding'],
      message: `binding ${s.binding} has no [[hyperdrive]] entry in this environment's wrangler.toml table: its handlers' events are retried until it is bound (docs/postgres.md)`,
    }));
}
