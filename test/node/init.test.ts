/**
 * `switchyard init` (and `npm create switchyard`): what each starting point writes, checked by the project's own
 * `validate` and `switchyard test`. The whole path from a packed tarball on Node 20 is test/node/package.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import { MANIFEST_VERSION } from '../../runtime/manifest/sections/manifest.ts';
import { cli } from '../support/project.ts';

const work = mkdtempSync(join(tmpdir(), 'switchyard-init-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('switchyard init', () => {
  it('--providers stripe,clerk: one integration each, their secrets, a first test each; validate and test pass', () => {
    const dir = join(work, 'picked');
    const made = cli(['init', dir, '--providers', 'stripe,clerk']);
    expect(made.code, made.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      '.dev.vars.example',
      '.github',
      '.gitignore',
      'README.md',
      'integrations.yaml',
      'migrations',
      'package.json',
      'tests',
      'wrangler.toml',
    ]);
    expect(readFileSync(join(dir, '.dev.vars.example'), 'utf8')).toMatch(
      /^STRIPE_WEBHOOK_SECRET=.+\nCLERK_WEBHOOK_SECRET=whsec_.+$/m,
    );
    expect(readdirSync(join(dir, 'tests')).sort()).toEqual(['README.md', 'clerk.test.yaml', 'stripe.test.yaml']);
    const toml = parse(readFileSync(join(dir, 'wrangler.toml'), 'utf8')) as { name: string; main: string };
    expect([toml.name, toml.main]).toEqual(['picked', '.switchyard/worker.ts']);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.scripts).toMatchObject({
      dev: 'switchyard dev',
      test: 'switchyard test',
      validate: 'switchyard validate',
    });
    expect(Object.keys(pkg.devDependencies)).toEqual(['node', 'switchyard', 'wrangler']);
    const validate = cli(['validate'], dir);
    expect(validate.code, validate.stderr).toBe(0);
    const test = cli(['test'], dir);
    expect(test.stdout, test.stderr).toMatch(/2 passed, 0 failed/);
  }, 120_000);

  it("--template cookbook is this repository's app, renamed, with its entry in .switchyard/", () => {
    const dir = join(work, 'shop');
    expect(cli(['init', dir]).code).toBe(0);
    const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8');
    expect(toml).toMatch(/^name = "shop"$/m);
    expect(toml).toMatch(/^main = ".switchyard\/worker.ts"$/m);
    expect(toml).toContain('queue = "shop-events"');
    expect(toml).not.toContain('"switchyard');
    expect(readFileSync(join(dir, 'integrations.yaml'), 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=./node_modules/switchyard/schemas/manifest.schema.json',
    );
    const built = cli(['build', '--quiet'], dir);
    expect(built.code, built.stderr).toBe(0);
    expect(readFileSync(join(dir, '.switchyard/worker.ts'), 'utf8')).toContain(
      'export class SwitchyardEntrypoint extends worker.SwitchyardEntrypoint {}',
    );
  }, 120_000);

  it("--template empty: no integration yet, at this release's manifest version; it validates and its npm test passes until the first handler", () => {
    const dir = join(work, 'blank');
    expect(cli(['init', dir, '--template', 'empty']).code).toBe(0);
    const manifest = readFileSync(join(dir, 'integrations.yaml'), 'utf8');
    expect(manifest).toContain('integrations: {}');
    expect(manifest).toMatch(new RegExp(`^version: ${MANIFEST_VERSION}$`, 'm'));
    const validate = cli(['validate'], dir);
    expect([validate.code, validate.stderr]).toEqual([0, '']);
    // Its CI workflow runs npm test from the first push: nothing to test is a pass, said so.
    const nothing = cli(['test'], dir);
    expect([nothing.code, nothing.stdout.trim()]).toEqual([
      0,
      'nothing to test yet: the manifest has no handler or command (with the first, add tests/<name>.test.yaml)',
    ]);
    // A first handler without a test file is a gap, and fails.
    writeFileSync(
      join(dir, 'integrations.yaml'),
      manifest.replace(
        'integrations: {}',
        'integrations:\n  stripe:\n    provider: stripe\n    route: /webhooks/stripe\n    queue: events\n    handlers:\n      - on: customer.created\n        steps: [{ sql: "SELECT 1" }]\n',
      ),
    );
    writeFileSync(
      join(dir, '.dev.vars.example'),
      `${readFileSync(join(dir, '.dev.vars.example'), 'utf8')}STRIPE_WEBHOOK_SECRET=whsec_test\n`,
    );
    const gap = cli(['test'], dir);
    expect([gap.code, gap.stderr]).toEqual([1, expect.stringContaining('no test files: add tests/<name>.test.yaml')]);
  }, 60_000);

  it('refuses a folder that is not empty, and a provider the catalog does not have', () => {
    const taken = cli(['init', join(work, 'shop')]);
    expect([taken.code, taken.stderr]).toEqual([2, expect.stringContaining('exists and is not empty')]);
    const unknown = cli(['init', join(work, 'x'), '--providers', 'strype']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no provider "strype" in the catalog')]);
  });
});
