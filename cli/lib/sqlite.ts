/**
 * The database the migrations describe, built in memory with Node's built-in `node:sqlite` (no native addon),
 * so every manifest statement can be prepared against the real schema before deploy.
 */
import { DatabaseSync } from 'node:sqlite';
import { schemaMigrations } from './migrations.ts';

export interface MigratedSchema {
  /** undefined when the statement prepares; the SQLite error otherwise. */
  prepare(sql: string): string | undefined;
  /** Runs a read-only statement (PRAGMA, EXPLAIN QUERY PLAN, sqlite_schema) and returns its rows. */
  query(sql: string): Record<string, unknown>[];
  close(): void;
}

/**
 * Applies the runtime's migrations, then every `*.sql` file in the project's migrations folder, in name order, to an
 * empty in-memory database.
 */
export function migratedSchema(migrationsDir: string): MigratedSchema {
  const db = new DatabaseSync(':memory:');
  for (const { file, sql } of schemaMigrations(migrationsDir)) {
    try {
      db.exec(sql);
    } catch (error) {
      db.close();
      throw new Error(`migration ${file} failed: ${(error as Error).message}`);
    }
  }
  return {
    prepare(sql) {
      try {
        db.prepare(sql);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
    query: (sql) => db.prepare(sql).all() as Record<string, unknown>[],
    close: () => db.close(),
  };
}
