/**
 * `switchyard types [--check]`: writes schemas/manifest.schema.json from the adapter registry and generates
 * runtime/manifest/types.gen.ts from it. With --check, fails when either file is stale.
 */
import { compile } from 'json-schema-to-typescript';
import { join } from 'node:path';
import { defaultRegistry } from '../../adapters/registry.ts';
import { buildManifestSchema } from '../../runtime/manifest/schema.ts';
import { buildCatalogSchema } from '../../runtime/manifest/catalog.ts';
import { catalogNames } from '../lib/catalog.ts';
import { parseArgs } from '../lib/args.ts';
import { PACKAGE_ROOT, readText, writeIfChanged } from '../lib/project.ts';

export const SCHEMA_PATH = join(PACKAGE_ROOT, 'schemas/manifest.schema.json');
export const TYPES_PATH = join(PACKAGE_ROOT, 'runtime/manifest/types.gen.ts');
export const CATALOG_SCHEMA_PATH = join(PACKAGE_ROOT, 'schemas/catalog.schema.json');

/** The schema file and the generated types, as they should be now. */
export async function generated(): Promise<{ schema: string; types: string; catalog: string }> {
  // The provider enum comes from the catalog's file names, so editors complete `provider:`.
  const schema = buildManifestSchema(defaultRegistry, catalogNames());
  const types = await compile(schema as never, 'Manifest', {
    bannerComment: '/* Generated from schemas/manifest.schema.json by `switchyard types`. Do not edit. */',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: false,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
  return { schema: JSON.stringify(schema, null, 2) + '\n', types, catalog: JSON.stringify(buildCatalogSchema(defaultRegistry), null, 2) + '\n' };
}

export async function typesCommand(args: string[]): Promise<number> {
  const check = parseArgs(args, { check: { type: 'boolean' } }).values.check ?? false;
  const want = await generated();
  const files: [string, string][] = [
    [SCHEMA_PATH, want.schema],
    [TYPES_PATH, want.types],
    [CATALOG_SCHEMA_PATH, want.catalog],
  ];
  if (check) {
    const stale = files.filter(([path, content]) => readText(path) !== content).map(([path]) => path);
    for (const path of stale) console.error(`${path} is stale: run \`npm run types\` and commit the result`);
    if (!stale.length) console.log('schema and types are up to date');
    return stale.length ? 1 : 0;
  }
  for (const [path, content] of files) if (writeIfChanged(path, content)) console.log(`wrote ${path}`);
  return 0;
}
