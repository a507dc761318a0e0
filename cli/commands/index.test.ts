/**
 * Each command's flags are declared once (cli/lib/command.ts): the parser, `--help`, `switchyard --help` and
 * docs/cli.md all come from that declaration, so none of them can list a flag the command does not parse or miss
 * one it does (issue 28; issue 30's "CLI flags are declared three times").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/args.ts';
import { cliDoc, commandHelp, overview } from '../lib/cli-doc.ts';
import {
  defaultOf,
  defineCommand,
  flagUsage,
  parseCommand,
  synopsis,
  type CommandSpec,
  type Flag,
} from '../lib/command.ts';
import { PACKAGE_ROOT } from '../lib/project.ts';
import { devPlan, devSpec } from './dev.ts';
import { COMMANDS, commandNamed } from './index.ts';
import { planSpec } from './plan.ts';
import { CLI_DOC_PATH } from './types.ts';

const specs = COMMANDS.map((c) => c.spec);
const help = (name: string) => commandHelp(commandNamed(name)!.spec);
/** Help as one line of words: wrapping does not matter to what it says. */
const words = (text: string) => text.replace(/\s+/g, ' ');
const COMMANDS_DIR = join(PACKAGE_ROOT, 'cli/commands');
const commandFiles = readdirSync(COMMANDS_DIR).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts',
);

/** Arguments that give `name` (with a value) and whatever the declaration says must come with it. */
function argsFor(spec: CommandSpec, name: string, flag: Flag): string[] {
  const args = [`--${name}`, ...(flag.type === 'string' ? ['x'] : [])];
  const add = (other: string) => {
    if (!args.includes(`--${other}`)) args.push(`--${other}`, ...(spec.flags[other]!.type === 'string' ? ['x'] : []));
  };
  if (flag.requires?.length) add(flag.requires[0]!);
  for (const set of spec.oneRequired ?? [])
    if (!set.some((n) => args.includes(`--${n}`)))
      add(set.find((n) => !(spec.exclusive ?? []).some((x) => x.includes(n) && x.includes(name))) ?? set[0]!);
  for (const [other, f] of Object.entries(spec.flags)) if (f.required) add(other);
  return args;
}

describe('every command, from its one declaration', () => {
  it('is in the table, one module each, and `switchyard --help` lists them all (handshake included) with their summaries', () => {
    expect(specs.map((s) => `${s.name}.ts`).sort()).toEqual([...commandFiles].sort());
    const page = words(overview(specs));
    for (const s of specs) expect(page).toContain(`${s.name} ${words(s.summary)}`);
    expect(page).toContain('handshake');
  });

  it.each(specs.map((s) => [s.name, s] as const))(
    '%s --help is a page: synopsis, description, every flag with its description and default, examples',
    (_name, spec) => {
      const page = commandHelp(spec);
      expect(page.split('\n').length).toBeGreaterThan(10);
      expect(page).toContain(`usage: ${synopsis(spec)}`);
      expect(words(page)).toContain(words(spec.description.split('\n')[0]!));
      for (const [name, flag] of Object.entries(spec.flags)) {
        expect(page, `--${name}`).toContain(flagUsage(name, flag));
        expect(words(page), `--${name}`).toContain(words(flag.description));
        const dflt = defaultOf(flag);
        if (dflt !== undefined) expect(words(page), `--${name}`).toContain(`default: ${words(dflt)}`);
      }
      expect(page).toMatch(/\nexamples:\n {2}(switchyard|npm|TOKEN)/);
      for (const e of spec.examples) expect(page).toContain(e.command);
    },
  );

  it.each(specs.filter((s) => !s.passThrough).map((s) => [s.name, s] as const))(
    '%s parses every flag its help lists, and refuses one it does not',
    (_name, spec) => {
      for (const [name, flag] of Object.entries(spec.flags)) {
        const args = argsFor(spec, name, flag);
        expect(() => parseCommand(spec, args), args.join(' ')).not.toThrow();
        expect(parseCommand(spec, args).values[name], args.join(' ')).toEqual(
          flag.type === 'string' ? (flag.multiple ? ['x'] : 'x') : flag.multiple ? [true] : true,
        );
      }
      expect(() => parseCommand(spec, ['--not-a-flag'])).toThrow(/unknown flag --not-a-flag/);
    },
  );

  it('dev hands what it does not declare to wrangler, and reads the flags it declares', () => {
    expect(Object.keys(devSpec.flags).sort()).toEqual(['no-dev-auth', 'port']);
    expect(devPlan(['--port', '8811', '--no-dev-auth', '--ip', '0.0.0.0'], {})).toMatchObject({
      port: 8811,
      devAuth: false,
      wranglerArgs: ['--port', '8811', '--ip', '0.0.0.0'],
    });
  });

  it('no command module parses flags on the side: each calls parseCommand with its own declaration', () => {
    for (const file of commandFiles) {
      const source = readFileSync(join(COMMANDS_DIR, file), 'utf8');
      expect(source, file).not.toMatch(/\bparseArgs\s*\(|from 'node:util'.*parseArgs|parseArgs.*from 'node:util'/);
      const name = basename(file, '.ts');
      if (name !== 'dev') expect(source, file).toMatch(new RegExp(`parseCommand\\(${name}Spec\\b`));
    }
  });

  it('docs/cli.md is what the declarations say (npm run types writes it)', () => {
    expect(readFileSync(CLI_DOC_PATH, 'utf8')).toBe(cliDoc(specs));
  });
});

describe('the flags that had drifted out of --help (issue 30)', () => {
  it('are on the pages now', () => {
    for (const flag of ['--status STATUS', '--type TYPE', '--since ISO', '--until ISO', '--events'])
      expect(help('replay')).toContain(flag);
    expect(help('validate')).toContain('--readme-secrets');
    expect(help('validate')).toContain('--budget');
    expect(help('rebuild')).toContain('--env NAME');
    for (const name of ['send', 'test', 'capture']) expect(help(name), name).toContain('--manifest FILE');
  });
});

describe('plan and --from', () => {
  it('says --from (or --budget, or --replay) is needed, on its page and when it is missing', () => {
    expect(synopsis(planSpec)).toBe('switchyard plan [FILE] (--from REF | --budget | --replay) [flags]');
    expect(words(help('plan'))).toContain('this or --budget or --replay is needed');
    expect(() => parseCommand(planSpec, [])).toThrow(new UsageError('plan needs --from REF, --budget or --replay'));
    expect(parseCommand(planSpec, ['--budget']).values).toMatchObject({
      budget: true,
      events: 'fixtures',
      days: '7',
      env: 'default',
    });
    expect(() => parseCommand(planSpec, ['--from', 'HEAD', '--days', '3'])).toThrow(
      new UsageError('--days goes with --replay'),
    );
    expect(() => parseCommand(planSpec, ['--budget', '--json', '--markdown'])).toThrow(
      new UsageError('choose one of --json and --markdown'),
    );
  });
});

describe('the declaration', () => {
  const spec = defineCommand({
    name: 'demo',
    summary: 'a demo',
    description: 'A demo.',
    flags: {
      key: { type: 'string', value: 'K', required: true, description: 'the key' },
      list: { type: 'boolean', description: 'list' },
      json: { type: 'boolean', requires: ['list'], description: 'as JSON' },
      tag: { type: 'string', multiple: true, default: [], description: 'a tag' },
      limit: { type: 'string', default: '20', description: 'how many' },
    },
    examples: [],
  });

  it('fills defaults, and names a missing required flag and a flag without the one it goes with', () => {
    expect(parseCommand(spec, ['--key', 'k']).values).toEqual({ key: 'k', tag: [], limit: '20' });
    expect(() => parseCommand(spec, [])).toThrow(new UsageError('demo needs --key K: the key'));
    expect(() => parseCommand(spec, ['--key', 'k', '--json'])).toThrow(new UsageError('--json goes with --list'));
    expect(synopsis(spec)).toBe('switchyard demo --key K [flags]');
  });

  it('refuses a declaration whose flag goes with a flag it does not declare', () => {
    expect(() =>
      defineCommand({
        name: 'bad',
        summary: '',
        description: '',
        flags: { json: { type: 'boolean', requires: ['lst'], description: '' } },
        examples: [],
      }),
    ).toThrow('--json requires --lst');
  });
});
