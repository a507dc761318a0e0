/**
 * `switchyard dev [--port N] [--no-dev-auth] [wrangler dev args…]`: the embedded default. Builds the manifest,
 * applies the D1 migrations locally, starts `wrangler dev` (http://localhost:8787 unless `--port` or PORT says
 * otherwise) with local D1, KV and Queues, and follows every input (docs/development.md): the manifest, its
 * templates and its own component files rebuild (wrangler reloads the Worker; a broken edit is reported and the last good build kept);
 * .dev.vars, .dev.vars.example and a new migration restart wrangler, the migration applied first. APP_URL follows
 * the port, and wrangler.toml's crons are fired on their schedule, since wrangler dev fires none.
 *
 * While the server answers, its URL is in `.switchyard/dev-url`, so other commands find it; the file is removed on
 * exit. The local dev issuer (runtime/edge/dev-auth.ts) is on unless `--no-dev-auth`: `switchyard token` mints tokens.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { addMissingDevVars, missingDevVars, readDevVars } from '../lib/dev-vars.ts';
import { devAuthVars, ensureDevAuthKey } from '../lib/dev-auth.ts';
import { clearDevUrl, DEFAULT_DEV_PORT, DEV_URL_FILE, writeDevUrl } from '../lib/dev-url.ts';
import { applyLocalMigrations, applyRuntimeMigrations } from '../lib/dev-migrations.ts';
import {
  classify,
  ownComponentFiles,
  templateFiles,
  watchInputs,
  type DevInput,
  type DevInputs,
} from '../lib/dev-inputs.ts';
import { wranglerOutput } from '../lib/dev-output.ts';
import { parseCron, scheduleCrons, type Cron } from '../lib/cron.ts';
import { PACKAGE_ROOT, projectFor, writeIfChanged, type Project } from '../lib/project.ts';
import { defineCommand } from '../lib/command.ts';
import { spawnWrangler } from '../lib/wrangler.ts';
import { readWranglerEnvironment } from '../lib/wrangler-config.ts';
import { LOG_ERRORS_VAR } from '../../runtime/lib/telemetry.ts';
import { SWEEP_DUE_EFFECTS_VAR } from '../../runtime/operations/sweep.ts';
import { build, writeDashboard } from './build.ts';
import { DASHBOARD_DIR } from '../lib/dashboard-module.ts';

export interface DevPlan {
  port: number;
  url: string;
  devAuth: boolean;
  /** The user named the secrets file (`--env-file`): .dev.vars is then neither read nor created. */
  envFile: boolean;
  /** What `wrangler dev` gets: the user's arguments with exactly one `--port`. */
  wranglerArgs: string[];
  /** What `wrangler d1 migrations apply` must share with `wrangler dev` (the same local state, environment). */
  migrationArgs: string[];
  /** `--env`: the wrangler environment (its crons, its APP_URL). */
  environment?: string;
  /** `--config`: another wrangler.toml. */
  config?: string;
  /** `--env-file`: the secrets file the user named. */
  envFilePath?: string;
}

/** Reads `--name value` or `--name=value` out of args; returns the value (last wins) and the args without it. */
function takeFlag(args: string[], name: string): { value: string | undefined; rest: string[] } {
  let value: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--${name}`) value = args[++i];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    else rest.push(arg);
  }
  return { value, rest };
}

/**
 * How to run `wrangler dev` for these arguments: the port from `--port`, else PORT, else 8787, passed once (wrangler
 * refuses `--port` given twice).
 */
export function devPlan(args: string[], env: Readonly<Record<string, string | undefined>> = process.env): DevPlan {
  const noDevAuth = args.includes('--no-dev-auth');
  const { value: portFlag, rest } = takeFlag(
    args.filter((a) => a !== '--no-dev-auth'),
    'port',
  );
  const text = portFlag ?? env.PORT ?? String(DEFAULT_DEV_PORT);
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new Error(
      `invalid port ${JSON.stringify(text)}${portFlag === undefined ? ' (from PORT)' : ''}: use a number from 1 to 65535`,
    );
  const ip = takeFlag(rest, 'ip').value;
  const host = !ip || ip === '0.0.0.0' || ip === '*' || ip === '::' ? 'localhost' : ip.includes(':') ? `[${ip}]` : ip;
  const migrationArgs: string[] = [];
  for (const shared of ['persist-to', 'env', 'config']) {
    const value = takeFlag(rest, shared).value;
    if (value !== undefined) migrationArgs.push(`--${shared}`, value);
  }
  const envFilePath = takeFlag(rest, 'env-file').value;
  const environment = takeFlag(rest, 'env').value;
  const config = takeFlag(rest, 'config').value;
  return {
    port,
    url: `http://${host}:${port}`,
    devAuth: !noDevAuth,
    envFile: envFilePath !== undefined,
    wranglerArgs: ['--port', String(port), ...rest],
    migrationArgs,
    ...(environment !== undefined ? { environment } : {}),
    ...(config !== undefined ? { config } : {}),
    ...(envFilePath !== undefined ? { envFilePath } : {}),
  };
}

/**
 * Watches a manifest for edits, including atomic saves (vim, JetBrains, `sed -i`: a new file renamed over the old
 * one). A watch on the file itself follows the old inode and goes quiet after the first such save, so this watches
 * the folder and filters by name. Events within `debounceMs` are one change.
 */
export function watchManifest(path: string, onChange: () => void, debounceMs = 150): { close(): void } {
  const name = basename(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watcher: FSWatcher = watch(dirname(path), (_event, filename) => {
    if (filename !== null && filename.toString() !== name) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Mid-save the file may be briefly absent; the rename that completes the save fires again.
      if (existsSync(path)) onChange();
    }, debounceMs);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

/**
 * The APP_URL `switchyard dev` passes: the server's own URL (with the configured path), so links in local emails point
 * at the port it serves on. Undefined (leave it alone) when the secrets file sets APP_URL, or wrangler.toml sets it to
 * a host that is not this machine.
 */
export function devAppUrl(plan: DevPlan, configured: unknown, secrets: Record<string, string>): string | undefined {
  if ('APP_URL' in secrets) return undefined;
  if (configured === undefined) return plan.url;
  try {
    const url = new URL(String(configured));
    if (!LOCAL_HOSTS.has(url.hostname)) return undefined;
    return `${plan.url}${url.pathname.replace(/\/$/, '')}${url.search}`;
  } catch {
    return undefined;
  }
}

/** Request.cf: wrangler fetches it from workers.cloudflare.com and prints a stack when offline; ask once, quietly. */
async function requestCfEnv(project: Project): Promise<Record<string, string>> {
  if (process.env.CLOUDFLARE_CF_FETCH_ENABLED !== undefined || process.env.CLOUDFLARE_CF_FETCH_PATH !== undefined)
    return {};
  const cache = join(project.buildDir, 'cf.json');
  if (existsSync(cache) && Date.now() - statSync(cache).mtimeMs < 25 * 86_400_000)
    return { CLOUDFLARE_CF_FETCH_PATH: cache };
  try {
    const res = await fetch('https://workers.cloudflare.com/cf.json', { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    JSON.parse(text);
    writeIfChanged(cache, text);
    return { CLOUDFLARE_CF_FETCH_PATH: cache };
  } catch {
    console.log('[switchyard] offline (workers.cloudflare.com did not answer): request.cf holds placeholder values');
    return { CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
  }
}

/** dev's own flags; `devPlan` reads them out of the arguments and hands the rest to `wrangler dev`. */
export const devSpec = defineCommand({
  name: 'dev',
  summary: 'serve locally (port from --port, PORT, else 8787) with local D1, KV and Queues',
  description: `The embedded default, as npm run dev: builds the manifest, applies the D1 migrations locally, creates
.dev.vars from .dev.vars.example (or adds the names new since), and starts wrangler dev with local D1, KV and Queues.
It follows every input: integrations.yaml, templates and the files under components: rebuild (a broken edit is
reported and the last good build kept); .dev.vars, .dev.vars.example and a new migration restart wrangler (the migration applied first). APP_URL
follows the port, and wrangler.toml's crons fire on their schedule. See docs/development.md.

While the server answers, its URL is in .switchyard/dev-url, so send, replay and the other commands find it. The
local dev issuer is on unless --no-dev-auth: switchyard token mints tokens it accepts.`,
  flags: {
    port: { type: 'string', value: 'N', defaultText: 'PORT, else 8787', description: 'the port to serve on' },
    'no-dev-auth': {
      type: 'boolean',
      description: 'turn the local dev issuer off (switchyard token then mints nothing the server accepts)',
    },
  },
  passThrough:
    'any other argument goes to wrangler dev as given (--ip, --persist-to, --env and --config also to the migrations it applies first).',
  examples: [
    { command: 'switchyard dev --port 8811', does: 'serve on http://localhost:8811' },
    { command: 'switchyard dev --persist-to .state', does: 'keep the local D1, KV and queues under .state' },
  ],
});

export async function devCommand(args: string[]): Promise<number> {
  let plan: DevPlan;
  try {
    plan = devPlan(args);
  } catch (error) {
    console.error(`switchyard dev: ${(error as Error).message}`);
    return 2;
  }
  const project = projectFor();
  const first = build();
  if (!first.ok) {
    for (const m of first.messages) console.error(m);
    return 1;
  }
  const devVars = join(project.root, '.dev.vars');
  const secretsFile = plan.envFilePath !== undefined ? resolve(project.root, plan.envFilePath) : devVars;
  if (!plan.envFile && !existsSync(devVars) && existsSync(project.devVarsExample)) {
    copyFileSync(project.devVarsExample, devVars);
    console.log('[switchyard] created .dev.vars from .dev.vars.example (development secrets; edit as needed)');
  } else if (!plan.envFile && existsSync(devVars) && existsSync(project.devVarsExample)) {
    const added = addMissingDevVars(project.devVarsExample, devVars);
    if (added.length)
      console.log(`[switchyard] added ${added.join(', ')} to .dev.vars from .dev.vars.example (new since it was made)`);
  }
  const wranglerFile = plan.config !== undefined ? resolve(project.root, plan.config) : project.wrangler;
  const wranglerEnv = () => {
    try {
      return readWranglerEnvironment(readFileSync(wranglerFile, 'utf8'), plan.environment);
    } catch {
      return undefined;
    }
  };
  const migrate = async () => {
    // The runtime's tables first (the package's migrations, switchyard_migrations), then the project's (d1_migrations).
    const runtime = await applyRuntimeMigrations(project.root, plan.migrationArgs);
    if (!runtime.ok) return (console.error(runtime.message), false);
    if (runtime.changed) console.log(runtime.message);
    const result = await applyLocalMigrations(project.root, plan.migrationArgs);
    (result.ok ? console.log : console.error)(result.message);
    return result.ok;
  };
  if (!(await migrate())) return 1;
  const cfEnv = await requestCfEnv(project);

  // Error log lines on stdout: wrangler dev decorates console.error output, which would break one JSON object per line.
  // Retries' delayed queue messages live in Miniflare's memory and a reload drops them: the sweep takes effects back when due.
  const fixedVars: string[] = ['--var', `${LOG_ERRORS_VAR}:stdout`, '--var', `${SWEEP_DUE_EFFECTS_VAR}:true`];
  if (plan.devAuth) {
    for (const [name, value] of Object.entries(devAuthVars(await ensureDevAuthKey(project))))
      fixedVars.push('--var', `${name}:${value}`);
    console.log(
      '[switchyard] local dev issuer on: `npx switchyard token --provider NAME --sub ID` mints tokens (off: --no-dev-auth)',
    );
  }
  const varsNow = () => {
    const appUrl = devAppUrl(
      plan,
      wranglerEnv()?.vars.APP_URL,
      existsSync(secretsFile) ? readDevVars(secretsFile) : {},
    );
    return appUrl === undefined ? fixedVars : [...fixedVars, '--var', `APP_URL:${appUrl}`];
  };

  let child: ChildProcess | undefined;
  const said = new Set<string>();
  let up = false;
  const waiting: (() => void)[] = [];
  let exiting = false;
  let restarts = 0;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((r) => (finish = r));
  const whenUp = () => (up ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)));

  const start = () => {
    const env = {
      ...process.env,
      ...cfEnv,
      ...(process.stdout.isTTY && process.env.FORCE_COLOR === undefined ? { FORCE_COLOR: '1' } : {}),
    };
    const spawned = spawnWrangler(['dev', ...plan.wranglerArgs, ...varsNow()], {
      cwd: project.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    const ready = () => {
      if (child !== spawned || up) return;
      up = true;
      writeDevUrl(project, plan.url);
      console.log(
        `[switchyard] ${restarts ? 'restarted: ' : ''}serving on ${plan.url} (written to .switchyard/${DEV_URL_FILE})`,
      );
      waiting.splice(0).forEach((r) => r());
    };
    const out = wranglerOutput({ print: (line) => process.stdout.write(`${line}\n`), ready, said });
    const err = wranglerOutput({ print: (line) => process.stderr.write(`${line}\n`), ready, said });
    spawned.stdout!.on('data', (d) => out.write(d));
    spawned.stderr!.on('data', (d) => err.write(d));
    spawned.on('exit', (code) => {
      out.end();
      err.end();
      if (child !== spawned) return;
      up = false;
      child = undefined;
      // Exited by itself (not for a restart): so does the dev loop.
      finish(code ?? 0);
    });
  };

  /** Stops wrangler (SIGTERM, then SIGKILL after 10 s) and waits for it. */
  const stop = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((done) => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return done();
      child = undefined;
      up = false;
      running.on('exit', () => done());
      running.kill(signal);
      setTimeout(() => running.kill('SIGKILL'), 10_000).unref();
    });

  /**
   * Runs the scheduled handler once before the Worker's isolate goes (a restart, a reload, the end): its first step
   * writes the usage counts the isolate still holds in memory (written every 10 minutes otherwise), so the usage
   * panel keeps them. Deployed, an isolate ends without warning; here the dev loop knows when.
   */
  const flushCounters = async () => {
    if (!up) return;
    const cron = wranglerEnv()?.crons?.[0] ?? '*/10 * * * *';
    try {
      await fetch(`${plan.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}&format=json`, {
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      // Not answering: nothing this isolate holds can be written now.
    }
  };

  const restart = async (reason: string, migrations: boolean) => {
    console.log(
      `[switchyard] ${reason}: restarting wrangler${migrations ? ' to apply it to the local D1' : ' (it reads secrets only at start)'}`,
    );
    await flushCounters();
    await stop();
    if (exiting) return;
    if (migrations) await migrate();
    restarts++;
    if (!exiting) start();
  };

  let cronSchedule: { stop(): void } | undefined;
  const armCrons = () => {
    cronSchedule?.stop();
    const crons: Cron[] = [];
    for (const expression of wranglerEnv()?.crons ?? []) {
      try {
        crons.push(parseCron(expression));
      } catch (error) {
        console.error(
          `[switchyard] ${(error as Error).message}: not fired; trigger it with curl "${plan.url}/cdn-cgi/local/scheduled"`,
        );
      }
    }
    cronSchedule = scheduleCrons(crons, async (expression, at) => {
      await whenUp();
      if (exiting) return;
      try {
        const res = await fetch(
          `${plan.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(expression)}&time=${at}&format=json`,
        );
        const body = (await res.json().catch(() => ({}))) as { outcome?: string };
        console.log(`[switchyard] cron ${expression}: ${body.outcome ?? res.status}`);
      } catch (error) {
        console.error(`[switchyard] cron ${expression} not fired: ${(error as Error).message}`);
      }
    });
  };
  armCrons();

  const readInputs = (): DevInputs => {
    const files = new Map<string, DevInput>();
    for (const t of templateFiles(project.manifest)) files.set(t, 'template');
    for (const c of ownComponentFiles(project.manifest)) files.set(c, 'component');
    files.set(project.manifest, 'manifest');
    files.set(wranglerFile, 'wrangler');
    files.set(project.devVarsExample, 'example');
    files.set(secretsFile, 'secrets');
    return { files, migrations: project.migrations };
  };
  /**
   * A build in a new process: this one keeps the first copy of each component file it loaded (Node caches a module
   * for the life of a process), so once the manifest names components, a rebuild here would check options against
   * a stale spec.
   */
  const buildFresh = (): { ok: boolean; messages: string[] } => {
    const run = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin/switchyard.js'), 'build'], {
      cwd: process.cwd(),
      env: process.env,
      encoding: 'utf8',
    });
    if (run.status === 0)
      return { ok: true, messages: run.stdout.split('\n').filter((l) => l && !l.startsWith('wrote ')) };
    return { ok: false, messages: `${run.stderr}${run.stdout}`.trimEnd().split('\n') };
  };
  const rebuild = (why: string) => {
    const result = ownComponentFiles(project.manifest).length ? buildFresh() : build();
    if (result.ok) console.log(`[switchyard] ${why}: rebuilt (${result.messages.join(', ')})`);
    else
      console.error(
        `[switchyard] ${why}, and the manifest has problems; still serving the last good build:\n${result.messages.join('\n')}`,
      );
  };
  let queue = Promise.resolve();
  const inputs = watchInputs(readInputs, (changed, paths) => {
    queue = queue.then(async () => {
      const names = (kind: DevInput) =>
        paths.filter((p) => classify(readInputs(), p) === kind).map((p) => relative(project.root, p));
      if (changed.has('manifest') || changed.has('template') || changed.has('component')) {
        // A new build reloads the Worker in a new isolate.
        await flushCounters();
        rebuild(
          changed.has('manifest')
            ? 'manifest changed'
            : changed.has('component')
              ? `component ${names('component').join(', ')} changed`
              : `template ${names('template').join(', ')} changed`,
        );
        inputs.refresh();
      }
      if (changed.has('wrangler')) armCrons();
      if (changed.has('example') && !plan.envFile && existsSync(project.devVarsExample)) {
        // New names go into .dev.vars, whose change restarts wrangler below (or on the watcher's next report).
        const added = existsSync(devVars) ? addMissingDevVars(project.devVarsExample, devVars) : [];
        if (added.length) {
          console.log(`[switchyard] added ${added.join(', ')} to .dev.vars from .dev.vars.example`);
          changed.add('secrets');
        }
      }
      if (changed.has('secrets') && !plan.envFile && existsSync(project.devVarsExample)) {
        const missing = missingDevVars(project.devVarsExample, devVars);
        if (missing.length)
          console.log(
            `[switchyard] .dev.vars lacks ${missing.join(', ')} (declared in .dev.vars.example): requests that need them answer 500 misconfigured`,
          );
      }
      if (changed.has('migration')) await restart(`new or changed migration ${names('migration').join(', ')}`, true);
      else if (changed.has('secrets')) await restart(`${relative(project.root, secretsFile)} changed`, false);
    });
  });
  // An edit to the dashboard's page (runtime/operations/dashboard/) rewrites its module; wrangler reloads the Worker.
  const pageWatcher = watch(DASHBOARD_DIR, () => {
    try {
      writeDashboard(project.buildDir);
    } catch (error) {
      console.error(`[switchyard] dashboard page not rebuilt: ${(error as Error).message}`);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second signal stops at once, without waiting for the counters.
      const again = exiting;
      exiting = true;
      if (child) void (again ? stop(signal) : flushCounters().then(() => stop(signal))).then(() => finish(0));
      else finish(0);
    });
  }
  start();
  const code = await finished;
  exiting = true;
  cronSchedule?.stop();
  inputs.close();
  pageWatcher.close();
  waiting.splice(0).forEach((r) => r());
  clearDevUrl(project, plan.url);
  return code;
}
