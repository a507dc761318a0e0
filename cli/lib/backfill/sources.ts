/**
 * An integration's backfill sources: its provider's catalog `sources:`, with the manifest integration's `sources:`
 * merged over them key by key (`null` removes one), each checked against the BackfillSource schema.
 */
import Ajv from 'ajv';
import { loadCatalog } from '../catalog.ts';
import { mergeOverlay, parseManifest, resolveEnvironment } from '../../../runtime/manifest/load.ts';
import { sourceDefinitions, type BackfillSource } from '../../../runtime/manifest/sources.ts';
import { compilePattern } from '../../../runtime/manifest/compile.ts';
import type { Project } from '../project.ts';
import { readText } from '../project.ts';
import { UsageError } from '../args.ts';
import { closest } from '../../../runtime/language/closest.ts';

export interface ResolvedSources {
  integration: string;
  provider?: string;
  sources: Map<string, BackfillSource>;
  /** The integration's handlers, as written (to tell which event types have effects). */
  handlers: { on: string | string[]; steps: Record<string, unknown>[] }[];
}

let validate: ((v: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

/** Problems with a merged source, as `path: message` lines (empty when it is valid). */
export function checkSource(source: unknown): string[] {
  if (!validate) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
    validate = ajv.compile({ definitions: sourceDefinitions, $ref: '#/definitions/BackfillSource' });
  }
  return validate(source)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the manifest for `env` and resolves `integration`'s sources; a usage error names what exists. */
export function resolveSources(project: Project, integration: string, env = 'default'): ResolvedSources {
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  if (parsed.problems.length) throw new UsageError(`${project.manifest} does not load: run switchyard validate`);
  const manifest = resolveEnvironment(parsed.value, env) as { integrations?: Record<string, Record<string, unknown>> };
  const spec = manifest.integrations?.[integration];
  if (!spec) {
    const names = Object.keys(manifest.integrations ?? {});
    const guess = closest(integration, names);
    throw new UsageError(
      `no integration ${integration}${guess ? ` (did you mean ${guess}?)` : ''}; integrations: ${names.join(', ')}`,
    );
  }
  const provider = typeof spec.provider === 'string' ? spec.provider : undefined;
  const preset = provider ? loadCatalog().entries.get(provider)?.sources : undefined;
  const merged = mergeOverlay(preset ?? {}, isObject(spec.sources) ? spec.sources : {}) as Record<string, unknown>;
  const sources = new Map<string, BackfillSource>();
  for (const [name, source] of Object.entries(merged)) {
    const problems = checkSource(source);
    if (problems.length)
      throw new UsageError(
        `integrations.${integration}.sources.${name} (merged over catalog/${provider}.yaml): ${problems.join('; ')}`,
      );
    sources.set(name, source as BackfillSource);
  }
  return {
    integration,
    ...(provider ? { provider } : {}),
    sources,
    handlers: (spec.handlers as ResolvedSources['handlers']) ?? [],
  };
}

/** The handlers an event type runs, and whether any step of them is more than SQL (an email, an enqueue, a call). */
export function handlersFor(resolved: ResolvedSources, type: string): { count: number; effects: string[] } {
  let count = 0;
  const effects: string[] = [];
  for (const h of resolved.handlers) {
    if (!([] as string[]).concat(h.on).some((on) => compilePattern(on).test(type))) continue;
    count++;
    for (const step of h.steps) {
      if (typeof step.action === 'string') effects.push(`action ${step.action}`);
      else if (typeof step.enqueue === 'string') effects.push(`enqueue ${step.enqueue}`);
    }
  }
  return { count, effects };
}
