/**
 * A D1 database over Node's built-in `node:sqlite`, for `switchyard test` and `plan --replay`: the runtime's own
 * statements run unchanged against the schema `migrations/` builds. It follows D1 where the two differ:
 * - `batch()` is one transaction (all or nothing), as D1's is;
 * - a whole number binds as INTEGER (node:sqlite binds every number as REAL, so `1` would land in a TEXT column as
 *   `'1.0'`), a boolean as 0/1, `undefined` is refused as D1 refuses it;
 * - results are plain objects, and every result has D1's `meta` (`changes`, `last_row_id`, `rows_read`,
 *   `rows_written`, `duration`).
 * `rows_written` counts the rows a statement changed and `rows_read` the rows it returned: a floor of D1's figures,
 * which also count index entries and rows scanned (`switchyard plan --budget` prices those exactly).
 * The agreement test (test/worker/manifest-tests.test.ts) runs the same cases on real D1, so the two cannot drift.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { migratedDatabase } from './sqlite.ts';

type Row = Record<string, unknown>;
type SqlValue = null | number | bigint | string | Uint8Array;

interface Meta {
  changes: number;
  last_row_id: number;
  rows_read: number;
  rows_written: number;
  duration: number;
  changed_db: boolean;
  size_after: number;
  served_by: string;
}

interface Result<T = Row> {
  results: T[];
  success: true;
  meta: Meta;
}

/** D1's conversions of bound values. */
function toSql(value: unknown, index: number): SqlValue {
  if (value === undefined)
    throw new Error(`D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined' (parameter ${index + 1})`);
  if (value === null || typeof value === 'string' || typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new Error(`D1_TYPE_ERROR: Type '${typeof value}' not supported for value '${String(value)}'`);
}

/** D1 returns BLOBs as arrays of bytes and plain objects. */
const plain = (row: Row): Row => {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Uint8Array ? [...v] : v;
  return out;
};

class Statement {
  readonly sql: string;
  readonly params: SqlValue[];
  private readonly owner: SqliteD1;
  constructor(owner: SqliteD1, sql: string, params: SqlValue[] = []) {
    this.owner = owner;
    this.sql = sql;
    this.params = params;
  }
  bind(...values: unknown[]): Statement {
    return new Statement(this.owner, this.sql, values.map(toSql));
  }
  async first<T = Row>(column?: string): Promise<T | null> {
    const row = this.execute().results[0];
    if (!row) return null;
    if (column === undefined) return row as T;
    if (!(column in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
    return row[column] as T;
  }
  async all<T = Row>(): Promise<Result<T>> {
    return this.execute() as Result<T>;
  }
  async run<T = Row>(): Promise<Result<T>> {
    return this.execute() as Result<T>;
  }
  async raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    const { results } = this.execute();
    const rows = results.map((r) => Object.values(r)) as T[];
    return options?.columnNames ? [Object.keys(results[0] ?? {}) as T, ...rows] : rows;
  }
  /** Runs now (inside a batch's transaction, or alone in its own). */
  execute(): Result {
    return this.owner.execute(this);
  }
}

/** A D1Database backed by one node:sqlite database. */
export class SqliteD1 {
  readonly db: DatabaseSync;
  private cache = new Map<string, StatementSync>();
  constructor(db: DatabaseSync = new DatabaseSync(':memory:')) {
    this.db = db;
  }

  prepare(sql: string): Statement {
    return new Statement(this, sql);
  }

  async batch(statements: Statement[]): Promise<Result[]> {
    this.db.exec('BEGIN');
    try {
      const results = statements.map((s) => s.execute());
      this.db.exec('COMMIT');
      return results;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async exec(sql: string): Promise<{ count: number; duration: number }> {
    this.db.exec(sql);
    return { count: sql.split(';').filter((s) => s.trim()).length, duration: 0 };
  }

  withSession(): this {
    return this;
  }

  async dump(): Promise<ArrayBuffer> {
    throw new Error('dump is not supported offline');
  }

  /** @internal */
  execute(statement: Statement): Result {
    let prepared = this.cache.get(statement.sql);
    if (!prepared) {
      try {
        prepared = this.db.prepare(statement.sql);
      } catch (error) {
        throw new Error(`D1_ERROR: ${(error as Error).message}: SQLITE_ERROR`);
      }
      this.cache.set(statement.sql, prepared);
    }
    const before = this.totalChanges();
    let rows: Row[];
    try {
      rows = (prepared.all(...statement.params) as Row[]).map(plain);
    } catch (error) {
      const message = (error as Error).message;
      throw new Error(`D1_ERROR: ${message}${/constraint/i.test(message) ? ': SQLITE_CONSTRAINT' : ''}`);
    }
    const changes = this.totalChanges() - before;
    const last = changes
      ? Number((this.lastRowId ??= this.db.prepare('SELECT last_insert_rowid() AS id')).get()!.id)
      : 0;
    return {
      results: rows,
      success: true,
      meta: {
        changes,
        last_row_id: last,
        rows_read: rows.length,
        rows_written: changes,
        duration: 0,
        changed_db: changes > 0,
        size_after: 0,
        served_by: 'switchyard-offline',
      },
    };
  }

  private changesStatement?: StatementSync;
  private lastRowId?: StatementSync;
  private totalChanges(): number {
    return Number((this.changesStatement ??= this.db.prepare('SELECT total_changes() AS n')).get()!.n);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * A fresh in-memory database with the runtime's migrations and the project's applied, in order (what `dev` does);
 * from an image of the migrated schema after the first (cli/lib/sqlite.ts).
 */
export function migratedD1(migrationsDir: string): SqliteD1 {
  return new SqliteD1(migratedDatabase(migrationsDir));
}

/** The same database typed as the Workers binding the runtime expects. */
export const asD1 = (d1: SqliteD1) => d1 as unknown as D1Database;
