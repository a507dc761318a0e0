/** `npm test` leaves docs/*.png alone: screenshots reach docs/ only when asked for. */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/project.ts';
import { screenshotPath } from '../support/screenshots.ts';

describe('screenshotPath', () => {
  it('writes under docs/ only with UPDATE_SCREENSHOTS=1', () => {
    expect(screenshotPath('dashboard.png', { UPDATE_SCREENSHOTS: '1' })).toBe(join(ROOT, 'docs', 'dashboard.png'));
  });

  it('otherwise writes to one temporary folder per run', () => {
    const a = screenshotPath('dashboard.png', {});
    expect(a.startsWith(tmpdir())).toBe(true);
    expect(a.startsWith(join(ROOT, 'docs'))).toBe(false);
    expect(screenshotPath('dashboard-phone.png', { UPDATE_SCREENSHOTS: '0' })).toBe(
      join(a, '..', 'dashboard-phone.png'),
    );
  });
});

describe('npm run screenshots', () => {
  it('regenerates every docs/*.png: each is taken by a browser test it runs (one that calls screenshotPath)', () => {
    const tests = join(ROOT, 'test/node');
    const taken = readdirSync(tests)
      .filter((f) => f.endsWith('.test.ts') && f !== 'screenshots.test.ts')
      .flatMap((f) =>
        [...readFileSync(join(tests, f), 'utf8').matchAll(/screenshotPath\('([\w.-]+\.png)'\)/g)].map((m) => m[1]!),
      );
    const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.png'));
    expect(docs.filter((f) => !taken.includes(f))).toEqual([]);
    expect(taken).toEqual(expect.arrayContaining(['console-list.png', 'console-timeline.png', 'console-charts.png']));
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.screenshots).toBe(
      'node scripts/screenshots.ts',
    );
  });
});
