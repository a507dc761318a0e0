/**
 * `switchyard dev [--port N] [--no-dev-auth] [wrangler dev args…]`: the embedded default. Builds the manifest,
 * applies the D1 migrations locally, starts `wrangler dev` (http://localhost:8787 unless `--port` or PORT says
 * otherwise) with local D1, KV and Queues, and rebuilds when integrations.yaml changes (wrangler reloads the Worker;
 * a broken edit is reported and the last good build kept).
 *
 * While the server answers, its URL is in `.switchyard/dev-url`, so other commands find it; the file is removed on
 * exit. The local dev issuer (runtime/edge/dev-auth.ts) is on unless `--no-dev-auth`: `switchyard token` mints tokens.
 */
import { copyFileSync, existsSync, watch, type FSWatcher } from 'node:fs';
import { addMissingDevVars } from '../lib/dev-vars.ts';
import { basename, dirname, join } from 'node:path';
import { devAuthVars, ensureDevAuthKey } from '../lib/dev-auth.ts';
import { clearDevUrl, DEFAULT_DEV_PORT, DEV_URL_FILE, writeDevUrl } from '../lib/dev-url.ts';
import { projectFor, type Project } from '../lib/project.ts';
import { defineCommand } from '../lib/command.ts';
import { runWrangler, spawnWrangler } from '../lib/wrangler.ts';
import { LOG_ERRORS_VAR } from '../../runtime/lib/telemetry.ts';
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
  const { value: portFlag, rest } = takeFlag(args.filter((a) => a !== '--no-dev-auth'), 'port');
  const text = portFlag ?? env.PORT ?? String(DEFAULT_DEV_PORT);
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`invalid port ${JSON.stringify(text)}${portFlag === undefined ? ' (from PORT)' : ''}: use a number from 1 to 65535`);
  const ip = takeFlag(rest, 'ip').value;
  const host = !ip || ip === '0.0.0.0' || ip === '*' || ip === '::' ? 'localhost' : ip.includes(':') ? `[${ip}]` : ip;
  const migrationArgs: string[] = [];
  for (const shared of ['persist-to', 'env', 'config']) {
    const value = takeFlag(rest, shared).value;
    if (value !== undefined) migrationArgs.push(`--${shared}`, value);
  }
  const envFile = takeFlag(rest, 'env-file').value !== undefined;
  return { port, url: `http://${host}:${port}`, devAuth: !noDevAuth, envFile, wranglerArgs: ['--port', String(port), ...rest], migrationArgs };
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

/** Polls /healthz until the server answers, then records its URL; stops when `stopped()` says so. */
async function recordWhenUp(project: Project, url: string, stopped: () => boolean): Promise<boolean> {
  while (!stopped()) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) {
        if (stopped()) return false;
        writeDevUrl(project, url);
        return true;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** dev's own flags; `devPlan` reads them out of the arguments and hands the rest to `wrangler dev`. */
export const devSpec = defineCommand({
  name: 'dev',
  summary: 'serve locally (port from --port, PORT, else 8787) with local D1, KV and Queues',
  description: `The embedded default, as npm run dev: builds the manifest, applies the D1 migrations locally, creates
.dev.vars from .dev.vars.example (or adds the names new since), and starts wrangler dev with local D1, KV and Queues.
It rebuilds when integrations.yaml changes (a broken edit is reported and the last good build kept).

While the server answers, its URL is in .switchyard/dev-url, so send, replay and the other commands find it. The
local dev issuer is on unless --no-dev-auth: switchyard token mints tokens it accepts.`,
  flags: {
    port: { type: 'string', value: 'N', defaultText: 'PORT, else 8787', description: 'the port to serve on' },
    'no-dev-auth': { type: 'boolean', description: 'turn the local dev issuer off (switchyard token then mints nothing the server accepts)' },
  },
  passThrough: 'any other argument goes to wrangler dev as given (--ip, --persist-to, --env and --config also to the migrations it applies first).',
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
  if (!plan.envFile && !existsSync(devVars) && existsSync(project.devVarsExample)) {
    copyFileSync(project.devVarsExample, devVars);
    console.log('created .dev.vars from .dev.vars.example (development secrets; edit as needed)');
  } else if (!plan.envFile && existsSync(devVars) && existsSync(project.devVarsExample)) {
    const added = addMissingDevVars(project.devVarsExample, devVars);
    if (added.length) console.log(`added ${added.join(', ')} to .dev.vars from .dev.vars.example (new since it was made)`);
  }
  const migrated = runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...plan.migrationArgs], { cwd: project.root, env: { ...process.env, CI: 'true' } });
  if (migrated !== 0) return migrated;

  // Error log lines on stdout: wrangler dev decorates console.error output, which would break one JSON object per line.
  const vars: string[] = ['--var', `${LOG_ERRORS_VAR}:stdout`];
  if (plan.devAuth) {
    for (const [name, value] of Object.entries(devAuthVars(await ensureDevAuthKey(project)))) vars.push('--var', `${name}:${value}`);
    console.log('[switchyard] local dev issuer on: `npx switchyard token --provider NAME --sub ID` mints tokens (off: --no-dev-auth)');
  }
  const child = spawnWrangler(['dev', ...plan.wranglerArgs, ...vars], { cwd: project.root });
  const watcher = watchManifest(project.manifest, () => {
    const result = build();
    if (result.ok) console.log(`[switchyard] manifest rebuilt (${result.messages.join(', ')})`);
    else console.error(`[switchyard] manifest has problems; still serving the last good build:\n${result.messages.join('\n')}`);
  });
  // An edit to the dashboard's page (runtime/operations/dashboard/) rewrites its module; wrangler reloads the Worker.
  const pageWatcher = watch(DASHBOARD_DIR, () => {
    try {
      writeDashboard(project.buildDir);
    } catch (error) {
      console.error(`[switchyard] dashboard page not rebuilt: ${(error as Error).message}`);
    }
  });
  let exited = false;
  void recordWhenUp(project, plan.url, () => exited).then((up) => up && console.log(`[switchyard] serving on ${plan.url} (written to .switchyard/${DEV_URL_FILE})`));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      exited = true;
      watcher.close();
      pageWatcher.close();
      clearDevUrl(project, plan.url);
      resolve(code ?? 0);
    });
  });
}
