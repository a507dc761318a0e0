/**
 * Reads the provider catalog (catalog/*.yaml beside the package) once per process: each file parsed with source
 * positions and checked against schemas/catalog.schema.json, so a broken entry is reported as file:line:column.
 */
import Ajv from 'ajv';
import { readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { defaultRegistry } from '../../worker/registry.ts';
import { applyProviders, buildCatalogSchema, type CatalogEntry } from '../../runtime/manifest/catalog.ts';
import {
  explainErrors,
  locate,
  parseManifest,
  resolveEnvironment,
  type SourcedProblem,
} from '../../runtime/manifest/load.ts';
import type { Registry } from '../../runtime/component/registry.ts';
import { PACKAGE_ROOT, readText } from './project.ts';
import { buildSample, type UnsignedSample } from './sign-sample.ts';

export const CATALOG_DIR = join(PACKAGE_ROOT, 'catalog');

export interface Catalog {
  entries: ReadonlyMap<string, CatalogEntry>;
  /** Where each entry was read from. */
  files: ReadonlyMap<string, string>;
  problems: SourcedProblem[];
}

/** The provider names, from the file names alone (what the manifest schema's enum lists). */
export function catalogNames(dir = CATALOG_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Ajv for catalog files. */
export function createCatalogValidator(registry: Registry = defaultRegistry) {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    discriminator: true,
    allowUnionTypes: true,
    verbose: true,
  });
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
  const validate = ajv.compile(buildCatalogSchema(registry));
  return (value: unknown) => (validate(value) ? [] : explainErrors(validate.errors ?? [], value));
}

const cache = new Map<string, Catalog>();

/** Loads and checks every catalog file (cached per directory for the process). */
export function loadCatalog(dir = CATALOG_DIR, registry: Registry = defaultRegistry): Catalog {
  const cached = cache.get(dir);
  if (cached) return cached;
  const validate = createCatalogValidator(registry);
  const entries = new Map<string, CatalogEntry>();
  const files = new Map<string, string>();
  const problems: SourcedProblem[] = [];
  for (const name of catalogNames(dir)) {
    const path = join(dir, `${name}.yaml`);
    const file = relative(process.cwd(), path) || path;
    const parsed = parseManifest(readText(path) ?? '', file);
    if (parsed.problems.length) {
      problems.push(...parsed.problems);
      continue;
    }
    const found = validate(parsed.value);
    const value = parsed.value as CatalogEntry;
    if (value && typeof value === 'object' && value.name !== basename(path, '.yaml'))
      found.push({ path: ['name'], message: `name must be the file stem ${JSON.stringify(name)}` });
    if (found.length) {
      problems.push(...locate(parsed, found));
      continue;
    }
    entries.set(name, value);
    files.set(name, path);
  }
  const catalog = { entries, files, problems };
  cache.set(dir, catalog);
  return catalog;
}

export { fillSample } from './sign-sample.ts';

/** A catalog sample ready to send: the body text (form-encoded for form providers) and its unsigned headers. */
export type CatalogSample = UnsignedSample;

/**
 * The entry's sample at `now`, placeholders filled, with the headers the envelope reads (a delivery id, the event
 * type, the time): `buildSample` of cli/lib/sign-sample.ts, which `send` and `switchyard test` use.
 */
export function catalogSample(entry: CatalogEntry, now: number, id?: string): CatalogSample {
  return buildSample(entry, { now, ...(id !== undefined ? { id } : {}) });
}

/** A manifest for one environment with every `provider:` preset applied: what the CLI commands work on. */
export function resolveWithProviders(value: unknown, environment: string | undefined): unknown {
  return applyProviders(resolveEnvironment(value, environment), loadCatalog().entries);
}
