/**
 * `switchyard build [FILE] [--out NAME]`: validates every environment and writes `.switchyard/manifests.json`, the
 * already-validated manifests the Worker bundles, with two generated modules beside it: the command input checks
 * (`manifests.validators.ts`), the drivers (`manifests.drivers.ts`: pg only when a manifest has a postgres
 * store) and the adapters (`manifests.registry.ts`). The Worker never parses YAML or runs Ajv, and bundles no driver
 * or adapter its manifests do not use. It also writes
 * the dashboard's pages (`dashboard.ts`, from runtime/operations/dashboard/), which the Worker entry hands the runtime.
 */
import { dirname, join, relative, sep } from 'node:path';
import { defineCommand, parseCommand } from '../lib/command.ts';
import { checkProject } from '../lib/check.ts';
import { PACKAGE_ROOT, projectFor, writeIfChanged } from '../lib/project.ts';
import { formatProblem } from './validate.ts';
import { validatorsModule } from '../lib/input-validators.ts';
import { driversModule } from '../lib/drivers-module.ts';
import { registryModule } from '../lib/registry-module.ts';
import { dashboardModule } from '../lib/dashboard-module.ts';

export const BUILD_FILE = 'manifests.json';

/** The dashboard's pages, one module for every build in a project (they depend on no manifest). */
export const DASHBOARD_FILE = 'dashboard.ts';

/** The validators module written beside a build output: `manifests.json` -> `manifests.validators.ts`. */
export const validatorsPath = (output: string) => output.replace(/\.json$/, '') + '.validators.ts';

/** The drivers module written beside a build output: `manifests.json` -> `manifests.drivers.ts`. */
export const driversPath = (output: string) => output.replace(/\.json$/, '') + '.drivers.ts';

/** The registry module written beside a build output: `manifests.json` -> `manifests.registry.ts`. */
export const registryPath = (output: string) => output.replace(/\.json$/, '') + '.registry.ts';

/** Builds and writes (to `.switchyard/<outputName>`); returns the problems (empty on success). */
export function build(manifestPath?: string, outputName = BUILD_FILE): { ok: boolean; output: string; messages: string[] } {
  const project = projectFor(manifestPath);
  const result = checkProject(project);
  const output = join(project.buildDir, outputName);
  if (result.problems.length) return { ok: false, output, messages: result.problems.map((p) => formatProblem(p)) };
  const environments = Object.fromEntries(result.builds.map((b) => [b.name, { hash: b.hash, manifest: b.manifest, queueNames: b.queueNames, ...(b.budget ? { budget: b.budget } : {}) }]));
  writeIfChanged(output, JSON.stringify({ generated_by: 'switchyard build', environments }) + '\n');
  // Command input checks as code (workerd cannot compile a JSON Schema at run time), beside the manifests.
  const fromFile = (file: string) => {
    const path = relative(dirname(output), file).split(sep).join('/');
    return path.startsWith('.') ? path : `./${path}`;
  };
  const from = (file: string) => fromFile(join(PACKAGE_ROOT, file));
  writeIfChanged(validatorsPath(output), validatorsModule(result.builds, from('runtime/manifest/commands/input.ts')));
  // The Postgres driver only for a build that has a postgres store: the bundler never sees pg otherwise.
  writeIfChanged(driversPath(output), driversModule(result.builds, { pg: from('adapters/stores/pg.ts'), store: from('runtime/store/postgres.ts') }));
  // Only the adapters the manifests use (and the project's own components they use): the bundler never sees the rest.
  writeIfChanged(registryPath(output), registryModule(result.builds, from, { registry: result.registry!, own: result.own ?? [], fromFile }));
  writeDashboard(project.buildDir);
  return { ok: true, output, messages: result.builds.map((b) => `${b.name}: ${b.hash.slice(0, 12)}`) };
}

/** Writes the dashboard's pages module into a build folder (unchanged content is not rewritten). */
export function writeDashboard(buildDir: string): void {
  writeIfChanged(join(buildDir, DASHBOARD_FILE), dashboardModule());
}

export const buildSpec = defineCommand({
  name: 'build',
  summary: 'validate every environment and write .switchyard/manifests.json',
  description: `Validates every environment and writes .switchyard/manifests.json, the already-validated manifests the
Worker bundles, with the modules beside it: the command input checks compiled to code (manifests.validators.ts),
the drivers its stores need (manifests.drivers.ts: pg only when a manifest has a postgres store), the adapters its
manifests name (manifests.registry.ts: the Worker bundles only those) and the dashboard's pages. The Worker never
parses YAML or runs Ajv. npm run deploy, npm test and switchyard dev run it first.`,
  arguments: [{ name: '[FILE]', description: 'the manifest (default: integrations.yaml, found by walking up)' }],
  flags: {
    out: { type: 'string', value: 'NAME', default: BUILD_FILE, description: 'the file to write under .switchyard/ (the modules beside it take its name)' },
    quiet: { type: 'boolean', description: 'print nothing on success (problems are still printed)' },
  },
  examples: [
    { command: 'switchyard build', does: 'build integrations.yaml into .switchyard/manifests.json' },
    { command: 'switchyard build --quiet --out examples.json examples/more-providers.yaml', does: 'build another manifest beside it, quietly' },
  ],
});

export async function buildCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(buildSpec, args);
  const result = build(positionals[0], values.out);
  const quiet = values.quiet ?? false;
  for (const m of result.messages) if (!result.ok || !quiet) (result.ok ? console.log : console.error)(m);
  if (!result.ok) return 1;
  if (!quiet) console.log(`wrote ${result.output}`);
  return 0;
}
