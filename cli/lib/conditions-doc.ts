/**
 * The tables of condition operators (docs/conditions.md) and parameterised transforms, generated from the code that defines them
 * (runtime/language/conditions.ts's OPERATORS, values.ts's TRANSFORMS and PARAMETERIZED): `switchyard types` writes
 * them between their markers and `switchyard types --check` (part of `npm run check`) fails when they are stale.
 */
import { OPERATORS } from '../../runtime/language/conditions.ts';
import { PARAMETERIZED, TRANSFORMS } from '../../runtime/language/values.ts';

export const OPERATORS_START =
  '<!-- operators:start (generated from runtime/language/conditions.ts by `npm run types`; do not edit) -->';
export const OPERATORS_END = '<!-- operators:end -->';
export const TRANSFORMS_START =
  '<!-- transforms:start (generated from runtime/language/values.ts by `npm run types`; do not edit) -->';
export const TRANSFORMS_END = '<!-- transforms:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The operators a condition's leaf may carry, one row each. */
export function operatorsTable(): string {
  const rows = Object.entries(OPERATORS).map(
    ([name, meaning]) => `| \`${name}\` | the value at \`path\` ${cell(meaning)} |`,
  );
  return ['| operator | holds when |', '|---|---|', ...rows].join('\n');
}

/** The transforms a value may apply: the plain names in one line, the parameterised ones a row each. */
export function transformsTable(): string {
  const plain = Object.keys(TRANSFORMS)
    .map((n) => `\`${n}\``)
    .join(', ');
  const rows = Object.entries(PARAMETERIZED).map(([name, p]) => `| \`{ ${name}: … }\` | ${cell(p.description)} |`);
  return [`Without an argument: ${plain}.`, '', '| transform | what it does |', '|---|---|', ...rows].join('\n');
}

function between(readme: string, start: string, end: string, content: string): string | undefined {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return `${readme.slice(0, from + start.length)}\n${content}\n${readme.slice(to)}`;
}

/** A page with both tables replaced where their markers are (each left alone when its markers are missing). */
export function withConditionTables(readme: string): string {
  const operators = between(readme, OPERATORS_START, OPERATORS_END, operatorsTable()) ?? readme;
  return between(operators, TRANSFORMS_START, TRANSFORMS_END, transformsTable()) ?? operators;
}
