/**
 * Foundation figures: the Worker bundle size as wrangler deploys it (raw and gzip); the time to compile the
 * default manifest into the routing table cold (the first compile in a fresh process, as a new isolate's first
 * request pays it: one process per sample) and warm; the same for a generated 100-integration manifest (warm);
 * and the build-time validation of that manifest (YAML + Ajv + compile) for reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultRegistry } from '../worker/registry.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import { createManifestValidator, parseManifest } from '../runtime/manifest/load.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import { PACKAGE_ROOT } from '../cli/lib/project.ts';
import { defaultManifest, generatedManifest, generatedManifestYaml } from './fixtures.ts';
import { fmt, summarize } from './stats.ts';

export const TARGET_GZIP_KIB = 150;
export const TARGET_COMPILE_MS = 5;
/** `switchyard test` on the default manifest, as a user runs it in CI (a fresh process). */
export const TARGET_MANIFEST_TESTS_MS = 5000;
/** Issue 12: the default manifest's first compile in a new isolate. */
export const TARGET_COLD_COMPILE_MS = 2;

export function bundleSize(): { raw: number; gzip: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const result = spawnSync(
    process.execPath,
    [join(PACKAGE_ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir],
    {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    },
  );
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stderr}`);
  const code = Buffer.concat(
    readdirSync(outdir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(outdir, f))),
  );
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

/** The first compile of the default manifest (then createRuntime, then the deferred part) in fresh processes, one per sample. */
export function coldCompileTimes(runs: number, mode: 'lazy' | 'eager') {
  const samples: { compile: number; compileCpu: number; runtime: number; handlers: number; deferred: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bench/cold-compile.ts'), mode], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`cold compile sample failed:\n${result.stderr}`);
    samples.push(JSON.parse(result.stdout));
  }
  const of = (k: keyof (typeof samples)[number]) => summarize(samples.map((s) => s[k]));
  return { compile: of('compile'), runtime: of('runtime'), handlers: of('handlers'), deferred: of('deferred') };
}

export function compileTimes(count: number | 'default', runs: number) {
  const manifest = count === 'default' ? defaultManifest() : (generatedManifest(count) as unknown as Manifest);
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

/** `switchyard test` on the default manifest, spawned as CI runs it: the whole command, and the cases' own time it prints. */
export function manifestTestTimes(runs: number): {
  command: ReturnType<typeof summarize>;
  cases: ReturnType<typeof summarize>;
} {
  const command: number[] = [];
  const cases: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'cli/switchyard.ts'), 'test'], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
    });
    command.push(performance.now() - start);
    const printed = /^\d+ passed, 0 failed \((\d+) ms\)$/m.exec(result.stdout);
    if (result.status !== 0 || !printed) throw new Error(`switchyard test failed:\n${result.stdout}${result.stderr}`);
    cases.push(Number(printed[1]));
  }
  return { command: summarize(command), cases: summarize(cases) };
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
  const cold = coldCompileTimes(15, 'lazy');
  const coldEager = coldCompileTimes(15, 'eager');
  const warm = compileTimes('default', 200);
  const compile = compileTimes(100, 200);
  const validate = validateTimes(100, 30);
  const tests = manifestTestTimes(5);
  const gzipKiB = size.gzip / 1024;
  console.log('== foundation');
  console.log(
    `bundle: ${fmt(size.raw / 1024, 1)} KiB raw, ${fmt(gzipKiB, 1)} KiB gzip (target <= ${TARGET_GZIP_KIB} KiB gzip; ratio ${fmt(gzipKiB / TARGET_GZIP_KIB, 2)} of target)`,
  );
  const coldOk = cold.compile.median <= TARGET_COLD_COMPILE_MS;
  console.log(
    `compile default manifest, cold (first request's compile in a fresh process: lazy, as the Worker does, + the Stripe route): median ${fmt(cold.compile.median)} ms, min ${fmt(cold.compile.min)} ms over ${cold.compile.n} processes (target <= ${TARGET_COLD_COMPILE_MS} ms)${coldOk ? '' : ' OUTSIDE TARGET'}`,
  );
  console.log(
    `  then the first createRuntime (Hono app, consumer): median ${fmt(cold.runtime.median)} ms; the Stripe integration's handlers, for a first event applied in the request: median ${fmt(cold.handlers.median)} ms; the deferred rest (other integrations, handlers, notifications) on first use, e.g. a queue batch: median ${fmt(cold.deferred.median)} ms`,
  );
  console.log(
    `compile default manifest, cold and eager (as validate and build compile): median ${fmt(coldEager.compile.median)} ms, min ${fmt(coldEager.compile.min)} ms`,
  );
  console.log(
    `compile default manifest, warm: median ${fmt(warm.median)} ms, p99 ${fmt(warm.p99)} ms over ${warm.n} runs`,
  );
  console.log(
    `compile 100 integrations, warm: median ${fmt(compile.median)} ms, p99 ${fmt(compile.p99)} ms over ${compile.n} runs (target <= ${TARGET_COMPILE_MS} ms)`,
  );
  console.log(
    `validate 100 integrations (build time: YAML + Ajv + compile): median ${fmt(validate.median)} ms over ${validate.n} runs`,
  );
  const testsOk = tests.command.median <= TARGET_MANIFEST_TESTS_MS;
  console.log(
    `switchyard test, default manifest (a fresh process, as CI runs it): median ${fmt(tests.command.median, 0)} ms for the command, ${fmt(tests.cases.median, 0)} ms for the cases over ${tests.command.n} runs (target <= ${TARGET_MANIFEST_TESTS_MS} ms)${testsOk ? '' : ' OUTSIDE TARGET'}`,
  );
  return gzipKiB <= TARGET_GZIP_KIB && compile.median <= TARGET_COMPILE_MS && coldOk && testsOk;
}
