/**
 * The manifest's JSON Schema: the sections' specs (runtime/manifest/sections/, one `field` declaration each, the
 * same machinery components use) and every registered adapter's options, plus the value and condition languages.
 * `switchyard types` writes it to schemas/manifest.schema.json; types are generated from that file.
 */
import type { Registry } from '../component/registry.ts';
import { componentSchema, typedSchema, type Component } from '../component/define.ts';
import { objectSchema } from '../component/spec.ts';
import { durationSchema, sizeSchema } from '../lib/duration.ts';
import { valueSchema } from '../language/values.ts';
import { conditionSchema } from '../language/conditions.ts';
import { alertSchema } from './alerts.ts';
import { templateSchema } from '../language/templates.ts';
import { manifestSpec, sectionDefinitions } from './sections/manifest.ts';
import { NAME_PATTERN } from './sections/names.ts';

export { MANIFEST_VERSION } from './sections/manifest.ts';
export { BINDING_PATTERN, NAME_PATTERN } from './sections/names.ts';

/** An object schema that rejects unknown keys. */
export const closed = (
  title: string,
  properties: Record<string, unknown>,
  required: readonly string[] = [],
  description?: string,
) => ({
  type: 'object',
  title,
  ...(description ? { description } : {}),
  additionalProperties: false,
  properties,
  ...(required.length ? { required: [...required] } : {}),
});

/** Builds the manifest schema for a registry. Pure: the same registry gives the same schema. */
export function buildManifestSchema(registry: Registry, providers: readonly string[] = []): Record<string, unknown> {
  const tagged = (list: Iterable<Component>) => [...list].map(typedSchema);
  // An action branch is `action: <type>` with the action's own options and the keys the step that sends it adds.
  // Every step may carry a description and a condition (`if:`) beside its own keys.
  const stepKeys = {
    description: { type: 'string' },
    if: {
      $ref: '#/definitions/Condition',
      description:
        'Run this step only when the condition holds; otherwise it is skipped and says which condition decided.',
    },
  };
  const actionBranches = (around: Record<string, unknown>) =>
    [...registry.actions.values()].map((a) =>
      componentSchema(a, {
        properties: { action: { const: a.name, description: a.description }, ...around, ...stepKeys },
        required: ['action'],
      }),
    );
  const steps = [...registry.steps.values()].map((s) =>
    s.schema ? s.schema({ actionBranches }) : componentSchema(s, { properties: stepKeys, required: [s.name] }),
  );
  const union = (title: string, description: string | undefined, list: Iterable<Component>) => ({
    title,
    ...(description ? { description } : {}),
    type: 'object',
    required: ['type'],
    discriminator: { propertyName: 'type' },
    oneOf: tagged(list),
  });

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchyard.dev/schemas/manifest.schema.json',
    ...objectSchema(manifestSpec, {
      title: 'Manifest',
      description: 'switchyard integrations manifest (integrations.yaml).',
    }),
    definitions: {
      Duration: durationSchema,
      Size: sizeSchema,
      Value: valueSchema,
      Condition: conditionSchema,
      ...Object.fromEntries(Object.entries(sectionDefinitions).map(([name, f]) => [name, f.schema])),
      Provider: {
        type: 'string',
        ...(providers.length ? { enum: [...providers] } : { pattern: NAME_PATTERN }),
        tsType: 'string',
        description:
          'A provider from the catalog (catalog/<name>.yaml): its verifier, envelope and handshake are the defaults, and every key set here overrides them. `switchyard providers` lists them.',
      },
      Handshake: union(
        'Handshake',
        'A request the provider sends to prove the endpoint is yours, answered at once and never queued; `type` picks the adapter.',
        registry.handshakes.values(),
      ),
      Verifier: union(
        'Verifier',
        'How a request is authenticated; `type` picks the adapter.',
        registry.verifiers.values(),
      ),
      Step: { title: 'Step', description: 'One step, named by its key.', oneOf: steps },
      Template: templateSchema,
      Alert: alertSchema,
      AuthProvider: union('AuthProvider', undefined, registry.auth.values()),
      Endpoint: union('Endpoint', undefined, registry.endpoints.values()),
    },
  };
}
