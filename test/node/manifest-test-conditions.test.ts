/**
 * `switchyard test` and conditions (`if:`): a case expects `event: skipped` and which condition skipped a step, a
 * failing case says which condition decided, and `--coverage` counts each condition true and false.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestTests } from '../support/in-process.ts';
import { checkout, conditionsProject } from '../support/conditions-project.ts';
import { cli } from '../support/project.ts';

const HANDLER_IF = 'integrations.stripe.handlers[0].if: data.object.amount_total gt 100000';
const STEP_IF = 'integrations.stripe.handlers[0].steps[1].if: data.object.payment_intent exists true';

/** A large checkout (both conditions true) and a small one (the handler's false): the step's is never false. */
const TWO_CASES = `integration: stripe
cases:
  - name: a large checkout with a payment intent becomes an order
    events:
      - json: ${checkout('evt_1', 200000, 'pi_1')}
        expect: { event: applied, skipped_by: [] }
    expect:
      tables:
        orders: [{ id: cs_evt_1, status: large, payment_intent_id: pi_1 }]
  - name: a small checkout is skipped by the handler's condition
    events:
      - json: ${checkout('evt_2', 500)}
        expect: { http: 200, body: { status: skipped }, event: skipped, skipped_by: ["integrations.stripe.handlers[0].if"] }
    expect:
      tables: { orders: [] }
`;

const STEP_SKIPPED = `integration: stripe
cases:
  - name: a large checkout without a payment intent skips only the step
    events:
      - json: ${checkout('evt_3', 150000)}
        expect: { event: applied, skipped_by: ["steps[1].if: data.object.payment_intent exists true"] }
    expect:
      tables:
        orders: [{ id: cs_evt_3, status: large, payment_intent_id: null }]
`;

describe('switchyard test with conditions', () => {
  it('passes cases that expect event: skipped and the conditions that skipped steps', async () => {
    const manifest = conditionsProject({ 'checkout.test.yaml': TWO_CASES, 'step.test.yaml': STEP_SKIPPED });
    const run = await manifestTests([manifest]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('3 passed, 0 failed');
    expect(run.code).toBe(0);
  });

  it('a failing case says which condition decided, a wrong skipped_by: fails at its line, and --update writes the conditions', async () => {
    const wrong = `integration: stripe
cases:
  - name: a small checkout expected as an order
    events:
      - json: ${checkout('evt_2', 500)}
        expect: { event: applied }
    expect:
      tables:
        orders: [{ id: cs_evt_2 }]
  - name: the wrong condition expected
    events:
      - json: ${checkout('evt_3', 150000)}
        expect: { skipped_by: ["handlers[0].if"] }
`;
    const manifest = conditionsProject({ 'wrong.test.yaml': wrong });
    const run = await manifestTests([manifest]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `tests/wrong.test.yaml:6:26: event evt_2 is skipped (${HANDLER_IF}), expected applied`,
    );
    expect(run.stdout).toContain('    which conditions decided:');
    expect(run.stdout).toContain(`      tests/wrong.test.yaml:5:9: event evt_2 (skipped) skipped by ${HANDLER_IF}`);
    expect(run.stdout).toContain(`tests/wrong.test.yaml:13:31: event evt_3: the conditions that skipped steps differ`);
    expect(run.stdout).toContain('- - handlers[0].if');
    expect(run.stdout).toContain(`+ - "${STEP_IF}"`);
    expect(run.stdout).toContain(`      tests/wrong.test.yaml:12:9: event evt_3 (applied) skipped by ${STEP_IF}`);
    expect(run.stdout).toContain('0 passed, 2 failed');

    const json = JSON.parse((await manifestTests([manifest, '--json'])).stdout) as {
      cases: {
        name: string;
        skipped: { location: { line: number }; event: string; status: string; conditions: string[] }[];
      }[];
    };
    expect(json.cases[0]!.skipped).toEqual([
      {
        location: { file: 'tests/wrong.test.yaml', line: 5, column: 9 },
        event: 'evt_2',
        status: 'skipped',
        conditions: [HANDLER_IF],
      },
    ]);

    expect((await manifestTests([manifest, '--update'])).stdout).toContain('updated 3 expectations');
    const updated = readFileSync(join(dirname(manifest), 'tests/wrong.test.yaml'), 'utf8');
    expect(updated).toContain('event: skipped');
    expect(updated).toContain(STEP_IF);
    expect((await manifestTests([manifest])).code).toBe(0);
  });

  it('--coverage counts each condition true and false, and lists the one never false first', async () => {
    const manifest = conditionsProject({ 'checkout.test.yaml': TWO_CASES });
    const plain = await manifestTests([manifest]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('conditions: 1 of 2 seen both true and false (--coverage lists them)');

    const run = await manifestTests([manifest, '--coverage']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('conditions:'));
    expect(lines[at]).toBe('conditions: 1 of 2 seen both true and false; 3 of 4 outcomes (75%)');
    expect(lines[at + 1]).toBe(
      `  integrations.yaml:16:17: never false (true 1, false 0): integrations.stripe.handlers[0].steps[1].if (data.object.payment_intent exists true)`,
    );
    expect(lines[at + 2]).toBe(
      `  integrations.yaml:11:13: true 1, false 1: integrations.stripe.handlers[0].if (data.object.amount_total gt 100000)`,
    );

    const json = JSON.parse((await manifestTests([manifest, '--coverage', '--json'])).stdout) as {
      coverage: { conditions: unknown[]; outcomes: unknown };
    };
    expect(json.coverage.conditions).toEqual([
      {
        at: 'integrations.stripe.handlers[0].steps[1].if',
        location: 'integrations.yaml:16:17',
        condition: 'data.object.payment_intent exists true',
        true: 1,
        false: 0,
      },
      {
        at: 'integrations.stripe.handlers[0].if',
        location: 'integrations.yaml:11:13',
        condition: 'data.object.amount_total gt 100000',
        true: 1,
        false: 1,
      },
    ]);
    expect(json.coverage.outcomes).toEqual({ seen: 3, total: 4 });

    // The exit code follows the cases, unless a minimum is asked for.
    expect((await manifestTests([manifest, '--coverage-min', '75'])).code).toBe(0);
    const short = await manifestTests([manifest, '--coverage-min', '100']);
    expect(short.code).toBe(1);
    expect(short.stdout).toContain('conditions: 3 of 4 outcomes seen (75%), under --coverage-min 100%');

    // With the step-skipping case too, every outcome is seen.
    const all = await manifestTests([
      conditionsProject({ 'checkout.test.yaml': TWO_CASES, 'step.test.yaml': STEP_SKIPPED }),
      '--coverage',
    ]);
    expect(all.stdout).toContain('conditions: 2 of 2 seen both true and false; 4 of 4 outcomes (100%)');
    expect(all.stdout).toContain(
      `  integrations.yaml:11:13: true 2, false 1: integrations.stripe.handlers[0].if (data.object.amount_total gt 100000)`,
    );
    expect(all.stdout).toContain(
      `  integrations.yaml:16:17: true 1, false 1: integrations.stripe.handlers[0].steps[1].if (data.object.payment_intent exists true)`,
    );
  });

  it('--help documents --coverage', () => {
    const help = cli(['test', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--coverage');
    expect(help.stdout).toMatch(/each condition \(if: of a handler or a step\).*true and false/s);
    expect(help.stdout).toContain('--coverage-min');
  });
});
