/**
 * `switchyard test examples/postgres.yaml`: the example's cases (examples/postgres.tests/) run through the Worker's
 * own Postgres projection code, offline in PGlite, and against the Postgres at SWITCHYARD_PG_URL when one answers
 * (`.ci/run` starts one). A broken Postgres projection fails at the expectation's file:line:column.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, projectWith, replaceOnce } from '../support/project.ts';

const EXAMPLE = readFileSync(join(ROOT, 'examples/postgres.yaml'), 'utf8');

/** The CLI with SWITCHYARD_PG_URL set to `pgUrl`, or unset (offline: PGlite). */
function run(args: string[], pgUrl: string | undefined, cwd = ROOT) {
  const { SWITCHYARD_PG_URL: _drop, ...env } = process.env;
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...env, ...(pgUrl ? { SWITCHYARD_PG_URL: pgUrl } : {}) },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms: performance.now() - started };
}

/** A project whose integrations.yaml is the example as `text`, with its migrations, samples and cases (in tests/). */
function exampleProject(text: string): string {
  const dir = dirname(projectWith(text));
  cpSync(join(ROOT, 'examples/postgres-migrations'), join(dir, 'postgres-migrations'), { recursive: true });
  cpSync(join(ROOT, 'examples/postgres.tests'), join(dir, 'tests'), { recursive: true });
  cpSync(join(ROOT, 'samples'), join(dir, 'samples'), { recursive: true });
  return dir;
}

const lineOf = (text: string, needle: string, from = 0) => text.slice(0, text.indexOf(needle, from)).split('\n').length;

describe('switchyard test with a postgres store', () => {
  const engines: [string, string | undefined, RegExp][] = [
    ['offline, in PGlite', undefined, /^postgres stores: PGlite/m],
  ];
  if (process.env.SWITCHYARD_PG_URL)
    engines.push([
      'against the Postgres at SWITCHYARD_PG_URL',
      process.env.SWITCHYARD_PG_URL,
      /^postgres stores: PostgreSQL \d+/m,
    ]);
  for (const [name, url, engine] of engines) {
    it(`runs examples/postgres.yaml's cases, covering every handler (${name})`, () => {
      const { code, stdout, stderr, ms } = run(['test', 'examples/postgres.yaml', '--coverage=strict'], url);
      expect(stderr).toBe('');
      expect(stdout).toMatch(engine);
      expect(stdout).toContain(
        '✓ examples/postgres.tests/stripe.test.yaml › a redelivered event is applied once, with one marker',
      );
      expect(stdout).toContain(
        '✓ examples/postgres.tests/clerk.test.yaml › a new user is stored in Postgres and welcomed',
      );
      expect(stdout).toContain('coverage: every handler (6) and on: pattern (8) exercised');
      expect(stdout).toContain('columns: every projected column (21) asserted after its sql step ran');
      expect(stdout).toMatch(/^12 passed, 0 failed \(\d+ ms\)$/m);
      expect(code).toBe(0);
      console.log(
        `switchyard test examples/postgres.yaml (${name}): ${Math.round(ms)} ms for the whole command; ${/\((\d+) ms\)$/m.exec(stdout)![1]} ms reported`,
      );
    });
  }

  it('fails with a diff at file:line:column when a Postgres projection writes the wrong value', () => {
    const text = replaceOnce(
      EXAMPLE,
      "ON CONFLICT (id) DO UPDATE SET status = 'canceled'",
      "ON CONFLICT (id) DO UPDATE SET status = 'cancelled'",
    );
    const dir = exampleProject(text);
    const { code, stdout } = run(['test'], undefined, dir);
    expect(code).toBe(1);
    const file = 'tests/stripe.test.yaml';
    const cases = readFileSync(join(ROOT, 'examples/postgres.tests/stripe.test.yaml'), 'utf8');
    const line = lineOf(cases, '- { id: sub_1, customer_id: cus_1, status: canceled');
    expect(stdout).toContain(
      '✗ tests/stripe.test.yaml › the subscription lifecycle, created then updated then deleted',
    );
    expect(stdout).toContain(
      `${file}:${line}:11: table subscriptions: 1 expected entry not found, 1 unexpected (1 actual)`,
    );
    expect(stdout).toContain('-   status: canceled');
    expect(stdout).toContain('+   status: cancelled');
    expect(stdout).toMatch(/^11 passed, 1 failed/m);
  });

  it('fails saying why, at the event, when Postgres refuses a projection the migrations do not match', () => {
    const text = replaceOnce(
      EXAMPLE,
      'email = excluded.email, name = excluded.name',
      'email = excluded.emial, name = excluded.name',
    );
    const dir = exampleProject(text);
    const { code, stdout } = run(['test'], undefined, dir);
    expect(code).toBe(1);
    const cases = readFileSync(join(ROOT, 'examples/postgres.tests/clerk.test.yaml'), 'utf8');
    const line = lineOf(cases, 'expect: { http: 202, event: applied }');
    expect(stdout).toContain('✗ tests/clerk.test.yaml › a new user is stored in Postgres and welcomed');
    expect(stdout).toMatch(
      new RegExp(
        `tests/clerk\\.test\\.yaml:${line}:\\d+: event msg_e1 is dead_lettered \\(PostgresSqlError: column excluded\\.emial does not exist \\(SQLSTATE 42703\\)\\), expected applied`,
      ),
    );
  });
});
