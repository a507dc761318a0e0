/** `switchyard test`: the default manifest's own tests pass; a broken projection fails at file:line:column with a diff. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestTests } from '../support/in-process.ts';
import { defaultManifestText, projectWith, replaceOnce, ROOT } from '../support/project.ts';

/** A temporary copy of the project (manifest, tests, samples) with an edited manifest; returns its folder. */
function copyWith(manifest: string): string {
  const path = projectWith(manifest);
  for (const dir of ['tests', 'samples']) cpSync(join(ROOT, dir), join(dirname(path), dir), { recursive: true });
  return dirname(path);
}

const resendProjection = "UPDATE email_logs SET status = replace(:type, 'email.', '') WHERE id = :id";

describe('switchyard test', () => {
  // How long it takes is a figure of `npm run bench` (foundation: target 5 s), not a timed test.
  it('passes on the default manifest, covering every handler and every projected column', async () => {
    const run = await manifestTests();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+ passed, 0 failed \((\d+) ms\)$/m);
    expect(run.stdout).toContain('coverage: every handler');
    expect(run.stdout).toMatch(/^columns: every projected column \(\d+\) asserted after its sql step ran$/m);
  });

  it('fails with a readable diff at file:line:column when a projection is broken, and --update writes what happened', async () => {
    const dir = copyWith(
      replaceOnce(defaultManifestText(), resendProjection, 'UPDATE email_logs SET status = :type WHERE id = :id'),
    );
    // Only the file whose case the broken projection fails: four runs of the whole suite were half this tier's time.
    const file = 'tests/billing-and-messaging.test.yaml';
    const args = [join(dir, 'integrations.yaml'), join(dir, file)];
    const run = await manifestTests(args);
    expect(run.code).toBe(1);
    const text = readFileSync(join(dir, file), 'utf8').split('\n');
    const line = text.findIndex((l) => l.includes('{ id: em_1, status: delivered }')) + 1;
    expect(run.stdout).toContain(
      '✗ tests/billing-and-messaging.test.yaml › resend, delivery and bounce events set the email',
    );
    expect(run.stdout).toContain(`${file}:${line}:11: table email_logs`);
    expect(run.stdout).toContain('table email_logs: 2 expected entries not found, 2 unexpected (2 actual)');
    expect(run.stdout).toContain('-   status: delivered');
    expect(run.stdout).toContain('+   status: email.delivered');
    expect(run.stdout).toMatch(/\d+ passed, 1 failed/);

    const json = JSON.parse((await manifestTests([...args, '--json'])).stdout) as {
      ok: boolean;
      failed: number;
      cases: { ok: boolean; failures: { location: { file: string; line: number }; actual: unknown }[] }[];
    };
    expect(json.ok).toBe(false);
    expect(json.failed).toBe(1);
    const failure = json.cases.find((c) => !c.ok)!.failures[0]!;
    expect(failure.location).toMatchObject({ file, line, column: 11 });
    expect(failure.actual).toEqual([
      { id: 'em_1', status: 'email.delivered' },
      { id: 'em_2', status: 'email.bounced' },
    ]);

    expect((await manifestTests([...args, '--update'])).stdout).toContain('updated 1 expectation');
    expect(readFileSync(join(dir, file), 'utf8')).toContain('{ id: em_1, status: email.delivered }');
    expect((await manifestTests(args)).code).toBe(0);
  });

  it("runs docs/testing.md's example test file as written", async () => {
    const section = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');
    const example = /```yaml\n(# tests\/stripe\.test\.yaml\n[\s\S]*?)```/.exec(section)![1]!;
    const dir = copyWith(defaultManifestText());
    writeFileSync(join(dir, 'tests/readme.test.yaml'), example);
    const run = await manifestTests([join(dir, 'integrations.yaml'), join(dir, 'tests/readme.test.yaml')]);
    expect(run.stdout).toContain('3 passed, 0 failed');
    expect(run.code).toBe(0);
  });

  it('lists an untested handler, and fails on it only with --coverage=strict', async () => {
    const dir = copyWith(defaultManifestText());
    cpSync(join(ROOT, 'tests/stripe.test.yaml'), join(dir, 'tests/only.test.yaml'));
    const args = [join(dir, 'integrations.yaml'), join(dir, 'tests/only.test.yaml')];
    const run = await manifestTests(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /integrations\.yaml:\d+:\d+: clerk handler on user\.deleted: no case applied an event to it/,
    );
    expect((await manifestTests([...args, '--coverage=strict'])).code).toBe(1);
  });

  it('lists a projected column no case asserts after its step ran with --coverage, and fails on it with --coverage=strict', async () => {
    const dir = copyWith(defaultManifestText());
    const file = join(dir, 'tests/billing-and-messaging.test.yaml');
    writeFileSync(
      file,
      replaceOnce(readFileSync(file, 'utf8'), ', version: "2026-01-01T00:01:00.000Z#0000000000000002" }', ' }'),
    );
    const manifest = join(dir, 'integrations.yaml');
    const plain = await manifestTests([manifest]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      /^columns: 1 of (\d+) projected columns not asserted after their sql step ran \(--coverage lists them\)$/m,
    );
    const report = await manifestTests([manifest, '--coverage']);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(
      /^ {2}integrations\.yaml:\d+:\d+: paddle handler on subscription\.created, subscription\.updated: no case that ran it asserts subscriptions\.version$/m,
    );
    // Strict, as a machine reads it: every case passed, and the run fails on the one unasserted column.
    const strict = await manifestTests([manifest, '--coverage=strict', '--json']);
    expect(strict.code).toBe(1);
    const json = JSON.parse(strict.stdout) as {
      ok: boolean;
      failed: number;
      coverage: { columns: { total: number; asserted: number; unasserted: unknown[] } };
    };
    expect([json.ok, json.failed]).toEqual([false, 0]);
    expect(json.coverage.columns.total - json.coverage.columns.asserted).toBe(1);
    expect(json.coverage.columns.unasserted).toEqual([
      {
        location: expect.stringMatching(/^integrations\.yaml:\d+:\d+$/),
        handler: 'integrations.paddle.handlers[0]',
        step: 'integrations.paddle.handlers[0].steps[0]',
        table: 'subscriptions',
        columns: ['version'],
      },
    ]);
  });
});
