/**
 * `switchyard dev` on a copy of the project (its own manifest, wrangler.toml, migrations, templates, secrets and local
 * state), so a test can edit each input the way a developer would while the real dev loop runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI, defaultManifestText, projectWith, ROOT } from './project.ts';
import { freePort, queryLocalD1 } from './wrangler-dev.ts';

export interface DevLoop {
  dir: string;
  url: string;
  port: number;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Waits until its output, from `from` on, matches; returns the index just past the match. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<number>;
  /** A read-only query of its local D1 database. */
  query<T>(sql: string, ...params: (string | number)[]): T[];
  stop(): Promise<void>;
}

/** A project folder beside the checkout: the Worker entry copied, the runtime and adapters linked. */
export function devProject(edit: { manifest?: (t: string) => string; wrangler?: (t: string) => string } = {}): string {
  const manifest = projectWith(
    (edit.manifest ?? ((t) => t))(defaultManifestText()),
    edit.wrangler ? { wrangler: edit.wrangler } : {},
  );
  const dir = dirname(manifest);
  cpSync(join(ROOT, 'samples'), join(dir, 'samples'), { recursive: true });
  // worker/index.ts imports ../.switchyard/ (this project's build) and ../runtime/: a copy here, with links to the code.
  mkdirSync(join(dir, 'worker'));
  for (const f of ['index.ts', 'entry.ts', 'registry.ts']) cpSync(join(ROOT, 'worker', f), join(dir, 'worker', f));
  for (const d of ['runtime', 'adapters']) symlinkSync(join(ROOT, d), join(dir, d), 'dir');
  return dir;
}

export async function startDevLoop(dir: string, extraArgs: string[] = []): Promise<DevLoop> {
  const [port, inspector] = [await freePort(), await freePort()];
  let output = '';
  const child: ChildProcess = spawn(
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
      '--show-interactive-dev-session=false',
      ...extraArgs,
    ],
    {
      cwd: dir,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const loop: DevLoop = {
    dir,
    url,
    port,
    output: () => output,
    async waitFor(pattern, from = 0, timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(output.slice(from));
        if (m) return from + m.index + m[0].length;
        if (child.exitCode !== null)
          throw new Error(`switchyard dev exited (${child.exitCode}) before ${pattern}:\n${output}`);
        if (Date.now() > deadline)
          throw new Error(`no ${pattern} within ${timeoutMs} ms; output from there:\n${output.slice(from)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    query: <T>(sql: string, ...params: (string | number)[]) =>
      queryLocalD1<T>(join(dir, '.wrangler/state/v3/d1/miniflare-D1DatabaseObject'), sql, params),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
  return loop;
}
