/** Starts the real Worker with `wrangler dev` (local D1, KV, Queues) on a free port, for end-to-end tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ROOT } from './project.ts';

/** A read-only query of the local D1 database wrangler keeps under `d1Dir` (its one `.sqlite` file besides metadata). */
export function queryLocalD1<T>(d1Dir: string, sql: string, params: (string | number)[]): T[] {
  const file = readdirSync(d1Dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (!file) throw new Error('no local D1 database file');
  const db = new DatabaseSync(join(d1Dir, file), { readOnly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** A port nothing listens on right now (for wrangler dev, its inspector, a test server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface DevWorker {
  url: string;
  persist: string;
  logs: () => string;
  /** Runs a read-only query against the Worker's local D1 database file. */
  query<T>(sql: string, ...params: (string | number)[]): T[];
  stop(): Promise<void>;
}

export interface DevWorkerOptions {
  /** Worker variables passed with `--var NAME:VALUE` (e.g. the local dev issuer's, from cli/lib/dev-auth.ts). */
  vars?: Record<string, string>;
  /** The local state directory of an earlier run (its `persist`): a restart over the same D1, KV and Queues. */
  persist?: string;
}

export async function startDevWorker(options: DevWorkerOptions = {}): Promise<DevWorker> {
  const persist = options.persist ?? mkdtempSync(join(tmpdir(), 'switchyard-dev-'));
  // The runtime's tables, then the project's (what `switchyard dev` applies first).
  const migrate = spawnSync(process.execPath, [join(ROOT, 'cli/switchyard.ts'), 'migrate', '--persist-to', persist], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  const port = await freePort();
  const inspector = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
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
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    ],
    { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`wrangler dev did not serve /healthz within 90s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const d1Dir = join(persist, 'v3/d1/miniflare-D1DatabaseObject');
  return {
    url,
    persist,
    logs: () => output,
    query: <T>(sql: string, ...params: (string | number)[]) => queryLocalD1<T>(d1Dir, sql, params),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
