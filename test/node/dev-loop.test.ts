/**
 * The dev loop: the manifest watcher across atomic saves, the port of `switchyard dev` (flag and PORT), its URL in
 * .switchyard/dev-url while it serves, and the local dev issuer it switches on (`switchyard token`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import { devAppUrl, devPlan, watchManifest } from '../../cli/commands/dev.ts';
import { classify, templateFiles } from '../../cli/lib/dev-inputs.ts';
import { DEV_URL_FILE } from '../../cli/lib/dev-url.ts';
import { serverUrl } from '../../cli/lib/server.ts';
import { readWranglerEnvironment } from '../../cli/lib/wrangler-config.ts';
import { projectFor } from '../../cli/lib/project.ts';
import { tokenCommand } from '../../cli/commands/token.ts';
import { CLI, ROOT } from '../support/project.ts';
import { freePort } from '../support/wrangler-dev.ts';

const until = async (probe: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('watchManifest', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((close) => close()));

  /** What vim, JetBrains and `sed -i` do: write a new file beside the old one and rename it over it. */
  const atomicSave = (file: string, text: string) => {
    const temp = join(file, '..', `.${Date.now()}.swp`);
    writeFileSync(temp, text);
    renameSync(temp, file);
  };

  it('sees every atomic save, not only the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-watch-'));
    const file = join(dir, 'integrations.yaml');
    writeFileSync(file, 'version: 1\n');
    const seen: string[] = [];
    const watcher = watchManifest(file, () => seen.push(readFileSync(file, 'utf8')), 50);
    closers.push(() => watcher.close());
    atomicSave(file, 'version: 1 # first\n');
    await until(() => seen.length === 1);
    atomicSave(file, 'version: 1 # second\n');
    await until(() => seen.length === 2);
    writeFileSync(file, 'version: 1 # third, in place\n');
    await until(() => seen.length === 3);
    expect(seen).toEqual(['version: 1 # first\n', 'version: 1 # second\n', 'version: 1 # third, in place\n']);
  });

  it('ignores other files in the folder and folds a burst of writes into one rebuild', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-watch-'));
    const file = join(dir, 'integrations.yaml');
    writeFileSync(file, 'version: 1\n');
    let calls = 0;
    const watcher = watchManifest(file, () => calls++, 100);
    closers.push(() => watcher.close());
    writeFileSync(join(dir, 'other.yaml'), 'x: 1\n');
    for (let i = 0; i < 5; i++) writeFileSync(file, `version: 1 # ${i}\n`);
    await until(() => calls === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
  });
});

describe('devPlan', () => {
  it('passes exactly one --port: the flag, else PORT, else 8787', () => {
    expect(devPlan(['--port', '8801'], {}).wranglerArgs).toEqual(['--port', '8801']);
    expect(devPlan(['--port=8801', '--local'], {}).wranglerArgs).toEqual(['--port', '8801', '--local']);
    expect(devPlan([], { PORT: '8802' })).toMatchObject({
      port: 8802,
      url: 'http://localhost:8802',
      wranglerArgs: ['--port', '8802'],
    });
    expect(devPlan(['--port', '8803'], { PORT: '8802' }).port).toBe(8803);
    expect(devPlan([], {})).toMatchObject({ port: 8787, url: 'http://localhost:8787', devAuth: true });
  });

  it('refuses a port that is not one, and shares --persist-to and --env with the migrations', () => {
    expect(() => devPlan(['--port', 'http'], {})).toThrow(/invalid port "http"/);
    expect(() => devPlan([], { PORT: '99999' })).toThrow(/from PORT/);
    const plan = devPlan(['--ip', '127.0.0.1', '--persist-to', '/tmp/x', '--no-dev-auth'], {});
    expect(plan).toMatchObject({
      url: 'http://127.0.0.1:8787',
      devAuth: false,
      envFile: false,
      migrationArgs: ['--persist-to', '/tmp/x'],
    });
    expect(devPlan(['--env-file', '.dev.vars.example'], {})).toMatchObject({
      envFile: true,
      envFilePath: '.dev.vars.example',
    });
    expect(devPlan(['--env', 'staging', '--config', 'other.toml'], {})).toMatchObject({
      environment: 'staging',
      config: 'other.toml',
      migrationArgs: ['--env', 'staging', '--config', 'other.toml'],
    });
    expect(plan.wranglerArgs).toEqual(['--port', '8787', '--ip', '127.0.0.1', '--persist-to', '/tmp/x']);
  });
});

describe('devAppUrl', () => {
  const plan = devPlan(['--port', '8811'], {});
  it("follows the server's port where APP_URL is this machine's, and leaves one the user chose alone", () => {
    expect(devAppUrl(plan, 'http://localhost:8787', {})).toBe('http://localhost:8811');
    expect(devAppUrl(plan, 'http://127.0.0.1:8787/app/', {})).toBe('http://localhost:8811/app');
    expect(devAppUrl(plan, undefined, {})).toBe('http://localhost:8811');
    expect(devAppUrl(plan, 'http://localhost:8787', { APP_URL: 'http://localhost:8787' })).toBeUndefined();
    expect(devAppUrl(plan, 'https://staging.example.com', {})).toBeUndefined();
    expect(devAppUrl(devPlan(['--port', '8812', '--ip', '127.0.0.1'], {}), 'http://localhost:8787', {})).toBe(
      'http://127.0.0.1:8812',
    );
  });
});

describe('the crons the dev loop fires', () => {
  it("are wrangler.toml's [triggers] crons, an environment's own under --env", () => {
    const text = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').replace(
      '[env.staging.triggers]\ncrons = ["*/10 * * * *"]',
      '[env.staging.triggers]\ncrons = ["0 * * * *", "30 2 * * *"]',
    );
    expect(readWranglerEnvironment(text)?.crons).toEqual(['*/10 * * * *']);
    expect(readWranglerEnvironment(text, 'staging')?.crons).toEqual(['0 * * * *', '30 2 * * *']);
  });
});

describe('the inputs the dev loop follows', () => {
  it("finds every template file the manifest names, any environment's, and classifies changed paths", () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-inputs-'));
    const manifest = join(dir, 'integrations.yaml');
    writeFileSync(
      manifest,
      'templates:\n  a: { subject: x, html_file: templates/a.html }\nenvironments:\n  staging:\n    templates:\n      b: { subject: y, text_file: mail/b.txt }\n',
    );
    expect(templateFiles(manifest)).toEqual([join(dir, 'templates/a.html'), join(dir, 'mail/b.txt')]);
    writeFileSync(manifest, 'templates: [unclosed\n');
    expect(templateFiles(manifest)).toEqual([]);
    const inputs = {
      files: new Map([[join(dir, '.dev.vars'), 'secrets' as const]]),
      migrations: join(dir, 'migrations'),
    };
    expect(classify(inputs, join(dir, '.dev.vars'))).toBe('secrets');
    expect(classify(inputs, join(dir, 'migrations/0022_new.sql'))).toBe('migration');
    expect(classify(inputs, join(dir, 'migrations/notes.md'))).toBeUndefined();
    expect(classify(inputs, join(dir, '.dev.vars.swp'))).toBeUndefined();
  });
});

describe('switchyard dev', () => {
  it('serves on --port, writes its URL to .switchyard/dev-url, accepts `switchyard token` tokens, and cleans up on exit', async () => {
    const [port, inspector] = [await freePort(), await freePort()];
    const persist = mkdtempSync(join(tmpdir(), 'switchyard-dev-loop-'));
    const devUrl = join(ROOT, '.switchyard', DEV_URL_FILE);
    const hadDevVars = existsSync(join(ROOT, '.dev.vars'));
    let output = '';
    const child = spawn(
      process.execPath,
      [
        CLI,
        'dev',
        '--port',
        String(port),
        '--ip',
        '127.0.0.1',
        '--inspector-port',
        String(inspector),
        '--persist-to',
        persist,
        '--env-file',
        '.dev.vars.example',
        '--show-interactive-dev-session=false',
      ],
      { cwd: ROOT, env: { ...process.env, CI: 'true', PORT: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    try {
      await until(() => {
        if (child.exitCode !== null) throw new Error(`switchyard dev exited:\n${output}`);
        return existsSync(devUrl) && readFileSync(devUrl, 'utf8').trim() === url;
        // wrangler dev's first start bundles the Worker and boots workerd: on a 2-core CI machine that also builds
        // the million-event scale fixture beside it, that has taken more than 90 s.
      }, 150_000);
      expect(output).not.toMatch(/expects a single value/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const project = projectFor(join(ROOT, 'integrations.yaml'));
      const saved = process.env.SWITCHYARD_URL;
      delete process.env.SWITCHYARD_URL;
      expect(serverUrl(project)).toBe(url);
      process.env.SWITCHYARD_URL = 'https://staging.example.com/';
      expect(serverUrl(project)).toBe('https://staging.example.com');
      if (saved === undefined) delete process.env.SWITCHYARD_URL;
      else process.env.SWITCHYARD_URL = saved;
      expect(existsSync(join(ROOT, '.dev.vars'))).toBe(hadDevVars); // --env-file: .dev.vars is not created

      const minted = await token(
        '--provider',
        'clerk',
        '--sub',
        'user_1',
        '--claim',
        'org_role=org:admin',
        '--claim',
        'org_id=org_dev_switchyard',
      );
      expect(minted).toMatchObject({ status: 0, stderr: '' });
      const token_ = minted.stdout.trim();
      expect(decodeJwt(token_)).toMatchObject({
        iss: 'switchyard-dev',
        sub: 'user_1',
        org_role: 'org:admin',
        org_id: 'org_dev_switchyard',
        switchyard_dev_provider: 'clerk',
      });
      const res = await fetch(`${url}/admin/api/dead-letters`, { headers: { authorization: `Bearer ${token_}` } });
      expect(res.status).toBe(200);
    } finally {
      // A child that already exited (it failed to start) fires no second 'exit': waiting for one would hide its output
      // behind the test's timeout.
      const exited =
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise((r) => child.on('exit', r));
      if (child.exitCode === null) child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      await exited;
    }
    expect(existsSync(devUrl) && readFileSync(devUrl, 'utf8').trim() === url).toBe(false);
    expect(serverUrl(projectFor(join(ROOT, 'integrations.yaml')), undefined)).not.toBe(url);
  }, 200_000);
});

describe('switchyard token', () => {
  it('refuses unknown flags, a provider the manifest lacks, and a claim without a value', async () => {
    expect(await token('--provider', 'clerk', '--nope')).toMatchObject({
      status: 2,
      stdout: '',
      stderr: expect.stringMatching(/unknown flag --nope/),
    });
    expect(await token('--provider', 'okta')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/no auth provider "okta".*clerk/),
    });
    expect(await token('--provider', 'clerk', '--claim', 'org_role')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/expected name=value/),
    });
  });

  it('parses JSON claim values (role lists) and keeps the rest as strings', async () => {
    const minted = await token('--claim', 'roles=["a","b"]', '--claim', 'org_id=123', '--ttl', '5m');
    expect(minted.status).toBe(0);
    const claims = decodeJwt(minted.stdout.trim());
    expect(claims).toMatchObject({
      roles: ['a', 'b'],
      org_id: '123',
      sub: 'user_dev',
      switchyard_dev_provider: 'clerk',
    });
    expect(claims.exp! - claims.iat!).toBe(300);
  });
});

/** Runs `switchyard token` in this process (the dispatcher's table is another module's), capturing its output. */
async function token(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void (stdout += `${a.join(' ')}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void (stderr += `${a.join(' ')}\n`));
  try {
    return { status: await tokenCommand(args), stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
