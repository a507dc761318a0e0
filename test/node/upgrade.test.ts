/**
 * Manifest versions: a form a later version renamed (cloudinary-upload's backup_bucket, backup_binding since
 * version 2) is read from an older manifest with a warning naming the fix, is an error in a manifest that declares
 * the new version, and `switchyard upgrade` rewrites it (a diff by default, the file with --write), keeping comments.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';
import { unifiedDiff, upgradeText } from '../../cli/lib/upgrade.ts';

const CURRENT = '      backup_binding: UPLOADS';
/** The default manifest as version 1 wrote it, with a comment on the old form's line. */
const versionOne = () =>
  replaceOnce(
    replaceOnce(defaultManifestText(), 'version: 2\n', 'version: 1 # the first format\n'),
    CURRENT,
    '      backup_bucket: UPLOADS   # originals, in R2',
  );

const lineOf = (text: string, word: string) => text.split('\n').findIndex((l) => l.includes(word)) + 1;

describe('switchyard upgrade', () => {
  it('rewrites only the old words, keeping comments and layout', () => {
    const old = versionOne();
    const { text, changes } = upgradeText(old);
    expect(changes).toEqual(['routes.uploads.endpoint.backup_bucket -> backup_binding', 'version 1 -> 2']);
    expect(text).toBe(
      replaceOnce(
        replaceOnce(old, 'version: 1 # the first format', 'version: 2 # the first format'),
        'backup_bucket: UPLOADS   # originals, in R2',
        'backup_binding: UPLOADS   # originals, in R2',
      ),
    );
    // Upgrading again changes nothing.
    expect(upgradeText(text).text).toBe(text);
  });

  it('renames the old key in an environment overlay too', () => {
    const old = versionOne().replace(
      '\nenvironments:\n',
      '\nenvironments:\n  preview:\n    routes:\n      uploads:\n        endpoint: { backup_bucket: PREVIEW_UPLOADS }\n',
    );
    const { text, changes } = upgradeText(old);
    expect(changes).toContain('environments.preview.routes.uploads.endpoint.backup_bucket -> backup_binding');
    expect(text).toContain('endpoint: { backup_binding: PREVIEW_UPLOADS }');
  });

  it('prints a diff and writes nothing without --write; rewrites with it; validate is then clean', () => {
    const file = projectWith(versionOne());
    const shown = cli(['upgrade', file]);
    expect(shown.code).toBe(0);
    const at = lineOf(versionOne(), 'backup_bucket');
    expect(shown.stdout).toContain(
      [
        '-      backup_bucket: UPLOADS   # originals, in R2',
        '+      backup_binding: UPLOADS   # originals, in R2',
      ].join('\n'),
    );
    expect(shown.stdout).toContain('-version: 1 # the first format\n+version: 2 # the first format');
    expect(shown.stdout).toMatch(new RegExp(`@@ -${at - 3},7 \\+${at - 3},7 @@`));
    expect(readFileSync(file, 'utf8')).toBe(versionOne());
    const written = cli(['upgrade', '--write', file]);
    expect(written.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(upgradeText(versionOne()).text);
    const valid = cli(['validate', '--env', 'default', file]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).not.toContain('backup_bucket');
    expect(cli(['upgrade', file]).stdout).toContain('nothing to upgrade');
    // The version 1 file and its upgrade are the same manifest: plan --from reads both in the current language.
    const before = join(dirname(file), 'before.yaml');
    writeFileSync(before, versionOne());
    const plan = cli(['plan', '--from', before, file]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('  no changes');
  });
});

describe('validate and manifest versions', () => {
  it('reads a version 1 manifest with a warning at the old form that names the fix', () => {
    const file = projectWith(versionOne());
    const result = cli(['validate', '--env', 'default', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `integrations.yaml:${lineOf(versionOne(), 'backup_bucket')}:7: warning [default]: routes.uploads.endpoint.backup_bucket: backup_bucket is backup_binding from manifest version 2: this version 1 manifest is read as before; write backup_binding: instead (it names the R2 binding from wrangler.toml, not the bucket); \`switchyard upgrade --write\` rewrites it`,
    );
  });

  it('refuses the old form in a version 2 manifest, at file:line:col, naming the fix', () => {
    const text = replaceOnce(defaultManifestText(), CURRENT, '      backup_bucket: UPLOADS');
    const file = projectWith(text);
    const result = cli(['validate', '--env', 'default', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `integrations.yaml:${lineOf(text, 'backup_bucket')}:7: error [default]: routes.uploads.endpoint.backup_bucket: backup_bucket was renamed backup_binding in manifest version 2: write backup_binding: instead`,
    );
    // One problem: the old form, not a schema error about the same key besides it.
    expect(result.stderr).toContain('1 problem found');
  });

  it('refuses a manifest written for a newer version than it reads', () => {
    const file = projectWith(replaceOnce(defaultManifestText(), 'version: 2\n', 'version: 3\n'));
    const result = cli(['validate', '--env', 'default', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'integrations.yaml:7:10: error [default]: version: this manifest is written for manifest version 3, and this switchyard reads up to version 2: update switchyard',
    );
  });
});

describe('unifiedDiff', () => {
  it('gives hunks with context, removals before additions', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n');
    const b = a.replace('5', 'five').replace('10', 'ten');
    expect(unifiedDiff(a, b, 'f')).toBe(
      [
        '--- a/f',
        '+++ b/f',
        '@@ -2,9 +2,9 @@',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        ' 9',
        '-10',
        '+ten',
        '',
      ].join('\n'),
    );
    expect(unifiedDiff(a, a, 'f')).toBe('');
  });
});
