#!/usr/bin/env -S node --no-warnings=ExperimentalWarning
/** switchyard CLI: the commands' table is cli/commands/index.ts; help, version and usage errors here. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, commandNamed } from './commands/index.ts';
import { closest } from '../runtime/language/closest.ts';
import { UsageError } from './lib/args.ts';
import { commandHelp, overview } from './lib/cli-doc.ts';
import { synopsis } from './lib/command.ts';
import { PACKAGE_ROOT } from './lib/project.ts';
import { ServerError } from './lib/server.ts';
import { paint } from './lib/style.ts';

function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const specs = () => COMMANDS.map((c) => c.spec);

/** Prints a usage error naming what was wrong, with the command's synopsis and a pointer to help; returns exit code 2. */
function usageError(message: string, name?: string): number {
  console.error(`${paint('red', 'error', process.stderr)}: ${message}`);
  const command = name ? commandNamed(name) : undefined;
  console.error(
    command
      ? `usage: ${synopsis(command.spec)}\nrun \`switchyard ${name} --help\` for its flags`
      : 'run `switchyard --help` for the commands',
  );
  return 2;
}

/** Arguments before a `--` (which passes the rest on untouched, e.g. to wrangler). */
const own = (args: string[]) => (args.includes('--') ? args.slice(0, args.indexOf('--')) : args);

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) return usageError('no command given');
  if (name === '--help' || name === '-h') return (console.log(overview(specs())), 0);
  if (name === '--version') return (console.log(version()), 0);
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) return (console.log(overview(specs())), 0);
    const command = commandNamed(topic);
    if (!command) return unknownCommand(topic);
    return (console.log(commandHelp(command.spec)), 0);
  }
  if (name.startsWith('-')) return usageError(`unknown flag ${name}`);
  const command = commandNamed(name);
  if (!command) return unknownCommand(name);
  if (own(args).some((a) => a === '--help' || a === '-h')) return (console.log(commandHelp(command.spec)), 0);
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, name);
    if (error instanceof ServerError) {
      console.error(`${paint('red', 'error', process.stderr)}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function unknownCommand(name: string): number {
  const guess = closest(
    name,
    COMMANDS.map((c) => c.spec.name),
  );
  return usageError(`unknown command "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
}

process.exitCode = await main(process.argv.slice(2));
