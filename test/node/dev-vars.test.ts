/**
 * `npm run dev` on a checkout whose .dev.vars predates a new secret in .dev.vars.example: the new names are added
 * with their example values, and nothing the developer set is changed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addMissingDevVars } from '../../cli/lib/dev-vars.ts';

describe('addMissingDevVars', () => {
  it('appends the example names .dev.vars lacks, keeps the developer values, and reports what it added', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-vars-'));
    const example = join(dir, '.dev.vars.example');
    const vars = join(dir, '.dev.vars');
    writeFileSync(
      example,
      '# comment\nSTRIPE_WEBHOOK_SECRET=whsec_example\nSWITCHYARD_SERVICE_TOKEN=dev_service_token\nNEW_ONE="quoted value"\n',
    );
    writeFileSync(vars, 'STRIPE_WEBHOOK_SECRET=whsec_mine');
    expect(addMissingDevVars(example, vars)).toEqual(['SWITCHYARD_SERVICE_TOKEN', 'NEW_ONE']);
    const text = readFileSync(vars, 'utf8');
    expect(text).toContain('STRIPE_WEBHOOK_SECRET=whsec_mine\n');
    expect(text).toContain('SWITCHYARD_SERVICE_TOKEN=dev_service_token\n');
    expect(text).toContain('NEW_ONE="quoted value"\n');
    expect(text).not.toContain('whsec_example');
    expect(addMissingDevVars(example, vars)).toEqual([]);
    expect(readFileSync(vars, 'utf8')).toBe(text);
  });
});
