/** Secrets the tests run with: the development values from .dev.vars.example, so there is one list. */
import { join } from 'node:path';
import { readDevVars } from '../../cli/lib/dev-vars.ts';

export const TEST_SECRETS: Record<string, string> = readDevVars(join(import.meta.dirname, '../../.dev.vars.example'));
