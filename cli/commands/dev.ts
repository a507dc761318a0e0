/**
 * `switchyard dev [wrangler dev args…]`: the embedded default. Builds the manifest, applies the D1 migrations
 * locally, starts `wrangler dev` on http://localhost:8787 with local D1, KV and Queues, and rebuilds when
 * integrations.yaml changes (wrangler reloads the Worker; a broken edit is reported and the last good build kept).
 */
import { copyFileSync, existsSync, watch } from 'node:fs';
import { join } from 'node:path';
import { projectFor } from '../lib/project.ts';
import { runWrangler, spawnWrangler } from '../lib/wrangler.ts';
import { build } from './build.ts';

export async function devCommand(args: string[]): Promise<number> {
  const project = projectFor();
  const first = build();
  if (!first.ok) {
    for (const m of first.messages) console.error(m);
    return 1;
  }
  const devVars = join(project.root, '.dev.vars');
  if (!existsSync(devVars) && existsSync(project.devVarsExample)) {
    copyFileSync(project.devVarsExample, devVars);
    console.log('created .dev.vars from .dev.vars.example (development secrets; edit as needed)');
  }
  const migrated = runWrangler(['d1', 'migrations', 'apply', 'DB', '--local'], { cwd: project.root, env: { ...process.env, CI: 'true' } });
  if (migrated !== 0) return migrated;

  const child = spawnWrangler(['dev', '--port', '8787', ...args], { cwd: project.root });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watcher = watch(project.manifest, () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const result = build();
      if (result.ok) console.log(`[switchyard] manifest rebuilt (${result.messages.join(', ')})`);
      else console.error(`[switchyard] manifest has problems; still serving the last good build:\n${result.messages.join('\n')}`);
    }, 150);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      watcher.close();
      resolve(code ?? 0);
    });
  });
}
