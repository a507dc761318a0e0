/**
 * Two kinds of migration. The runtime's own tables (events, effects, dead letters, ...) are migrated by the package
 * from runtime/migrations/<d1|postgres>/ and recorded in the database's `switchyard_migrations` table; the project's
 * own tables are in its `migrations/`, applied by `wrangler d1 migrations apply` and recorded in `d1_migrations`.
 *
 * A database built when both kinds lived in one `migrations/` folder (this repository before the split) is
 * recognised: it has no `switchyard_migrations` table but has the runtime's `events` table, and `d1_migrations` lists
 * runtime migrations by the names they still carry. Those are recorded as applied, not run again; the rest run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './project.ts';

/** The runtime's D1 migrations (a new one goes here, numbered after the last). */
export const RUNTIME_D1_MIGRATIONS = join(PACKAGE_ROOT, 'runtime/migrations/d1');

/** The runtime's Postgres migrations (what a `postgres` store needs in the project's Postgres). */
export const RUNTIME_POSTGRES_MIGRATIONS = join(PACKAGE_ROOT, 'runtime/migrations/postgres');

/** The table that records the runtime's migrations, apart from wrangler's `d1_migrations` (the project's). */
export const TRACKING_TABLE = 'switchyard_migrations';

export interface Migration {
  name: string;
  sql: string;
}

/** The `*.sql` files of a folder, in name order (absent folder: none). */
export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/** What builds a project's whole D1 schema, in the order `dev` applies it: the runtime's, then the project's. */
export function schemaMigrations(projectMigrations: string): { file: string; sql: string }[] {
  return [
    ...readMigrations(RUNTIME_D1_MIGRATIONS).map((m) => ({ file: `runtime/migrations/d1/${m.name}`, sql: m.sql })),
    ...readMigrations(projectMigrations).map((m) => ({ file: m.name, sql: m.sql })),
  ];
}

/** What a database says about its migrations: its tables, and the names in each tracking table. */
export interface MigrationState {
  tables: ReadonlySet<string>;
  /** Names in `switchyard_migrations` (empty when the table is absent). */
  tracked: ReadonlySet<string>;
  /** Names in wrangler's `d1_migrations` (read only when `switchyard_migrations` is absent). */
  legacy: ReadonlySet<string>;
}

/** The SQL that reads which tables exist (first), then the queries `stateQueries` adds for the ones that do. */
export const TABLES_QUERY = `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('${TRACKING_TABLE}', 'd1_migrations', 'events')`;

/** The reads that complete a state, given the tables that exist. */
export function stateQueries(tables: ReadonlySet<string>): { tracked?: string; legacy?: string } {
  return {
    ...(tables.has(TRACKING_TABLE) ? { tracked: `SELECT name FROM ${TRACKING_TABLE}` } : {}),
    ...(!tables.has(TRACKING_TABLE) && tables.has('events') && tables.has('d1_migrations')
      ? { legacy: 'SELECT name FROM d1_migrations' }
      : {}),
  };
}

export interface MigrationPlan {
  /** Runtime migrations an old single-folder database already ran (recorded, not run). */
  adopted: string[];
  /** Runtime migrations to run, in order. */
  toRun: Migration[];
  /** One script: the tracking table, the adopted names, then each toRun migration followed by its record. */
  script: string;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What to run against a database in `state` to bring the runtime's tables up to `migrations`. */
export function planMigrations(
  migrations: readonly Migration[],
  state: MigrationState,
  now = new Date().toISOString(),
): MigrationPlan {
  const adopted = migrations.filter((m) => !state.tracked.has(m.name) && state.legacy.has(m.name)).map((m) => m.name);
  const toRun = migrations.filter((m) => !state.tracked.has(m.name) && !state.legacy.has(m.name));
  const record = (name: string, how: string) =>
    `INSERT INTO ${TRACKING_TABLE} (name, applied_at, how) VALUES (${quote(name)}, ${quote(now)}, ${quote(how)});`;
  const script = [
    `CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL, how TEXT NOT NULL);`,
    ...adopted.map((name) => record(name, 'recognised')),
    ...toRun.flatMap((m) => [`-- ${m.name}`, m.sql.trimEnd(), record(m.name, 'ran')]),
    '',
  ].join('\n');
  return { adopted, toRun, script };
}

/** The one line that says what a plan did. */
export function migrationLine(where: string, plan: Pick<MigrationPlan, 'adopted' | 'toRun'>): string {
  const names = (list: string[]) => (list.length <= 2 ? list.join(', ') : `${list[0]} … ${list.at(-1)}`);
  const parts: string[] = [];
  if (plan.adopted.length) parts.push(`recognised ${plan.adopted.length} from the old single migrations/ folder`);
  if (plan.toRun.length) parts.push(`applied ${plan.toRun.length} (${names(plan.toRun.map((m) => m.name))})`);
  return `[switchyard] ${where}: runtime tables ${parts.length ? parts.join('; ') : 'up to date'}`;
}
