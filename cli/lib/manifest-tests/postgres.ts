/**
 * The manifest's `postgres` stores for `switchyard test` and `plan --replay`: per case, a fresh schema per store with
 * the store's own migrations applied, reached by the Worker's own Postgres code (runtime/store/postgres.ts).
 * - With SWITCHYARD_PG_URL answering: that Postgres. The store's binding gets a connection string whose `options`
 *   put the case's schema first on the search path, so the runtime connects with pg (connectPg) exactly as in the
 *   Worker.
 * - Otherwise PGlite (Postgres compiled to WebAssembly) in this process, one instance per run: the runtime is handed
 *   `connectPostgres`, which opens the same pg client (openPg) over PGlite's pg connection instead of a
 *   socket: the same driver, pipelining, parameters and type parsing. Offline, no server.
 * Schemas are dropped when their case ends.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startPGlite } from '../pglite.ts';
import type { Manifest } from '../../../runtime/manifest/types.gen.ts';
import type pg from 'pg';
import { connectPg, openPg } from '../../../adapters/stores/pg.ts';
import type { PostgresConnect } from '../../../runtime/store/postgres.ts';
import type { ExternalStore, Row } from './run.ts';

/** One case's Postgres stores, by store name, and how the runtime reaches them. */
export interface CaseStores {
  stores: Record<string, ExternalStore>;
  /** The driver handed to the runtime: pg by connection string, or pg over PGlite's connection. */
  connect: PostgresConnect;
  close(): Promise<void>;
}

export interface PostgresStores {
  /** Which Postgres ran the cases (known after the first case). */
  engine(): string | undefined;
  open(): Promise<CaseStores>;
  close(): Promise<void>;
}

/** The engine behind the stores: one session for setting up, seeding and reading. */
interface Engine {
  name: string;
  /** Runs SQL text (several statements; migrations) with `schema` first on the search path. */
  exec(schema: string, sql: string): Promise<void>;
  query(schema: string, sql: string, params?: unknown[]): Promise<Row[]>;
  /** The binding value the Worker would see for a store living in `schema`. */
  binding(schema: string): { connectionString: string };
  connect: PostgresConnect;
  close(): Promise<void>;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Values as a case compares them: times as ISO strings (as the D1 projections store them), whole bigints as numbers. */
function plain(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] =
      v instanceof Date ? v.toISOString() : typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
  }
  return out;
}

/** A pg client's session for setting up, seeding and reading, as both engines share it. */
function session(
  client: pg.Client,
  name: string,
  binding: Engine['binding'],
  close: () => Promise<void>,
  connect: PostgresConnect,
): Engine {
  const at = (schema: string) => client.query(`SET search_path TO ${quote(schema)}`);
  return {
    name,
    exec: async (schema, sql) => {
      await at(schema);
      await client.query(sql);
    },
    query: async (schema, sql, params) => {
      await at(schema);
      return (await client.query(sql, params as unknown[])).rows.map(plain);
    },
    binding,
    connect,
    close,
  };
}

async function realPostgres(url: string): Promise<Engine | undefined> {
  const { default: driver } = await import('pg');
  const admin = new driver.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  // The Worker's pg connects with the binding's connection string: its `options` put the case's schema first.
  const binding = (schema: string) => {
    const u = new URL(url);
    u.searchParams.set('options', `-c search_path=${schema}`);
    return { connectionString: u.toString() };
  };
  return session(admin, `PostgreSQL ${version} (SWITCHYARD_PG_URL)`, binding, () => admin.end(), connectPg);
}

const PGLITE_URL = 'postgres://pglite/';

async function pglite(): Promise<Engine> {
  const [{ createPgConfig }, { default: driver }] = await Promise.all([
    import('@electric-sql/pglite/node-postgres'),
    import('pg'),
  ]);
  const db = await startPGlite();
  const admin = new driver.Client({ connection: createPgConfig(db).connection } as pg.ClientConfig);
  await admin.connect();
  // PGlite is one session: cases run one at a time and the runtime ends each client before it opens the next, so
  // the search path set here is the one the runtime's client sees. The client is pg itself (openPg, pipelined)
  // over PGlite's pg connection instead of a socket.
  const connect: PostgresConnect = async (binding) => {
    if (!binding.connectionString.startsWith(PGLITE_URL))
      throw new Error(`switchyard test: ${binding.connectionString} is not a store of this run`);
    await admin.query(
      `SET search_path TO ${quote(decodeURIComponent(binding.connectionString.slice(PGLITE_URL.length)))}`,
    );
    return openPg(binding, { connection: createPgConfig(db).connection });
  };
  const binding = (schema: string) => ({ connectionString: `${PGLITE_URL}${encodeURIComponent(schema)}` });
  return session(
    admin,
    'PGlite (offline; set SWITCHYARD_PG_URL to run against your Postgres)',
    binding,
    async () => {
      await admin.end().catch(() => undefined);
      await db.close();
    },
    connect,
  );
}

/** The manifest's postgres stores with their migrations (read once), or undefined when it has none. */
export function postgresStores(
  manifest: Manifest,
  manifestDir: string,
  url = process.env.SWITCHYARD_PG_URL,
): PostgresStores | undefined {
  const specs = Object.entries(
    (manifest.stores ?? {}) as Record<string, { type: string; binding: string; migrations?: string }>,
  ).filter(([, s]) => s.type === 'postgres');
  if (!specs.length) return undefined;
  const stores = specs.map(([name, s]) => {
    const dir = resolve(manifestDir, s.migrations ?? '');
    const migrations = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => ({ file: f, sql: readFileSync(resolve(dir, f), 'utf8') }));
    return { name, binding: s.binding, migrations };
  });
  let started: Promise<Engine> | undefined;
  let engine: Engine | undefined;
  const run = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  let cases = 0;
  return {
    engine: () => engine?.name,
    async open() {
      started ??= (async () => {
        engine = url ? await realPostgres(url) : undefined;
        if (!engine) {
          engine = await pglite();
          if (url) engine.name = `PGlite (offline: SWITCHYARD_PG_URL did not answer)`;
        }
        return engine;
      })();
      const e = await started;
      const n = ++cases;
      const schemas: string[] = [];
      const out: Record<string, ExternalStore> = {};
      try {
        for (const store of stores) {
          const schema = `switchyard_test_${run}_${n}_${store.name}`.toLowerCase();
          await e.exec('public', `CREATE SCHEMA ${quote(schema)}`);
          schemas.push(schema);
          for (const m of store.migrations) {
            try {
              await e.exec(schema, m.sql);
            } catch (error) {
              throw new Error(
                `store ${store.name}: migration ${m.file} failed in ${e.name}: ${(error as Error).message}`,
              );
            }
          }
          out[store.name] = {
            binding: store.binding,
            value: e.binding(schema),
            query: (sql, params) => e.query(schema, sql, params),
          };
        }
      } catch (error) {
        for (const s of schemas)
          await e.exec('public', `DROP SCHEMA IF EXISTS ${quote(s)} CASCADE`).catch(() => undefined);
        throw error;
      }
      return {
        stores: out,
        connect: e.connect,
        close: async () => {
          for (const s of schemas)
            await e.exec('public', `DROP SCHEMA IF EXISTS ${quote(s)} CASCADE`).catch(() => undefined);
        },
      };
    },
    async close() {
      if (started) await (await started).close().catch(() => undefined);
    },
  };
}
