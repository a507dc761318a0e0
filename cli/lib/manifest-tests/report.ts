/** How `switchyard test` prints a failure: where it was expected, and expected against actual as a line diff. */
import { stringify } from 'yaml';
import { paint } from '../style.ts';

const show = (value: unknown): string[] =>
  value === undefined ? [] : stringify(value, { lineWidth: 0, flowCollectionPadding: false }).trimEnd().split('\n');

/** The lines of `a` and `b` with what each side has alone marked (longest common subsequence). */
export function lineDiff(a: string[], b: string[]): { sign: ' ' | '-' | '+'; text: string }[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: { sign: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push({ sign: ' ', text: a[i]! }), i++, j++;
    else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ sign: '-', text: a[i]! }), i++;
    else out.push({ sign: '+', text: b[j]! }), j++;
  }
  return out;
}

/** Expected against actual, `-` expected and `+` actual, coloured on a terminal (never with NO_COLOR). */
export function formatDiff(expected: unknown, actual: unknown, indent = '      '): string {
  if (expected === undefined && actual === undefined) return '';
  const lines = lineDiff(show(expected), show(actual));
  const legend = `${indent}${paint('red', '- expected')}  ${paint('green', '+ actual')}`;
  return [
    legend,
    ...lines.map(
      (l) =>
        `${indent}${l.sign === '-' ? paint('red', `- ${l.text}`) : l.sign === '+' ? paint('green', `+ ${l.text}`) : paint('dim', `  ${l.text}`)}`,
    ),
  ].join('\n');
}
