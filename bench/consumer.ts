/**
 * Consumer benchmark on local D1: batches of 100 messages with one or two SQL steps each, the runtime's batched
 * projection (one transaction per batch, with applied-markers and status) against the seed's naive consumer
 * (one prepare().run() per statement per message), interleaved in the same workerd.
 */
import { fmt, summarize } from './stats.ts';
import { startBenchWorker } from './miniflare.ts';

export const TARGET_CONSUMER_RATIO = 5;

export async function runConsumer(batches = 20, size = 100): Promise<boolean> {
  const mf = await startBenchWorker('bench/consumer-worker.ts');
  const db = await mf.getD1Database('DB');
  let ok = true;
  try {
    console.log(`== consumer (batches of ${size} messages, local D1, interleaved)`);
    for (const steps of [1, 2]) {
      const times = { runtime: [] as number[], naive: [] as number[] };
      for (let i = -2; i < batches; i++) {
        for (const target of (i % 2 === 0 ? ['runtime', 'naive'] : ['naive', 'runtime']) as ('runtime' | 'naive')[]) {
          const start = performance.now();
          const run = `${target}_${steps}_${i}`;
          const res = await mf.dispatchFetch(`http://bench/${target}?n=${size}&steps=${steps}&run=${run}`);
          const text = await res.text();
          if (!res.ok) throw new Error(`${target}: ${text}`);
          if (i >= 0) times[target].push(performance.now() - start);
          // A figure is only worth printing if the work was done: every message's rows must be there.
          const written = await db.prepare('SELECT count(*) AS n FROM subscriptions WHERE id LIKE ?1').bind(`sub_${run}_%`).first<{ n: number }>();
          if (written?.n !== size) throw new Error(`${target} wrote ${written?.n} of ${size} subscriptions`);
        }
      }
      const r = summarize(times.runtime);
      const n = summarize(times.naive);
      const eps = (ms: number) => (size / ms) * 1000;
      const ratio = eps(r.median) / eps(n.median);
      ok &&= ratio >= TARGET_CONSUMER_RATIO;
      console.log(`${steps} SQL step${steps > 1 ? 's' : ''}: runtime ${fmt(eps(r.median), 0)} events/s (median ${fmt(r.median, 1)} ms/batch), naive ${fmt(eps(n.median), 0)} events/s (median ${fmt(n.median, 1)} ms/batch): ${fmt(ratio, 1)}x (target >= ${TARGET_CONSUMER_RATIO}x)`);
    }
  } finally {
    await mf.dispose();
  }
  return ok;
}
