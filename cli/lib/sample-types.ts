/**
 * Whether a condition's comparison can ever hold, judged by a sample's value: conditions are strict (no coercion), so
 * `eq: "1999"` never matches Stripe's number 1999, and `gt: 5` never matches an ISO-8601 string. For `validate`.
 */
import { ISO_DATE, type ConditionPath } from '../../runtime/language/conditions.ts';
import type { ManifestProblem } from '../../runtime/manifest/problems.ts';

const kind = (v: unknown) =>
  Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v;
const article = (k: string) => (k === 'object' ? 'an object' : k === 'null' ? 'null' : `a ${k}`);
const isDate = (v: unknown) => typeof v === 'string' && ISO_DATE.test(v);

/** Whether a value the sample has can meet this operator with this constant at all. */
function meets(op: string, operand: unknown, value: unknown): boolean {
  switch (op) {
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof operand === 'number' ? typeof value === 'number' : isDate(value);
    case 'starts_with':
    case 'ends_with':
      return typeof value === 'string';
    case 'contains':
      return typeof value === 'string'
        ? typeof operand === 'string'
        : Array.isArray(value) && (value.length === 0 || value.some((item) => kind(item) === kind(operand)));
    default:
      return kind(value) === kind(operand);
  }
}

/** How to write the constant so it compares with the sample's value. */
function hint(op: string, operand: unknown, value: unknown): string {
  const k = kind(value);
  if (
    typeof operand === 'string' &&
    ((k === 'number' && /^-?\d+(\.\d+)?$/.test(operand.trim())) ||
      (k === 'boolean' && (operand === 'true' || operand === 'false')))
  )
    return `write ${operand.trim()} without quotes`;
  if (
    (typeof operand === 'number' || typeof operand === 'boolean') &&
    k === 'string' &&
    !['gt', 'gte', 'lt', 'lte'].includes(op)
  )
    return `write "${operand}" in quotes`;
  if (op === 'starts_with' || op === 'ends_with') return `${op} tests strings`;
  if (['gt', 'gte', 'lt', 'lte'].includes(op))
    return k === 'number'
      ? 'compare it with a number'
      : isDate(value)
        ? 'compare it with a date ("2026-01-01")'
        : `${op} compares numbers or ISO-8601 dates`;
  return `compare it with ${k === 'list' && Array.isArray(value) && value.length ? article(kind(value[0])) : article(k)}`;
}

/**
 * The comparisons of a condition's leaf that no value the samples have there can meet: an error at the operator (or
 * the list item), saying how to write the constant. `at` is the leaf's `path` node; `where` names the samples.
 */
export function comparisonProblems(
  path: string,
  at: (string | number)[],
  compared: ConditionPath['compared'],
  values: unknown[],
  where: string,
): ManifestProblem[] {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (!present.length) return [];
  const leaf = at.slice(0, -1);
  const out: ManifestProblem[] = [];
  for (const { op, operand } of compared) {
    if (op === 'exists' || operand === null || operand === undefined) continue;
    const operands =
      (op === 'in' || op === 'not_in') && Array.isArray(operand)
        ? operand.map((o, i) => [o, [...leaf, op, i]] as const)
        : [[operand, [...leaf, op]] as const];
    for (const [constant, node] of operands) {
      if (constant === null || present.some((v) => meets(op, constant, v))) continue;
      const value = present[0];
      out.push({
        path: [...node],
        message: `compares ${path} (${article(kind(value))} in ${where}) to ${article(kind(constant))} ${JSON.stringify(constant)}: ${hint(op, constant, value)}`,
      });
      break;
    }
  }
  return out;
}
