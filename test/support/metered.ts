/**
 * A D1 binding that adds up what every statement run through it cost, from D1's own exact counters
 * (`meta.rows_written`, `meta.rows_read`): the units the free plan bills in. The same meter the benchmarks use
 * (bench/meter.ts), with the shape the tests read.
 */
import { meteredD1, newMeter, type Meter as BenchMeter } from '../../bench/meter.ts';

export interface Meter {
  db: D1Database;
  written: number;
  read: number;
  /** Each statement's SQL (its first 60 characters) with what it cost, to say which one went over a budget. */
  statements: { sql: string; written: number; read: number }[];
  reset(): void;
}

export function metered(db: D1Database): Meter {
  const counts: BenchMeter = { ...newMeter(), statements: {} };
  return {
    db: meteredD1(db, counts),
    get written() {
      return counts.rows_written;
    },
    get read() {
      return counts.rows_read;
    },
    get statements() {
      return Object.entries(counts.statements ?? {}).map(([sql, [, read, written]]) => ({ sql, read, written }));
    },
    reset() {
      Object.assign(counts, newMeter(), { statements: {} });
    },
  };
}
