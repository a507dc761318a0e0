/**
 * `switchyard migrate` against a D1 database through wrangler (`d1 execute`, local or remote): three calls at most,
 * whatever the number of migrations. It reads which tables exist, reads what was applied, then runs one script (the
 * plan of cli/lib/migrations.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  planMigrations,
  readMigrations,
  RUNTIME_D1_MIGRATIONS,
  stateQueries,
  TABLES_QUERY,
  migrationLine,
  type Migration,
  type MigrationPlan,
} from './migrations.ts';
import { captureWrangler } from './wrangler.ts';

export interface D1Target {
  /** The project folder (wrangler.toml). */
  cwd: string;
  /** The D1 binding. */
  database: string;
  /** `--local` or `--remote`, and what else wrangler must share with `dev`/`deploy` (`--env`, `--persist-to`, `--config`). */
  args: string[];
}

export interface MigrateResult {
  ok: boolean;
  message: string;
  plan?: MigrationPlan;
}

async function query(target: D1Target, sql: string): Promise<Record<string, unknown>[]> {
  const { code, output } = await captureWrangler(
    ['d1', 'execute', target.database, ...target.args, '--json', '--command', sql],
    { cwd: target.cwd, env: { ...process.env, CI: 'true' } },
  );
  const json = output.slice(output.indexOf('['));
  if (code !== 0) throw new Error(output.trimEnd());
  const results = JSON.parse(json.slice(0, json.lastIndexOf(']') + 1)) as { results?: Record<string, unknown>[] }[];
  return results.flatMap((r) => r.results ?? []);
}

/** Applies the runtime's pending D1 migrations (`migrations`: the package's, unless a test gives others). */
export async function migrateD1(
  target: D1Target,
  migrations: readonly Migration[] = readMigrations(RUNTIME_D1_MIGRATIONS),
): Promise<MigrateResult> {
  const where = target.args.includes('--remote') ? `D1 ${target.database} (remote)` : 'local D1';
  try {
    const tables = new Set((await query(target, TABLES_QUERY)).map((r) => String(r.name)));
    const reads = stateQueries(tables);
    const names = async (sql?: string) => new Set(sql ? (await query(target, sql)).map((r) => String(r.name)) : []);
    const plan = planMigrations(migrations, {
      tables,
      tracked: await names(reads.tracked),
      legacy: await names(reads.legacy),
    });
    if (!plan.toRun.length && !plan.adopted.length && tables.has('switchyard_migrations'))
      return { ok: true, message: migrationLine(where, plan), plan };
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-migrate-'));
    try {
      const file = join(dir, 'runtime.sql');
      writeFileSync(file, plan.script);
      const { code, output } = await captureWrangler(
        ['d1', 'execute', target.database, ...target.args, '--yes', '--file', file],
        { cwd: target.cwd, env: { ...process.env, CI: 'true' } },
      );
      if (code !== 0)
        return { ok: false, message: `[switchyard] ${where}: runtime migrations failed:\n${output.trimEnd()}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { ok: true, message: migrationLine(where, plan), plan };
  } catch (error) {
    return { ok: false, message: `[switchyard] ${where}: runtime migrations failed:\n${(error as Error).message}` };
  }
}
