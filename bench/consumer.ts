/**
 * Consumer benchmark on local D1: batches of 100 messages with one or two SQL steps each, interleaved in the same
 * workerd. The headline baseline is the careful hand-written consumer (one D1 batch per queue batch: dedup marker
 * and projection per message, one transaction); the seed's naive consumer (one prepare().run() per statement, no
 * transaction) is a second line. The runtime runs as deployed: events rows recorded first as ingest records them,
 * platform usage counted, telemetry serialized. Costs per event are exact, from D1's meta (bench/meter.ts).
 */
import type { Meter } from './meter.ts';
import { record } from './capacity.ts';
import { startBenchWorker } from './miniflare.ts';
import { fmt, summarize } from './stats.ts';

/** The runtime, with its exactly-once bookkeeping, against the careful hand-written consumer (issue 12). */
export const TARGET_CONSUMER_RATIO = 1.2;
/** The hand-written consumer's dedup table: a marker per message, in the same transaction as its projection. */
const PROCESSED_TABLE = 'CREATE TABLE processed (id TEXT PRIMARY KEY)';
const TARGETS = ['runtime', 'batched', 'naive'] as const;
type Target = (typeof TARGETS)[number];

export async function runConsumer(batches = 20, size = 100): Promise<boolean> {
  const mf = await startBenchWorker('bench/consumer-worker.ts');
  const db = await mf.getD1Database('DB');
  await db.prepare(PROCESSED_TABLE).run();
  let ok = true;
  try {
    console.log(`== consumer (batches of ${size} messages, local D1, interleaved)`);
    for (const steps of [1, 2]) {
      const times = { runtime: [], batched: [], naive: [] } as Record<Target, number[]>;
      const costs = { runtime: [], batched: [], naive: [] } as Record<Target, Meter[]>;
      for (let i = -2; i < batches; i++) {
        const order = TARGETS.map((_, k) => TARGETS[(k + i + 3) % 3]!);
        for (const target of order) {
          const run = `${target}_${steps}_${i}`;
          const query = `n=${size}&steps=${steps}&run=${run}`;
          if (target === 'runtime') await (await mf.dispatchFetch(`http://bench/seed?${query}`)).arrayBuffer();
          const start = performance.now();
          const res = await mf.dispatchFetch(`http://bench/${target}?${query}`);
          const text = await res.text();
          const elapsed = performance.now() - start;
          if (!res.ok) throw new Error(`${target}: ${text}`);
          if (i >= 0) {
            times[target].push(elapsed);
            costs[target].push(JSON.parse(text) as Meter);
          }
          // A figure is only worth printing if the work was done: every message's rows must be there.
          const written = await db
            .prepare('SELECT count(*) AS n FROM subscriptions WHERE id LIKE ?1')
            .bind(`sub_${run}_%`)
            .first<{ n: number }>();
          if (written?.n !== size) throw new Error(`${target} wrote ${written?.n} of ${size} subscriptions`);
        }
      }
      const median = (t: Target) => summarize(times[t]).median;
      const line = (t: Target) => {
        const per = (k: Exclude<keyof Meter, 'statements'>) =>
          costs[t].reduce((n, m) => n + m[k], 0) / (costs[t].length * size);
        // Each consumed message is read and deleted (2 operations per 64 KB); sends add a write (and later 2 more).
        const queueOps = 2 + 3 * per('queue_units');
        return `${t.padEnd(8)} median ${fmt(median(t), 1).padStart(6)} ms/batch, ${fmt((size / median(t)) * 1000, 0).padStart(6)} events/s; per event: D1 ${fmt(per('rows_written'), 2)} rows written, ${fmt(per('rows_read'), 2)} read, ${fmt(per('queries'), 2)} queries; queue ops ${fmt(queueOps, 2)}`;
      };
      const runtimePer = (k: Exclude<keyof Meter, 'statements'>) =>
        costs.runtime.reduce((n, m) => n + m[k], 0) / (costs.runtime.length * size);
      // The consumed message's read and delete are counted with its send at ingest (3 per message).
      if (steps === 1)
        record('consume.1', {
          d1_rows_written: runtimePer('rows_written'),
          d1_rows_read: runtimePer('rows_read'),
          queue_operations: 3 * runtimePer('queue_units'),
        });
      const ratio = median('runtime') / median('batched');
      const within = ratio <= TARGET_CONSUMER_RATIO;
      ok &&= within;
      console.log(`${steps} SQL step${steps > 1 ? 's' : ''}:`);
      for (const t of TARGETS) console.log(`  ${line(t)}`);
      console.log(
        `  runtime/batched (hand-written, same guarantees): ${fmt(ratio, 2)}x time per batch (target <= ${TARGET_CONSUMER_RATIO}x)${within ? '' : ' OUTSIDE TARGET'}`,
      );
      console.log(
        `  runtime vs naive (one statement per round trip, no transaction): ${fmt(median('naive') / median('runtime'), 1)}x faster`,
      );
    }
  } finally {
    await mf.dispose();
  }
  return ok;
}
