/** Reads KEY=value lines from .dev.vars-style files (comments and blank lines skipped). */
import { writeFileSync } from 'node:fs';
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

/**
 * Appends to .dev.vars the lines of .dev.vars.example whose names it lacks (a secret the manifest gained since the
 * file was made), leaving every value the developer set alone. Returns the names it added.
 */
export function addMissingDevVars(examplePath: string, devVarsPath: string): string[] {
  const have = readDevVars(devVarsPath);
  const lines = (readText(examplePath) ?? '').split('\n').filter((line) => {
    const name = /^\s*([A-Z][A-Z0-9_]*)\s*=/.exec(line)?.[1];
    return name !== undefined && !(name in have);
  });
  if (lines.length === 0) return [];
  const text = readText(devVarsPath) ?? '';
  const added = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# added from .dev.vars.example by switchyard dev\n${lines.join('\n')}\n`;
  writeFileSync(devVarsPath, added);
  return lines.map((line) => /^\s*([A-Z][A-Z0-9_]*)/.exec(line)![1]!);
}

/** The names .dev.vars.example declares that .dev.vars lacks: secrets a request may need and not find. */
export function missingDevVars(examplePath: string, devVarsPath: string): string[] {
  const have = readDevVars(devVarsPath);
  return Object.keys(readDevVars(examplePath)).filter((name) => !(name in have));
}
