import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import {
  planMigrations,
  readMigrations,
  RUNTIME_D1_MIGRATIONS,
  stateQueries,
  TABLES_QUERY,
  type Migration,
} from '../../cli/lib/migrations.ts';
import { migratePostgres } from '../../cli/lib/migrate-postgres.ts';
import { ROOT } from '../support/project.ts';

const runtime = readMigrations(RUNTIME_D1_MIGRATIONS);
const cookbook = readMigrations(join(ROOT, 'migrations'));

/**
 * The single migrations/ folder this repository had before the split (0001..0022, runtime and cookbook tables
 * together): the same files under the same names, 0003 whole again. Applied the way wrangler does, with d1_migrations.
 */
function oldLayoutDatabase(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec(
    'CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)',
  );
  const names = [...new Set([...runtime, ...cookbook].map((m) => m.name))].sort();
  for (const name of names) {
    db.exec(
      [...runtime, ...cookbook]
        .filter((m) => m.name === name)
        .map((m) => m.sql)
        .join('\n'),
    );
    db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').run(name);
  }
  return db;
}

/** What `switchyard migrate` does, against node:sqlite: read the state, plan, run the one script. */
function migrate(db: DatabaseSync, migrations: readonly Migration[] = runtime) {
  const tables = new Set(
    db
      .prepare(TABLES_QUERY)
      .all()
      .map((r) => String(r.name)),
  );
  const reads = stateQueries(tables);
  const names = (sql?: string) =>
    new Set(
      sql
        ? db
            .prepare(sql)
            .all()
            .map((r) => String(r.name))
        : [],
    );
  const plan = planMigrations(migrations, { tables, tracked: names(reads.tracked), legacy: names(reads.legacy) });
  db.exec(plan.script);
  return plan;
}

/** The project's migrations the way wrangler applies them: those d1_migrations does not list. */
function wranglerApply(db: DatabaseSync): string[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)',
  );
  const done = new Set(
    db
      .prepare('SELECT name FROM d1_migrations')
      .all()
      .map((r) => String(r.name)),
  );
  const applied = cookbook.filter((m) => !done.has(m.name));
  for (const m of applied) {
    db.exec(m.sql);
    db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').run(m.name);
  }
  return applied.map((m) => m.name);
}

const schema = (db: DatabaseSync) =>
  db
    .prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE tbl_name NOT IN ('d1_migrations', 'switchyard_migrations', 'sqlite_sequence') ORDER BY type, name",
    )
    .all();

function fill(db: DatabaseSync) {
  const at = '2026-12-01T00:00:00.000Z';
  db.prepare(
    "INSERT INTO events (integration, id, type, status, received_at, updated_at, body) VALUES ('stripe', 'evt_1', 'invoice.payment_failed', 'applied', ?, ?, '{}')",
  ).run(at, at);
  db.prepare(
    "INSERT INTO effects (integration, event_id, step, action, source, payload, status, created_at, updated_at) VALUES ('stripe', 'evt_1', '0:0', 'resend', 'x', '{}', 'retrying', ?, ?)",
  ).run(at, at);
  db.prepare(
    "INSERT INTO dead_letters (integration, stage, event_id, reason, first_failed_at, last_failed_at) VALUES ('stripe', 'effect', 'evt_1', 'max_attempts', ?, ?)",
  ).run(at, at);
}
const rows = (db: DatabaseSync) =>
  ['events', 'effects', 'dead_letters'].map((t) => db.prepare(`SELECT * FROM ${t}`).all());

describe('runtime migrations', () => {
  it('a new database gets the runtime tables first, then the project’s, and the same schema the single folder built', () => {
    const db = new DatabaseSync(':memory:');
    const plan = migrate(db);
    expect(plan.toRun.map((m) => m.name)).toEqual(runtime.map((m) => m.name));
    expect(plan.adopted).toEqual([]);
    expect(wranglerApply(db)).toEqual(['0001_contract_tables.sql', '0003_consumer.sql']);
    expect(schema(db)).toEqual(schema(oldLayoutDatabase()));
    expect(migrate(db).toRun).toEqual([]);
  });

  it('a database built by the old single migrations/ folder is recognised: nothing runs twice, no row is lost', () => {
    const db = oldLayoutDatabase();
    fill(db);
    const before = rows(db);
    const plan = migrate(db);
    expect(plan.adopted).toEqual(runtime.map((m) => m.name));
    expect(plan.toRun).toEqual([]);
    expect(wranglerApply(db)).toEqual([]);
    expect(rows(db)).toEqual(before);
    expect(db.prepare("SELECT count(*) AS n FROM switchyard_migrations WHERE how = 'recognised'").get()).toEqual({
      n: runtime.length,
    });
  });

  it('an upgrade that adds a runtime migration applies it once, keeping every event, effect and dead letter', () => {
    const db = oldLayoutDatabase();
    fill(db);
    migrate(db);
    const before = rows(db);
    const next = [
      ...runtime,
      {
        name: '0099_upgrade_probe.sql',
        sql: 'ALTER TABLE events ADD COLUMN probe TEXT;\nCREATE INDEX events_by_probe ON events (probe);',
      },
    ];
    expect(migrate(db, next).toRun.map((m) => m.name)).toEqual(['0099_upgrade_probe.sql']);
    expect(migrate(db, next).toRun).toEqual([]);
    expect(rows(db)).toEqual(before.map((table, i) => (i === 0 ? table.map((r) => ({ ...r, probe: null })) : table)));
  });

  it("the project's migrations/ touch none of the runtime's tables (a runtime migration goes in runtime/migrations/d1)", () => {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    const runtimeTables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => String(r.name));
    for (const m of cookbook) {
      const sql = m.sql.replace(/--.*$/gm, '');
      for (const table of runtimeTables)
        expect(sql, `${m.name} names the runtime's table ${table}`).not.toMatch(new RegExp(`\\b${table}\\b`, 'i'));
    }
  });

  it('a Postgres store gets the runtime table once, recorded in its own switchyard_migrations', async () => {
    const pg = new PGlite();
    expect(await migratePostgres(pg)).toEqual(['0001_switchyard_applied.sql']);
    expect(await migratePostgres(pg)).toEqual([]);
    await pg.query("INSERT INTO switchyard_applied (integration, id) VALUES ('stripe', 'evt_1')");
    expect((await pg.query('SELECT name, how FROM switchyard_migrations')).rows).toEqual([
      { name: '0001_switchyard_applied.sql', how: 'ran' },
    ]);
    await pg.close();
  }, 60_000);
});
