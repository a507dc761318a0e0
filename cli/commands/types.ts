/**
 * `switchyard types [--check] [--client FILE [MANIFEST]]`: writes schemas/manifest.schema.json from the adapter
 * registry (its provider enum from catalog/), runtime/manifest/types.gen.ts from it, schemas/catalog.schema.json,
 * docs/components.md (every component's options, from its spec), docs/cli.md (the commands, from their declarations), the
 * generated tables of the README and docs/ (the provider table in docs/providers.md, the operators and transforms in
 * docs/conditions.md), and the typed commands client for the default manifest (client/switchyard-client.gen.ts).
 * With --client, writes the client for a manifest's commands to FILE instead (an application's own copy). With
 * --check, fails when any of them is stale.
 */
import { compile } from 'json-schema-to-typescript';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { defaultRegistry } from '../../worker/registry.ts';
import { parseManifest, resolveEnvironment } from '../../runtime/manifest/load.ts';
import { buildManifestSchema } from '../../runtime/manifest/schema.ts';
import { buildCatalogSchema } from '../../runtime/manifest/catalog.ts';
import { catalogNames, loadCatalog } from '../lib/catalog.ts';
import { withProvidersTable } from '../lib/providers-table.ts';
import { withConditionTables } from '../lib/conditions-doc.ts';
import { withSectionTables } from '../lib/manifest-doc.ts';
import { defaultsModule } from '../../runtime/manifest/sections/defaults-tree.ts';
import { componentsDoc } from '../lib/components-doc.ts';
import { loadOwnComponents } from '../lib/own-components.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { defineCommand, parseCommand } from '../lib/command.ts';
import { clientModule } from '../lib/client.ts';
import { typesInput, typesInputSharing } from '../lib/schema-to-types.ts';
import { findManifest, PACKAGE_ROOT, readText, writeIfChanged } from '../lib/project.ts';

export const SCHEMA_PATH = join(PACKAGE_ROOT, 'schemas/manifest.schema.json');
export const TYPES_PATH = join(PACKAGE_ROOT, 'runtime/manifest/types.gen.ts');
/** The catalog file's types, from schemas/catalog.schema.json. */
export const CATALOG_TYPES_PATH = join(PACKAGE_ROOT, 'runtime/manifest/catalog.gen.ts');
/** Every component's options, from their specs. */
export const COMPONENTS_DOC_PATH = join(PACKAGE_ROOT, 'docs/components.md');
export const CATALOG_SCHEMA_PATH = join(PACKAGE_ROOT, 'schemas/catalog.schema.json');
export const README_PATH = join(PACKAGE_ROOT, 'README.md');
/** The guides beside the README; a page with a generated table's markers gets the table. */
export const DOCS_DIR = join(PACKAGE_ROOT, 'docs');
/** The package's version as a constant the Worker can import (no package.json read at run time). */
export const VERSION_PATH = join(PACKAGE_ROOT, 'runtime/lib/version.gen.ts');
/** The tree of the manifest's defaults, from the section specs (what applyDefaults walks, without the specs). */
export const DEFAULTS_PATH = join(PACKAGE_ROOT, 'runtime/manifest/defaults.gen.ts');
/** The client for the default manifest's commands, shipped and kept up to date by `npm run check`. */
export const CLIENT_PATH = join(PACKAGE_ROOT, 'client/switchyard-client.gen.ts');

/** The schema file and the generated types, as they should be now. */
export async function generated(): Promise<{
  schema: string;
  types: string;
  catalog: string;
  catalogTypes: string;
  components: string;
  version: string;
  docs: [string, string][];
}> {
  // The provider enum comes from the catalog's file names, so editors complete `provider:`.
  const schema = buildManifestSchema(defaultRegistry, catalogNames());
  const types = await compile(typesInput(schema), 'Manifest', {
    bannerComment: '/* Generated from schemas/manifest.schema.json by `switchyard types`. Do not edit. */',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: false,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
  const catalogSchema = buildCatalogSchema(defaultRegistry);
  // The manifest's definitions a catalog entry shares (Verifier, EventExtraction, …) are imported, not repeated.
  const shared = new Set(Object.keys((schema as { definitions: Record<string, unknown> }).definitions));
  const catalogInput = typesInputSharing(catalogSchema, shared);
  const catalogTypes = await compile(catalogInput.input, 'CatalogEntry', {
    bannerComment: `/* Generated from schemas/catalog.schema.json by \`switchyard types\`. Do not edit. */\nimport type { ${catalogInput.imports.join(', ')} } from './types.gen.ts';`,
    additionalProperties: false,
    unreachableDefinitions: false,
    strictIndexSignatures: false,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
  // The provider table comes from the catalog files, the tables of condition operators and transforms from the code
  // that defines them: each written into whichever page (the README, a docs/ page) has its markers.
  const entries = [...loadCatalog().entries.values()];
  const pages = [
    README_PATH,
    ...readdirSync(DOCS_DIR)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => join(DOCS_DIR, f)),
  ];
  const docs = pages.flatMap((path): [string, string][] => {
    const text = readText(path) ?? '';
    const want = withSectionTables(withConditionTables(withProvidersTable(text, entries) ?? text));
    return want === text ? [] : [[path, want]];
  });
  return {
    schema: `${JSON.stringify(schema, null, 2)}\n`,
    types,
    catalog: `${JSON.stringify(catalogSchema, null, 2)}\n`,
    catalogTypes,
    components: componentsDoc(defaultRegistry),
    version: versionModule(),
    docs,
  };
}

/** runtime/lib/version.gen.ts: package.json's version, for what reports the library (PostHog's `$lib_version`). */
export function versionModule(): string {
  const { version } = JSON.parse(readText(join(PACKAGE_ROOT, 'package.json')) ?? '{}') as { version?: unknown };
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return `/* Generated from package.json by \`switchyard types\`. Do not edit. */\n/** switchyard's version (package.json). */\nexport const SWITCHYARD_VERSION = ${JSON.stringify(version)};\n`;
}

/** The client module for a manifest file's commands (its default environment). */
export async function generatedClient(manifestPath: string): Promise<string> {
  const text = readText(manifestPath);
  if (text === undefined) throw new Error(`${manifestPath}: file not found`);
  const parsed = parseManifest(text, manifestPath);
  if (parsed.problems.length)
    throw new Error(`${manifestPath}: ${parsed.problems[0]!.message}; run switchyard validate`);
  const manifest = resolveEnvironment(parsed.value, 'default') as Manifest;
  const source = relative(resolve(manifestPath, '..'), manifestPath) || manifestPath;
  return clientModule(manifest, source);
}

/**
 * The JSON Schema for a project's manifest: the built-in components' options and its own (`components:` files), for
 * the editor (`# yaml-language-server: $schema=...`).
 */
export function projectSchema(manifestPath: string): string {
  const text = readText(manifestPath);
  if (text === undefined) throw new Error(`${manifestPath}: file not found`);
  const parsed = parseManifest(text, manifestPath);
  if (parsed.problems.length)
    throw new Error(`${manifestPath}: ${parsed.problems[0]!.message}; run switchyard validate`);
  const own = loadOwnComponents(manifestPath, parsed.value);
  if (own.problems.length) throw new Error(`${manifestPath}: ${own.problems[0]!.message}; run switchyard validate`);
  return `${JSON.stringify(buildManifestSchema(own.registry, catalogNames()), null, 2)}\n`;
}

/** docs/cli.md: the CLI's commands, generated from their declarations (cli/lib/cli-doc.ts). */
export const CLI_DOC_PATH = join(PACKAGE_ROOT, 'docs/cli.md');

export const typesSpec = defineCommand({
  name: 'types',
  summary: 'write (or check) schemas/, the generated types, docs and the typed commands client',
  description: `Writes what is generated from the code: schemas/manifest.schema.json (from the adapter registry, its
provider list from catalog/), the TypeScript types from it, schemas/catalog.schema.json, docs/components.md (every
component's options), runtime/manifest/defaults.gen.ts and docs/manifest.md's tables (from the section specs), docs/cli.md (every command's flags, from their declarations), the README's generated tables,
and the typed commands client for the default manifest. npm run types runs it; npm run check runs it with --check,
which fails when any of them is stale.`,
  arguments: [
    { name: '[MANIFEST]', description: 'with --client or --schema: the manifest to read (default: integrations.yaml)' },
  ],
  flags: {
    check: { type: 'boolean', description: 'write nothing; fail (exit 1) when a generated file is stale' },
    client: {
      type: 'string',
      value: 'FILE',
      description: "write only the typed client for a manifest's commands, to FILE (an application's own copy)",
    },
    schema: {
      type: 'string',
      value: 'FILE',
      description:
        "write only the JSON Schema for a manifest, its own components' options included (components:), to FILE, for the editor",
    },
  },
  exclusive: [['client', 'schema']],
  examples: [
    { command: 'npm run types', does: 'regenerate everything after changing an adapter, the catalog or a command' },
    { command: 'switchyard types --client src/switchyard.ts', does: "the typed client for your manifest's commands" },
    {
      command: 'switchyard types --schema .switchyard/manifest.schema.json',
      does: "the schema your editor checks integrations.yaml with, your own components' options included",
    },
  ],
});

/**
 * Runs `switchyard types`. `more` are further generated files (path and content) the caller knows of: the command
 * table gives docs/cli.md, which this module cannot import without a cycle (the table imports every command).
 */
export async function typesCommand(args: string[], more: () => [string, string][] = () => []): Promise<number> {
  const { values, positionals } = parseCommand(typesSpec, args);
  const check = values.check ?? false;
  let files: [string, string][];
  if (values.client) {
    files = [[resolve(values.client), await generatedClient(positionals[0] ?? findManifest())]];
  } else if (values.schema) {
    files = [[resolve(values.schema), projectSchema(resolve(positionals[0] ?? findManifest()))]];
  } else {
    const want = await generated();
    files = [
      [SCHEMA_PATH, want.schema],
      [TYPES_PATH, want.types],
      [CATALOG_SCHEMA_PATH, want.catalog],
      [CATALOG_TYPES_PATH, want.catalogTypes],
      [COMPONENTS_DOC_PATH, want.components],
      [VERSION_PATH, want.version],
      [DEFAULTS_PATH, defaultsModule()],
      ...want.docs,
      [CLIENT_PATH, await generatedClient(join(PACKAGE_ROOT, 'integrations.yaml'))],
      ...more(),
    ];
  }
  if (check) {
    const stale = files.filter(([path, content]) => readText(path) !== content).map(([path]) => path);
    for (const path of stale) console.error(`${path} is stale: run \`npm run types\` and commit the result`);
    if (!stale.length)
      console.log(
        values.client
          ? 'the client is up to date'
          : values.schema
            ? 'the schema is up to date'
            : 'schema, types and client are up to date',
      );
    return stale.length ? 1 : 0;
  }
  for (const [path, content] of files) if (writeIfChanged(path, content)) console.log(`wrote ${path}`);
  return 0;
}
