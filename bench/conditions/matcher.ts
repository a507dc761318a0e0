/**
 * A prototype of candidate 1, the declarative matcher (Hookdeck / EventBridge style), for the measurement only: not
 * the runtime's. It compiles once on top of values.ts's paths (compilePath, readPath) into closures; no eval.
 *
 *   { path: data.object.mode, eq: subscription }
 *   { all: [...] } | { any: [...] } | { not: {...} }
 *   operators on a path: eq, ne, in, gt, gte, lt, lte, starts_with, ends_with, exists,
 *   some (an element of the array at path matches; its paths are relative to the element).
 *   An operand may be { path: ... } read from the event's root.
 * Errors name the place in the matcher (`all[1].gte`), which validate would map to the YAML node's file:line:col.
 */
import { compilePath, readPath, type CompiledPath } from '../../runtime/language/values.ts';

export type Matcher = Record<string, unknown>;
type Test = (node: unknown, root: unknown) => boolean;

const OPERATORS = ['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'starts_with', 'ends_with', 'exists', 'some'] as const;

/** Compiles a matcher; throws with the place of the first problem. */
export function compileMatcher(spec: Matcher, at = '$'): (payload: unknown) => boolean {
  const test = compile(spec, at);
  return (payload) => test(payload, payload);
}

const read = (path: CompiledPath, node: unknown) => readPath(path, { payload: node });

function operand(value: unknown, _at: string): (root: unknown) => unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'path' in value) {
    const p = compilePath(String((value as { path: unknown }).path));
    return (root) => read(p, root);
  }
  return () => value;
}

function compile(spec: Matcher, at: string): Test {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new Error(`${at}: a matcher is an object`);
  const keys = Object.keys(spec);
  if ('all' in spec || 'any' in spec) {
    const key = 'all' in spec ? 'all' : 'any';
    if (keys.length !== 1 || !Array.isArray(spec[key])) throw new Error(`${at}.${key}: a list of matchers, alone`);
    const parts = (spec[key] as Matcher[]).map((m, i) => compile(m, `${at}.${key}[${i}]`));
    return key === 'all' ? (n, r) => parts.every((t) => t(n, r)) : (n, r) => parts.some((t) => t(n, r));
  }
  if ('not' in spec) {
    const inner = compile(spec.not as Matcher, `${at}.not`);
    return (n, r) => !inner(n, r);
  }
  if (typeof spec.path !== 'string') throw new Error(`${at}: needs path (or all, any, not)`);
  const path = compilePath(spec.path);
  const tests: Test[] = [];
  for (const key of keys) {
    if (key === 'path') continue;
    const where = `${at}.${key}`;
    const v = spec[key];
    switch (key as (typeof OPERATORS)[number]) {
      case 'eq':
      case 'ne': {
        const rhs = operand(v, where);
        tests.push(key === 'eq' ? (x, r) => x === rhs(r) : (x, r) => x !== rhs(r));
        break;
      }
      case 'in': {
        if (!Array.isArray(v)) throw new Error(`${where}: a list`);
        const set = new Set(v);
        tests.push((x) => set.has(x));
        break;
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        if (typeof v !== 'number') throw new Error(`${where}: compares numbers; ${JSON.stringify(v)} is not one`);
        const n = v;
        const cmp = {
          gt: (x: number) => x > n,
          gte: (x: number) => x >= n,
          lt: (x: number) => x < n,
          lte: (x: number) => x <= n,
        }[key as 'gt'];
        tests.push((x) => typeof x === 'number' && cmp(x));
        break;
      }
      case 'starts_with':
      case 'ends_with': {
        const s = String(v);
        tests.push(
          key === 'starts_with'
            ? (x) => typeof x === 'string' && x.startsWith(s)
            : (x) => typeof x === 'string' && x.endsWith(s),
        );
        break;
      }
      case 'exists':
        tests.push(v ? (x) => x !== undefined && x !== null : (x) => x === undefined || x === null);
        break;
      case 'some': {
        const inner = compile(v as Matcher, where);
        tests.push((x, r) => Array.isArray(x) && x.some((e) => inner(e, r)));
        break;
      }
      default:
        throw new Error(`${where}: unknown operator ${JSON.stringify(key)} (one of ${OPERATORS.join(', ')})`);
    }
  }
  if (tests.length === 0) throw new Error(`${at}: path ${spec.path} with no operator`);
  return (node, root) => {
    const x = read(path, node);
    for (const t of tests) if (!t(x, root)) return false;
    return true;
  };
}
