/**
 * `switchyard dev` follows every input, on a copy of the project, as a developer edits it: the first run's output,
 * APP_URL on another port, .dev.vars and .dev.vars.example (wrangler restarts), templates and component files
 * (rebuilt, a component's new options known), a new migration (applied to the local D1), and the cron trigger,
 * fired on wrangler.toml's schedule across those restarts.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync, replaceOnce, ROOT } from '../support/project.ts';
import { devProject, startDevLoop, type DevLoop } from '../support/dev-project.ts';

/** A stack frame (`    at fn (file:1:2)`), a native one (`stack: …`), or an error dump. */
const STACK = /^\s+at .+[:(]\d+|^\s*stack: |getaddrinfo|ENOTFOUND/m;

// Each step waits for wrangler to restart or reload: on a loaded 2-core machine that has taken close to a minute.
describe('switchyard dev follows every input', { timeout: 240_000 }, () => {
  let dev: DevLoop;
  let firstRun = '';
  /** Where the output stood after the last step: each step reads only what came after. */
  let mark = 0;

  beforeAll(async () => {
    const dir = devProject({
      // The cron every minute, so the test sees it fire; the dev loop reads the schedule from wrangler.toml.
      wrangler: (t) => replaceOnce(t, 'crons = ["*/10 * * * *"]\n\n[vars]', 'crons = ["* * * * *"]\n\n[vars]'),
    });
    dev = await startDevLoop(dir);
    mark = await dev.waitFor(/serving on http:\/\/127\.0\.0\.1:\d+.*\n/, 0, 240_000);
    firstRun = dev.output().slice(0, mark);
  }, 300_000);
  afterAll(async () => dev?.stop(), 30_000);

  const send = async (...args: string[]) => {
    const sent = await cliAsync(['send', ...args], { cwd: dev.dir, env: { SWITCHYARD_URL: dev.url } });
    const id = /"id":"([^"]+)"/.exec(sent.stdout)?.[1];
    if (!id) throw new Error(`send ${args.join(' ')} answered no id:\n${sent.stdout}${sent.stderr}`);
    return { ...sent, id };
  };
  const welcome = (id: string) =>
    dev.query<{ payload: string; attempts: number }>(
      "SELECT payload, attempts FROM effects WHERE integration = 'clerk' AND event_id = ?",
      id,
    )[0]!;

  it('prints under 40 lines on a fresh first run, none of them a stack trace, with the migrations in one line', () => {
    const lines = firstRun.trimEnd().split('\n');
    expect(lines.length, firstRun).toBeLessThan(40);
    expect(firstRun).not.toMatch(STACK);
    const sql = (dir: string) =>
      readdirSync(join(ROOT, dir))
        .filter((f) => f.endsWith('.sql'))
        .sort();
    const [runtime, migrations] = [sql('runtime/migrations/d1'), sql('migrations')];
    const names = (list: string[]) => (list.length <= 2 ? list.join(', ') : `${list[0]} … ${list.at(-1)}`);
    expect(firstRun).toContain(`[switchyard] local D1: runtime tables applied ${runtime.length} (${names(runtime)})\n`);
    expect(firstRun).toContain(
      `[switchyard] local D1: applied ${migrations.length} migrations (${names(migrations)})\n`,
    );
    expect(firstRun).not.toMatch(/Environment Variable|Scheduled Workers are not automatically triggered/);
  });

  it("is the first run docs/development.md shows (its URL as npm run dev's own, wrangler's version, update and telemetry notices aside)", () => {
    const docs = readFileSync(join(ROOT, 'docs/development.md'), 'utf8');
    const shown = /<!-- first-run -->\n```\n([\s\S]*?)```/.exec(docs)?.[1];
    // Wrangler tells of its telemetry once per machine (the first time it runs there): not the dev loop's to print.
    const normal = (text: string) =>
      text
        .replaceAll(dev.url, 'http://localhost:8787')
        .replace(/wrangler \d+\.\d+\.\d+( \(update available [^)]*\))?/g, 'wrangler 4.x')
        .replace(/\n*Cloudflare collects anonymous telemetry about your usage of Wrangler\.[^\n]*\n/, '\n')
        .trimEnd();
    expect(normal(shown ?? ''), normal(firstRun)).toBe(normal(firstRun));
  });

  it("puts the server's own port in APP_URL, so links in local emails point at it", async () => {
    const { id } = await send('clerk', 'user.created');
    expect(welcome(id).payload).toContain(`Sign in any time at <a href=\\"${dev.url}\\">`);
  });

  it('restarts wrangler when .dev.vars changes, so a changed secret is in force', async () => {
    const file = join(dev.dir, '.dev.vars');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/^GITHUB_WEBHOOK_SECRET=.*$/m, 'GITHUB_WEBHOOK_SECRET=rotated_github_secret'),
    );
    mark = await dev.waitFor(/\[switchyard\] \.dev\.vars changed: restarting wrangler.*\n/, mark, 30_000);
    mark = await dev.waitFor(/\[switchyard\] restarted: serving on .*\n/, mark);
    const sent = await send('github', 'issues');
    expect(sent.stdout).toMatch(/-> 20[02] /);
  });

  it('carries a name new in .dev.vars.example into .dev.vars and restarts; an APP_URL set there is kept', async () => {
    appendFileSync(join(dev.dir, '.dev.vars.example'), 'APP_URL=https://app.example.test\n');
    mark = await dev.waitFor(/\[switchyard\] added APP_URL to \.dev\.vars from \.dev\.vars\.example\n/, mark, 30_000);
    expect(readFileSync(join(dev.dir, '.dev.vars'), 'utf8')).toMatch(/^APP_URL=https:\/\/app\.example\.test$/m);
    mark = await dev.waitFor(/\[switchyard\] restarted: serving on .*\n/, mark);
    const { id } = await send('clerk', 'user.created');
    expect(welcome(id).payload).toContain('Sign in any time at <a href=\\"https://app.example.test\\">');
  });

  it('says which secrets .dev.vars lacks', async () => {
    const file = join(dev.dir, '.dev.vars');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^SLACK_BOT_TOKEN=.*\n/m, ''));
    mark = await dev.waitFor(
      /\[switchyard\] \.dev\.vars lacks SLACK_BOT_TOKEN \(declared in \.dev\.vars\.example\): requests that need them answer 500 misconfigured\n/,
      mark,
      30_000,
    );
    mark = await dev.waitFor(/\[switchyard\] restarted: serving on .*\n/, mark);
  });

  it('rebuilds when a template changes', async () => {
    const file = join(dev.dir, 'templates/welcome.html');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        'Your account is ready.',
        'Your account is ready, and the template was edited.',
      ),
    );
    mark = await dev.waitFor(/\[switchyard\] template templates\/welcome\.html changed: rebuilt .*\n/, mark, 30_000);
    mark = await dev.waitFor(/Local server updated and ready\n/, mark);
    const { id } = await send('clerk', 'user.created');
    expect(welcome(id).payload).toContain('the template was edited');
  });

  it("rebuilds when a component file changes, with the file's new options (a stale copy would refuse them)", async () => {
    const component = (spec: string, note: string) => `import { defineComponent } from '../runtime/component/define.ts';
import { field } from '../runtime/component/spec.ts';
export const devNote = defineComponent({
  kind: 'action',
  name: 'dev-note',
  title: 'DevNoteAction',
  description: 'Records a note as its effect; sends nothing.',
  spec: { ${spec} },
  example: { action: 'dev-note', text: 'hello' },
  create(options) {
    return {
      type: 'dev-note',
      maxBatch: 1,
      prepare: () => ({ note: ${note} }),
      send: async (items) => items.map(() => ({ ok: true as const, result: {} })),
    };
  },
});
`;
    mkdirSync(join(dev.dir, 'components'), { recursive: true });
    const file = join(dev.dir, 'components/dev-note.ts');
    writeFileSync(file, component('text: field.string()', 'options.text'));
    const manifest = join(dev.dir, 'integrations.yaml');
    const step = '          - action: dev-note\n            text: first\n';
    const original = readFileSync(manifest, 'utf8');
    const withStep = (extra: string) =>
      replaceOnce(
        replaceOnce(original, '\nintegrations:\n', '\ncomponents:\n  - ./components/dev-note.ts\n\nintegrations:\n'),
        '        description: Upsert the user; an older event never overwrites newer state.\n        steps:\n',
        `        description: Upsert the user; an older event never overwrites newer state.\n        steps:\n${step}${extra}`,
      );
    writeFileSync(manifest, withStep(''));
    mark = await dev.waitFor(/\[switchyard\] manifest changed: rebuilt .*\n/, mark, 30_000);
    mark = await dev.waitFor(/Local server updated and ready\n/, mark);
    const note = (id: string) =>
      dev.query<{ payload: string }>(
        "SELECT payload FROM effects WHERE integration = 'clerk' AND event_id = ? AND action = 'dev-note'",
        id,
      )[0]?.payload;
    const first = await send('clerk', 'user.created');
    expect(JSON.parse(note(first.id)!)).toEqual({ note: 'first' });

    // A new option in the component, then used by the manifest: checked against the file as it is now.
    writeFileSync(
      file,
      component('text: field.string(), suffix: field.string().optional()', "options.text + (options.suffix ?? '')"),
    );
    // wrangler reloads the Worker's copy itself (the bundle imports the file); the rebuild reads its options again.
    mark = await dev.waitFor(/\[switchyard\] component components\/dev-note\.ts changed: rebuilt .*\n/, mark, 30_000);
    writeFileSync(manifest, withStep('            suffix: " and second"\n'));
    mark = await dev.waitFor(/\[switchyard\] manifest changed: rebuilt .*\n/, mark, 30_000);
    mark = await dev.waitFor(/Local server updated and ready\n/, mark);
    const second = await send('clerk', 'user.created');
    expect(JSON.parse(note(second.id)!)).toEqual({ note: 'first and second' });

    // Back to the manifest as it was, for the steps below.
    writeFileSync(manifest, original);
    mark = await dev.waitFor(/\[switchyard\] manifest changed: rebuilt .*\n/, mark, 30_000);
    mark = await dev.waitFor(/Local server updated and ready\n/, mark);
  });

  it('applies a new migration to the local D1 (a handler using its table dead-lettered with no such table before)', async () => {
    writeFileSync(join(dev.dir, 'migrations/0099_dev_probe.sql'), 'CREATE TABLE dev_probe (id TEXT PRIMARY KEY);\n');
    mark = await dev.waitFor(
      /\[switchyard\] new or changed migration migrations\/0099_dev_probe\.sql: restarting wrangler to apply it to the local D1\n/,
      mark,
      30_000,
    );
    mark = await dev.waitFor(/\[switchyard\] local D1: applied 1 migration \(0099_dev_probe\.sql\)\n/, mark, 60_000);
    mark = await dev.waitFor(/\[switchyard\] restarted: serving on .*\n/, mark);
    const manifest = join(dev.dir, 'integrations.yaml');
    writeFileSync(
      manifest,
      replaceOnce(
        readFileSync(manifest, 'utf8'),
        '    handlers:\n      - on: push\n',
        '    handlers:\n      - on: issues\n        steps:\n          - sql: INSERT INTO dev_probe (id) VALUES (:id)\n            params: { id: "@id" }\n      - on: push\n',
      ),
    );
    mark = await dev.waitFor(/\[switchyard\] manifest changed: rebuilt .*\n/, mark, 30_000);
    mark = await dev.waitFor(/Local server updated and ready\n/, mark);
    const { id } = await send('github', 'issues');
    await expect
      .poll(() => dev.query('SELECT id FROM dev_probe WHERE id = ?', id), { timeout: 30_000, interval: 250 })
      .toHaveLength(1);
  });

  it("fires wrangler.toml's cron on its schedule, across restarts: a retry whose queued message a restart dropped runs once due", async () => {
    // The welcome email fails (no network here) and is to be retried 30 s later; the restart drops that retry's queued
    // message (Miniflare holds it in memory). The cron's sweep takes the effect back once it is due.
    const { id } = await send('clerk', 'user.created');
    expect(welcome(id).attempts).toBe(1);
    appendFileSync(join(dev.dir, '.dev.vars'), '# touched\n');
    mark = await dev.waitFor(/\[switchyard\] restarted: serving on .*\n/, mark);
    mark = await dev.waitFor(/\[switchyard\] cron \* \* \* \* \*: ok\n/, mark, 90_000);
    await expect.poll(() => welcome(id).attempts, { timeout: 90_000, interval: 500 }).toBeGreaterThan(1);
  });
});

// Without a cron in wrangler.toml (it would write the counters on its own), so what a restart keeps is the dev loop's doing.
describe('switchyard dev keeps the usage counters an isolate holds in memory', { timeout: 240_000 }, () => {
  let dev: DevLoop;
  beforeAll(async () => {
    dev = await startDevLoop(
      devProject({ wrangler: (t) => replaceOnce(t, 'crons = ["*/10 * * * *"]\n\n[vars]', 'crons = []\n\n[vars]') }),
    );
    await dev.waitFor(/serving on http:\/\/127\.0\.0\.1:\d+.*\n/, 0, 240_000);
  }, 300_000);
  afterAll(async () => dev?.stop(), 30_000);

  const requests = () =>
    dev.query<{ n: number | null }>("SELECT SUM(n) AS n FROM usage WHERE metric = 'platform.worker_requests'")[0]?.n ??
    0;

  it('writes them before wrangler restarts, so the usage panel still counts the requests served before it', async () => {
    for (let i = 0; i < 3; i++) {
      const sent = await cliAsync(['send', 'github', 'issues'], { cwd: dev.dir, env: { SWITCHYARD_URL: dev.url } });
      expect(sent.stdout).toMatch(/-> 200 /);
    }
    // Held in the isolate's memory: written every 10 minutes, or by the cron.
    expect(requests()).toBe(0);
    let mark = dev.output().length;
    appendFileSync(join(dev.dir, '.dev.vars'), '# touched\n');
    mark = await dev.waitFor(/\[switchyard\] restarted: serving on .*\n/, mark);
    expect(requests()).toBeGreaterThanOrEqual(3);
  });
});
