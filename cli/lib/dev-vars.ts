/** Reads KEY=value lines from .dev.vars-style files (comments and blank lines skipped). */
import { readText } from './project.ts';

export function readDevVars(path: string): Record<string, string> {
  const text = readText(path) ?? '';
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]),
  );
}
