/**
 * Free-plan capacity from what the benchmarks measured (D1's meta, queue messages): every flow of the default
 * manifest (bench/flows.ts) delivered end to end in workerd, metered over 3 runs, with the events a day that fit
 * the free plan, what binds first (`capacity()`, the function `plan --budget` uses) and the issue's targets.
 */
import { readDevVars } from '../cli/lib/dev-vars.ts';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';
import { capacity, type PlanResource } from '../runtime/lib/platform.ts';
import type { FlowFigures, FlowMeasurement } from './flow-runner.ts';
import type { FlowTarget } from './flows.ts';
import { startBenchWorker } from './miniflare.ts';
import { fmt } from './stats.ts';
import { join } from 'node:path';

export interface PerEvent {
  d1_rows_written: number;
  d1_rows_read: number;
  queue_operations: number;
}

const measured = new Map<string, PerEvent>();

/** Keeps a benchmark's per-event cost, shown as a row of the capacity table. */
export function record(name: string, cost: PerEvent): void {
  measured.set(name, cost);
}

const RESOURCE: Record<PlanResource, string> = {
  worker_requests: 'Workers requests',
  d1_rows_written: 'D1 rows written',
  d1_rows_read: 'D1 rows read',
  queue_operations: 'Queues',
  kv_reads: 'KV reads',
  kv_writes: 'KV writes',
};
const n = (x: number) => (Number.isInteger(x) ? String(x) : fmt(x, 2));
const day = (x: number) => (Number.isFinite(x) ? Math.floor(x).toLocaleString('en-US') : 'unbounded');
const HEAD = [
  'flow',
  'D1 written',
  'D1 read',
  'queue ops',
  'Workers req',
  'KV r/w',
  'subrequests',
  'free: events/day (binds)',
  'target',
  'ratio',
];

function row(
  name: string,
  f: Pick<
    FlowFigures,
    | 'd1_rows_written'
    | 'd1_rows_read'
    | 'queue_operations'
    | 'worker_requests'
    | 'kv_reads'
    | 'kv_writes'
    | 'subrequests'
  >,
  target: FlowTarget | null,
  unit = 'events',
): { cells: string[]; missed: boolean } {
  const [free] = capacity({ ...f, kv_reads: f.kv_reads, kv_writes: f.kv_writes });
  const ratio = target ? free!.events_per_day / target.events_per_day : undefined;
  const missed = ratio !== undefined && ratio < 1;
  return {
    missed,
    cells: [
      name,
      n(f.d1_rows_written),
      n(f.d1_rows_read),
      n(f.queue_operations),
      n(f.worker_requests),
      `${n(f.kv_reads)}/${n(f.kv_writes)}`,
      n(f.subrequests),
      `${day(free!.events_per_day)} ${unit} (${RESOURCE[free!.binding]})`,
      target ? `>= ${target.events_per_day.toLocaleString('en-US')}` : '',
      ratio === undefined ? '' : `${fmt(ratio, 2)}x${missed ? ' OUTSIDE TARGET' : ''}`,
    ],
  };
}

function table(rows: string[][]): string {
  const widths = HEAD.map((_, i) => Math.max(HEAD[i]!.length, ...rows.map((r) => r[i]!.length)));
  return [HEAD, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Every flow of the default manifest, end to end, metered (figures per event; a /v1/track batch also per request),
 * then the ingest benchmark's own figures as rows. True when every flow meets its target.
 */
export async function runFlows(runs = 3): Promise<boolean> {
  const secrets = readDevVars(join(PACKAGE_ROOT, '.dev.vars.example'));
  const mf = await startBenchWorker('bench/flows-worker.ts', secrets);
  let flows: (FlowMeasurement & { target: FlowTarget | null })[];
  try {
    flows = (await (await mf.dispatchFetch(`http://bench/flows?runs=${runs}`)).json()) as typeof flows;
  } finally {
    await mf.dispose();
  }
  console.log(
    `== free-plan capacity per flow of the default manifest: each delivered end to end in workerd (request with waitUntil awaited, then every queue message consumed), metered over ${runs} runs`,
  );
  const rows: string[][] = [];
  const missed: string[] = [];
  const problems: string[] = [];
  for (const m of flows) {
    const r = row(m.flow, m.perEvent, m.target);
    rows.push(r.cells);
    if (r.missed) missed.push(m.flow);
    if (m.events > 1) rows.push(row(`  per request of ${m.events} events`, m.perRequest, null, 'requests').cells);
    if (m.problems.length || !m.steady)
      problems.push(`${m.flow}: ${m.steady ? '' : 'runs cost differently; '}${m.problems.join('; ')}`);
  }
  for (const [name, label] of [
    ['ingest.direct', 'ingest bench: Stripe subscription, in the request'],
    ['ingest.queued', 'ingest bench: the same with apply: queue (ingest only)'],
  ] as const) {
    const cost = measured.get(name);
    if (cost)
      rows.push(row(label, { ...cost, worker_requests: 1, kv_reads: 0, kv_writes: 0, subrequests: 0 }, null).cells);
  }
  console.log(table(rows));
  console.log(
    'queue ops: 3 per message per 64 KB (write, read, delete); Workers req: HTTP requests (queue consumer invocations, batches of up to 10, not counted); D1 read binds only past 5,000,000 a day',
  );
  for (const p of problems) console.log(`problem: ${p}`);
  if (missed.length) console.log(`flows: OUTSIDE TARGET: ${missed.join('; ')}`);
  return missed.length === 0 && problems.length === 0;
}
