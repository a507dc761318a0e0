/**
 * What `validate` could check statically with each candidate's parse tree: every path a condition reads, with the
 * offset inside the expression where the language's AST gives one, checked against a sample event (the catalog's),
 * with a did-you-mean for a misspelled field. `[]` in a path is "each element" (CEL's exists(), JSONata's filter).
 */
import type { Lib } from './candidates.ts';
import type { Matcher } from './matcher.ts';

export interface ReadPath {
  path: string[];
  /** Offset inside the expression (0-based) of each step, when the AST carries one. */
  offsets?: (number | undefined)[];
}

/** Paths of a CEL expression (@marcbachmann/cel-js's AST: `{ op, args, pos }`); macros bind their variable to `receiver[]`. */
export function celPaths(lib: Lib, source: string): ReadPath[] {
  const out: ReadPath[] = [];
  type Chain = { path: string[]; offsets: (number | undefined)[] };
  const chain = (n: any, scope: Map<string, string[]>): Chain | undefined => {
    if (n?.op === 'id') {
      const bound = scope.get(n.args);
      return bound ? { path: bound, offsets: bound.map(() => undefined) } : { path: [n.args], offsets: [n.pos] };
    }
    if (n?.op === '.' || n?.op === '.?') {
      const base = chain(n.args[0], scope);
      // pos is where the field's name starts.
      return base && { path: [...base.path, n.args[1]], offsets: [...base.offsets, n.pos] };
    }
    return undefined;
  };
  const walk = (n: any, scope: Map<string, string[]>): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) walk(x, scope);
      return;
    }
    const p = chain(n, scope);
    if (p) return void out.push(p);
    if (n.op === 'rcall' && ['exists', 'all', 'exists_one', 'filter', 'map'].includes(n.args[0])) {
      const receiver = chain(n.args[1], scope);
      walk(n.args[1], scope);
      const [v, body] = n.args[2] as [any, any];
      walk(body, new Map(scope).set(v.args, [...(receiver?.path ?? []), '[]']));
      return;
    }
    if (n.op !== 'value') walk(n.args, scope);
  };
  walk(lib.parse(source).ast, new Map());
  return out;
}

/** Paths of a JSONata expression (its `ast()`: `path` nodes of `name` steps; a filter's paths are per element; `$$` is the root). */
export function jsonataPaths(lib: Lib, source: string): ReadPath[] {
  const out: ReadPath[] = [];
  const walk = (n: any, base: string[]): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) walk(x, base);
      return;
    }
    if (n.type === 'path') {
      const root = n.steps[0]?.type === 'variable' && n.steps[0].value === '$';
      let path = root ? [] : base;
      // position is where a step's name ends; steps inherited from the enclosing path have none here.
      let offsets: (number | undefined)[] = path.map(() => undefined);
      for (const step of n.steps) {
        if (step.type !== 'name') continue;
        path = [...path, step.value];
        offsets = [...offsets, step.position - String(step.value).length];
        out.push({ path, offsets });
        for (const stage of step.stages ?? []) if (stage.type === 'filter') walk(stage.expr, [...path, '[]']);
        if (step.stages?.length) {
          path = [...path, '[]'];
          offsets = [...offsets, undefined];
        }
      }
      return;
    }
    for (const v of Object.values(n)) walk(v, base);
  };
  walk(lib.default(source).ast(), []);
  return dedupe(out);
}

/** Paths of a JMESPath expression (@jmespath-community/jmespath's compile: no positions in its AST). */
export function jmespathPaths(lib: Lib, source: string): ReadPath[] {
  const out: ReadPath[] = [];
  const chain = (n: any, base: string[]): string[] | undefined => {
    if (n?.type === 'Field') return [...base, n.name];
    if (n?.type === 'Subexpression') {
      const l = chain(n.left, base);
      return l && chain(n.right, l);
    }
    return undefined;
  };
  const walk = (n: any, base: string[]): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) walk(x, base);
      return;
    }
    const p = chain(n, base);
    if (p) return void out.push({ path: p });
    if (n.type === 'FilterProjection') {
      const l = chain(n.left, base) ?? base;
      walk(n.condition, [...l, '[]']);
      if (n.right?.type !== 'Identity') walk(n.right, [...l, '[]']);
      return;
    }
    for (const v of Object.values(n)) walk(v, base);
  };
  walk(lib.compile(source), []);
  return out;
}

/** Paths of a matcher: each `path`, relative to the element under `some`; an operand `{ path }` is from the root. */
export function matcherPaths(m: Matcher, base: string[] = []): ReadPath[] {
  const out: ReadPath[] = [];
  for (const [key, v] of Object.entries(m)) {
    if (key === 'path') out.push({ path: [...base, ...String(v).split('.')] });
    else if (key === 'all' || key === 'any') (v as Matcher[]).forEach((x) => out.push(...matcherPaths(x, base)));
    else if (key === 'not') out.push(...matcherPaths(v as Matcher, base));
    else if (key === 'some') out.push(...matcherPaths(v as Matcher, [...base, ...String(m.path).split('.'), '[]']));
    else if (v && typeof v === 'object' && 'path' in v) out.push({ path: String((v as Matcher).path).split('.') });
  }
  return out;
}

/** Checks paths against a sample event: for each path missing from it, where it stops and the closest field there. */
export function checkPaths(paths: ReadPath[], sample: unknown): string[] {
  const problems: string[] = [];
  for (const { path, offsets } of paths) {
    let node: unknown = sample;
    for (const [i, seg] of path.entries()) {
      if (seg === '[]') {
        if (!Array.isArray(node)) {
          problems.push(`${path.slice(0, i).join('.')} is not a list in the sample`);
          break;
        }
        node = node[0];
        continue;
      }
      if (node === null || typeof node !== 'object' || !(seg in node)) {
        const keys = node && typeof node === 'object' ? Object.keys(node) : [];
        const near = keys
          .map((k) => [k, distance(k, seg)] as const)
          .filter(([, d]) => d <= 2)
          .sort((a, b) => a[1] - b[1])[0];
        const offset = offsets?.[i];
        problems.push(
          `${path.slice(0, i + 1).join('.')}${offset !== undefined ? ` (offset ${offset})` : ''}: not in the sample${near ? `; did you mean ${near[0]}?` : ''}`,
        );
        break;
      }
      node = (node as Record<string, unknown>)[seg];
    }
  }
  return problems;
}

const dedupe = (paths: ReadPath[]) =>
  paths.filter(
    (p, i) =>
      !paths.some((q, j) => j !== i && q.path.length > p.path.length && p.path.every((s, k) => q.path[k] === s)),
  );

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}
