/** `npm test` leaves docs/*.png alone: screenshots reach docs/ only when asked for. */
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
    expect(screenshotPath('dashboard-phone.png', { UPDATE_SCREENSHOTS: '0' })).toBe(join(a, '..', 'dashboard-phone.png'));
  });
});
