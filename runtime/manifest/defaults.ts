/**
 * Applies the defaults the section specs declare (runtime/manifest/sections/), once, to a validated manifest:
 * what compile reads is always there, so no default lives in compile code. `switchyard build` applies them, so the
 * Worker receives a defaulted manifest and its cold compile does no defaulting; compileManifest applies them itself
 * to a manifest that was not built (tests, the CLI). No Ajv: a walk over the specs, copying only what it changes.
 */
import type { Field, Spec } from '../component/spec.ts';
import { manifestSpec, sectionDefinitions } from './sections/manifest.ts';
import type { Manifest } from './types.gen.ts';

type AnyField = Field<unknown, 'required' | 'optional' | 'defaulted'>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const copy = <T>(value: T): T => (typeof value === 'object' && value !== null ? (JSON.parse(JSON.stringify(value)) as T) : value);

/** The manifest with every omitted value that has a default filled in; the manifest given is not changed. */
export function applyDefaults(manifest: Manifest): Manifest {
  return inObject(manifestSpec, manifest as unknown as Record<string, unknown>) as unknown as Manifest;
}

function inObject(spec: Spec, value: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in spec) {
    const f = spec[key]!;
    const given = value[key];
    let next: unknown = given;
    // An object default also fills the keys a given object lacks (`defaults.retry: { max_attempts: 3 }`).
    if (given === undefined) next = f.defaultValue === undefined ? undefined : copy(f.defaultValue);
    else if (isObject(given) && isObject(f.defaultValue)) next = { ...copy(f.defaultValue), ...given };
    if (next !== undefined) next = within(f, next);
    if (next !== given) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}

function within(f: AnyField, value: unknown): unknown {
  const inner = f.inner;
  if (!inner) return value;
  if ('spec' in inner) return isObject(value) ? inObject(inner.spec, value) : value;
  if ('ref' in inner) {
    const definition = sectionDefinitions[inner.ref];
    return definition ? within(definition, value) : value;
  }
  if ('items' in inner) {
    if (!Array.isArray(value)) return value;
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = within(inner.items, item);
      if (next !== item) (out ??= [...value])[i] = next;
    });
    return out ?? value;
  }
  if (!isObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    const item = value[key];
    const next = within(inner.values, item);
    if (next !== item) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}
