/**
 * The README's set-up and deploy steps against the project as it is: the validate example is the output of a real
 * run of the README's own steps, the deploy steps leave nothing out, and the logs it promises are switched on.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { cli, defaultManifestText, projectWith, ROOT } from '../support/project.ts';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (heading: string) => {
  const start = README.indexOf(`\n## ${heading}`);
  expect(start).toBeGreaterThan(-1);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
};

describe('README', () => {
  it("step 2's validate example is what validate prints after step 1 (the integration added last)", () => {
    const steps = section('Five minutes: add a provider');
    const snippet = /```yaml\n([\s\S]*?)```/.exec(steps)![1]!.split('\n').map((l) => l.replace(/^ {3}/, ''));
    const integration = snippet.slice(snippet.indexOf('integrations:') + 1).join('\n').trimEnd();
    const manifest = defaultManifestText().replace(/(\n\n(?:#[^\n]*\n)*auth:\n)/, `\n${integration}$1`);
    const path = projectWith(manifest);
    const shown = /```\n +(integrations\.yaml:\d+:\d+: error [^\n]*)\n/.exec(steps)![1]!;
    const run = cli(['validate'], dirname(path));
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`.split('\n')).toContain(shown);
  });

  it("the budget table is what `switchyard plan --budget` prints for the default manifest (generated, never typed)", () => {
    const shown = /```\n(Budget \[default\]\n[\s\S]*?)```/.exec(README)?.[1];
    expect(shown, 'a Budget [default] block in the README').toBeDefined();
    const run = cli(['plan', '--budget'], ROOT);
    expect(run.code).toBe(0);
    expect(shown!.trimEnd()).toBe(run.stdout.trimEnd());
  });

  it('deploy steps cover login, every resource, migrations, the admin secret and organisation, and the logs', () => {
    const deploy = section('Environments and deploying');
    for (const step of ['wrangler login', 'wrangler d1 create', 'wrangler kv namespace create', 'wrangler r2 bucket create', 'wrangler queues create', 'wrangler d1 migrations apply DB --remote', 'secret put ADMIN_TOKEN', 'ADMIN_ORG_ID', 'deploy --dry-run', 'wrangler tail']) {
      expect(deploy).toContain(step);
    }
  });
});

describe('wrangler.toml', () => {
  it('turns Workers Logs on at the top level and in every environment', () => {
    const config = parse(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')) as { observability?: { enabled?: boolean }; env: Record<string, { observability?: { enabled?: boolean } }> };
    expect(config.observability?.enabled).toBe(true);
    for (const [name, env] of Object.entries(config.env)) expect([name, env.observability?.enabled]).toEqual([name, true]);
  });
});
