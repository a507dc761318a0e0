/** Secrets the tests run with: the development values from .dev.vars.example, so there is one list. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TEST_SECRETS: Record<string, string> = Object.fromEntries(
  readFileSync(join(import.meta.dirname, '../../.dev.vars.example'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);
