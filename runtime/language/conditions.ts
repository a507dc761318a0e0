/**
 * Conditions (`if:` on a handler or a step): a declarative matcher over the event, in YAML, compiled once into
 * closures on values.ts's paths (no eval). docs/conditions-language.md records why this and not an expression library.
 *
 *   if: { path: data.object.mode, eq: subscription }
 *   if: { all: [ { path: data.object.currency, eq: usd }, { path: data.object.amount_due, gt: 100000 } ] }
 *   if: { path: data.email_addresses, some: { path: verification.status, eq: verified } }
 *
 * A leaf is a `path` (payload, `@type`-style envelope field, or `$name` from `let:`) with one or more operators, all of
 * which must hold. `all`, `any` and `not` combine conditions. Semantics are strict: no type coercion (`"100"` is not
 * `100`), a missing field matches nothing but `exists: false` and `ne`, and a range compares two numbers or two
 * ISO-8601 dates, never a number with a string.
 */
import { checkEnvelopeField, compilePath, readPath, type CompiledPath, type ValueContext } from './values.ts';
import { closest, didYouMean } from './closest.ts';
import type { Condition } from '../manifest/types.gen.ts';

/** The manifest's form of a condition (the schema's `Condition`). */
export type ConditionSpec = Condition;

/** Operators a leaf may carry beside its `path`, with what each compares. */
export const OPERATORS = {
  eq: 'equals this value (a string, number, boolean or null; or `{ path: … }` read from the event)',
  ne: 'does not equal this value (true when the field is missing)',
  in: 'is one of these values',
  not_in: 'is none of these values (true when the field is missing)',
  gt: 'is greater than this number or ISO-8601 date',
  gte: 'is greater than or equal to this number or ISO-8601 date',
  lt: 'is less than this number or ISO-8601 date',
  lte: 'is less than or equal to this number or ISO-8601 date',
  starts_with: 'is a string that starts with this',
  ends_with: 'is a string that ends with this',
  contains: 'is a string that contains this, or a list that has this item',
  exists: 'is present and not null (`true`), or missing or null (`false`)',
  some: 'is a list with at least one item matching this condition (its paths are relative to the item)',
  every: 'is a non-empty list whose items all match this condition (its paths are relative to the item)',
} as const;

export type Operator = keyof typeof OPERATORS;
const COMBINATORS = ['all', 'any', 'not'] as const;

/** What other matchers (Mongo, Hookdeck, SQL, JS) call an operator, and its name here: `equals` is `eq`. */
const ALIASES: Record<string, string> = {
  equals: 'eq',
  equal: 'eq',
  is: 'eq',
  '==': 'eq',
  '===': 'eq',
  $eq: 'eq',
  not_equals: 'ne',
  not_equal: 'ne',
  neq: 'ne',
  is_not: 'ne',
  '!=': 'ne',
  $ne: 'ne',
  one_of: 'in',
  any_of: 'in',
  $in: 'in',
  nin: 'not_in',
  none_of: 'not_in',
  $nin: 'not_in',
  greater_than: 'gt',
  '>': 'gt',
  $gt: 'gt',
  greater_than_or_equal: 'gte',
  '>=': 'gte',
  $gte: 'gte',
  less_than: 'lt',
  '<': 'lt',
  $lt: 'lt',
  less_than_or_equal: 'lte',
  '<=': 'lte',
  $lte: 'lte',
  startswith: 'starts_with',
  prefix: 'starts_with',
  $startswith: 'starts_with',
  endswith: 'ends_with',
  suffix: 'ends_with',
  $endswith: 'ends_with',
  includes: 'contains',
  has: 'contains',
  exist: 'exists',
  present: 'exists',
  $exist: 'exists',
  $exists: 'exists',
  and: 'all',
  $and: 'all',
  or: 'any',
  $or: 'any',
  $not: 'not',
  match: 'some',
  elem_match: 'some',
  $elemmatch: 'some',
};

/**
 * An unknown key of a condition, in words: the operator it probably means (by spelling, or by what other matchers
 * call it: `equals` is `eq`), then every operator. The schema's message and the compiler's.
 */
export function unknownOperator(key: string): string {
  const known = [...Object.keys(OPERATORS), ...COMBINATORS, 'path'];
  const guess = closest(key, known) ?? ALIASES[key.toLowerCase()];
  if (guess === 'path') return `unknown key ${JSON.stringify(key)} (did you mean "path"?)`;
  return `unknown operator ${JSON.stringify(key)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; operators: ${Object.keys(OPERATORS).join(', ')}; or ${COMBINATORS.join(', ')}`;
}

const scalar = { type: ['string', 'number', 'boolean', 'null'] };
const reference = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', description: 'Read this path from the event (the root, also inside `some`/`every`).' },
  },
};
const comparable = { anyOf: [scalar, reference] };
const ordered = { anyOf: [{ type: ['number', 'string'] }, reference] };
const nested = { $ref: '#/definitions/Condition' };

const OPERAND_SCHEMAS: Record<Operator, object> = {
  eq: comparable,
  ne: comparable,
  in: { type: 'array', items: scalar, minItems: 1 },
  not_in: { type: 'array', items: scalar, minItems: 1 },
  gt: ordered,
  gte: ordered,
  lt: ordered,
  lte: ordered,
  starts_with: { type: 'string', minLength: 1 },
  ends_with: { type: 'string', minLength: 1 },
  contains: scalar,
  exists: { type: 'boolean' },
  some: nested,
  every: nested,
};

/** The schema's `Condition` definition: one closed object, so an unknown operator is named with a did-you-mean. */
export const conditionSchema = {
  title: 'Condition',
  description:
    'When a handler or step runs: `{ path: <path>, <operator>: <operand> }` (every operator given must hold), or `all`, `any`, `not` of conditions. Paths read the payload, `@type`-style envelope fields and `$name` derived values.',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    all: { type: 'array', items: nested, minItems: 1, description: 'Every condition holds.' },
    any: { type: 'array', items: nested, minItems: 1, description: 'At least one condition holds.' },
    not: { ...nested, description: 'The condition does not hold.' },
    path: {
      type: 'string',
      description: 'What the operators test: a payload path, `@type`-style envelope field or `$name`.',
    },
    ...Object.fromEntries(
      Object.entries(OPERAND_SCHEMAS).map(([op, schema]) => [
        op,
        { ...schema, description: OPERATORS[op as Operator] },
      ]),
    ),
  },
} as const;

/** A compiled condition: whether it holds for an event, and (when it does not) the part that decided, in words. */
export interface CompiledCondition {
  test(ctx: ValueContext): boolean;
  /** Why it is false for this event: the deciding leaf, as the manifest writes it (no event values: they may be personal). */
  why(ctx: ValueContext): string;
  /** The condition as written, for messages. */
  text: string;
}

/** A problem with a condition, at a path inside it (`all.1.gt`), so validate points at the YAML node. */
export class ConditionError extends Error {
  override name = 'ConditionError';
  readonly at: (string | number)[];
  constructor(at: (string | number)[], message: string) {
    super(message);
    this.at = at;
  }
}

type Node = (ctx: ValueContext, item: unknown) => boolean;
interface Compiled {
  test: Node;
  /** The deciding leaf of a false result. */
  why: (ctx: ValueContext, item: unknown) => string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A constant as the manifest would write it: bare when that reads as the same string, quoted when it would read as a number, boolean or null. */
const show = (v: unknown) =>
  typeof v === 'string' && /^[A-Za-z0-9_./:@-]+$/.test(v) && !/^(true|false|null|-?\d+(\.\d+)?)$/.test(v)
    ? v
    : JSON.stringify(v);

/** A one-line rendering of a condition as the manifest writes it. */
export function conditionText(spec: unknown): string {
  if (!isObject(spec)) return JSON.stringify(spec);
  if (Array.isArray(spec.all)) return `all(${spec.all.map(conditionText).join(', ')})`;
  if (Array.isArray(spec.any)) return `any(${spec.any.map(conditionText).join(', ')})`;
  if ('not' in spec) return `not(${conditionText(spec.not)})`;
  const ops = Object.entries(spec)
    .filter(([k]) => k !== 'path')
    .map(
      ([k, v]) =>
        `${k} ${k === 'some' || k === 'every' ? `(${conditionText(v)})` : isObject(v) && typeof v.path === 'string' ? v.path : Array.isArray(v) ? `[${v.map(show).join(', ')}]` : show(v)}`,
    );
  return `${String(spec.path)} ${ops.join(' and ')}`;
}

/**
 * Compiles a condition once per isolate. Throws ConditionError (with the place inside the condition) for an unknown
 * operator, a leaf without an operator or path, a malformed path, or a range against a string that is not a date.
 */
export function compileCondition(spec: ConditionSpec): CompiledCondition {
  const root = compileNode(spec, []);
  return {
    test: (ctx) => root.test(ctx, ctx.payload),
    why: (ctx) => root.why(ctx, ctx.payload),
    text: conditionText(spec),
  };
}

function compileNode(spec: unknown, at: (string | number)[]): Compiled {
  if (!isObject(spec)) throw new ConditionError(at, 'a condition is an object: { path: …, eq: … }, or all / any / not');
  const keys = Object.keys(spec);
  const combinator = COMBINATORS.find((k) => k in spec);
  if (combinator) {
    if (keys.length !== 1)
      throw new ConditionError(at, `${combinator} stands alone in its object; found ${keys.join(', ')}`);
    if (combinator === 'not') {
      const inner = compileNode(spec.not, [...at, 'not']);
      return { test: (c, i) => !inner.test(c, i), why: () => conditionText(spec) };
    }
    const list = spec[combinator];
    if (!Array.isArray(list) || list.length === 0)
      throw new ConditionError([...at, combinator], `${combinator} is a list of conditions`);
    const parts = list.map((p, n) => compileNode(p, [...at, combinator, n]));
    if (combinator === 'all') {
      return {
        test: (c, i) => parts.every((p) => p.test(c, i)),
        why: (c, i) => {
          const failed = parts.find((p) => !p.test(c, i));
          return failed ? failed.why(c, i) : conditionText(spec);
        },
      };
    }
    return { test: (c, i) => parts.some((p) => p.test(c, i)), why: () => `none of ${conditionText(spec)}` };
  }
  if (typeof spec.path !== 'string') {
    const guess = keys.length ? didYouMean(keys[0]!, ['path', ...COMBINATORS]) : '';
    throw new ConditionError(at, `a condition needs a path (or all, any, not)${guess}`);
  }
  const path = pathAt(spec.path, [...at, 'path']);
  const tests: { op: string; test: (x: unknown, c: ValueContext) => boolean }[] = [];
  for (const key of keys) {
    if (key === 'path') continue;
    if (!(key in OPERATORS)) throw new ConditionError([...at, key], unknownOperator(key));
    tests.push({ op: key, test: compileOperator(key as Operator, spec[key], [...at, key]) });
  }
  if (!tests.length)
    throw new ConditionError(at, `path ${spec.path} has no operator; add one of ${Object.keys(OPERATORS).join(', ')}`);
  const read = (ctx: ValueContext, item: unknown) =>
    path.envelope || path.let !== undefined || item === ctx.payload
      ? readPath(path, ctx)
      : readPath(path, { payload: item });
  const leafText = conditionText(spec);
  return {
    test: (ctx, item) => {
      const x = read(ctx, item);
      for (const t of tests) if (!t.test(x, ctx)) return false;
      return true;
    },
    why: () => leafText,
  };
}

function pathAt(text: string, at: (string | number)[]): CompiledPath {
  try {
    const path = compilePath(text);
    checkEnvelopeField(path);
    return path;
  } catch (error) {
    throw new ConditionError(at, (error as Error).message);
  }
}

/** An operand read at evaluation: a constant, or `{ path }` read from the event's root. */
function operandOf(value: unknown, at: (string | number)[]): (ctx: ValueContext) => unknown {
  if (isObject(value)) {
    if (typeof value.path !== 'string' || Object.keys(value).length !== 1)
      throw new ConditionError(at, 'an operand is a value, or { path: … } read from the event');
    const path = pathAt(value.path, [...at, 'path']);
    return (ctx) => readPath(path, ctx);
  }
  return () => value;
}

/** An ISO-8601 date or date-time, as a range compares it (validate's type checks use the same test). */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A range's operand: a number, an ISO-8601 date (compared as an instant), or a path read at evaluation. */
function rangeOperand(value: unknown, at: (string | number)[]): (ctx: ValueContext) => unknown {
  if (typeof value === 'string') {
    if (/^-?\d+(\.\d+)?$/.test(value.trim()))
      throw new ConditionError(
        at,
        `compares numbers or ISO-8601 dates, and "${value}" is a string: write ${value.trim()} without quotes`,
      );
    if (!ISO_DATE.test(value))
      throw new ConditionError(
        at,
        `compares numbers or ISO-8601 dates (2026-12-07, 2026-12-07T10:00:00Z); "${value}" is neither`,
      );
  }
  return operandOf(value, at);
}

/** Two values a range can compare: two numbers, or two dates (ISO-8601 strings) as instants; otherwise undefined. */
function order(x: unknown, y: unknown): number | undefined {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'string' && typeof y === 'string' && ISO_DATE.test(x) && ISO_DATE.test(y)) {
    const d = Date.parse(x) - Date.parse(y);
    return Number.isNaN(d) ? undefined : d;
  }
  return undefined;
}

function compileOperator(
  op: Operator,
  value: unknown,
  at: (string | number)[],
): (x: unknown, ctx: ValueContext) => boolean {
  switch (op) {
    case 'eq':
    case 'ne': {
      const rhs = operandOf(value, at);
      return op === 'eq' ? (x, c) => x !== undefined && x === rhs(c) : (x, c) => x !== rhs(c);
    }
    case 'in':
    case 'not_in': {
      if (!Array.isArray(value) || !value.length || value.some((v) => isObject(v) || Array.isArray(v)))
        throw new ConditionError(at, `${op} is a list of values (strings, numbers, booleans)`);
      const set = new Set(value);
      return op === 'in' ? (x) => set.has(x) : (x) => !set.has(x);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof value === 'boolean' || value === null || Array.isArray(value))
        throw new ConditionError(at, `compares numbers or ISO-8601 dates; ${JSON.stringify(value)} is neither`);
      const rhs = rangeOperand(value, at);
      const holds = {
        gt: (d: number) => d > 0,
        gte: (d: number) => d >= 0,
        lt: (d: number) => d < 0,
        lte: (d: number) => d <= 0,
      }[op];
      // A constant is classified (and a date parsed) once, here; only a `{ path }` operand is ordered per event.
      if (typeof value === 'number') return (x) => typeof x === 'number' && holds(x - value);
      if (typeof value === 'string') {
        const instant = Date.parse(value);
        return (x) => {
          if (typeof x !== 'string' || !ISO_DATE.test(x)) return false;
          const d = Date.parse(x) - instant;
          return !Number.isNaN(d) && holds(d);
        };
      }
      return (x, c) => {
        const d = order(x, rhs(c));
        return d !== undefined && holds(d);
      };
    }
    case 'starts_with':
    case 'ends_with': {
      if (typeof value !== 'string')
        throw new ConditionError(at, `${op} takes a string; ${JSON.stringify(value)} is not one`);
      return op === 'starts_with'
        ? (x) => typeof x === 'string' && x.startsWith(value)
        : (x) => typeof x === 'string' && x.endsWith(value);
    }
    case 'contains':
      if (isObject(value) || Array.isArray(value))
        throw new ConditionError(at, 'contains takes a string, number or boolean');
      return (x) =>
        typeof x === 'string' ? typeof value === 'string' && x.includes(value) : Array.isArray(x) && x.includes(value);
    case 'exists':
      if (typeof value !== 'boolean') throw new ConditionError(at, 'exists is true or false');
      return value ? (x) => x !== undefined && x !== null : (x) => x === undefined || x === null;
    case 'some':
    case 'every': {
      const inner = compileNode(value, at);
      return op === 'some'
        ? (x, c) => Array.isArray(x) && x.some((item) => inner.test(c, item))
        : (x, c) => Array.isArray(x) && x.length > 0 && x.every((item) => inner.test(c, item));
    }
  }
}

/** One path a condition reads, for validate's checks against samples: where it is and what it is compared to. */
export interface ConditionPath {
  /** The path as written. */
  path: string;
  /** Where it is inside the condition (`all.0.path`). */
  at: (string | number)[];
  /** The list paths (each as written) it is read inside (`some`/`every`), outermost first; empty at the root. */
  within: string[];
  /** The operators on it with their operands (constants only; references are paths of their own). */
  compared: { op: Operator; operand: unknown }[];
}

/** Every path a condition reads, with the constants each is compared to (validate checks them against samples). */
export function conditionPaths(spec: unknown, at: (string | number)[] = [], within: string[] = []): ConditionPath[] {
  if (!isObject(spec)) return [];
  const out: ConditionPath[] = [];
  for (const k of ['all', 'any'] as const)
    if (Array.isArray(spec[k]))
      (spec[k] as unknown[]).forEach((c, n) => out.push(...conditionPaths(c, [...at, k, n], within)));
  if ('not' in spec) out.push(...conditionPaths(spec.not, [...at, 'not'], within));
  if (typeof spec.path !== 'string') return out;
  const compared: ConditionPath['compared'] = [];
  for (const [key, value] of Object.entries(spec)) {
    if (!(key in OPERATORS)) continue;
    const op = key as Operator;
    if (op === 'some' || op === 'every') out.push(...conditionPaths(value, [...at, op], [...within, spec.path]));
    else if (isObject(value) && typeof value.path === 'string')
      out.push({ path: value.path, at: [...at, op, 'path'], within: [], compared: [] });
    else compared.push({ op, operand: value });
  }
  out.unshift({ path: spec.path, at: [...at, 'path'], within, compared });
  return out;
}
