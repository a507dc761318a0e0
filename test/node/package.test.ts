/**
 * switchyard as a package, the way a user meets it (issue 29): `npm pack`, then in an empty folder on the system's
 * Node 20 `npm create switchyard` from that tarball, `npm install`, the new project's `npm run dev` with a signed
 * Stripe event that lands in its D1, its `npm test` (switchyard test) and `wrangler deploy --dry-run`. Then the
 * upgrade: the same package with one more runtime migration, installed over it; the next `npm run dev` applies the
 * migration and every event, effect and dead letter is still there. And the upgrade a user makes: a project created
 * and filled by the previous release (this repository's commit before its newest runtime migration, packed from git)
 * takes this package, and its next `npm run dev` applies what this release added and loses nothing.
 *
 * Only the npm registry is reached (`--prefer-offline`: the machine's npm cache first). SYSTEM_NODE names the Node 20
 * to create with (default /usr/bin/node).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/project.ts';

const SYSTEM_NODE = process.env.SYSTEM_NODE ?? '/usr/bin/node';
const work = mkdtempSync(join(tmpdir(), 'switchyard-package-'));
const app = join(work, 'my-app');
/** The system's Node first on PATH, as a user's shell has it (not this repository's node_modules/.bin). */
const userEnv = {
  ...process.env,
  PATH: `${dirname(SYSTEM_NODE)}:/usr/bin:/bin`,
  CI: 'true',
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};
delete (userEnv as Record<string, string | undefined>).NODE_OPTIONS;
for (const key of Object.keys(userEnv))
  if (key.startsWith('npm_') && !/^npm_config_(update_notifier|fund|audit|cache)$/.test(key))
    delete (userEnv as Record<string, string | undefined>)[key];

/** Runs a command as the user would; returns its stdout and stderr together (stdout alone with `stdoutOnly`). */
function run(command: string, args: string[], cwd: string, stdoutOnly = false): string {
  const result = spawnSync(command, args, { cwd, env: userEnv, encoding: 'utf8', timeout: 240_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${output}`);
  return stdoutOnly ? result.stdout : output;
}
const npm = (args: string[], cwd = app) => run('npm', args, cwd);

function pack(dir: string, into: string, extra: string[] = []): string {
  const out = run('npm', ['pack', '--json', '--pack-destination', into, ...extra], dir, true);
  return join(into, (JSON.parse(out.slice(out.indexOf('\n[') + 1)) as { filename: string }[])[0]!.filename);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `npm run dev` in the project until it serves; returns the process (its own group) and what it printed. */
async function dev(project = app): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  const port = await freePort();
  let output = '';
  const child = spawn('npm', ['run', 'dev', '--', '--ip', '127.0.0.1', '--show-interactive-dev-session=false'], {
    cwd: project,
    env: { ...userEnv, PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 120_000;
  while (!/\[switchyard\] serving on /.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run dev did not serve:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, output: () => output, url: `http://127.0.0.1:${port}` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
}

/** Each statement's rows, from the project's local D1, through its own wrangler on its own Node (one call). */
function d1In(project: string, ...statements: string[]): Record<string, unknown>[][] {
  const out = run(
    join(project, 'node_modules/.bin/node'),
    [
      join(project, 'node_modules/wrangler/bin/wrangler.js'),
      'd1',
      'execute',
      'DB',
      '--local',
      '--json',
      '--command',
      statements.join(';\n'),
    ],
    project,
    true,
  );
  return (
    JSON.parse(out.slice(out.indexOf('['), out.lastIndexOf(']') + 1)) as { results: Record<string, unknown>[] }[]
  ).map((r) => r.results);
}

const d1 = (...statements: string[]) => d1In(app, ...statements);

/** What must survive an upgrade, by identity and content (a status may move on: a retry can run meanwhile). */
function snapshot(project = app) {
  const [events, effects, dead_letters] = d1In(
    project,
    'SELECT integration, id, type, body FROM events ORDER BY seq',
    'SELECT integration, event_id, step, action, payload FROM effects ORDER BY integration, event_id, step',
    'SELECT integration, stage, event_id, reason, raw_body FROM dead_letters ORDER BY seq',
  );
  return { events: events!, effects: effects!, dead_letters: dead_letters! };
}

/** `npm create switchyard DIR` from a packed tarball, in the work folder; returns what it printed. */
function create(from: string, name: string): string {
  const created = npm(
    [
      'exec',
      '--yes',
      '--prefer-offline',
      `--package=${from}`,
      '--',
      'create-switchyard',
      name,
      '--switchyard',
      `file:${from}`,
    ],
    work,
  );
  return created;
}

/**
 * One `npm run dev` of a project, sent what an upgrade must keep: a paid order (applied), a failed-payment email (an
 * effect: offline, Resend cannot answer, so it retries) and a delivery with no id (unmappable: a dead letter).
 */
async function fill(project: string): Promise<{ output: string; id: string }> {
  const server = await dev(project);
  running = server.child;
  const send = (args: string[]) =>
    npm(['run', '-s', 'switchyard', '--', 'send', 'stripe', ...args, '--url', server.url], project);
  const sent = send(['payment_intent.succeeded']);
  expect(sent, sent).toMatch(/-> 200 \{"status":"applied"/);
  send(['invoice.payment_failed']);
  writeFileSync(
    join(work, 'no-id.json'),
    JSON.stringify({ object: 'event', type: 'payment_intent.succeeded', created: 1767225600, data: { object: {} } }),
  );
  spawnSync(
    'npm',
    ['run', '-s', 'switchyard', '--', 'send', 'stripe', '--file', join(work, 'no-id.json'), '--url', server.url],
    {
      cwd: project,
      env: userEnv,
    },
  );
  await stop(server.child);
  running = undefined;
  return { output: server.output(), id: sent.match(/"id":"(evt_[^"]+)"/)![1]! };
}

/** The runtime migrations a package tree ships, by name. */
const runtimeMigrations = (root: string) =>
  readdirSync(join(root, 'runtime/migrations/d1'))
    .filter((f) => f.endsWith('.sql'))
    .sort();

let tarball: string;
let running: ChildProcess | undefined;

beforeAll(() => {
  expect(run(SYSTEM_NODE, ['--version'], work).trim(), 'the system Node this test creates with').toMatch(/^v20\./);
  tarball = pack(ROOT, work);
}, 240_000);

afterAll(async () => {
  if (running) await stop(running);
  rmSync(work, { recursive: true, force: true });
});

describe('npm create switchyard, from the packed package, on Node 20', () => {
  it('makes a project that holds only its own things, installs it, and its dev serves a signed Stripe event into D1', async () => {
    const created = create(tarball, 'my-app');
    expect(created).toContain('npm install && npm run dev');
    expect(readdirSync(app).sort()).toEqual([
      '.dev.vars.example',
      '.github',
      '.gitignore',
      'README.md',
      'integrations.yaml',
      'migrations',
      'package.json',
      'samples',
      'templates',
      'tests',
      'wrangler.toml',
    ]);
    // Its migrations are its own tables only: the runtime's come with the package.
    expect(readdirSync(join(app, 'migrations'))).toEqual(['0001_contract_tables.sql', '0003_consumer.sql']);
    const scripts = (JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    for (const name of ['dev', 'test', 'validate', 'deploy']) expect(scripts[name], name).toMatch(/switchyard/);
    npm(['install', '--prefer-offline']);

    const { output, id } = await fill(app);
    // Every runtime migration the package ships (runtime/migrations/d1), first and last named.
    const runtime = runtimeMigrations(ROOT);
    expect(output).toContain(
      `[switchyard] local D1: runtime tables applied ${runtime.length} (${runtime[0]} … ${runtime.at(-1)})`,
    );
    expect(output).toContain(
      '[switchyard] local D1: applied 2 migrations (0001_contract_tables.sql, 0003_consumer.sql)',
    );
    expect(d1(`SELECT integration, type, status FROM events WHERE id = '${id}'`)).toEqual([
      [{ integration: 'stripe', type: 'payment_intent.succeeded', status: 'applied' }],
    ]);
  }, 360_000);

  it("runs the project's own switchyard test and a wrangler deploy --dry-run", () => {
    expect(npm(['test'])).toMatch(/\b[1-9]\d* passed, 0 failed/);
    npm(['run', '-s', 'build']);
    expect(npm(['exec', '--', 'wrangler', 'deploy', '--dry-run', '--outdir', join(work, 'dry-run')])).toContain(
      '--dry-run: exiting now.',
    );
    expect(existsSync(join(work, 'dry-run/worker.js'))).toBe(true);
  }, 180_000);

  it('an upgrade with a new runtime migration applies it on the next npm run dev and keeps every event, effect and dead letter', async () => {
    const before = snapshot();
    expect(before.events.length).toBeGreaterThanOrEqual(2);
    expect(before.effects.length).toBeGreaterThanOrEqual(1);
    expect(before.dead_letters.length).toBeGreaterThanOrEqual(1);
    // The next release: this package with one more runtime migration, packed again as 0.1.1-next.
    const next = join(work, 'next');
    mkdirSync(next);
    run('tar', ['-xzf', tarball, '-C', next, '--strip-components=1'], work);
    writeFileSync(
      join(next, 'runtime/migrations/d1/0099_upgrade_probe.sql'),
      'ALTER TABLE events ADD COLUMN upgrade_probe TEXT;\nCREATE INDEX IF NOT EXISTS events_by_upgrade_probe ON events (upgrade_probe);\n',
    );
    const manifest = JSON.parse(readFileSync(join(next, 'package.json'), 'utf8')) as {
      version: string;
      scripts: Record<string, string>;
    };
    manifest.version = '0.1.1-next';
    delete manifest.scripts.prepack;
    writeFileSync(join(next, 'package.json'), JSON.stringify(manifest, null, 2));
    const nextTarball = pack(next, work, ['--ignore-scripts']);
    // npm update's work for a file: release (node's, esbuild's and workerd's install scripts ran on the first install).
    npm(['install', '--prefer-offline', '--ignore-scripts', `switchyard@file:${nextTarball}`]);
    expect(run(SYSTEM_NODE, ['-p', "require('./node_modules/switchyard/package.json').version"], app).trim()).toBe(
      '0.1.1-next',
    );

    const server = await dev();
    running = server.child;
    expect(server.output()).toContain('[switchyard] local D1: runtime tables applied 1 (0099_upgrade_probe.sql)');
    await stop(server.child);
    running = undefined;
    expect(
      d1(
        "SELECT name, how FROM switchyard_migrations WHERE name = '0099_upgrade_probe.sql'",
        "SELECT count(*) AS n FROM pragma_table_info('events') WHERE name = 'upgrade_probe'",
      ),
    ).toEqual([[{ name: '0099_upgrade_probe.sql', how: 'ran' }], [{ n: 1 }]]);
    expect(snapshot()).toEqual(before);
  }, 300_000);
});

/**
 * The release before this one, from this repository's history: the commit on main just before the newest runtime
 * migration landed (its first parent). Undefined in a clone without that history (a shallow clone).
 */
function previousRelease(): string | undefined {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const newest = runtimeMigrations(ROOT).at(-1)!;
  const landed = git('log', '--first-parent', '--format=%H', '-1', '--', `runtime/migrations/d1/${newest}`);
  return (landed && git('rev-parse', '--verify', '--quiet', `${landed}^1`)) || undefined;
}

const previous = previousRelease();

describe('an upgrade from the previous release (the commit before the newest runtime migration)', () => {
  it.skipIf(!previous)(
    `a project made and filled by ${previous?.slice(0, 7)}'s package takes this one: the next npm run dev applies the new runtime migrations, keeps every event, effect and dead letter, and serves`,
    async () => {
      // That commit's tree, packed as its release was (its own prepack, on this checkout's dependencies).
      const tree = join(work, 'previous');
      mkdirSync(join(tree, 'packed'), { recursive: true });
      run('bash', ['-c', `git -C '${ROOT}' archive '${previous}' | tar -x -C '${tree}'`], work);
      symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
      const added = runtimeMigrations(ROOT).filter((m) => !runtimeMigrations(tree).includes(m));
      expect(added.length, 'runtime migrations this release adds').toBeGreaterThan(0);
      const old = pack(tree, join(tree, 'packed'));

      const project = join(work, 'old-app');
      create(old, 'old-app');
      npm(['install', '--prefer-offline'], project);
      const first = await fill(project);
      expect(first.output).toContain(`runtime tables applied ${runtimeMigrations(tree).length} (`);
      const before = snapshot(project);
      expect(before.events.length).toBeGreaterThanOrEqual(2);
      expect(before.effects.length).toBeGreaterThanOrEqual(1);
      expect(before.dead_letters.length).toBeGreaterThanOrEqual(1);

      // npm update's work: this release's tarball over the old one.
      npm(['install', '--prefer-offline', '--ignore-scripts', `switchyard@file:${tarball}`], project);
      expect(existsSync(join(project, 'node_modules/switchyard/runtime/migrations/d1', added.at(-1)!))).toBe(true);
      const server = await dev(project);
      running = server.child;
      expect(server.output()).toContain(`[switchyard] local D1: runtime tables applied ${added.length} (`);
      expect(server.output()).toContain(added.at(-1));
      const sent = npm(
        ['run', '-s', 'switchyard', '--', 'send', 'stripe', 'payment_intent.succeeded', '--url', server.url],
        project,
      );
      expect(sent, sent).toMatch(/-> 200 \{"status":"applied"/);
      await stop(server.child);
      running = undefined;

      const [applied] = d1In(project, 'SELECT name, how FROM switchyard_migrations ORDER BY name');
      for (const name of added) expect(applied).toContainEqual({ name, how: 'ran' });
      const after = snapshot(project);
      expect(after.events.slice(0, before.events.length)).toEqual(before.events);
      expect(after.events.length).toBe(before.events.length + 1);
      expect(after.effects).toEqual(expect.arrayContaining(before.effects));
      expect(after.dead_letters).toEqual(before.dead_letters);
    },
    480_000,
  );
});
