/**
 * Derived values (`let:` on an integration or a handler): values named once, read anywhere a value is read as `$name`
 * (params, templates, `http` bodies, conditions). Each is computed on its first read for an event and kept for the
 * event's other steps; an earlier name may be read by a later one. Names are checked when the manifest compiles: a
 * `$name` no `let:` in scope declares is a problem at its place, with the nearest name.
 */
import { compileOptionalValue, PATH_PATTERN, type CompileValueOptions, type ValueContext } from './values.ts';
import type { Value } from '../manifest/types.gen.ts';
import { didYouMean } from './closest.ts';

/** The derived values in scope at a handler: its own over its integration's. */
export interface LetScope {
  names: ReadonlySet<string>;
  /** The value context of one step run: `$name` reads through it, once per event (per base context). */
  bind(values: ValueContext): ValueContext;
}

/** A `$name` a block reads, and where. */
export interface LetReference {
  name: string;
  at: (string | number)[];
}

const PATH = new RegExp(PATH_PATTERN);
const PLACEHOLDER = /\{\s*\$([A-Za-z0-9_-]+)/g;

/**
 * Every `$name` a manifest block reads: a value that is a path (`$total`, `{ path: $total.amount }`, a condition's
 * `path`) or a template placeholder (`{$total}`). Object keys are names, never values, so `$lib` as a property name
 * is not a reference.
 */
export function letReferences(block: unknown, at: (string | number)[] = []): LetReference[] {
  if (typeof block === 'string') {
    // Most strings name no derived value: no regular expression runs for them (a new isolate compiles each one).
    if (!block.includes('$')) return [];
    const out: LetReference[] = [];
    if (block.startsWith('$') && PATH.test(block)) out.push({ name: block.slice(1).split(/[.[]/)[0]!, at });
    for (const m of block.matchAll(PLACEHOLDER)) out.push({ name: m[1]!, at });
    return out;
  }
  if (Array.isArray(block)) return block.flatMap((item, i) => letReferences(item, [...at, i]));
  if (block !== null && typeof block === 'object')
    return Object.entries(block).flatMap(([k, v]) => letReferences(v, [...at, k]));
  return [];
}

/**
 * Whether a block may read a derived value: false when no `$` appears in it at all (keys included, so it errs towards
 * true), which `letReferences` would then confirm more slowly. One native serialisation, no code of ours to compile.
 */
export const mentionsLet = (block: unknown): boolean => JSON.stringify(block)?.includes('$') === true;

/** The problems of a block's `$name` reads against the names in scope: each unknown one, with the nearest name. */
export function unknownLets(
  block: unknown,
  names: ReadonlySet<string>,
  at: (string | number)[],
): { path: (string | number)[]; message: string }[] {
  return letReferences(block, at)
    .filter((r) => !names.has(r.name))
    .map((r) => ({
      path: r.at,
      message: `$${r.name} is not a derived value in scope${didYouMean(r.name, [...names])}${names.size ? `; let: names ${[...names].map((n) => `$${n}`).join(', ')}` : '; declare it under let: on the integration or the handler'}`,
    }));
}

/**
 * Compiles a `let:` block over its parent scope. Each value reads what any value in a handler step may read (or, for
 * event extraction, what extraction may: the body and headers, no envelope), and names declared before it. Reports
 * (with the name's place) an unknown or later name, or a malformed value.
 */
export function compileLets(
  spec: Readonly<Record<string, Value>> | undefined,
  parent: LetScope | undefined,
  report: (at: (string | number)[], message: string) => void,
  options: CompileValueOptions = { allowEnvelope: true },
): LetScope | undefined {
  if (!spec || !Object.keys(spec).length) return parent;
  const names = new Set(parent?.names ?? []);
  const reads = new Map<string, (ctx: ValueContext) => unknown>();
  for (const [name, value] of Object.entries(spec)) {
    for (const problem of unknownLets(value, names, [name]))
      report(
        problem.path,
        problem.message.replace(
          'is not a derived value in scope',
          names.has(name) ? 'is not declared before it' : 'is not a derived value declared before this one',
        ),
      );
    try {
      reads.set(name, compileOptionalValue(value, options));
    } catch (error) {
      report([name], (error as Error).message);
    }
    names.add(name);
  }
  // Per base context (one event's, or one batch item's): one bound context, so each name's value is computed once
  // and every step of the event reuses it (a step's bind is one WeakMap lookup).
  const bound = new WeakMap<ValueContext, ValueContext>();
  const scope: LetScope = {
    names,
    bind(values) {
      const known = bound.get(values);
      if (known) return known;
      const base = parent ? parent.bind(values) : values;
      const cache = new Map<string, unknown>();
      const context: ValueContext = {
        ...base,
        lets: (name) => {
          const read = reads.get(name);
          if (!read) return base.lets?.(name);
          if (cache.has(name)) return cache.get(name);
          const value = read(context);
          cache.set(name, value);
          return value;
        },
      };
      bound.set(values, context);
      return context;
    },
  };
  return scope;
}
