/** Runs the project's own wrangler with this Node (the bundled Node 24), whatever `node` is on PATH. */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from './project.ts';

/**
 * wrangler's script: the package's own node_modules in this repository, the project's when switchyard is installed
 * in one (node_modules/switchyard beside node_modules/wrangler): the nearest node_modules/wrangler at or above it.
 */
function findWrangler(from: string): string {
  for (let at = from; ; at = dirname(at)) {
    const bin = join(at, 'node_modules/wrangler/bin/wrangler.js');
    if (existsSync(bin)) return bin;
    if (dirname(at) === at) return join(from, 'node_modules/wrangler/bin/wrangler.js');
  }
}

export const WRANGLER_BIN = findWrangler(PACKAGE_ROOT);

export function spawnWrangler(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [WRANGLER_BIN, ...args], { stdio: 'inherit', ...options });
}

export function runWrangler(args: string[], options: SpawnOptions = {}): number {
  const result = spawnSync(process.execPath, [WRANGLER_BIN, ...args], { stdio: 'inherit', ...options });
  return result.status ?? 1;
}

/** Runs wrangler with its output captured (stdout and stderr interleaved), for a caller that summarises it. */
export function captureWrangler(args: string[], options: SpawnOptions = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRANGLER_BIN, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('error', (error) => resolve({ code: 1, output: `${output}${error.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
