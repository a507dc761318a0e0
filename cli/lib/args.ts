/**
 * Flag parsing for every command: Node's own `parseArgs` in strict mode, so an unknown or misspelt flag is a
 * usage error that names it (with the nearest known flag), never a silently ignored word.
 */
import { parseArgs as parseNodeArgs, type ParseArgsOptionsConfig } from 'node:util';
import { closest } from '../../runtime/language/closest.ts';

/** A mistake in how the CLI was called: the dispatcher prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses `args` against a command's options (`--name value`, `--name=value`, `--flag`, the rest positional).
 * @example
 * const { values, positionals } = parseArgs(args, { url: { type: 'string' }, json: { type: 'boolean' } });
 */
export function parseArgs<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  try {
    return parseNodeArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    if (!unknown) throw new UsageError(message.split('. ')[0]!.replace(/'/g, ''));
    const known = Object.keys(options).map((name) => `--${name}`);
    const guess = closest(unknown.replace(/^-+/, ''), Object.keys(options));
    throw new UsageError(
      `unknown flag ${unknown}${guess ? ` (did you mean --${guess}?)` : known.length ? `; flags: ${known.join(', ')}` : ''}`,
    );
  }
}

/** A comma-separated list of positive integers (`--seq 1,2`); any other item is a usage error. */
export function parseIntegerList(flag: string, value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  const bad = items.filter((s) => !/^[1-9][0-9]*$/.test(s));
  if (bad.length)
    throw new UsageError(
      `--${flag} takes numbers separated by commas, not ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
    );
  return items.map(Number);
}
