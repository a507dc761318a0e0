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
 * The database each set of migrations makes, as an image, by the migrations' names and text: another database from
 * the same migrations loads it (about 0.1 ms) instead of running every migration again (tens of ms); an added or
 * edited migration is another key. Without node:sqlite's serialize (before Node 24) each one runs the migrations.
 */
const images = new Map<string, Uint8Array>();

/**
 * A fresh in-memory database with the runtime's migrations, then every `*.sql` file of the project's migrations
 * folder, applied in order (what `dev` and `switchyard migrate` do).
 */
export function migratedDatabase(migrationsDir: string): DatabaseSync {
  const migrations = schemaMigrations(migrationsDir);
  const key = migrations.map((m) => `${m.file}\n${m.sql}`).join('\n\0');
  const db = new DatabaseSync(':memory:');
  const image = images.get(key);
  if (image) {
    db.deserialize(image);
    return db;
  }
  for (const { file, sql } of migrations) {
    try {
      db.exec(sql);
    } catch (error) {
      db.close();
      throw new Error(`migration ${file} failed: ${(error as Error).message}`);
    }
  }
  if (typeof db.serialize === 'function') images.set(key, db.serialize());
  return db;
}

/** The migrated schema (migratedDatabase), for preparing statements and reading its plans. */
export function migratedSchema(migrationsDir: string): MigratedSchema {
  const db = migratedDatabase(migrationsDir);
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
