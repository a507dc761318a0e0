/**
 * Where a browser test writes a screenshot: under docs/ (the README's images) only with UPDATE_SCREENSHOTS=1, so
 * `npm test` never leaves the tree dirty; otherwise in one temporary folder per run, still written and inspectable.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './project.ts';

let scratch: string | undefined;

export function screenshotPath(name: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.UPDATE_SCREENSHOTS === '1') return join(ROOT, 'docs', name);
  scratch ??= mkdtempSync(join(tmpdir(), 'switchyard-screenshots-'));
  return join(scratch, name);
}
