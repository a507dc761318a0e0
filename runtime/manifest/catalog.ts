/**
 * The provider catalog: one YAML file per provider (catalog/<name>.yaml) with the verifier, envelope and handshake
 * a `provider: <name>` integration gets by default, a sample, published test vectors and the docs it was read
 * from. This module is pure (the schema and the preset merge); cli/lib/catalog.ts reads the files.
 */
import type { Registry } from '../component/registry.ts';
import { SECRET_PATTERN } from '../component/spec.ts';
import type { CatalogEntry } from './catalog.gen.ts';
import { mergeOverlay } from './load.ts';
import { buildManifestSchema, closed } from './schema.ts';
import { sourceDefinitions } from './sources.ts';

export const CATALOG_NAME_PATTERN = '^[a-z][a-z0-9-]*$';

/** The catalog file's JSON Schema; the verifier, event and handshake blocks are exactly the manifest's. */
export function buildCatalogSchema(registry: Registry): Record<string, unknown> {
  const manifest = buildManifestSchema(registry) as { definitions: Record<string, unknown> };
  const secretName = { type: 'string', pattern: SECRET_PATTERN };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchyard.dev/schemas/catalog.schema.json',
    ...closed(
      'CatalogEntry',
      {
        name: {
          type: 'string',
          pattern: CATALOG_NAME_PATTERN,
          description: 'The file stem: lower-case letters, digits and dashes.',
        },
        title: { type: 'string', minLength: 1, description: 'The provider as people write it.' },
        docs: { type: 'string', pattern: '^https://', description: 'The page the scheme was read from.' },
        verified_by: {
          enum: ['sdk', 'doc-vector', 'spec'],
          description:
            'The strongest proof the conformance test uses: the official SDK, a worked example from the docs, or the docs alone.',
        },
        sdk: closed(
          'CatalogSdk',
          {
            package: {
              type: 'string',
              minLength: 1,
              description:
                "The npm devDependency cross-checked in test/catalog/sdk/<name>.ts, or github:<owner>/<repo> when that file ports the provider's own published code (the note names the file and commit).",
            },
            note: { type: 'string' },
          },
          ['package'],
        ),
        secrets: {
          type: 'object',
          minProperties: 1,
          propertyNames: secretName,
          additionalProperties: { type: 'string', minLength: 1 },
          description: 'The secret names the preset reads, each with where the user finds the value.',
        },
        format: { enum: ['json', 'form'], description: 'Body format the provider sends (default json).' },
        verifier: { $ref: '#/definitions/Verifier' },
        event: { $ref: '#/definitions/EventExtraction' },
        handshake: { $ref: '#/definitions/Handshake' },
        response: { $ref: '#/definitions/WebhookResponse' },
        sample: closed(
          'CatalogSample',
          {
            type: {
              type: 'string',
              minLength: 1,
              description: 'The event type the envelope extracts from the sample.',
            },
            headers: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'Unsigned headers the provider sends.',
            },
            body: {
              type: ['object', 'array'],
              description:
                'The JSON body (for form providers, the form fields); placeholders __ID__, __NOW_S__, __NOW_MS__, __NOW_ISO__.',
            },
            raw: { type: 'string', description: 'A raw body, for bodies that are not a JSON object.' },
          },
          ['type'],
          'A realistic event as the provider sends it; the conformance test and `switchyard send` sign it.',
        ),
        vectors: {
          type: 'array',
          items: closed(
            'CatalogVector',
            {
              source: { type: 'string', pattern: '^https://', description: 'Where the example is printed.' },
              secret: { type: 'string', minLength: 1, description: 'The secret (or public key) value of the example.' },
              url: { type: 'string', pattern: '^https?://', description: 'The URL, when the scheme signs it.' },
              method: { type: 'string', enum: ['GET', 'POST', 'PUT'] },
              headers: { type: 'object', additionalProperties: { type: 'string' } },
              body: { type: 'string', description: 'The raw body, byte-exact.' },
              now: { type: 'integer', minimum: 0, description: 'Unix seconds at which the example is valid.' },
            },
            ['source', 'secret', 'headers', 'body'],
          ),
          description: "Worked examples published in the provider's docs, verbatim.",
        },
        notes: { type: 'string', description: 'Caveats: per-webhook secrets, legacy schemes not covered.' },
        sources: {
          type: 'object',
          propertyNames: { pattern: '^[a-z][a-z0-9_]*$' },
          additionalProperties: { $ref: '#/definitions/BackfillSource' },
          description:
            'List endpoints `switchyard backfill` and `reconcile` read, per object kind (runtime/manifest/sources.ts).',
        },
      },
      ['name', 'title', 'docs', 'verified_by', 'secrets', 'verifier', 'event', 'sample'],
      'One provider of the switchyard catalog (catalog/<name>.yaml).',
    ),
    definitions: { ...manifest.definitions, ...sourceDefinitions },
  };
}

/** A catalog entry, as schemas/catalog.schema.json describes it (generated by `switchyard types`). */
export type { CatalogEntry } from './catalog.gen.ts';

/** A verifier or handshake block as plain fields (the merge and the warnings read any key a scheme has). */
export const fieldsOf = (block: object): Record<string, unknown> => Object.fromEntries(Object.entries(block));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An integration with its provider's preset applied: the catalog's format, verifier, event and handshake are the
 * defaults and every key the integration sets wins. The verifier merges key by key unless the integration names
 * another `type` (then its block replaces the preset's); each event field replaces the preset's whole; a handshake
 * merges like the verifier, and `handshake: null` removes it; a `response` replaces the preset's whole, and
 * `response: null` removes it. `provider` itself is not kept: the result is a plain
 * integration, which the schema then checks in full.
 */
export function applyPreset(integration: Record<string, unknown>, entry: CatalogEntry): Record<string, unknown> {
  const { provider: _provider, ...own } = integration;
  const out: Record<string, unknown> = { ...own };
  if (entry.format && own.format === undefined) out.format = entry.format;
  const block = (preset: Record<string, unknown> | undefined, mine: unknown) =>
    mine === undefined
      ? preset
      : !isObject(mine) || !preset
        ? mine
        : mine.type !== undefined && mine.type !== preset.type
          ? mine
          : mergeOverlay(preset, mine);
  out.verifier = block(fieldsOf(entry.verifier), own.verifier);
  out.event = isObject(own.event) ? { ...entry.event, ...own.event } : (own.event ?? entry.event);
  const handshake =
    own.handshake === null ? undefined : block(entry.handshake && fieldsOf(entry.handshake), own.handshake);
  if (handshake === undefined) delete out.handshake;
  else out.handshake = handshake;
  const response = own.response === null ? undefined : (own.response ?? entry.response);
  if (response === undefined) delete out.response;
  else out.response = response;
  return out;
}

/**
 * Applies every `provider:` of a resolved manifest. An unknown provider is left as written: the schema's enum then
 * reports it, with a did-you-mean.
 */
export function applyProviders(manifest: unknown, catalog: ReadonlyMap<string, CatalogEntry>): unknown {
  if (!isObject(manifest) || !isObject(manifest.integrations)) return manifest;
  const integrations: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(manifest.integrations)) {
    const entry = isObject(spec) && typeof spec.provider === 'string' ? catalog.get(spec.provider) : undefined;
    integrations[name] = entry ? applyPreset(spec as Record<string, unknown>, entry) : spec;
  }
  return { ...manifest, integrations };
}

/** The provider each integration names, before presets are applied (for `send` and `providers`). */
export function providersOf(manifest: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (isObject(manifest) && isObject(manifest.integrations)) {
    for (const [name, spec] of Object.entries(manifest.integrations))
      if (isObject(spec) && typeof spec.provider === 'string') out.set(name, spec.provider);
  }
  return out;
}
