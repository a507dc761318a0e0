/**
 * The runtime's tables in a Postgres store (runtime/migrations/postgres), recorded in that database's own
 * `switchyard_migrations` table, one transaction per migration. The client is anything with `query(sql)`: node-postgres
 * for `switchyard migrate --postgres URL`, PGlite in tests.
 */
import { readMigrations, RUNTIME_POSTGRES_MIGRATIONS, TRACKING_TABLE, type Migration } from './migrations.ts';

export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Applies the pending migrations; returns their names. */
export async function migratePostgres(
  client: SqlClient,
  migrations: readonly Migration[] = readMigrations(RUNTIME_POSTGRES_MIGRATIONS),
): Promise<string[]> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), how text NOT NULL)`,
  );
  const done = new Set((await client.query(`SELECT name FROM ${TRACKING_TABLE}`)).rows.map((r) => String(r.name)));
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.name)) continue;
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query(`INSERT INTO ${TRACKING_TABLE} (name, how) VALUES ($1, 'ran')`, [m.name]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw new Error(`${m.name}: ${(error as Error).message}`);
    }
    applied.push(m.name);
  }
  return applied;
}

/** `switchyard migrate --postgres URL`. */
export async function migratePostgresUrl(url: string): Promise<{ ok: boolean; message: string }> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const applied = await migratePostgres(client);
    return {
      ok: true,
      message: `[switchyard] Postgres: runtime tables ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`,
    };
  } catch (error) {
    return { ok: false, message: `[switchyard] Postgres: runtime migrations failed: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => {});
  }
}
