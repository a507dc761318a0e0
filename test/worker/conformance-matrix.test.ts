/**
 * The conformance matrix: every provider, every tool (issue 24).
 *
 * Rows: every catalog provider (catalog/*.yaml, iterated, so a new preset gets its row and cannot land without passing
 * it), every integration of integrations.yaml and of the example manifests as `switchyard build` resolved them, and
 * the README's own `shop` example ("Five minutes: add a provider"). Cells (cli/lib/conformance.ts, which the README's
 * provider table also reads, so the table states what is checked here):
 *  - runtime, stale, ids, plan: here, in workerd, through the full Worker (`runtime.fetch` with an execution context,
 *    every message it queues consumed until the queues are empty: bench/flow-runner.ts, the bench's own delivery) on
 *    real D1, metered by D1's `meta.rows_written` and the queue sends;
 *  - send, test: test/node/conformance-matrix.test.ts (the CLI commands run in Node).
 * The Node side (test/support/matrix.ts, the MATRIX service binding) lists the rows, prices them with `plan
 * --budget`'s own functions (node:sqlite cannot run here) and signs each row's samples when asked, with the signer
 * `switchyard send` uses, so the timestamps are fresh (Paddle allows 5 seconds).
 *
 * Design: path and cost are compared, never fixed numbers. `plan --budget` and ingest both ask
 * runtime/manifest/decide.ts, and this test checks on every sample that what the model says (path, rows written,
 * queue operations) is what one metered delivery did. An UPDATE is priced as finding its row, so the row it updates
 * is seeded first (unmetered), as bench/flows.ts does. A cell that fails today for a finding another change fixes is
 * listed in KNOWN_GAPS and asserted to fail, so the list cannot go stale. About 20 s here (8 s of it the tests).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { decide } from '../../runtime/manifest/decide.ts';
import type { HandlerCost } from '../../runtime/lib/platform.ts';
import type { TelemetryEvent } from '../../runtime/lib/telemetry.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { applies, CELLS, gapOf, KNOWN_GAPS, type Cell } from '../../cli/lib/conformance.ts';
import { REFUSAL_ROWS_WRITTEN } from '../../runtime/edge/refusals.ts';
import { flowRunner, type FlowRunnerOptions } from '../../bench/flow-runner.ts';
import type { Flow } from '../../bench/flows.ts';
import type { MatrixRow, SampleRequests, SignedRequest } from '../support/matrix.ts';

type Row = MatrixRow & { env: Record<string, string> };

/** The cells this file proves (send and test: test/node/conformance-matrix.test.ts). */
const HERE: Cell[] = ['runtime', 'tamper', 'stale', 'ids', 'plan'];

const rows = (await (await env.MATRIX.fetch('http://matrix/rows')).json()) as Row[];
/**
 * Left out: examples/postgres.yaml projects through Hyperdrive into a Postgres that runs only in CI, and the bench's
 * delivery (bench/flow-runner.ts) has no Postgres driver yet; test/worker/postgres.test.ts covers that example.
 */
const LEFT_OUT = new Set(['examples/postgres.yaml']);

/** What one cell found: ok, or what went wrong. */
class Findings {
  private problems = new Map<Cell, string[]>();
  fail(cell: Cell, problem: string) {
    this.problems.set(cell, [...(this.problems.get(cell) ?? []), problem]);
  }
  check(cell: Cell, ok: boolean, problem: string) {
    if (!ok) this.fail(cell, problem);
  }
  of(cell: Cell) {
    return this.problems.get(cell) ?? [];
  }
}

describe('the conformance matrix: every provider, every integration, every sample', () => {
  it('has a row for every catalog provider and every integration of the shipped manifests, each with a sample', () => {
    const catalogRows = rows.filter((r) => r.label.startsWith('catalog '));
    expect(catalogRows.length).toBeGreaterThanOrEqual(52);
    expect(rows.some((r) => r.label === 'README.md shop')).toBe(true);
  });

  it('lists only gaps of rows and cells the matrix has', () => {
    const providers = new Set(rows.map((r) => r.provider));
    for (const gap of KNOWN_GAPS) {
      expect(providers.has(gap.provider), `KNOWN_GAPS names ${gap.provider}, which is no row`).toBe(true);
      if (gap.row)
        expect(rows.find((r) => r.label === gap.row)?.provider, `KNOWN_GAPS names row ${gap.row}`).toBe(gap.provider);
      expect(Object.keys(CELLS)).toContain(gap.cell);
    }
  });

  for (const [index, row] of rows.entries()) {
    it.skipIf(LEFT_OUT.has(row.manifestFile))(row.label, async () => {
      // Each row is its own deployment: an earlier row's events under the same integration name are not its duplicates.
      await env.DB.prepare('DELETE FROM events WHERE integration = ?').bind(row.integration).run();
      const compiled = compileManifest(row.manifest, defaultRegistry, {
        inputValidator: (_name, schema) => compileInputSchema(schema),
      });
      const source = compiled.integrations.get(row.integration)!;
      const telemetry: TelemetryEvent[] = [];
      const runner = flowRunner({
        compiled,
        env: { ...env, ...row.env } as unknown as FlowRunnerOptions['env'],
        emit: (e) => telemetry.push(e),
      });
      // Each sample type is signed just before it is delivered (Paddle allows 5 seconds).
      const sampleAt = async (i: number) =>
        (
          (await (await env.MATRIX.fetch(`http://matrix/requests?row=${index}&sample=${i}`)).json()) as SampleRequests[]
        )[0];
      const found = new Findings();

      /** Delivers two requests (the first as the runner's warm-up) and what the second cost; the telemetry of both. */
      const deliver = async (name: string, first: SignedRequest, second: SignedRequest) => {
        const queue = [first, second];
        const flow: Flow = { name, source: row.integration, on: name, request: async () => queue.shift()! };
        telemetry.length = 0;
        const m = await runner.measure(flow, 1);
        return { m, status: m.statuses[0]!, events: [...telemetry] };
      };
      const idsOf = (events: TelemetryEvent[], kind: 'webhook.accepted' | 'webhook.duplicate') =>
        events.flatMap((e) =>
          (e.kind === 'webhook.accepted' || e.kind === 'webhook.duplicate') &&
          e.kind === kind &&
          e.integration === row.integration
            ? [e.id]
            : [],
        );

      let i = 0;
      for (let s = await sampleAt(i); s; s = await sampleAt(++i)) {
        const at = `${s.type} (${s.from})`;
        // Two distinct samples, signed: accepted, two events, priced as plan --budget says.
        const fresh = await deliver(at, s.first, s.second);
        found.check(
          'runtime',
          fresh.m.problems.length === 0 && fresh.status < 300,
          `${at}: signed sample answered ${fresh.status}: ${fresh.m.problems.join('; ')}`,
        );
        const accepted = idsOf(fresh.events, 'webhook.accepted');
        found.check(
          'ids',
          accepted.length === 2 && new Set(accepted).size === 2,
          `${at}: two distinct samples were accepted as ${JSON.stringify(accepted)} (want two ids)`,
        );

        // A type with conditions: the row of the branch the sample takes (its conditional steps left out or not).
        const model = row.plan.find(
          (c) =>
            c.on === s.on &&
            (!s.branch ||
              ((c.branch ?? '') === s.branch.label && (c.without ?? []).join() === s.branch.without.join())),
        ) as HandlerCost | undefined;
        const decided = decide(source, s.type);
        const measured = {
          path: fresh.status === 200 ? 'direct' : fresh.status === 202 ? 'queued' : `answered ${fresh.status}`,
          d1_rows_written: fresh.m.perRequest.d1_rows_written,
          queue_operations: fresh.m.perRequest.queue_operations,
        };
        const predicted = model && {
          path: model.path,
          d1_rows_written: model.d1_rows_written,
          queue_operations: model.queue_operations,
        };
        found.check(
          'plan',
          decided.path === model?.path,
          `${at}: decide() says ${decided.path}, plan --budget's row ${s.on} says ${model?.path}`,
        );
        found.check(
          'plan',
          JSON.stringify(predicted) === JSON.stringify(measured),
          `${at}: plan --budget (${s.on}) ${JSON.stringify(predicted)}, measured ${JSON.stringify(measured)}`,
        );

        // The same sample again: one event, answered duplicate, nothing written.
        const again = await deliver(`${at} again`, s.second, s.second);
        const dupes = idsOf(again.events, 'webhook.duplicate');
        // An id made from the body's hash and the arrival (a provider that sends no id) is new on each delivery: the
        // repeat is refused as the same body inside the window.
        const sameBody = again.events.filter(
          (e) => e.kind === 'webhook.replay_refused' && e.integration === row.integration,
        ).length;
        found.check(
          'ids',
          again.status === 200 &&
            again.m.perRequest.d1_rows_written === 0 &&
            again.m.perRequest.queue_operations === 0 &&
            dupes.length + sameBody === 2 &&
            idsOf(again.events, 'webhook.accepted').length === 0 &&
            dupes.every((id) => id === accepted[1]),
          `${at}: the same sample twice answered ${again.status}, wrote ${again.m.perRequest.d1_rows_written} rows, ${again.m.perRequest.queue_operations} queue operations, duplicates ${JSON.stringify(dupes)} of ${accepted[1]}, ${sameBody} refused as the same body`,
        );

        // Refused: 401, no event and nothing queued; what is written is its refusal log entry (0 rows once the log's
        // cap is reached), never an event.
        const refusals: [Cell, string, SignedRequest | undefined][] = [
          ['tamper', 'tampered', s.tampered],
          ['runtime', 'unsigned', s.unsigned],
          ['stale', 'stale', s.stale],
        ];
        for (const [cell, what, request] of refusals) {
          if (!request || !applies(row.verifier, cell)) continue;
          const r = await deliver(`${at} ${what}`, request, request);
          const written = r.m.perRequest.d1_rows_written;
          const logged = written === REFUSAL_ROWS_WRITTEN || written === 0;
          found.check(
            cell,
            r.status === 401 &&
              logged &&
              r.events.every((e) => e.kind !== 'webhook.accepted') &&
              r.m.perRequest.queue_operations === 0,
            `${at}: ${what} answered ${r.status} and wrote ${written} rows, ${r.m.perRequest.queue_operations} queue operations (want 401, at most its refusal log entry of ${REFUSAL_ROWS_WRITTEN} rows, nothing queued)`,
          );
        }
        if (applies(row.verifier, 'stale') && !s.stale) found.fail('stale', `${at}: no stale request was made`);
      }

      // A row no sample reaches proves nothing: every integration the matrix lists has at least one.
      found.check('runtime', i > 0, 'no sample: add samples/<integration>/<type>.json or use a catalog preset');

      for (const cell of HERE) {
        const problems = found.of(cell);
        const gap = gapOf(row.provider, cell, row.label);
        if (gap)
          expect
            .soft(
              problems,
              `${row.label} ${cell} is listed in KNOWN_GAPS (${gap.issue}) but passes: remove it from cli/lib/conformance.ts`,
            )
            .not.toEqual([]);
        else expect.soft(problems, `${row.label}: ${cell} (${CELLS[cell]})`).toEqual([]);
      }
    });
  }
});
