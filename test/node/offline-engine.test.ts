/** The pieces of switchyard test's offline engine that differ from a plain node:sqlite: D1's rules, and scrubbing. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migratedD1, SqliteD1 } from '../../cli/lib/d1-sqlite.ts';
import { Scrubber } from '../../cli/lib/manifest-tests/scrub.ts';
import { ROOT } from '../support/project.ts';

describe('the D1 shim over node:sqlite', () => {
  it('binds whole numbers as integers and booleans as 0/1, as D1 does (node:sqlite alone binds 1 as 1.0)', async () => {
    const d1 = new SqliteD1();
    await d1.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n TEXT, flag INTEGER)');
    await d1.prepare('INSERT INTO t VALUES (?1, ?2, ?3)').bind('a', 1, true).run();
    expect(await d1.prepare('SELECT n, typeof(n) AS t, flag FROM t').first()).toEqual({ n: '1', t: 'text', flag: 1 });
    expect(() => d1.prepare('SELECT ?1').bind(undefined)).toThrow(/D1_TYPE_ERROR/);
  });

  it('runs a batch as one transaction: a failing statement rolls back the ones before it', async () => {
    const d1 = new SqliteD1();
    await d1.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
    const insert = (id: string) => d1.prepare('INSERT INTO t (id) VALUES (?1)').bind(id);
    await expect(d1.batch([insert('a'), insert('b'), insert('a')])).rejects.toThrow(/UNIQUE constraint failed: t\.id/);
    expect((await d1.prepare('SELECT COUNT(*) AS n FROM t').first<{ n: number }>())!.n).toBe(0);
    const [result] = await d1.batch([insert('c')]);
    expect(result!.meta).toMatchObject({ changes: 1, rows_written: 1 });
  });

  it("builds the schema from the project's migrations, triggers included", async () => {
    const d1 = migratedD1(join(ROOT, 'migrations'));
    const tables = (
      await d1.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all<{ name: string }>()
    ).results.map((r) => r.name);
    expect(tables).toContain('events_apply_once');
    d1.close();
  });
});

describe('the capture scrubber', () => {
  it('replaces e-mails, phone numbers and names deterministically, and declared keys and paths', () => {
    const s = new Scrubber({ keys: ['address'], paths: ['data.note'] });
    const out = s.scrub({
      data: {
        email: 'Ada@Lovelace.org',
        cc: 'ada@lovelace.org',
        first_name: 'Ada',
        phone: '+44 20 7946 0958',
        note: 'call me',
        address: { line1: '1 Road' },
        amount: 1900,
        created: 1767225600,
      },
      To: '+15555550100',
      text: 'write to grace@hopper.dev please',
    });
    expect(out).toEqual({
      data: {
        email: 'person1@example.com',
        cc: 'person1@example.com',
        first_name: 'Person1',
        phone: '+15550000001',
        note: 'scrubbed-1',
        address: { line1: 'scrubbed-2' },
        amount: 1900,
        created: 1767225600,
      },
      To: '+15550000002',
      text: 'write to person2@example.com please',
    });
  });
});
