/**
 * `plan --budget` (the model, computed at build time into .switchyard/manifests.json) against every flow of the
 * default manifest delivered end to end and metered: the same flows and the same delivery the bench prints
 * (bench/flows.ts). What is compared is model against measurement, never fixed numbers, so a change to the runtime's
 * paths must change the model with it:
 *  - D1 rows written and queue operations: exact, per request (a /v1/track batch: its row, per tracked event
 *    with the batch's shares, times the 10 events the request carries);
 *  - D1 rows read: within READ_TOLERANCE per event either way. The model counts one row per key lookup; SQLite
 *    also reads an `IN (VALUES …)` list and passes some rows twice (measured: the effects' due-check reads 4 or 5
 *    where the model says 1; the status UPDATE through a list reads 4). Reads bind only past ~500,000 events a day
 *    on the free plan, far beyond writes and queue operations;
 *  - Workers requests and KV operations: exact;
 *  - the free-plan capacity per event and the resource that binds: equal.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import { capacity, perRequest, type BudgetTable } from '../../runtime/lib/platform.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { FLOWS, type Flow } from '../../bench/flows.ts';
import { costOf, flowRunner, type FlowRunnerOptions } from '../../bench/flow-runner.ts';
import { builtInputs, defaultManifest } from '../support/harness.ts';

const READ_TOLERANCE = 4;
const budget = (built as unknown as { environments: Record<string, { budget?: BudgetTable }> }).environments.default!
  .budget!;
const runner = flowRunner({
  compiled: compileManifest(defaultManifest, defaultRegistry, builtInputs()),
  env: env as unknown as FlowRunnerOptions['env'],
});

/** The model's figures for one request of the flow (a route's: its per-request row plus each event's). */
function modelled(flow: Flow) {
  const row = budget.handlers.find(
    (h) =>
      h.source === flow.source &&
      h.on === flow.on &&
      (h.branch ?? '') === (flow.branch ?? h.branch ?? '') &&
      (h.without ?? []).join() === (flow.without ?? []).join(),
  );
  if (!row) return undefined;
  // A route's row is per event in a request of batch_size events (its shares included): the flow sends that many.
  expect(row.batch_size ?? 1).toBe(flow.events ?? 1);
  return perRequest(row);
}

describe('plan --budget agrees with every flow of the default manifest, metered end to end', () => {
  for (const flow of FLOWS) {
    it(flow.name, async () => {
      const m = await runner.measure(flow, 3, { detail: true });
      expect(m.problems).toEqual([]);
      expect(m.steady, 'every run costs the same').toBe(true);
      const model = modelled(flow);
      expect(model, `plan --budget has a row for ${flow.source} ${flow.on}`).toBeDefined();
      const events = flow.events ?? 1;
      const context = `measured per statement: ${JSON.stringify(m.statements)}`;
      expect({ written: m.perRequest.d1_rows_written, queue: m.perRequest.queue_operations }, context).toEqual({
        written: model!.d1_rows_written,
        queue: model!.queue_operations,
      });
      expect({ requests: m.perRequest.worker_requests, kv: [m.perRequest.kv_reads, m.perRequest.kv_writes] }).toEqual({
        requests: model!.worker_requests,
        kv: [model!.kv_reads, model!.kv_writes],
      });
      expect(Math.abs(m.perEvent.d1_rows_read - model!.d1_rows_read / events), context).toBeLessThanOrEqual(
        READ_TOLERANCE,
      );
      const perEvent = Object.fromEntries(
        Object.entries(costOf(m.perRequest)).map(([k, v]) => [k, v / events]),
      ) as ReturnType<typeof costOf>;
      const modelPerEvent = Object.fromEntries(
        Object.entries(costOf(model!)).map(([k, v]) => [k, v / events]),
      ) as ReturnType<typeof costOf>;
      // Reads aside (approximate, never binding), the same figures give the same capacity and binding resource.
      expect(capacity({ ...perEvent, d1_rows_read: 0 })[0]).toEqual(capacity({ ...modelPerEvent, d1_rows_read: 0 })[0]);
      expect(capacity(perEvent)[0]!.binding).toBe(capacity(modelPerEvent)[0]!.binding);
    });
  }
});

describe('the capacity targets of the issue, on the free plan', () => {
  for (const flow of FLOWS.filter((f) => f.target)) {
    it(`${flow.name}: at least ${flow.target!.events_per_day.toLocaleString('en-US')} events a day on the free plan (${flow.target!.why})`, async () => {
      const m = await runner.measure(flow, 1);
      expect(m.problems).toEqual([]);
      expect(m.capacity[0]!.events_per_day).toBeGreaterThanOrEqual(flow.target!.events_per_day);
    });
  }
});
