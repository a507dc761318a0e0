/**
 * Postgres consumer throughput, next to D1: batches of 100 subscription upserts through the runtime into D1 and into
 * a local Postgres (over miniflare's Hyperdrive binding), and a hand-written Postgres consumer with the same
 * exactly-once guarantee, interleaved in one workerd. Skipped, with a message, without a Postgres at
 * SWITCHYARD_PG_URL (scripts/postgres-test.sh npm run bench starts one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';
import { openPg } from '../adapters/stores/pg.ts';
import type { Meter } from './meter.ts';
import { startBenchWorker } from './miniflare.ts';
import { fmt, summarize } from './stats.ts';

const TARGETS = ['d1', 'postgres', 'hand'] as const;
type Target = (typeof TARGETS)[number];
const LABELS: Record<Target, string> = {
  d1: 'runtime -> D1',
  postgres: 'runtime -> Postgres',
  hand: 'hand-written -> Postgres',
};

export async function runPostgresConsumer(batches = 10, size = 100): Promise<boolean> {
  const url = process.env.SWITCHYARD_PG_URL;
  console.log(
    `== Postgres consumer (batches of ${size} messages, local Postgres through miniflare's Hyperdrive, next to D1)`,
  );
  if (!url) {
    console.log('  skipped: no Postgres at SWITCHYARD_PG_URL (run scripts/postgres-test.sh npm run bench)');
    return true;
  }
  let pg;
  try {
    pg = await openPg({ connectionString: url });
  } catch (error) {
    console.log(`  skipped: Postgres at SWITCHYARD_PG_URL does not answer (${(error as Error).message})`);
    return true;
  }
  const migrations = join(PACKAGE_ROOT, 'examples/postgres-migrations');
  for (const f of readdirSync(migrations)
    .filter((f) => f.endsWith('.sql'))
    .sort())
    await pg.query(readFileSync(join(migrations, f), 'utf8'));
  await pg.query('CREATE TABLE IF NOT EXISTS processed (id text PRIMARY KEY)');
  await pg.query("DELETE FROM subscriptions WHERE id LIKE 'sub_bench%'");
  const mf = await startBenchWorker(
    'bench/postgres-worker.ts',
    {},
    { nodejsCompat: true, hyperdrives: { HYPERDRIVE: url } },
  );
  const db = await mf.getD1Database('DB');
  try {
    const times = { d1: [], postgres: [], hand: [] } as Record<Target, number[]>;
    const costs = { d1: [], postgres: [], hand: [] } as Record<Target, Meter[]>;
    for (let i = -2; i < batches; i++) {
      for (const target of TARGETS.map((_, k) => TARGETS[(k + i + 3) % 3]!)) {
        const run = `bench_${target}_${i}_${Date.now()}`;
        const query = `n=${size}&run=${run}`;
        if (target !== 'hand') await (await mf.dispatchFetch(`http://bench/seed?${query}`)).arrayBuffer();
        const start = performance.now();
        const res = await mf.dispatchFetch(`http://bench/${target}?${query}`);
        const text = await res.text();
        const elapsed = performance.now() - start;
        if (!res.ok) throw new Error(`${target}: ${text}`);
        // A figure counts only if the work was done: every message's row is there.
        const written =
          target === 'd1'
            ? (
                await db
                  .prepare('SELECT count(*) AS n FROM subscriptions WHERE id LIKE ?1')
                  .bind(`sub_${run}_%`)
                  .first<{ n: number }>()
              )?.n
            : (
                await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM subscriptions WHERE id LIKE $1', [
                  `sub_${run}_%`,
                ])
              ).rows[0]?.n;
        if (written !== size) throw new Error(`${target} wrote ${written} of ${size} subscriptions`);
        if (i >= 0) {
          times[target].push(elapsed);
          costs[target].push(JSON.parse(text) as Meter);
        }
      }
    }
    for (const t of TARGETS) {
      const median = summarize(times[t]).median;
      const per = (k: 'rows_written' | 'queries') => costs[t].reduce((n, m) => n + m[k], 0) / (costs[t].length * size);
      console.log(
        `  ${LABELS[t].padEnd(25)} median ${fmt(median, 1).padStart(6)} ms/batch, ${fmt((size / median) * 1000, 0).padStart(6)} events/s; per event: D1 ${fmt(per('rows_written'), 2)} rows written, ${fmt(per('queries'), 2)} queries`,
      );
    }
    const ratio = summarize(times.postgres).median / summarize(times.hand).median;
    console.log(
      `  runtime/hand-written into Postgres: ${fmt(ratio, 2)}x time per batch (the runtime also records each event in the D1 event log)`,
    );
  } finally {
    await mf.dispose();
    await pg.end();
  }
  return true;
}
