/**
 * The README and the guides in docs/ against the project as it is: the validate example is the output of a real run
 * of the README's own steps, the budget block is what `plan --budget` prints, the count of the manifest's test cases
 * is what `switchyard test` runs, the deploy steps leave nothing out, the README stays short and links every guide,
 * and every relative link resolves. (The webhook answers and the troubleshooting messages are checked in workerd:
 * test/worker/docs-answers.test.ts; the generated tables by `npm run types -- --check`.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { cli, defaultManifestText, projectWith, ROOT } from '../support/project.ts';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const README = read('README.md');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => `docs/${f}`);
const section = (text: string, heading: string) => {
  const start = text.indexOf(`\n## ${heading}`);
  expect(start, `a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
/** A page's text outside fenced code blocks (links and headings inside code are not links or headings). */
const prose = (text: string) => text.split(/^```[^\n]*\n[\s\S]*?^```$/m).join('\n');
const anchors = (text: string) =>
  new Set([...prose(text).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.replace(/`/g, ''))));
/** Relative links of a page: [text](target) and ![alt](target), with the page they are in. */
const linksOf = (page: string) =>
  [...prose(read(page)).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));

describe('README', () => {
  it('is short: under 400 lines (the guides are in docs/)', () => {
    expect(README.split('\n').length).toBeLessThan(400);
  });

  it('states the Node versions package.json requires and installs', () => {
    const pkg = JSON.parse(read('package.json')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    expect(README).toContain(`Node.js ${pkg.engines.node.replace('>=', '>= ')}`);
    expect(README).toContain(`its own Node ${/\d+/.exec(pkg.devDependencies.node!)![0]}`);
  });

  it("step 2's validate example is what validate prints after step 1 (the integration added last)", () => {
    const steps = section(README, 'Five minutes: add a provider');
    const snippet = /```yaml\n([\s\S]*?)```/
      .exec(steps)![1]!
      .split('\n')
      .map((l) => l.replace(/^ {3}/, ''));
    const integration = snippet
      .slice(snippet.indexOf('integrations:') + 1)
      .join('\n')
      .trimEnd();
    const manifest = defaultManifestText().replace(/(\n\n(?:#[^\n]*\n)*auth:\n)/, `\n${integration}$1`);
    const path = projectWith(manifest);
    const shown = /```\n +(integrations\.yaml:\d+:\d+: error [^\n]*)\n/.exec(steps)![1]!;
    const run = cli(['validate'], dirname(path));
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`.split('\n')).toContain(shown);
  });

  it("leaves the dev loop's inputs to docs/development.md: the set-up names none as enough on its own", () => {
    // Issue 28: "rebuilds when integrations.yaml changes" read as enough, while a new secret or migration needed a restart.
    const setup = section(README, 'Set-up: two commands');
    expect(setup).toContain('(docs/development.md)');
    expect(setup).not.toMatch(/rebuilds when `integrations\.yaml` changes/);
  });

  it('links every page of docs/', () => {
    const linked = new Set(linksOf('README.md').map((t) => t.split('#')[0]));
    expect(DOCS.filter((page) => !linked.has(page))).toEqual([]);
  });
});

describe('docs/', () => {
  it('every relative link of the README and of docs/ resolves, to a file and to a heading', () => {
    const broken: string[] = [];
    for (const page of ['README.md', ...DOCS]) {
      for (const target of linksOf(page)) {
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const path = file ? relative(ROOT, join(ROOT, dirname(page), file)) : page;
        if (!existsSync(join(ROOT, path))) {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (anchor && path.endsWith('.md') && !anchors(read(path)).has(anchor))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every file of the project a page names in code (`test/worker/x.test.ts`) exists', () => {
    // Files a page tells the reader to create.
    const yours = new Set(['tests/capture.yaml']);
    const named =
      /`((?:test|runtime|cli|adapters|bench|catalog|examples|migrations|schemas|client|worker|scripts|templates|samples|tests|docs)\/[\w./-]+)`/g;
    const missing = ['README.md', ...DOCS].flatMap((page) =>
      [...read(page).matchAll(named)]
        .map((m) => m[1]!)
        .filter((p) => !yours.has(p) && !existsSync(join(ROOT, p)))
        .map((p) => `${page}: ${p}`),
    );
    expect(missing).toEqual([]);
  });

  it("capacity.md's budget block is what `switchyard plan --budget` prints for the default manifest (generated, never typed)", () => {
    const shown = /```\n(Budget \[default\]\n[\s\S]*?)```/.exec(read('docs/capacity.md'))?.[1];
    expect(shown, 'a Budget [default] block in docs/capacity.md').toBeDefined();
    const run = cli(['plan', '--budget'], ROOT);
    expect(run.code).toBe(0);
    expect(shown!.trimEnd()).toBe(run.stdout.trimEnd());
  });

  it("testing.md's count of the default manifest's cases is what `switchyard test` runs", () => {
    const shown = /The default manifest's tests cover all of them \((\d+) cases[^)]*\)/.exec(read('docs/testing.md'));
    expect(shown, "docs/testing.md says how many cases the default manifest's tests have").not.toBeNull();
    const run = cli(['test', '--json'], ROOT);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { passed: number; failed: number };
    expect(Number(shown![1])).toBe(report.passed + report.failed);
  });

  it('deploying.md covers login, every resource, migrations, the admin secret and organisation, and the logs', () => {
    const deploy = read('docs/deploying.md');
    for (const step of [
      'wrangler login',
      'wrangler d1 create',
      'wrangler kv namespace create',
      'wrangler r2 bucket create',
      'wrangler queues create',
      'switchyard migrate --remote',
      'secret put ADMIN_TOKEN',
      'ADMIN_ORG_ID',
      'deploy --dry-run',
      'wrangler tail',
    ]) {
      expect(deploy).toContain(step);
    }
  });

  it('manifest.md lists every table migrations/0001 creates (the contract the default projections write)', () => {
    const tables = [...read('migrations/0001_contract_tables.sql').matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map(
      (m) => m[1]!,
    );
    const listed = section(read('docs/manifest.md'), 'Contract tables');
    expect(tables.length).toBeGreaterThan(0);
    expect(tables.filter((t) => !listed.includes(`\`${t}\``))).toEqual([]);
  });
});

describe('migrations', () => {
  it('cite only documents the project has', () => {
    const cited: string[] = [];
    for (const dir of ['migrations', 'examples/postgres-migrations']) {
      for (const f of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.sql'))) {
        for (const m of read(`${dir}/${f}`).matchAll(/\b([\w./-]+\.md)\b/g))
          if (!existsSync(join(ROOT, m[1]!))) cited.push(`${dir}/${f}: ${m[1]}`);
      }
    }
    expect(cited).toEqual([]);
  });
});

describe('wrangler.toml', () => {
  it('turns Workers Logs on at the top level and in every environment', () => {
    const config = parse(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')) as {
      observability?: { enabled?: boolean };
      env: Record<string, { observability?: { enabled?: boolean } }>;
    };
    expect(config.observability?.enabled).toBe(true);
    for (const [name, env] of Object.entries(config.env))
      expect([name, env.observability?.enabled]).toEqual([name, true]);
  });
});
