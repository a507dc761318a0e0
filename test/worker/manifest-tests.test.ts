/**
 * The agreement test: the manifest's own test cases (tests/*.test.yaml) run through the real Worker runtime on real
 * D1 in workerd, and through `switchyard test`'s offline engine (node:sqlite, run by vitest.config.ts's
 * OFFLINE_ENGINE binding), and the two must see the same thing: the same answers, rows, effects, queued messages,
 * dead letters and event statuses. Both run cli/lib/manifest-tests/run.ts, so the engines cannot drift unnoticed.
 * They also agree on conditions: which skipped an event or a step, and how often each was true and false; and on
 * which sql steps each case committed (what column coverage counts).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { parseCaseFile } from '../../cli/lib/manifest-tests/cases.ts';
import { runCase, type Actual, type CaseResult, type Target } from '../../cli/lib/manifest-tests/run.ts';
import { ConditionTally } from '../../cli/lib/manifest-tests/conditions.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Handler, Manifest } from '../../runtime/manifest/types.gen.ts';
import { builtInputs } from '../support/harness.ts';

interface Offline {
  files: Record<string, string>;
  caseFiles: string[];
  tables: string[];
  results: CaseResult[];
  catalogSamples?: Target['catalogSamples'];
}

const entry = (
  built as unknown as { environments: Record<string, { manifest: Manifest; queueNames: Record<string, string> }> }
).environments.default!;

/** Empties every table (not the migrations' bookkeeping), so each case starts as a fresh database does. */
async function wipe(db: D1Database): Promise<void> {
  const tables = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
    )
    .all<{ name: string }>();
  await db.batch([
    ...tables.results.map((t) => db.prepare(`DELETE FROM "${t.name}"`)),
    db.prepare('DELETE FROM sqlite_sequence'),
  ]);
}

/** What both engines must agree on; an error's wording is SQLite's own and may differ between them. */
const comparable = (a: Actual) => ({ ...a, dead_letters: a.dead_letters.map(({ error: _error, ...d }) => d) });

/** Both engines pass every case, with the same rows, events, applied steps, condition counts and committed sql steps. */
function expectAgreement(workerd: CaseResult[], offline: CaseResult[]): void {
  expect(workerd.map((r) => r.name)).toEqual(offline.map((r) => r.name));
  for (const [i, w] of workerd.entries()) {
    const o = offline[i]!;
    expect({ case: w.name, failures: w.failures }).toEqual({ case: w.name, failures: [] });
    expect({ case: o.name, failures: o.failures }).toEqual({ case: o.name, failures: [] });
    expect({ case: w.name, ...comparable(w.actual) }).toEqual({ case: o.name, ...comparable(o.actual) });
    expect({ case: w.name, applied: w.applied }).toEqual({ case: o.name, applied: o.applied });
    expect({ case: w.name, conditions: w.conditions }).toEqual({ case: o.name, conditions: o.conditions });
    expect({ case: w.name, ran: w.ran }).toEqual({ case: o.name, ran: o.ran });
  }
}

describe('switchyard test agrees with the Worker in workerd', () => {
  it('runs every default manifest test case with the same results on node:sqlite and on D1', async () => {
    const offline = (await (await env.OFFLINE_ENGINE.fetch('http://offline/run')).json()) as Offline;
    expect(offline.caseFiles.length).toBeGreaterThan(0);
    const target = workerdTarget(entry.manifest, (path) => offline.files[path], offline.catalogSamples);
    const workerd: CaseResult[] = [];
    for (const file of offline.caseFiles) {
      const parsed = parseCaseFile(file, offline.files[file]!);
      expect(parsed.problems).toEqual([]);
      for (const c of parsed.cases) workerd.push(await runCase(target, c, { tables: offline.tables }));
    }
    expectAgreement(workerd, offline.results);
  }, 60_000);

  it('agrees on conditions: the skipped event, the step a condition skipped, which condition decided, and each one true and false', async () => {
    // The default manifest with a Stripe handler of its own type: large checkouts become orders, with their payment intent when there is one.
    const manifest = structuredClone(entry.manifest);
    const n = manifest.integrations.stripe!.handlers!.length;
    manifest.integrations.stripe!.handlers!.push({
      on: 'test.checkout.completed',
      if: { path: 'data.object.amount_total', gt: 100000 },
      steps: [
        { sql: "INSERT INTO orders (id, status) VALUES (:id, 'large')", params: { id: 'data.object.id' } },
        {
          sql: 'UPDATE orders SET payment_intent_id = :pi WHERE id = :id',
          if: { path: 'data.object.payment_intent', exists: true },
          params: { id: 'data.object.id', pi: 'data.object.payment_intent' },
        },
      ],
    } as Handler);
    const event = (id: string, amount: number, pi?: string) =>
      `{ id: ${id}, object: event, type: test.checkout.completed, created: 1767225600, data: { object: { id: cs_${id}, amount_total: ${amount}${pi ? `, payment_intent: ${pi}` : ''} } } }`;
    const files = {
      'tests/conditions.test.yaml': `integration: stripe
cases:
  - name: a large checkout with a payment intent
    events:
      - json: ${event('evt_1', 200000, 'pi_1')}
        expect: { http: 200, event: applied, skipped_by: [] }
    expect: { tables: { orders: [{ id: cs_evt_1, status: large, payment_intent_id: pi_1 }] } }
  - name: a small checkout is skipped
    events:
      - json: ${event('evt_2', 500)}
        expect: { http: 200, body: { status: skipped }, event: skipped, skipped_by: ["if: data.object.amount_total gt 100000"] }
    expect: { tables: { orders: [] } }
  - name: a large checkout without a payment intent skips one step
    events:
      - json: ${event('evt_3', 150000)}
        expect: { event: applied, skipped_by: ["steps[1].if: data.object.payment_intent exists true"] }
    expect: { tables: { orders: [{ id: cs_evt_3, payment_intent_id: null }] } }
`,
    };
    const offline = (await (
      await env.OFFLINE_ENGINE.fetch('http://offline/run', {
        method: 'POST',
        body: JSON.stringify({ manifest, files }),
      })
    ).json()) as { tables: string[]; results: CaseResult[] };
    const target = workerdTarget(manifest, (path) => (files as Record<string, string>)[path]);
    const workerd: CaseResult[] = [];
    for (const c of parseCaseFile('tests/conditions.test.yaml', files['tests/conditions.test.yaml']).cases)
      workerd.push(await runCase(target, c, { tables: offline.tables }));
    expectAgreement(workerd, offline.results);
    const handlerIf = `integrations.stripe.handlers[${n}].if`;
    const stepIf = `integrations.stripe.handlers[${n}].steps[1].if`;
    expect(workerd[1]!.actual.events).toContainEqual(
      expect.objectContaining({
        id: 'evt_2',
        status: 'skipped',
        skipped: [`${handlerIf}: data.object.amount_total gt 100000`],
      }),
    );
    expect(workerd[2]!.actual.steps[0]!.skipped).toEqual([`${stepIf}: data.object.payment_intent exists true`]);
    // The handler's condition is decided once per event, however many steps it has.
    expect(workerd.map((r) => r.conditions)).toEqual([
      { [handlerIf]: { true: 1, false: 0 }, [stepIf]: { true: 1, false: 0 } },
      { [handlerIf]: { true: 0, false: 1 } },
      { [handlerIf]: { true: 1, false: 0 }, [stepIf]: { true: 0, false: 1 } },
    ]);
  }, 60_000);
});

/** The Worker's runtime in workerd over `manifest`, on real D1 (emptied per case), counting its conditions. */
function workerdTarget(manifest: Manifest, read: Target['read'], catalogSamples?: Target['catalogSamples']): Target {
  const vars = Object.fromEntries(
    ['APP_URL', 'ADMIN_EMAIL', 'ADMIN_ORG_ID', 'SWITCHYARD_ENV'].map((k) => [
      k,
      String((env as Record<string, unknown>)[k]),
    ]),
  );
  const conditions = new ConditionTally();
  return {
    environment: 'default',
    manifest,
    // The command input checks as the Worker has them: the code `switchyard build` generated.
    compiled: compileManifest(manifest, defaultRegistry, { ...builtInputs(), conditions }),
    queueNames: entry.queueNames,
    secrets: env.TEST_SECRETS,
    vars,
    read,
    ...(catalogSamples ? { catalogSamples } : {}),
    storage: async () => (await wipe(env.DB), { db: env.DB }),
    conditions,
  };
}
