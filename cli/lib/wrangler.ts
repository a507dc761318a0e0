/** Runs the project's own wrangler with this Node (the bundled Node 24), whatever `node` is on PATH. */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './project.ts';

export const WRANGLER_BIN = join(PACKAGE_ROOT, 'node_modules/wrangler/bin/wrangler.js');

export function spawnWrangler(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [WRANGLER_BIN, ...args], { stdio: 'inherit', ...options });
}

export function runWrangler(args: string[], options: SpawnOptions = {}): number {
  const result = spawnSync(process.execPath, [WRANGLER_BIN, ...args], { stdio: 'inherit', ...options });
  return result.status ?? 1;
}
