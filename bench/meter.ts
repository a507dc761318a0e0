/**
 * What a bench Worker's requests cost in the units the free plan bills: D1 rows read and written (summed from
 * `meta` of every statement and batch run through the wrapped binding), D1 queries, and queue messages sent
 * (with their size in 64 KB units, as Queues bills). Also a telemetry emit that serializes every event the way
 * `logEmit` does, to a sink that drops the line, so the JSON.stringify cost is counted but nothing is printed.
 */
import { logLine, type Emit } from '../runtime/lib/telemetry.ts';

export interface Meter {
  rows_read: number;
  rows_written: number;
  queries: number;
  queue_messages: number;
  /** Queue messages in 64 KB units: each costs one write now and one read and one delete when consumed. */
  queue_units: number;
  /** Per statement (first 60 characters of its SQL), when asked for: [queries, rows read, rows written]. */
  statements?: Record<string, [number, number, number]>;
}

export const newMeter = (): Meter => ({ rows_read: 0, rows_written: 0, queries: 0, queue_messages: 0, queue_units: 0 });

type Meta = { meta?: { rows_read?: number; rows_written?: number } };
const QUEUE_UNIT = 64 * 1024;

const inner = new WeakMap<object, D1PreparedStatement>();
const sqlOf = new WeakMap<object, string>();

function record(meter: Meter, results: Meta[], statements: object[]): void {
  results.forEach((r, i) => {
    meter.queries++;
    meter.rows_read += r.meta?.rows_read ?? 0;
    meter.rows_written += r.meta?.rows_written ?? 0;
    if (!meter.statements) return;
    const key = (sqlOf.get(statements[i]!) ?? '?').replace(/\s+/g, ' ').slice(0, 60);
    const entry = (meter.statements[key] ??= [0, 0, 0]);
    entry[0]++;
    entry[1] += r.meta?.rows_read ?? 0;
    entry[2] += r.meta?.rows_written ?? 0;
  });
}

function meteredStatement(meter: Meter, statement: D1PreparedStatement, sql: string): D1PreparedStatement {
  const wrapped = {
    bind: (...values: unknown[]) => meteredStatement(meter, statement.bind(...values), sql),
    async run() {
      const r = await statement.run();
      record(meter, [r], [wrapped]);
      return r;
    },
    async all() {
      const r = await statement.all();
      record(meter, [r], [wrapped]);
      return r;
    },
    // first() and raw() return no meta: run them as all() so their rows are counted too.
    async first(column?: string) {
      const row = (await wrapped.all()).results[0] as Record<string, unknown> | undefined;
      return row === undefined ? null : column === undefined ? row : row[column];
    },
    async raw(options?: { columnNames?: boolean }) {
      const r = await wrapped.all();
      const rows = r.results.map((row) => Object.values(row as Record<string, unknown>));
      return options?.columnNames ? [Object.keys((r.results[0] ?? {}) as object), ...rows] : rows;
    },
  } as unknown as D1PreparedStatement;
  inner.set(wrapped, statement);
  sqlOf.set(wrapped, sql);
  return wrapped;
}

/** A D1 binding that adds every statement's `meta` to `meter`. */
export function meteredD1(db: D1Database, meter: Meter): D1Database {
  return {
    prepare: (sql: string) => meteredStatement(meter, db.prepare(sql), sql),
    async batch(statements: D1PreparedStatement[]) {
      const results = await db.batch(statements.map((s) => inner.get(s) ?? s));
      record(meter, results, statements);
      return results;
    },
    exec: (sql: string) => db.exec(sql),
    dump: () => db.dump(),
    withSession: () => {
      throw new Error('sessions are not metered');
    },
  } as unknown as D1Database;
}

const units = (body: unknown) =>
  Math.max(1, Math.ceil(new TextEncoder().encode(JSON.stringify(body) ?? '').byteLength / QUEUE_UNIT));

/** A queue binding that counts what is sent through it. */
export function meteredQueue(queue: Queue, meter: Meter): Queue {
  return {
    async send(body: unknown, options?: QueueSendOptions) {
      meter.queue_messages++;
      meter.queue_units += units(body);
      return queue.send(body, options);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) {
      const list = [...messages];
      meter.queue_messages += list.length;
      for (const m of list) meter.queue_units += units(m.body);
      return queue.sendBatch(list, options);
    },
  } as unknown as Queue;
}

/** The env with D1 and every queue producer metered. */
export function meteredEnv<E extends Record<string, unknown>>(env: E, meter: Meter): E {
  const out: Record<string, unknown> = { ...env };
  for (const [name, value] of Object.entries(env)) {
    if (name === 'DB') out[name] = meteredD1(value as D1Database, meter);
    else if (value && typeof (value as Queue).sendBatch === 'function') out[name] = meteredQueue(value as Queue, meter);
  }
  return out as E;
}

/** Telemetry on, as in production, but to a sink that keeps only the line count: serialization is paid, printing is not. */
export function serializingEmit(): Emit & { lines: number } {
  const emit = ((event) => {
    if (logLine(event).length) emit.lines++;
  }) as Emit & { lines: number };
  emit.lines = 0;
  return emit;
}
