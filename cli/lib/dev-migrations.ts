/**
 * Applies the D1 migrations to the local database for `switchyard dev`, and says what it did in one line. Wrangler
 * prints the whole migrations table again after each one it applies (21 migrations: 22 tables, over 500 lines); its
 * output is shown only when it fails.
 */
import { plain } from './dev-output.ts';
import { captureWrangler } from './wrangler.ts';
import { migrateD1 } from './migrate-d1.ts';

export interface MigrationResult {
  ok: boolean;
  /** What to print: one line, or wrangler's whole output when it failed. */
  message: string;
  /** The migrations applied now, in order (empty when the database was up to date). */
  applied: string[];
}

/** The one line for wrangler's output of `d1 migrations apply` (names from its first table: those it was to apply). */
export function migrationSummary(output: string): { line: string; applied: string[] } {
  const text = plain(output);
  if (/No migrations to apply/.test(text)) return { line: '[switchyard] local D1: no new migrations', applied: [] };
  const start = text.indexOf('Migrations to be applied');
  const table = start === -1 ? text : text.slice(start);
  const applied: string[] = [];
  for (const m of table.matchAll(/│\s*([^\s│]+\.sql)\s*│/g)) {
    if (applied.includes(m[1]!)) break;
    applied.push(m[1]!);
  }
  const names = applied.length <= 2 ? applied.join(', ') : `${applied[0]} … ${applied.at(-1)}`;
  return {
    line: `[switchyard] local D1: applied ${applied.length} migration${applied.length === 1 ? '' : 's'} (${names})`,
    applied,
  };
}

/** The project's own migrations (wrangler's `d1 migrations apply`), after the runtime's (`applyRuntimeMigrations`). */
export async function applyLocalMigrations(
  cwd: string,
  migrationArgs: string[],
  database = 'DB',
): Promise<MigrationResult> {
  const { code, output } = await captureWrangler(['d1', 'migrations', 'apply', database, '--local', ...migrationArgs], {
    cwd,
    env: { ...process.env, CI: 'true' },
  });
  if (code !== 0)
    return { ok: false, message: `[switchyard] local D1 migrations failed:\n${output.trimEnd()}`, applied: [] };
  const { line, applied } = migrationSummary(output);
  return { ok: true, message: line, applied };
}

/** The runtime's own tables (runtime/migrations/d1, tracked in `switchyard_migrations`) in the local database. */
export async function applyRuntimeMigrations(
  cwd: string,
  migrationArgs: string[],
): Promise<MigrationResult & { changed: boolean }> {
  const result = await migrateD1({ cwd, database: 'DB', args: ['--local', ...migrationArgs] });
  const applied = result.plan?.toRun.map((m) => m.name) ?? [];
  return {
    ok: result.ok,
    message: result.message,
    applied,
    changed: applied.length + (result.plan?.adopted.length ?? 0) > 0,
  };
}
