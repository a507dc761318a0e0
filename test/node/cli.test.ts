/** The CLI behaves like the tools its users know: help, version, usage errors, --json, colour, URLs and errors. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestTests, validate } from '../support/in-process.ts';
import { CLI, cli, cliAsync, defaultManifestText, projectWith, replaceOnce, ROOT } from '../support/project.ts';
import { fillSample } from '../../cli/lib/sign-sample.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every ANSI colour sequence
const ANSI = /\u001b\[/;
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A stand-in for the runtime: answers each request with `answer`, and records what it was asked. */
async function fakeServer(answer: (req: IncomingMessage, body: string) => [number, unknown]) {
  const seen: { method: string; url: string; authorization?: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      const [status, json] = answer(req, body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  servers.push(server);
  return { url, seen };
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

const admin = { ADMIN_TOKEN: 'cli-test-token', SWITCHYARD_URL: undefined };

describe('help, version and usage errors', () => {
  it('prints help on stdout and exits 0, for every way of asking', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const { code, stdout, stderr } = cli(args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout).toContain('usage: switchyard <command>');
      expect(stdout).toMatch(/exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 /);
      expect(stderr).toBe('');
    }
    for (const args of [
      ['help', 'replay'],
      ['replay', '--help'],
      ['send', '-h'],
    ]) {
      const { code, stdout } = cli(args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout).toContain(`usage: switchyard ${args.find((a) => !a.startsWith('-') && a !== 'help')}`);
    }
  });

  it('does not run a command asked for its help', () => {
    const { code, stdout } = cli(['validate', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: switchyard validate');
    expect(stdout).not.toContain('valid for');
  });

  it('prints the package version', () => {
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('names an unknown command or flag with the nearest known one, and exits 2', () => {
    const command = cli(['valdate']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "valdate" (did you mean "validate"?)');
    const flag = cli(['replay', '--list', '--jsn']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown flag --jsn (did you mean --json?)');
    expect(cli(['validate', '--budgte']).stderr).toContain('did you mean --budget?');
  });
});

describe('validate and test, end to end', () => {
  // test/node/validate.test.ts and manifest-test.test.ts run these commands in-process (the fast tier); here the real CLI, spawned.
  it('exits 0 on a valid manifest and 1 on problems, printing what the in-process command prints, byte for byte', async () => {
    const text = replaceOnce(defaultManifestText(), 'binding: FULFILLMENT_QUEUE', 'binding: SHIPPING_QUEUE').replace(
      'queue: events',
      'queue: evnets',
    );
    const bad = projectWith(text);
    const ok = cli(['validate', '--budget']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid for default \([0-9a-f]{12}\), staging/);
    expect(ok.stdout).toContain('Budget [default]');
    const failed = cli(['validate', bad]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('queue "evnets" is not declared under queues: (did you mean "events"?)');
    expect(failed.stderr).toMatch(/\n2 problems found\n$/);
    const json = cli(['validate', '--json', bad]);
    expect(json.code).toBe(1);
    for (const [args, spawned] of [
      [['--budget'], ok],
      [[bad], failed],
      [['--json', bad], json],
    ] as const) {
      expect(await validate([...args])).toEqual({ code: spawned.code, stdout: spawned.stdout, stderr: spawned.stderr });
    }
  });

  it('switchyard test exits 1 on a failing case, printing what the in-process command prints (timings aside)', async () => {
    const dir = dirname(
      projectWith(replaceOnce(defaultManifestText(), "status = replace(:type, 'email.', '')", 'status = :type')),
    );
    for (const d of ['tests', 'samples']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    const spawned = cli(['test'], dir);
    expect(spawned.code).toBe(1);
    expect(spawned.stdout).toMatch(/\n\d+ passed, 1 failed \(\d+ ms\)\n$/);
    const timeless = (text: string) => text.replace(/\(\d+ ms\)/g, '(N ms)');
    const inProcess = await manifestTests([join(dir, 'integrations.yaml')]);
    expect({ ...inProcess, stdout: timeless(inProcess.stdout) }).toEqual({
      code: spawned.code,
      stdout: timeless(spawned.stdout),
      stderr: spawned.stderr,
    });
  });
});

describe('switchyard types', () => {
  it('the checked-in schema and generated types are fresh', () => {
    const { code, stdout, stderr } = cli(['types', '--check']);
    expect(stderr).toBe('');
    expect(stdout).toContain('up to date');
    expect(code).toBe(0);
  });
});

describe('--json on every listing command', () => {
  it('validate --json prints one object', () => {
    const { code, stdout } = cli(['validate', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ valid: true, problems: [] });
    expect(result.environments.map((e: { name: string }) => e.name)).toEqual(['default', 'staging', 'production']);
  });

  it('validate --json lists problems with their place', () => {
    const { code, stdout } = cli([
      'validate',
      '--json',
      projectWith(defaultManifestText().replace('queue: events', 'queue: evnets')),
    ]);
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.valid).toBe(false);
    expect(result.problems[0]).toMatchObject({
      file: expect.stringContaining('integrations.yaml'),
      line: expect.any(Number),
      column: expect.any(Number),
    });
  });

  it('plan --json prints the changes as data', () => {
    const { code, stdout } = cli(['plan', '--from', 'HEAD', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ environment: 'default', from: 'HEAD', changes: [] });
  });

  it('replay --list --json prints the dead letters', async () => {
    const letter = {
      seq: 3,
      integration: 'stripe',
      stage: 'apply',
      event_id: 'evt_1',
      reason: 'boom',
      attempts: 5,
      last_failed_at: '2026-01-01T00:00:00Z',
    };
    const server = await fakeServer(() => [200, { dead_letters: [letter] }]);
    const { code, stdout } = await cliAsync(['replay', '--list', '--json', '--url', server.url], { env: admin });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([letter]);
  });
});

describe('colour', () => {
  it('is used on a terminal only, and never with NO_COLOR', () => {
    const bad = projectWith(defaultManifestText().replace('queue: events', 'queue: evnets'));
    expect(cli(['validate', bad]).stderr).not.toMatch(ANSI);
    // `script` gives the CLI a terminal (a colour one: Node itself turns colour off under CI=true or TERM=dumb).
    const onTty = (env: Record<string, string>) =>
      spawnSync('script', ['-qec', `${process.execPath} ${CLI} validate ${bad}`, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, FORCE_COLOR: undefined, CI: undefined, TERM: 'xterm-256color', ...env },
      }).stdout;
    expect(onTty({})).toMatch(ANSI);
    expect(onTty({ NO_COLOR: '1' })).not.toMatch(ANSI);
  });
});

describe('finding the project and the server', () => {
  it('finds the manifest by walking up from the current directory', () => {
    const { code, stdout } = cli(['validate'], join(ROOT, 'cli'));
    expect(code).toBe(0);
    expect(stdout).toContain(`${join(ROOT, 'integrations.yaml')}: valid`);
  });

  it('talks to SWITCHYARD_URL when there is no --url', async () => {
    const server = await fakeServer(() => [200, { dead_letters: [] }]);
    const { code } = await cliAsync(['replay', '--list'], { env: { ...admin, SWITCHYARD_URL: server.url } });
    expect(code).toBe(0);
    expect(server.seen.map((s) => s.url)).toEqual(['/admin/api/dead-letters']);
  });

  it('talks to the URL the dev server recorded when nothing else is given', async () => {
    const server = await fakeServer(() => [200, { dead_letters: [] }]);
    const dir = dirname(projectWith(defaultManifestText()));
    mkdirSync(join(dir, '.switchyard'), { recursive: true });
    writeFileSync(join(dir, '.switchyard/dev-url'), `${server.url}\n`);
    const { code } = await cliAsync(['replay', '--list'], { cwd: dir, env: admin });
    expect(code).toBe(0);
    expect(server.seen).toHaveLength(1);
  });
});

describe('friendly errors', () => {
  it('hints at npm run dev or --url when no server answers, in one line', async () => {
    const url = await closedPort();
    for (const args of [
      ['replay', '--list'],
      ['rebuild', 'orders'],
      ['send', 'stripe'],
    ]) {
      const { code, stdout, stderr } = await cliAsync([...args, '--url', url], {
        env: { ...admin, STRIPE_WEBHOOK_SECRET: 'whsec_test' },
      });
      expect(code, args.join(' ')).toBe(1);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toContain('npm run dev');
      expect(stderr).toContain('--url');
      expect(stderr + stdout).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a --file that does not exist instead of sending an empty body', async () => {
    const server = await fakeServer(() => [202, {}]);
    const { code, stderr } = await cliAsync(['send', 'stripe', '--file', 'missing.json', '--url', server.url], {
      env: { ...admin, STRIPE_WEBHOOK_SECRET: 'whsec_test' },
    });
    expect(code).toBe(1);
    expect(stderr).toContain('missing.json: no such file');
    expect(server.seen).toEqual([]);
  });

  it('says when an integration has no samples', () => {
    // Without `provider:` (whose catalog sample send would use), and with no samples/github/ in the project.
    const inline = replaceOnce(
      defaultManifestText(),
      '    provider: github\n',
      '    verifier: { type: hmac, secret: GITHUB_WEBHOOK_SECRET, header: X-Hub-Signature-256, prefix: "sha256=" }\n    event: { id: { header: X-GitHub-Delivery }, type: { header: X-GitHub-Event } }\n',
    );
    const { code, stderr } = cli(['send', 'github'], dirname(projectWith(inline)));
    expect(code).toBe(1);
    expect(stderr).toContain('no samples for github');
    expect(stderr).not.toContain('  ');
  });

  it('names the tables and integrations when asked to rebuild something else', async () => {
    const server = await fakeServer(() => [
      200,
      { processed: 0, statements: 0, skipped: 0, total: 0, next_cursor: null },
    ]);
    const { code, stderr } = await cliAsync(['rebuild', 'ordrs', '--url', server.url], { env: admin });
    expect(code).toBe(1);
    expect(stderr).toContain('ordrs is neither a table the manifest writes nor an integration (did you mean orders?)');
    expect(stderr).toMatch(/tables: .*orders/);
    expect(stderr).toMatch(/integrations: .*stripe/);
    expect(server.seen).toEqual([]);
  });

  it('fails when --seq matches no dead letter, and on a --seq that is not a number', async () => {
    const server = await fakeServer(() => [200, { replayed: [], skipped: [] }]);
    const none = await cliAsync(['replay', '--seq', '99', '--url', server.url], { env: admin });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no dead letter #99');
    const bad = cli(['replay', '--seq', '1,x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--seq takes numbers separated by commas, not "x"');
  });

  it('replay --list prints why each dead letter failed (its error), not only the kind of failure', async () => {
    const error = 'resend answered 422: {"name":"validation_error","message":"Invalid `to` field."}\nafter 5 attempts';
    const letter = {
      seq: 7,
      integration: 'clerk',
      stage: 'effect',
      event_id: 'evt_9',
      reason: 'permanent',
      error,
      attempts: 5,
      last_failed_at: '2026-01-01T00:00:00Z',
    };
    const server = await fakeServer(() => [200, { dead_letters: [letter] }]);
    const { code, stdout } = await cliAsync(['replay', '--list', '--url', server.url], { env: admin });
    expect(code).toBe(0);
    expect(stdout).toContain('#7  clerk  effect  evt_9  permanent  attempts=5  2026-01-01T00:00:00Z\n');
    expect(stdout).toContain(
      '    resend answered 422: {"name":"validation_error","message":"Invalid `to` field."}\n    after 5 attempts\n',
    );
  });

  it('capture --out with an absolute path writes the cases there, after the fixtures, and switchyard test runs them', async () => {
    const dir = dirname(projectWith(defaultManifestText()));
    const event = { integration: 'clerk', id: 'evt_abs', type: 'user.created', status: 'applied' };
    const payload = JSON.parse(
      fillSample(readFileSync(join(ROOT, 'samples/clerk/user.created.json'), 'utf8'), Date.now(), 'abs1'),
    );
    const server = await fakeServer((req) =>
      req.url!.startsWith('/admin/api/events?')
        ? [200, { events: [event] }]
        : [200, { event: { ...event, occurred_at: null, payload } }],
    );
    const out = join(mkdtempSync(join(tmpdir(), 'switchyard-out-')), 'nested', 'captured.test.yaml');
    const run = await cliAsync(['capture', '--url', server.url, '--out', out], { cwd: dir, env: admin });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('captured 1 event');
    // The fixture stays in the project's tests/fixtures/, named relative to the file that points at it.
    const fixture = join(dir, 'tests/fixtures/clerk/user.created.evt_abs.json');
    expect(readFileSync(out, 'utf8')).toContain(`file: ${relative(dirname(out), fixture)}`);
    expect(JSON.parse(readFileSync(fixture, 'utf8'))).toMatchObject({ type: 'user.created' });
    const tested = await cliAsync(['test', out], { cwd: dir });
    expect(tested.stdout).toContain('1 passed, 0 failed');
    expect(tested.code).toBe(0);
  });

  it('tells a refused admin token from a missing one', async () => {
    const server = await fakeServer(() => [
      401,
      { error: 'unauthorized', message: 'admin credentials required', reason: 'bad_token' },
    ]);
    const { code, stderr } = await cliAsync(['replay', '--list', '--url', server.url], { env: admin });
    expect(code).toBe(1);
    expect(stderr).toContain('the admin token was refused');
    expect(server.seen[0]!.authorization).toBe('Bearer cli-test-token');
  });
});
