/** The Worker bundle as wrangler deploys it: no run-time code generation, which workerd refuses. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/project.ts';

describe('the deployable bundle', () => {
  it.each(['default', 'staging', 'production'])('builds for %s with no new Function or eval', (env) => {
    const outdir = mkdtempSync(join(tmpdir(), 'switchyard-bundle-'));
    const args = [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir, ...(env === 'default' ? [] : ['--env', env])];
    const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(result.status, result.stderr).toBe(0);
    const bundle = readdirSync(outdir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(outdir, f), 'utf8')).join('\n');
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/new Function\s*\(/);
    expect(bundle).not.toMatch(/(^|[^.\w])eval\s*\(/m);
    expect(bundle).not.toContain('ajv');
  });
});
