/**
 * What the CLI says about itself, from the commands' declarations (cli/lib/command.ts): `switchyard --help`,
 * `switchyard <command> --help` and docs/cli.md. A test holds docs/cli.md equal to `cliDoc` (`npm run types`
 * writes it), so the page cannot describe a flag the parser does not take, or miss one it does.
 */
import { defaultOf, flagNotes, flagUsage, synopsis, type CommandSpec } from './command.ts';
import { paint } from './style.ts';

export const EXIT_CODES: readonly [string, string][] = [
  ['0', 'success'],
  ['1', 'the command ran and found a problem (an invalid manifest, a failed send or replay, no server to talk to)'],
  ['2', 'usage error (an unknown command or flag, a missing or malformed argument)'],
];

export const ENVIRONMENT: readonly [string, string][] = [
  [
    'SWITCHYARD_URL',
    'the server send, replay, rebuild, capture, handshake, backfill and reconcile talk to when --url is not given (else the URL `npm run dev` records in .switchyard/dev-url, else http://localhost:8787)',
  ],
  [
    'ADMIN_TOKEN',
    "the admin token for the commands that call the admin API, and send's status check (else read from .dev.vars)",
  ],
  ['NO_COLOR', 'no colour (colour is only used on a terminal)'],
];

const MANIFEST_NOTE =
  'FILE is the manifest (default: integrations.yaml, found by walking up from the current directory).';

const WIDTH = 100;

/** Words of `text` in lines of at most `width` characters, each after `indent` (the first after `first`). */
function wrap(text: string, indent: number, first = indent, width = WIDTH): string {
  const out: string[] = [];
  let line = '';
  let room = width - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      out.push(line);
      line = word;
      room = width - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join(`\n${' '.repeat(indent)}`);
}

/** A two-column list (`  --url URL   the server ...`), the second column wrapped under itself. */
function columns(rows: [string, string][]): string {
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)));
  return rows
    .map(([left, right]) =>
      left.length > width
        ? `  ${left}\n${' '.repeat(width + 4)}${wrap(right, width + 4)}`
        : `  ${left.padEnd(width)}  ${wrap(right, width + 4)}`,
    )
    .join('\n');
}

const paragraphs = (text: string) =>
  text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' '));

const flagRows = (spec: CommandSpec): [string, string][] => [
  ...Object.entries(spec.flags).map(([name, f]): [string, string] => {
    const notes = flagNotes(name, f, spec);
    return [
      `${f.short ? `-${f.short}, ` : ''}${flagUsage(name, f)}`,
      `${f.description}${notes.length ? ` (${notes.join('; ')})` : ''}`,
    ];
  }),
  ['-h, --help', 'show this help'],
];

/** `switchyard <command> --help`: synopsis, description, arguments, every flag with its default, examples, exit codes. */
export function commandHelp(spec: CommandSpec): string {
  const parts = [
    `${paint('bold', 'usage:')} ${synopsis(spec)}`,
    spec.summary,
    paragraphs(spec.description)
      .map((p) => wrap(p, 0))
      .join('\n\n'),
  ];
  if (spec.arguments?.length) parts.push(`arguments:\n${columns(spec.arguments.map((a) => [a.name, a.description]))}`);
  parts.push(`flags:\n${columns(flagRows(spec))}`);
  if (spec.passThrough) parts.push(`other arguments:\n  ${wrap(spec.passThrough, 2)}`);
  if (spec.examples.length)
    parts.push(`examples:\n${spec.examples.map((e) => `  ${e.command}\n      ${wrap(e.does, 6)}`).join('\n')}`);
  parts.push(`exit codes:\n${EXIT_CODES.map(([c, what]) => `  ${c}  ${what}`).join('\n')}`);
  return parts.join('\n\n');
}

/** `switchyard --help`: every command with its summary, the global flags, the environment and the exit codes. */
export function overview(specs: readonly CommandSpec[]): string {
  return [
    `${paint('bold', 'usage:')} switchyard <command> [flags]`,
    `commands:\n${columns(specs.map((s) => [s.name, s.summary]))}`,
    `flags:\n${columns([
      ['-h, --help', 'show help (also: switchyard help <command>, switchyard <command> --help)'],
      ['--version', 'print the version'],
    ])}`,
    MANIFEST_NOTE,
    `environment:\n${columns(ENVIRONMENT.map(([n, what]) => [n, what]))}`,
    `exit codes:\n${EXIT_CODES.map(([c, what]) => `  ${c}  ${what}`).join('\n')}`,
  ].join('\n\n');
}

/** Markdown-safe prose: outside code spans, `<name>` is not a tag and `__ID__` is not bold. */
const md = (text: string) =>
  text
    .split('`')
    .map((part, i) =>
      i % 2 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/_/g, '\\_').replace(/\*/g, '\\*'),
    )
    .join('`');
const cell = (text: string) => md(text).replace(/\|/g, '\\|');
const code = (text: string) => `\`${text.replace(/`/g, '')}\``;

/** docs/cli.md: the whole CLI, command by command, from the same declarations as `--help`. */
export function cliDoc(specs: readonly CommandSpec[]): string {
  const out: string[] = [
    "<!-- Generated from the commands' declarations (cli/commands/*.ts) by `npm run types`. Do not edit: a test holds it equal to them. -->",
    '# The switchyard CLI',
    '',
    '`npx switchyard <command> [flags]` (or `npm run switchyard -- <command>`), from the project or any folder below it. ' +
      `${md(MANIFEST_NOTE)} \`switchyard --help\`, \`switchyard help <command>\` or \`switchyard <command> --help\` print what this page says; ` +
      '`--version` prints the version. An unknown command or flag is an error that names it and suggests the nearest one; colour is used on a terminal only.',
    '',
    '| command | what it does |',
    '| --- | --- |',
    ...specs.map((s) => `| [\`${s.name}\`](#${s.name}) | ${cell(s.summary)} |`),
    '',
    '| environment variable | what it does |',
    '| --- | --- |',
    ...ENVIRONMENT.map(([n, what]) => `| \`${n}\` | ${cell(what)} |`),
    '',
    '| exit code | meaning |',
    '| --- | --- |',
    ...EXIT_CODES.map(([c, what]) => `| \`${c}\` | ${cell(what)} |`),
  ];
  for (const spec of specs) {
    out.push(
      '',
      `## ${spec.name}`,
      '',
      `${md(spec.summary[0]!.toUpperCase() + spec.summary.slice(1))}.`,
      '',
      '```sh',
      synopsis(spec),
      '```',
      '',
      ...paragraphs(spec.description).flatMap((p) => [md(p), '']),
    );
    if (spec.arguments?.length)
      out.push(
        '| argument | what it is |',
        '| --- | --- |',
        ...spec.arguments.map((a) => `| ${code(a.name)} | ${cell(a.description)} |`),
        '',
      );
    out.push('| flag | default | what it does |', '| --- | --- | --- |');
    for (const [name, f] of Object.entries(spec.flags)) {
      const notes = flagNotes(name, f, spec).filter((n) => !n.startsWith('default: '));
      const dflt = defaultOf(f);
      out.push(
        `| ${code(`${f.short ? `-${f.short}, ` : ''}${flagUsage(name, f)}`)} | ${dflt === undefined ? '' : cell(dflt)} | ${cell(f.description)}${notes.length ? ` (${cell(notes.join('; '))})` : ''} |`,
      );
    }
    out.push('| `-h, --help` |  | show this help |', '');
    if (spec.passThrough) out.push(`Other arguments: ${md(spec.passThrough)}`, '');
    if (spec.examples.length) out.push('```sh', ...spec.examples.flatMap((e) => [`# ${e.does}`, e.command]), '```', '');
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n+$/, '')}\n`;
}
