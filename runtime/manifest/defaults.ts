/**
 * Applies the defaults the section specs declare (runtime/manifest/sections/), once, to a validated manifest:
 * what compile reads is always there, so no default lives in compile code. `switchyard build` applies them, so the
 * Worker receives a defaulted manifest and its cold compile does no defaulting; compileManifest applies them itself
 * to a manifest that was not built (tests, the CLI). No Ajv, and no section spec in the Worker bundle: a walk over
 * the tree of defaults `switchyard types` generates from the specs (defaults.gen.ts), copying only what it changes.
 */
import { MANIFEST_DEFAULTS } from './defaults.gen.ts';
import type { DefaultsNode } from './sections/defaults-tree.ts';
import type { Manifest } from './types.gen.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const copy = <T>(value: T): T =>
  typeof value === 'object' && value !== null ? (JSON.parse(JSON.stringify(value)) as T) : value;

/** The manifest with every omitted value that has a default filled in; the manifest given is not changed. */
export function applyDefaults(manifest: Manifest): Manifest {
  return inObject(MANIFEST_DEFAULTS.top, manifest as unknown as Record<string, unknown>) as unknown as Manifest;
}

/** The defaults of one section (`Retention`, `Limit`, …) as the manifest would write them: what omitting it means. */
export function sectionDefaults(fields: Readonly<Record<string, DefaultsNode>> | undefined): Record<string, unknown> {
  return inObject(fields ?? {}, {});
}

function inObject(
  fields: Readonly<Record<string, DefaultsNode>>,
  value: Record<string, unknown>,
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const node = fields[key]!;
    const given = value[key];
    let next: unknown = given;
    // An object default also fills the keys a given object lacks (`defaults.retry: { max_attempts: 3 }`).
    if (given === undefined) next = node.d === undefined ? undefined : copy(node.d);
    else if (isObject(given) && isObject(node.d)) next = { ...copy(node.d), ...given };
    if (next !== undefined) next = within(node, next);
    if (next !== given) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}

function within(node: DefaultsNode, value: unknown): unknown {
  if (node.s) return isObject(value) ? inObject(node.s, value) : value;
  if (node.r) {
    const definition = MANIFEST_DEFAULTS.definitions[node.r];
    return definition ? within(definition, value) : value;
  }
  if (node.i) {
    if (!Array.isArray(value)) return value;
    const item = node.i;
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const next = within(item, v);
      if (next !== v) (out ??= [...value])[i] = next;
    });
    return out ?? value;
  }
  if (node.v) {
    if (!isObject(value)) return value;
    let out: Record<string, unknown> | undefined;
    for (const key in value) {
      const next = within(node.v, value[key]);
      if (next !== value[key]) (out ??= { ...value })[key] = next;
    }
    return out ?? value;
  }
  return value;
}
