/**
 * Run as a child process by postgres-check.ts (validate is synchronous, drivers are not): reads
 * `{ jobs: [{ migrations: dir, statements: [sql] }] }` on stdin, applies each job's migrations in a throwaway schema
 * inside a transaction that is rolled back, PREPAREs every statement there, and prints
 * `{ engine, errors: [[{ message, at } | null]] }`. Against the Postgres at SWITCHYARD_PG_URL when it answers, else against
 * PGlite (Postgres compiled to WebAssembly, shipped in its npm package): the same parser and planner, offline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPGlite } from './pglite.ts';

interface Job {
  migrations: string;
  statements: string[];
}

/** The two engines behind one small interface: run SQL, and run one statement with parameters. */
interface Engine {
  name: string;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

const errorText = (error: unknown) => (error as { message?: string }).message ?? String(error);
/** Where in the statement the error is (Postgres counts from 1, here past the PREPARE prefix), if it says. */
const positionOf = (error: unknown, prefix: number) => {
  const n = Number((error as { position?: string }).position);
  return Number.isInteger(n) && n > prefix ? n - prefix - 1 : null;
};

interface Failure {
  message: string;
  /** 0-based offset into the statement. */
  at: number | null;
}

async function realPostgres(url: string): Promise<Engine | undefined> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  return {
    name: `PostgreSQL ${version} (SWITCHYARD_PG_URL)`,
    exec: async (sql) => void (await client.query(sql)),
    close: () => client.end(),
  };
}

async function pglite(): Promise<Engine> {
  // From the initialized data directory `switchyard test` keeps (pglite.ts): initdb ran on every validate before,
  // 6 to 10 s of a Postgres manifest's 10 s validate on a 2-core machine.
  const db = await startPGlite();
  return {
    name: 'PGlite (offline; set SWITCHYARD_PG_URL to check against your Postgres)',
    exec: async (sql) => void (await db.exec(sql)),
    close: () => db.close(),
  };
}

async function main() {
  const input = JSON.parse(readFileSync(0, 'utf8')) as { jobs: Job[] };
  const url = process.env.SWITCHYARD_PG_URL;
  const engine = (url ? await realPostgres(url) : undefined) ?? (await pglite());
  const errors: (Failure | null)[][] = [];
  try {
    for (const job of input.jobs) {
      // A throwaway schema first on the search path: migrations create their tables there, and ROLLBACK drops it all.
      await engine.exec('BEGIN');
      try {
        await engine.exec('CREATE SCHEMA switchyard_validate; SET LOCAL search_path TO switchyard_validate, public');
        for (const file of readdirSync(job.migrations)
          .filter((f) => f.endsWith('.sql'))
          .sort()) {
          try {
            await engine.exec(readFileSync(join(job.migrations, file), 'utf8'));
          } catch (error) {
            throw new Error(`migration ${file} failed: ${errorText(error)}`);
          }
        }
        const results: (Failure | null)[] = [];
        for (const [i, sql] of job.statements.entries()) {
          await engine.exec('SAVEPOINT s');
          const prefix = `PREPARE switchyard_check_${i} AS `;
          try {
            await engine.exec(prefix + sql);
            await engine.exec(`DEALLOCATE switchyard_check_${i}`);
            results.push(null);
          } catch (error) {
            await engine.exec('ROLLBACK TO SAVEPOINT s');
            results.push({ message: errorText(error), at: positionOf(error, prefix.length) });
          }
        }
        errors.push(results);
      } catch (error) {
        errors.push(job.statements.map(() => ({ message: (error as Error).message, at: null })));
      } finally {
        await engine.exec('ROLLBACK').catch(() => undefined);
      }
    }
  } finally {
    await engine.close().catch(() => undefined);
  }
  process.stdout.write(JSON.stringify({ engine: engine.name, errors }));
}

await main();
