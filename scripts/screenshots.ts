/**
 * `npm run screenshots`: regenerates every screenshot under docs/. The browser tests that take one (those calling
 * screenshotPath, test/support/screenshots.ts) run with UPDATE_SCREENSHOTS=1, which writes them to docs/ instead of a
 * temporary folder. Found by what they call, so a new screenshot needs no edit here. One file at a time: each starts a
server and a browser, and wrangler dev starts slowly on a busy machine.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'test/node');
const files = readdirSync(dir)
  .filter(
    (f) =>
      f.endsWith('.test.ts') &&
      f !== 'screenshots.test.ts' &&
      readFileSync(join(dir, f), 'utf8').includes('screenshotPath('),
  )
  .map((f) => `test/node/${f}`);
console.log(`screenshots from: ${files.join(', ')}`);
const run = spawnSync(
  process.execPath,
  [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'node', '--no-file-parallelism', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, UPDATE_SCREENSHOTS: '1' } },
);
process.exit(run.status ?? 1);
