/**
 * Free-plan capacity from what the benchmarks measured (D1's meta, queue messages): each benchmark records its
 * per-event costs, and the run ends with the events a day that fit on each plan, end to end, and what binds.
 */
import { capacity } from '../runtime/lib/platform.ts';
import { fmt } from './stats.ts';

export interface PerEvent {
  d1_rows_written: number;
  d1_rows_read: number;
  queue_operations: number;
}

const measured = new Map<string, PerEvent>();

export function record(name: string, cost: PerEvent): void {
  measured.set(name, cost);
}

const sum = (...costs: (PerEvent | undefined)[]): PerEvent | undefined =>
  costs.every(Boolean) ? costs.reduce((a, b) => ({ d1_rows_written: a!.d1_rows_written + b!.d1_rows_written, d1_rows_read: a!.d1_rows_read + b!.d1_rows_read, queue_operations: a!.queue_operations + b!.queue_operations })) : undefined;

export function printCapacity(): void {
  console.log('== free-plan capacity: a Stripe subscription event end to end, as measured above');
  const paths: [string, PerEvent | undefined, number][] = [
    // The in-request path is one Worker request; the queued one a request and its share of a consumer invocation.
    ['in the request (default)', measured.get('ingest.direct'), 1],
    ['queued (apply: queue)', sum(measured.get('ingest.queued'), measured.get('consume.1')), 1.01],
  ];
  for (const [name, cost, requests] of paths) {
    if (!cost) continue;
    const [free, paid] = capacity({ ...cost, worker_requests: requests, kv_reads: 0, kv_writes: 0 });
    console.log(
      `${name}: D1 ${fmt(cost.d1_rows_written, 2)} rows written, ${fmt(cost.d1_rows_read, 2)} read, ${fmt(cost.queue_operations, 2)} queue ops per event -> free ${free!.events_per_day.toLocaleString('en-US')} events/day (bound by ${free!.binding}), paid ${paid!.events_per_day.toLocaleString('en-US')}`,
    );
  }
}
