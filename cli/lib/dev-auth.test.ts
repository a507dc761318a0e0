/** `validate`'s guard for the local dev issuer: its variables may never be in wrangler.toml, which deploys. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devAuthProblems } from './dev-auth.ts';
import { ROOT } from '../../test/support/project.ts';

describe('devAuthProblems', () => {
  it('passes the project wrangler.toml', () => {
    expect(devAuthProblems(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))).toEqual([]);
  });

  it('reports the dev issuer variables in any environment, at their line and column', () => {
    const toml = [
      'name = "x"',
      '[vars]',
      'SWITCHYARD_ENV = "default"',
      '# SWITCHYARD_DEV_AUTH = "1" is only a comment here',
      'SWITCHYARD_DEV_AUTH = "1"',
      '[env.production.vars]',
      '  "SWITCHYARD_DEV_JWK" = "{}"',
      '[env.staging]',
      'vars = { SWITCHYARD_ENV = "staging", SWITCHYARD_DEV_AUTH = "1" }',
    ].join('\n');
    const problems = devAuthProblems(toml);
    expect(problems.map((p) => [p.file, p.line, p.column])).toEqual([
      ['wrangler.toml', 5, 1],
      ['wrangler.toml', 7, 4],
      ['wrangler.toml', 9, 38],
    ]);
    expect(problems[0]!.message).toMatch(
      /SWITCHYARD_DEV_AUTH .*must not be set in wrangler.toml \(\[vars\]\).*\.dev\.vars/,
    );
    expect(problems[1]!.message).toMatch(/\[env\.production\.vars\]/);
    expect(problems[2]!.message).toMatch(/\[env\.staging\]/);
  });

  it('ignores names that only contain the variable', () => {
    expect(devAuthProblems('[vars]\nMY_SWITCHYARD_DEV_AUTH = "1"\nNOTE = "SWITCHYARD_DEV_AUTH = 1"\n')).toEqual([]);
  });
});
