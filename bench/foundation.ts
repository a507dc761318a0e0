/**
 * Foundation figures: the Worker bundle size as wrangler deploys it (raw and gzip), and the time to compile a
 * generated 100-integration manifest into the routing table (what each new isolate pays), plus the build-time
 * validation of the same manifest (YAML + Ajv + compile) for reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultRegistry } from '../adapters/registry.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import { createManifestValidator, parseManifest } from '../runtime/manifest/load.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';
import { generatedManifest, generatedManifestYaml } from './fixtures.ts';
import { fmt, summarize } from './stats.ts';

export const TARGET_GZIP_KIB = 150;
export const TARGET_COMPILE_MS = 5;

export function bundleSize(): { raw: number; gzip: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const result = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stderr}`);
  const code = Buffer.concat(readdirSync(outdir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(outdir, f))));
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

export function compileTimes(count: number, runs: number) {
  const manifest = generatedManifest(count) as unknown as Manifest;
  for (let i = 0; i < 20; i++) compileManifest(manifest, defaultRegistry);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const copy = structuredClone(manifest);
    const start = performance.now();
    compileManifest(copy, defaultRegistry);
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

export function validateTimes(count: number, runs: number) {
  const text = generatedManifestYaml(count);
  const validate = createManifestValidator(defaultRegistry);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const parsed = parseManifest(text);
    if (validate(parsed.value).length) throw new Error('generated manifest does not validate');
    compileManifest(parsed.value as Manifest, defaultRegistry);
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

export function runFoundation(): boolean {
  const size = bundleSize();
  const compile = compileTimes(100, 200);
  const validate = validateTimes(100, 30);
  const gzipKiB = size.gzip / 1024;
  console.log('== foundation');
  console.log(`bundle: ${fmt(size.raw / 1024, 1)} KiB raw, ${fmt(gzipKiB, 1)} KiB gzip (target <= ${TARGET_GZIP_KIB} KiB gzip; ratio ${fmt(gzipKiB / TARGET_GZIP_KIB, 2)} of target)`);
  console.log(`compile 100 integrations (per isolate): median ${fmt(compile.median)} ms, p99 ${fmt(compile.p99)} ms over ${compile.n} runs (target <= ${TARGET_COMPILE_MS} ms)`);
  console.log(`validate 100 integrations (build time: YAML + Ajv + compile): median ${fmt(validate.median)} ms over ${validate.n} runs`);
  return gzipKiB <= TARGET_GZIP_KIB && compile.median <= TARGET_COMPILE_MS;
}
