/**
 * PGlite (Postgres compiled to WebAssembly) started for the CLI: `switchyard test`'s Postgres stores and `validate`'s
 * PREPARE check (postgres-prepare.ts) both start one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A fresh PGlite. Its first start runs initdb (2-3 s here); the initialized data directory is then kept beside the
 * PGlite it belongs to, in `node_modules/.cache/switchyard/` (4.5 MB gzipped, keyed by the PGlite build), and
 * later runs of any project load it instead (about 1 s).
 */
export async function startPGlite(): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dataFile = fileURLToPath(import.meta.resolve('@electric-sql/pglite/pglite.data'));
  const data = statSync(dataFile);
  const modules = dataFile.lastIndexOf(`${sep}node_modules${sep}`);
  const cacheDir = modules < 0 ? undefined : join(dataFile.slice(0, modules), 'node_modules', '.cache', 'switchyard');
  const cache = cacheDir && join(cacheDir, `pglite-datadir-${data.size}-${Math.floor(data.mtimeMs)}.tar.gz`);
  if (cache && existsSync(cache)) {
    try {
      const db = new PGlite({ loadDataDir: new Blob([readFileSync(cache)]) });
      await db.waitReady;
      return db;
    } catch {
      // A broken cache: start fresh and write it again.
    }
  }
  const db = new PGlite();
  await db.waitReady;
  if (cache) {
    try {
      const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cache}.${process.pid}`;
      writeFileSync(tmp, dump);
      renameSync(tmp, cache);
    } catch {
      // Only slower next time.
    }
  }
  return db;
}
