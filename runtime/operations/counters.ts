/**
 * The hourly counters /health and the usage report read (events.accepted, events.failed, lag.*), derived from the
 * event log rather than held in an isolate's memory: an isolate that goes away takes nothing with it, and an event
 * costs no row more. The cron rolls each event into its hour once (`rollupCounters`), in one transaction with the
 * `counters` checkpoint; a reader adds the events after the checkpoint (`eventCounters`), a few minutes of the log.
 *
 * Per event, by its received hour and integration: accepted 1; failed, its failed attempts (an applied event's
 * attempts after the first, a retrying or dead-lettered one's all); lag, the time from received to settled (applied,
 * ignored, skipped), in LAG_BUCKETS_MS. An event still waiting SETTLE_GRACE_MS after it arrived holds the rollup back
 * no longer: it is rolled up with the attempts it had then, and no lag.
 */
import { LAG_BUCKETS_MS } from '../lib/platform.ts';
import { EventStatus, SETTLED_EVENT_STATUSES, WAITING_EVENT_STATUSES } from '../store/status.ts';
import { checkpoint } from '../store/index.ts';

/** The checkpoint (in `checkpoints`) of the last event rolled up. */
export const COUNTERS_CHECKPOINT = 'counters';
/** Events a rollup round reads, and rounds per cron run: a run reads at most their product. */
export const ROLLUP_BATCH = 500;
export const ROLLUP_ROUNDS = 4;
/** An event still waiting this long after it arrived is rolled up as it is (its lag then is not known). */
export const SETTLE_GRACE_MS = 15 * 60_000;
/** Events after the checkpoint a reader adds, at most (the newest): past it the answer says `partial`. */
export const TAIL_LIMIT = 1_000;

/** A counter row, as `usage` keeps it. */
export interface CounterRow {
  metric: string;
  key: string;
  period_start: string;
  n: number;
}

interface LogRow {
  seq: number;
  integration: string;
  status: string;
  received_at: string;
  updated_at: string;
  attempts: number;
}

const COLUMNS = 'seq, integration, status, received_at, updated_at, attempts';
const SETTLED = new Set<string>(SETTLED_EVENT_STATUSES);
const WAITING = new Set<string>(WAITING_EVENT_STATUSES);
const LAG_METRICS = Array.from({ length: LAG_BUCKETS_MS.length + 1 }, (_, i) => `lag.${String(i).padStart(2, '0')}`);

/** The hour an ISO time falls in, as `usage.period_start` spells it. */
const hourOf = (iso: string) => `${iso.slice(0, 13)}:00:00.000Z`;

/** Adds each row's counts (see the module's comment) to `into`, keyed by metric, integration and hour. */
function count(rows: readonly LogRow[], into: Map<string, CounterRow>): void {
  const add = (metric: string, key: string, period_start: string, n: number) => {
    if (n <= 0) return;
    const id = `${metric}\u0000${key}\u0000${period_start}`;
    const row = into.get(id);
    if (row) row.n += n;
    else into.set(id, { metric, key, period_start, n });
  };
  for (const r of rows) {
    const hour = hourOf(r.received_at);
    add('events.accepted', r.integration, hour, 1);
    const settled = SETTLED.has(r.status);
    add(
      'events.failed',
      r.integration,
      hour,
      settled ? r.attempts - 1 : r.status === EventStatus.queued ? 0 : r.attempts,
    );
    if (!settled) continue;
    const ms = Date.parse(r.updated_at) - Date.parse(r.received_at);
    let bucket = 0;
    while (bucket < LAG_BUCKETS_MS.length && !(ms <= LAG_BUCKETS_MS[bucket]!)) bucket++;
    add(LAG_METRICS[bucket]!, r.integration, hour, 1);
  }
}

/**
 * The counters of the events not rolled up yet (after the checkpoint; the newest TAIL_LIMIT of them), to add to
 * what `usage` holds. Reads those events' rows, nothing else; writes nothing.
 */
export async function eventCounters(db: D1Database): Promise<{ rows: CounterRow[]; partial: boolean }> {
  const from = await checkpoint(db, COUNTERS_CHECKPOINT);
  const rows = (
    await db
      .prepare(`SELECT ${COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq DESC LIMIT ?2`)
      .bind(from, TAIL_LIMIT)
      .all<LogRow>()
  ).results;
  const counted = new Map<string, CounterRow>();
  count(rows, counted);
  return { rows: [...counted.values()], partial: rows.length === TAIL_LIMIT };
}

/** Counter rows a statement carries: 4 parameters each, under D1's 100 per statement (the guard takes one). */
const ROWS_PER_STATEMENT = 24;

/**
 * Rolls the events after the checkpoint into hourly counters in `usage`, up to the first event still waiting that
 * arrived less than SETTLE_GRACE_MS ago, in rounds of ROLLUP_BATCH. Each round is one transaction: its counts are
 * added only if the checkpoint is still where the round read it (a concurrent rollup counted them already), and the
 * checkpoint moves with them. Returns how many events were rolled up.
 */
export async function rollupCounters(db: D1Database, nowMs: number): Promise<number> {
  const grace = new Date(nowMs - SETTLE_GRACE_MS).toISOString();
  let total = 0;
  for (let round = 0; round < ROLLUP_ROUNDS; round++) {
    const from = await checkpoint(db, COUNTERS_CHECKPOINT);
    const rows = (
      await db
        .prepare(`SELECT ${COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2`)
        .bind(from, ROLLUP_BATCH)
        .all<LogRow>()
    ).results;
    const waiting = rows.findIndex((r) => WAITING.has(r.status) && r.received_at >= grace);
    const ready = waiting < 0 ? rows : rows.slice(0, waiting);
    if (!ready.length) break;
    const to = ready[ready.length - 1]!.seq;
    const counted = new Map<string, CounterRow>();
    count(ready, counted);
    const counters = [...counted.values()];
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < counters.length; i += ROWS_PER_STATEMENT) {
      const part = counters.slice(i, i + ROWS_PER_STATEMENT);
      const values = part.map((_, j) => `(?${j * 4 + 2}, ?${j * 4 + 3}, ?${j * 4 + 4}, ?${j * 4 + 5})`).join(', ');
      statements.push(
        db
          .prepare(
            `INSERT INTO usage (metric, key, period_start, n) SELECT column1, column2, column3, column4 FROM (VALUES ${values})
             WHERE coalesce((SELECT seq FROM checkpoints WHERE name = '${COUNTERS_CHECKPOINT}'), 0) = ?1
             ON CONFLICT (metric, period_start, key) DO UPDATE SET n = n + excluded.n`,
          )
          .bind(from, ...part.flatMap((c) => [c.metric, c.key, c.period_start, c.n])),
      );
    }
    statements.push(
      db
        .prepare(
          `INSERT INTO checkpoints (name, seq) VALUES ('${COUNTERS_CHECKPOINT}', ?2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE checkpoints.seq = ?1`,
        )
        .bind(from, to),
    );
    await db.batch(statements);
    total += ready.length;
    if (waiting >= 0 || rows.length < ROLLUP_BATCH) break;
  }
  return total;
}
