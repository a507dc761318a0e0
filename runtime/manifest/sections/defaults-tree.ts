/**
 * The defaults the sections declare, as a small tree of nothing else (no schema, no description): what
 * manifest/defaults.ts walks. `switchyard types` writes it to runtime/manifest/defaults.gen.ts, so the Worker bundle
 * carries the defaults and not the section specs, and `types --check` fails when it is stale.
 */
import type { Field, Spec } from '../../component/spec.ts';
import { manifestSpec, sectionDefinitions } from './manifest.ts';

/** One field: its default (`d`), and inside it a spec (`s`), list items (`i`), map values (`v`) or a definition (`r`). */
export interface DefaultsNode {
  d?: unknown;
  s?: Record<string, DefaultsNode>;
  i?: DefaultsNode;
  v?: DefaultsNode;
  r?: string;
}

export interface DefaultsTree {
  /** The manifest's top level. */
  top: Record<string, DefaultsNode>;
  /** Definitions that hold a default somewhere, by name. */
  definitions: Record<string, DefaultsNode>;
}

type AnyField = Field<unknown, 'required' | 'optional' | 'defaulted'>;

/** The tree of a manifest's defaults, with every branch that holds none left out. */
export function defaultsTree(): DefaultsTree {
  const definitions: Record<string, DefaultsNode> = {};
  const has = new Map<string, boolean>();
  // A definition holds defaults when its own fields do, or a definition it names does (refs may recurse: Handler).
  const holds = (name: string): boolean => {
    if (!has.has(name)) {
      has.set(name, false);
      const f = sectionDefinitions[name];
      const node = f ? nodeOf(f) : undefined;
      if (node) definitions[name] = node;
      has.set(name, node !== undefined);
    }
    return has.get(name)!;
  };
  const ofSpec = (spec: Spec): Record<string, DefaultsNode> | undefined => {
    const out = Object.fromEntries(
      Object.entries(spec).flatMap(([key, f]) => {
        const node = nodeOf(f as AnyField);
        return node ? [[key, node]] : [];
      }),
    );
    return Object.keys(out).length ? out : undefined;
  };
  function nodeOf(f: AnyField): DefaultsNode | undefined {
    const node: DefaultsNode = f.defaultValue !== undefined ? { d: f.defaultValue } : {};
    const inner = f.inner;
    if (inner && 'spec' in inner) {
      const s = ofSpec(inner.spec);
      if (s) node.s = s;
    } else if (inner && 'ref' in inner) {
      if (holds(inner.ref)) node.r = inner.ref;
    } else if (inner && 'items' in inner) {
      const i = nodeOf(inner.items);
      if (i) node.i = i;
    } else if (inner && 'values' in inner) {
      const v = nodeOf(inner.values);
      if (v) node.v = v;
    }
    return Object.keys(node).length ? node : undefined;
  }
  const top = ofSpec(manifestSpec) ?? {};
  return { top, definitions: Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))) };
}

/** runtime/manifest/defaults.gen.ts. */
export function defaultsModule(): string {
  return [
    '/* Generated from runtime/manifest/sections/ by `switchyard types`. Do not edit: change the section spec instead. */',
    "import type { DefaultsTree } from './sections/defaults-tree.ts';",
    '',
    "/** The defaults the manifest's section specs declare, and where: what applyDefaults fills in. */",
    `export const MANIFEST_DEFAULTS: DefaultsTree = ${JSON.stringify(defaultsTree(), null, 2)};`,
    '',
  ].join('\n');
}
