/**
 * No `as never` anywhere in the project's TypeScript: the cast that silences every type error at once hid the
 * hand-written twins of the schema that issue 16 removed. A value that is deliberately not of its type (a bogus
 * step in a test) says which type it is not (`as unknown as Step`), so a reader sees the claim being made.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/project.ts';

describe('type casts', () => {
  it('no TypeScript file casts to never', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    const found = files.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          /\bas never\b/.test(line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '')) ? [`${file}:${i + 1}`] : [],
        ),
    );
    expect(found).toEqual([]);
  });
});
