/**
 * How D1 counts rows, measured: `meta.rows_written` and `meta.rows_read` of representative statements in workerd.
 * The budget model (cli/lib/budget.ts) encodes exactly these rules; this test documents them and fails when the
 * platform counts differently.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';

const db = () => env.DB;
const run = async (sql: string, ...params: unknown[]) => {
  const r = await db()
    .prepare(sql)
    .bind(...params)
    .run();
  return { written: r.meta.rows_written, read: r.meta.rows_read };
};

beforeAll(async () => {
  await db().batch(
    [
      'CREATE TABLE IF NOT EXISTS k0 (id TEXT PRIMARY KEY, a TEXT, b TEXT)',
      'CREATE TABLE IF NOT EXISTS k1 (id TEXT PRIMARY KEY, a TEXT, b TEXT)',
      'CREATE INDEX IF NOT EXISTS k1_a ON k1 (a)',
      'CREATE TABLE IF NOT EXISTS k2 (id TEXT PRIMARY KEY, a TEXT, b TEXT)',
      'CREATE INDEX IF NOT EXISTS k2_a ON k2 (a)',
      'CREATE INDEX IF NOT EXISTS k2_b ON k2 (b)',
      'CREATE TABLE IF NOT EXISTS wr (id TEXT PRIMARY KEY, a TEXT, b TEXT) WITHOUT ROWID',
      'CREATE TABLE IF NOT EXISTS wr1 (id TEXT PRIMARY KEY, a TEXT, b TEXT) WITHOUT ROWID',
      'CREATE INDEX IF NOT EXISTS wr1_a ON wr1 (a)',
      'CREATE TABLE IF NOT EXISTS ip (id INTEGER PRIMARY KEY, a TEXT)',
      'CREATE TABLE IF NOT EXISTS pt (id TEXT PRIMARY KEY, a TEXT, b TEXT)',
      'CREATE INDEX IF NOT EXISTS pt_a ON pt (a) WHERE a IS NOT NULL',
    ].map((s) => db().prepare(s)),
  );
});

describe('D1 counts rows written per table row and per index entry', () => {
  it('INSERT into a rowid table with a TEXT PRIMARY KEY writes 1 + 1 (the implicit PK index) + 1 per secondary index', async () => {
    expect(await run('INSERT INTO k0 (id, a, b) VALUES (?1, ?2, ?3)', 'x', 'a', 'b')).toEqual({ written: 2, read: 0 });
    expect(await run('INSERT INTO k1 (id, a, b) VALUES (?1, ?2, ?3)', 'x', 'a', 'b')).toEqual({ written: 3, read: 0 });
    expect(await run('INSERT INTO k2 (id, a, b) VALUES (?1, ?2, ?3)', 'x', 'a', 'b')).toEqual({ written: 4, read: 0 });
  });

  it('INSERT into an INTEGER PRIMARY KEY table (the rowid itself) writes 1, and reads 1 when the rowid is given (its existence check)', async () => {
    expect(await run('INSERT INTO ip (id, a) VALUES (?1, ?2)', 1, 'a')).toEqual({ written: 1, read: 1 });
    expect(await run('INSERT INTO ip (a) VALUES (?1)', 'a')).toEqual({ written: 1, read: 0 });
  });

  it('INSERT into a WITHOUT ROWID table writes 1 (the table is its PK index) + 1 per secondary index', async () => {
    expect(await run('INSERT INTO wr (id, a, b) VALUES (?1, ?2, ?3)', 'x', 'a', 'b')).toEqual({ written: 1, read: 0 });
    expect(await run('INSERT INTO wr1 (id, a, b) VALUES (?1, ?2, ?3)', 'x', 'a', 'b')).toEqual({ written: 2, read: 0 });
  });

  it('a partial index costs a row only when the row satisfies its WHERE', async () => {
    expect(await run('INSERT INTO pt (id, a, b) VALUES (?1, ?2, ?3)', 'with', 'a', 'b')).toEqual({
      written: 3,
      read: 0,
    });
    expect(await run('INSERT INTO pt (id, a, b) VALUES (?1, ?2, ?3)', 'without', null, 'b')).toEqual({
      written: 2,
      read: 0,
    });
  });

  it('an upsert that inserts costs an insert; one that updates reads the row and writes the row + changed index entries', async () => {
    const upsert =
      'INSERT INTO k1 (id, a, b) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET a = excluded.a, b = excluded.b';
    expect(await run(upsert, 'u', 'a', 'b')).toEqual({ written: 3, read: 0 });
    expect(await run(upsert, 'u', 'a2', 'b2')).toEqual({ written: 2, read: 1 });
    // DO UPDATE ... WHERE false: the row is read, nothing written.
    expect(await run(`${upsert} WHERE k1.a = 'never'`, 'u', 'a3', 'b3')).toEqual({ written: 0, read: 1 });
    // DO NOTHING on a conflict: nothing read, nothing written.
    expect(
      await run('INSERT INTO k1 (id, a, b) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING', 'u', 'a', 'b'),
    ).toEqual({ written: 0, read: 0 });
  });

  it('an UPDATE by key reads 1 row and writes 1, plus 1 per index whose columns it sets (the new entry; the old one is free)', async () => {
    await run('INSERT INTO k2 (id, a, b) VALUES (?1, ?2, ?3)', 'up', 'a', 'b');
    expect(await run('UPDATE k2 SET a = ?2 WHERE id = ?1', 'up', 'a2')).toEqual({ written: 2, read: 1 });
    expect(await run('UPDATE k2 SET a = ?2, b = ?3 WHERE id = ?1', 'up', 'a3', 'b3')).toEqual({ written: 3, read: 1 });
    await run('INSERT INTO k0 (id, a, b) VALUES (?1, ?2, ?3)', 'up', 'a', 'b');
    expect(await run('UPDATE k0 SET a = ?2 WHERE id = ?1', 'up', 'a2')).toEqual({ written: 1, read: 1 });
    // Setting an indexed column to the value it has still rewrites the entry.
    expect(await run('UPDATE k2 SET a = a WHERE id = ?1', 'up')).toEqual({ written: 2, read: 1 });
    // An UPDATE whose key matches nothing costs nothing.
    expect(await run('UPDATE k2 SET a = ?2 WHERE id = ?1', 'missing', 'a')).toEqual({ written: 0, read: 0 });
  });

  it('an UPDATE that scans reads every row it passes', async () => {
    const before = (await db().prepare('SELECT count(*) AS n FROM k0').first<{ n: number }>())!.n;
    expect(await run('UPDATE k0 SET a = ?2 WHERE b = ?1', 'nothing-matches', 'z')).toEqual({
      written: 0,
      read: before,
    });
  });

  it('a partial index entry costs a row when an UPDATE brings the row into it; leaving it is free (a removed entry is not counted)', async () => {
    expect(await run('UPDATE pt SET a = ?2 WHERE id = ?1', 'without', 'now')).toEqual({ written: 2, read: 1 });
    expect(await run('UPDATE pt SET a = NULL WHERE id = ?1', 'without')).toEqual({ written: 1, read: 1 });
    expect(await run('UPDATE pt SET b = ?2 WHERE id = ?1', 'without', 'bb')).toEqual({ written: 1, read: 1 });
  });

  it('a DELETE by key reads 1 and writes 1: removed index entries are not counted', async () => {
    await run('INSERT INTO k2 (id, a, b) VALUES (?1, ?2, ?3)', 'del', 'a', 'b');
    expect(await run('DELETE FROM k2 WHERE id = ?1', 'del')).toEqual({ written: 1, read: 1 });
    await run('INSERT INTO wr (id, a, b) VALUES (?1, ?2, ?3)', 'del', 'a', 'b');
    expect(await run('DELETE FROM wr WHERE id = ?1', 'del')).toEqual({ written: 1, read: 1 });
  });

  it('a SELECT by key reads the rows it returns (0 on a miss); RETURNING reads each returned row once more', async () => {
    expect(await run('SELECT * FROM k2 WHERE id = ?1', 'up')).toEqual({ written: 0, read: 1 });
    expect(await run('SELECT * FROM k2 WHERE id = ?1', 'missing')).toEqual({ written: 0, read: 0 });
    expect(await run('INSERT INTO k0 (id, a, b) VALUES (?1, ?2, ?3) RETURNING id', 'ret', 'a', 'b')).toEqual({
      written: 2,
      read: 1,
    });
  });
});
