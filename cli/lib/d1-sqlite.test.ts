/** Fresh databases from a migrations folder, as `switchyard test` opens one per case. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migratedD1 } from './d1-sqlite.ts';

const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
};
const allTables = async (d1: ReturnType<typeof migratedD1>) =>
  (
    await d1
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all<{ name: string }>()
  ).results.map((r) => r.name);
/** The project's tables: every database has the runtime's (runtime/migrations/d1) under them. */
const runtimeTables = allTables(migratedD1(folder({})));
const tables = async (d1: ReturnType<typeof migratedD1>) => {
  const runtime = new Set(await runtimeTables);
  return (await allTables(d1)).filter((name) => !runtime.has(name));
};

describe('migratedD1', () => {
  it("applies the runtime's migrations under the project's", async () => {
    expect(await runtimeTables).toEqual(expect.arrayContaining(['events', 'effects', 'dead_letters']));
  });

  it('gives each call its own database: what one case writes, the next never sees', async () => {
    const dir = folder({
      '0001_orders.sql':
        "CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT);\nINSERT INTO orders VALUES ('seeded', 'open');",
    });
    const first = migratedD1(dir);
    await first.prepare('INSERT INTO orders VALUES (?1, ?2)').bind('o_1', 'paid').run();
    const second = migratedD1(dir);
    expect((await second.prepare('SELECT id FROM orders ORDER BY id').all<{ id: string }>()).results).toEqual([
      { id: 'seeded' },
    ]);
    await second.prepare('DELETE FROM orders').run();
    expect((await first.prepare('SELECT id FROM orders ORDER BY id').all<{ id: string }>()).results).toEqual([
      { id: 'o_1' },
      { id: 'seeded' },
    ]);
    expect(await migratedD1(dir).prepare('SELECT count(*) AS n FROM orders').first()).toEqual({ n: 1 });
    first.close();
    second.close();
  });

  it('applies a migration added or edited since the last call, in name order', async () => {
    const dir = folder({ '0001_orders.sql': 'CREATE TABLE orders (id TEXT PRIMARY KEY);' });
    expect(await tables(migratedD1(dir))).toEqual(['orders']);
    writeFileSync(
      join(dir, '0002_refunds.sql'),
      'CREATE TABLE refunds (id TEXT PRIMARY KEY, order_id TEXT REFERENCES orders (id));',
    );
    expect(await tables(migratedD1(dir))).toEqual(['orders', 'refunds']);
    writeFileSync(join(dir, '0001_orders.sql'), 'CREATE TABLE orders (id TEXT PRIMARY KEY, total INTEGER);');
    const d1 = migratedD1(dir);
    expect(
      (
        await d1.prepare("SELECT name FROM pragma_table_info('orders') ORDER BY cid").all<{ name: string }>()
      ).results.map((c) => c.name),
    ).toEqual(['id', 'total']);
  });

  it('names the migration that fails, every time', () => {
    const dir = folder({ '0001_ok.sql': 'CREATE TABLE a (id TEXT);', '0002_bad.sql': 'CREATE TABLE b (id TEXT' });
    expect(() => migratedD1(dir)).toThrow(/^migration 0002_bad\.sql failed: /);
    expect(() => migratedD1(dir)).toThrow(/^migration 0002_bad\.sql failed: /);
  });
});
