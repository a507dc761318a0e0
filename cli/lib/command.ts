/**
 * A command's flags, declared once: each with its type, short name, default, value name, whether it is required,
 * what it needs beside it, and a description. From that one declaration come the parser's options (node:util
 * `parseArgs`, through cli/lib/args.ts), the required-flag and goes-with errors, `switchyard <command> --help`,
 * `switchyard --help` and docs/cli.md (cli/lib/cli-doc.ts), so none of them can drift from what the command parses.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseArgs, UsageError } from './args.ts';

/** One flag: `--name VALUE` (a string) or `--name` (a boolean). */
export interface Flag {
  type: 'string' | 'boolean';
  /** What it does, one or two sentences (help, docs). */
  description: string;
  /** A one-letter alias (`-h`). */
  short?: string;
  /** Given more than once, each value is kept (`--claim a=1 --claim b=2`). */
  multiple?: boolean;
  /** The value when the flag is not given; the parser fills it in, and help shows it. */
  default?: string | boolean | readonly string[];
  /** The default in words, where it is not one value (`SWITCHYARD_URL, else ...`): shown, never parsed. */
  defaultText?: string;
  /** The value's name in help (`--url URL`); default: the flag's name in capitals. */
  value?: string;
  /** The command refuses to run without it. */
  required?: boolean;
  /** The flag means something only beside one of these flags: given without any of them, a usage error. */
  requires?: readonly string[];
}

/** A positional argument, as the synopsis writes it (`<integration>` required, `[FILE]` optional, `[FILE...]`). */
export interface Argument {
  name: string;
  description: string;
}

export interface CommandSpec<F extends Record<string, Flag> = Record<string, Flag>> {
  name: string;
  /** One line for `switchyard --help`. */
  summary: string;
  /** What the command does, in paragraphs (blank-line separated), for its help page and docs/cli.md. */
  description: string;
  arguments?: readonly Argument[];
  flags: F;
  /** Sets of flags that cannot be given together (at most one of each set). */
  exclusive?: readonly (readonly string[])[];
  /** Sets of flags of which the command needs at least one (`plan`: --from, --budget or --replay). */
  oneRequired?: readonly (readonly string[])[];
  /** Arguments it does not know are passed on (`dev` hands them to `wrangler dev`): what happens to them. */
  passThrough?: string;
  /** Runnable examples, each with what it does. */
  examples: readonly { command: string; does: string }[];
}

/** The value a flag parses to. */
type ValueOf<F extends Flag> = F['type'] extends 'boolean'
  ? F['multiple'] extends true
    ? boolean[]
    : boolean
  : F['multiple'] extends true
    ? string[]
    : string;

/** The parsed values: a flag with a default, or a required one, is always there. */
export type FlagValues<F extends Record<string, Flag>> = {
  [K in keyof F]: F[K] extends { default: unknown } | { required: true } ? ValueOf<F[K]> : ValueOf<F[K]> | undefined;
};

/**
 * Declares a command (typed: the flags' literal types give `parseCommand` its value types).
 * @example export const spec = defineCommand({ name: 'providers', summary: '...', description: '...', flags: { json: JSON_FLAG }, examples: [] });
 */
export function defineCommand<const F extends Record<string, Flag>>(spec: CommandSpec<F>): CommandSpec<F> {
  for (const [name, flag] of Object.entries(spec.flags)) {
    for (const other of flag.requires ?? [])
      if (!(other in spec.flags))
        throw new Error(`switchyard ${spec.name}: --${name} requires --${other}, which it does not declare`);
    if (flag.required && flag.default !== undefined)
      throw new Error(`switchyard ${spec.name}: --${name} is required and has a default`);
  }
  for (const set of [...(spec.exclusive ?? []), ...(spec.oneRequired ?? [])])
    for (const name of set) if (!(name in spec.flags)) throw new Error(`switchyard ${spec.name}: no flag --${name}`);
  return spec;
}

/** The server a command talks to (send, replay, rebuild, capture, handshake, backfill, reconcile). */
export const URL_FLAG = {
  type: 'string',
  value: 'URL',
  description: 'the switchyard server to talk to',
  defaultText: 'SWITCHYARD_URL, else the URL `npm run dev` recorded in .switchyard/dev-url, else http://localhost:8787',
} as const satisfies Flag;

/** The manifest's environment a command reads (`environments:` overrides applied). */
export const ENV_FLAG = {
  type: 'string',
  value: 'NAME',
  default: 'default',
  description: "the manifest's environment to use: default, or a key under environments:",
} as const satisfies Flag;

/** The manifest file, where a command also takes other positional arguments. */
export const MANIFEST_FLAG = {
  type: 'string',
  value: 'FILE',
  description: 'the manifest to read',
  defaultText: 'integrations.yaml, found by walking up from the current directory',
} as const satisfies Flag;

/** Machine-readable output. */
export const JSON_FLAG = {
  type: 'boolean',
  description: 'print one JSON object instead of text',
} as const satisfies Flag;

/** The help flag every command takes (the dispatcher answers it before the command runs). */
export const HELP_FLAG = { type: 'boolean', short: 'h', description: 'show this help' } as const satisfies Flag;

/** The parser's options for a command: its flags (and help), as node:util `parseArgs` takes them. */
export function parserOptions(spec: CommandSpec): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
      ...(f.default !== undefined ? { default: f.default } : {}),
    } as ParseArgsOptionsConfig[string];
  }
  return options;
}

/** How a flag is written with its value: `--url URL`, `--json`. */
export const flagUsage = (name: string, flag: Flag) =>
  `--${name}${flag.type === 'string' ? ` ${flag.value ?? name.toUpperCase()}` : ''}`;

/**
 * Parses `args` against a command's declaration: unknown flags, a missing required flag, a flag given without the
 * one it goes with, and two flags of an exclusive set are usage errors that name the flags.
 * @example const { values, positionals } = parseCommand(spec, args);
 */
export function parseCommand<F extends Record<string, Flag>>(
  spec: CommandSpec<F>,
  args: string[],
): { values: FlagValues<F>; positionals: string[] } {
  const { values, positionals, tokens } = parseArgs(args, parserOptions(spec));
  // What the user wrote, not what a default filled in.
  const written = new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
  const given = (name: string) => written.has(name);
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.required && values[name] === undefined)
      throw new UsageError(`${spec.name} needs ${flagUsage(name, flag)}: ${flag.description}`);
    if (flag.requires?.length && given(name) && !flag.requires.some(given))
      throw new UsageError(`--${name} goes with ${flag.requires.map((r) => `--${r}`).join(' or ')}`);
  }
  for (const set of spec.exclusive ?? []) {
    const both = set.filter(given);
    if (both.length > 1) throw new UsageError(`choose one of ${both.map((n) => `--${n}`).join(' and ')}`);
  }
  for (const set of spec.oneRequired ?? []) {
    if (!set.some(given))
      throw new UsageError(`${spec.name} needs ${orList(set.map((n) => flagUsage(n, spec.flags[n]!)))}`);
  }
  return { values: values as FlagValues<F>, positionals };
}

const orList = (items: string[]) =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;

/**
 * The synopsis: `switchyard plan [FILE] (--from REF | --budget | --replay) [flags]`: required flags and sets of which
 * one is needed written out, the rest as [flags].
 */
export function synopsis(spec: CommandSpec): string {
  const required = [
    ...Object.entries(spec.flags)
      .filter(([, f]) => f.required)
      .map(([n, f]) => flagUsage(n, f)),
    ...(spec.oneRequired ?? []).map((set) => `(${set.map((n) => flagUsage(n, spec.flags[n]!)).join(' | ')})`),
  ];
  const inSets = new Set((spec.oneRequired ?? []).flat());
  const optional = Object.entries(spec.flags).some(([n, f]) => !f.required && !inSets.has(n));
  return [
    'switchyard',
    spec.name,
    ...(spec.arguments ?? []).map((a) => a.name),
    ...required,
    ...(optional ? ['[flags]'] : []),
    ...(spec.passThrough ? ['[ARGS...]'] : []),
  ].join(' ');
}

/** A flag's default as help states it, if it has one. */
export function defaultOf(flag: Flag): string | undefined {
  if (flag.defaultText) return flag.defaultText;
  if (flag.default === undefined || flag.default === false) return undefined;
  return Array.isArray(flag.default)
    ? flag.default.length
      ? flag.default.join(', ')
      : undefined
    : String(flag.default);
}

/** A flag's notes after its description: its default, what it goes with, whether it is required. */
export function flagNotes(name: string, flag: Flag, spec: CommandSpec): string[] {
  const notes: string[] = [];
  const dflt = defaultOf(flag);
  if (flag.required) notes.push('required');
  for (const set of (spec.oneRequired ?? []).filter((s) => s.includes(name)))
    notes.push(`this or ${orList(set.filter((n) => n !== name).map((n) => `--${n}`))} is needed`);
  if (dflt !== undefined) notes.push(`default: ${dflt}`);
  if (flag.requires?.length) notes.push(`with ${flag.requires.map((r) => `--${r}`).join(' or ')}`);
  const sets = (spec.exclusive ?? []).filter((s) => s.includes(name));
  for (const set of sets)
    notes.push(
      `not with ${set
        .filter((n) => n !== name)
        .map((n) => `--${n}`)
        .join(' or ')}`,
    );
  if (flag.multiple) notes.push('repeatable');
  return notes;
}
