/**
 * The offline target of `switchyard test` and `plan --replay`: the manifest as `build` validates it for one
 * environment, compiled once; per case a fresh in-memory node:sqlite database with `migrations/` applied behind a
 * D1-compatible shim (cli/lib/d1-sqlite.ts), KV in memory, development secrets from `.dev.vars.example`, and the
 * environment's `[vars]` from wrangler.toml. No wrangler, no workerd, no network.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Registry } from '../../../runtime/component/registry.ts';
import { loadOwnComponents } from '../own-components.ts';
import { compileManifest } from '../../../runtime/manifest/compile.ts';
import { compileInputSchema } from '../input-validators.ts';
import type { Manifest } from '../../../runtime/manifest/types.gen.ts';
import { checkProject, type Problem } from '../check.ts';
import { asD1, migratedD1 } from '../d1-sqlite.ts';
import { readDevVars } from '../dev-vars.ts';
import { readText, type Project } from '../project.ts';
import { readWranglerEnvironment } from '../wrangler-config.ts';
import { parseCaseFile, type CaseFile } from './cases.ts';
import { postgresStores } from './postgres.ts';
import type { Target } from './run.ts';
import { ConditionTally } from './conditions.ts';
import { loadCatalog } from '../catalog.ts';
import type { CatalogSampleSpec } from '../sign-sample.ts';
import { providersOf } from '../../../runtime/manifest/catalog.ts';
import { parseManifest, resolveEnvironment } from '../../../runtime/manifest/load.ts';

/** Where a project's manifest tests live: `tests/` beside the manifest. */
export const TESTS_DIR = 'tests';
export const TEST_SUFFIX = '.test.yaml';
/** The project's manifest; any other manifest's tests are in `<name>.tests/` beside it. */
const DEFAULT_MANIFEST = 'integrations.yaml';

/**
 * The folder of a manifest's tests: `tests/` beside `integrations.yaml`; for another manifest (several can share a
 * folder, as examples/ does) `<name>.tests/` beside it: examples/postgres.yaml has examples/postgres.tests/.
 */
export function testsDir(project: Project): string {
  const name = basename(project.manifest);
  return name === DEFAULT_MANIFEST
    ? join(dirname(project.manifest), TESTS_DIR)
    : join(dirname(project.manifest), `${name.replace(/\.ya?ml$/, '')}.${TESTS_DIR}`);
}

/** Every `*.test.yaml` under the manifest's tests folder (or the files and folders given), sorted. */
export function findCaseFiles(project: Project, given: string[] = []): string[] {
  const roots = given.length ? given.map((g) => resolve(g)) : [testsDir(project)];
  const found: string[] = [];
  const walk = (path: string) => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      if (given.length) found.push(path);
      return;
    }
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else if (path.endsWith(TEST_SUFFIX) || given.includes(path)) found.push(path);
  };
  roots.forEach(walk);
  return [...new Set(found)].sort();
}

/** Parses test files; paths are reported relative to the project root, as the runner resolves fixtures. */
export function loadCaseFiles(project: Project, paths: string[]): CaseFile[] {
  return paths.map((path) => {
    const file = relative(project.root, path).split(sep).join('/');
    const text = readText(path);
    if (text === undefined)
      return {
        ...parseCaseFile(file, 'cases: []'),
        problems: [{ location: { file, line: 1, column: 1 }, message: 'no such file' }],
      };
    return parseCaseFile(file, text);
  });
}

/** The catalog sample of each `provider:` integration of the project's manifest in `environment`, by integration. */
function catalogSamplesOf(project: Project, environment: string): Record<string, CatalogSampleSpec> {
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  const entries = loadCatalog().entries;
  const out: Record<string, CatalogSampleSpec> = {};
  for (const [integration, provider] of providersOf(resolveEnvironment(parsed.value, environment))) {
    const sample = entries.get(provider)?.sample;
    if (sample) out[integration] = sample;
  }
  return out;
}

export type TargetResult = { ok: true; target: Target } | { ok: false; problems: Problem[] };

/** The project's manifest for `environment`, validated and compiled, with offline storage. */
export function nodeTarget(project: Project, environment: string, manifestOverride?: Manifest): TargetResult {
  let manifest = manifestOverride;
  let queueNames: Record<string, string> = {};
  let registry: Registry | undefined;
  if (!manifest) {
    const checked = checkProject(project, { environments: [environment], postgresSql: false });
    const build = checked.builds.find((b) => b.name === environment);
    if (checked.problems.length || !build) return { ok: false, problems: checked.problems };
    manifest = build.manifest;
    queueNames = build.queueNames;
    registry = checked.registry;
  } else {
    const wrangler = readText(project.wrangler);
    const producers = wrangler ? readWranglerEnvironment(wrangler, environment)?.producers : undefined;
    queueNames = Object.fromEntries(producers ?? []);
  }
  // The project's own components (its `components:` files) beside the built-in ones.
  registry ??= loadOwnComponents(project.manifest, manifest).registry;
  const conditions = new ConditionTally();
  const compiled = compileManifest(manifest, registry, {
    inputValidator: (_name, schema) => compileInputSchema(schema),
    conditions,
  });
  const wrangler = readText(project.wrangler);
  const vars = Object.fromEntries(
    Object.entries((wrangler ? readWranglerEnvironment(wrangler, environment)?.vars : undefined) ?? {}).map(
      ([k, v]) => [k, String(v)],
    ),
  );
  const secrets = readDevVars(project.devVarsExample);
  const postgres = postgresStores(manifest, dirname(project.manifest));
  return {
    ok: true,
    target: {
      environment,
      manifest,
      compiled,
      registry,
      queueNames,
      secrets,
      vars,
      read: (path) => readText(join(project.root, path)),
      catalogSamples: catalogSamplesOf(project, environment),
      conditions,
      storage: async () => {
        const d1 = migratedD1(project.migrations);
        let external;
        try {
          external = await postgres?.open();
        } catch (error) {
          d1.close();
          throw error;
        }
        return {
          db: asD1(d1),
          ...(external ? { stores: external.stores, connectPostgres: external.connect } : {}),
          close: async () => {
            d1.close();
            await external?.close();
          },
        };
      },
      ...(postgres ? { close: () => postgres.close(), engine: () => postgres.engine() } : {}),
    },
  };
}
