/** Temporary copies of the project with an edited manifest, for CLI tests. */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'cli/switchyard.ts');
export const defaultManifestText = () => readFileSync(join(ROOT, 'integrations.yaml'), 'utf8');

/** A copy of the project's wrangler.toml, migrations, README and .dev.vars.example, with this manifest. */
export function projectWith(manifest: string, edit: { wrangler?: (t: string) => string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-'));
  for (const f of ['migrations', 'templates', 'README.md', '.dev.vars.example'])
    cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  const wrangler = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  writeFileSync(join(dir, 'wrangler.toml'), edit.wrangler ? edit.wrangler(wrangler) : wrangler);
  writeFileSync(join(dir, 'integrations.yaml'), manifest);
  return join(dir, 'integrations.yaml');
}

/** Replaces one exact snippet, failing loudly if the snippet is not there (so a test never edits nothing). */
export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at === -1 || text.indexOf(from, at + 1) !== -1) throw new Error(`snippet not found exactly once: ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export function cli(args: string[], cwd = ROOT) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI without blocking this process, so a server in the test can answer it. */
export function cliAsync(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}
