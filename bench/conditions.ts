/**
 * What conditions (`if:`) and derived values (`let:`) cost in CPU on the Stripe event (issue 26): in workerd, the
 * Stripe checkout handler run as the consumer plans it, without conditions, and the same handler with the typical
 * condition (`all: [mode eq payment, amount_total gt 1000]`) and two `let:` values (the total formatted in its
 * currency, a join); also a skipped event (the condition false) and the compile of the condition and the values.
 * Timed as bench/conditions-languages.ts times workerd: (median request of n - median request of 0) / n, n grown
 * until a request runs 60 ms, ROUNDS pairs (about 12 s in all). Figures only, no target.
 */
import { startBenchWorker } from './miniflare.ts';
import { fmt, summarize } from './stats.ts';

const ROUNDS = 5;
const START = 2_000;

export async function runConditions(): Promise<boolean> {
  const mf = await startBenchWorker('bench/conditions-worker.ts');
  try {
    const ask = async (op: string, n: number) => {
      const start = performance.now();
      const res = await mf.dispatchFetch(`http://bench/?op=${op}&n=${n}`);
      const body = (await res.json()) as { count?: number; error?: string };
      if (body.error) throw new Error(body.error);
      return performance.now() - start;
    };
    /** ns per unit of `op` (µs with `unit: 1e3`). */
    const measure = async (op: string, unit = 1) => {
      await ask(op, START);
      let n = START;
      while ((await ask(op, n)) < 60 && n < 4_000_000) n *= 2;
      const full: number[] = [];
      const empty: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        full.push(await ask(op, n));
        empty.push(await ask(op, 0));
      }
      return ((summarize(full).median - summarize(empty).median) * 1e6) / n / unit;
    };
    const plain = await measure('plain');
    const conditional = await measure('conditional');
    const skipped = await measure('condition-false');
    const compile = await measure('compile', 1e3);
    console.log(
      '== conditions and derived values on the Stripe event (checkout.session.completed, 4 KB), workerd, per event as the consumer plans it',
    );
    console.log(`handler without conditions (one SQL step, 4 params):              ${fmt(plain, 0)} ns`);
    console.log(`same handler, if: all(mode eq payment, amount_total gt 1000)`);
    console.log(
      `  and let: total (money in its currency), methods (join):         ${fmt(conditional, 0)} ns, ${fmt(conditional / plain, 2)}x (+${fmt(conditional - plain, 0)} ns)`,
    );
    console.log(`  the condition false (skipped: no statement built):              ${fmt(skipped, 0)} ns`);
    console.log(`compile of the condition and the two lets (once per isolate):    ${fmt(compile, 1)} µs`);
    return true;
  } finally {
    await mf.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runConditions();
