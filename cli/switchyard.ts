#!/usr/bin/env -S node --no-warnings=ExperimentalWarning
/** switchyard CLI: one table of commands, each a module under cli/commands; help, version and usage errors here. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backfillCommand } from './commands/backfill.ts';
import { buildCommand } from './commands/build.ts';
import { captureCommand } from './commands/capture.ts';
import { devCommand } from './commands/dev.ts';
import { handshakeCommand } from './commands/handshake.ts';
import { planCommand } from './commands/plan.ts';
import { providersCommand } from './commands/providers.ts';
import { rebuildCommand } from './commands/rebuild.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { replayCommand } from './commands/replay.ts';
import { sendCommand } from './commands/send.ts';
import { testCommand } from './commands/test.ts';
import { tokenCommand } from './commands/token.ts';
import { typesCommand } from './commands/types.ts';
import { validateCommand } from './commands/validate.ts';
import { closest } from '../runtime/manifest/closest.ts';
import { UsageError } from './lib/args.ts';
import { PACKAGE_ROOT } from './lib/project.ts';
import { ServerError } from './lib/server.ts';
import { paint } from './lib/style.ts';

interface Command {
  run: (args: string[]) => Promise<number>;
  /** The arguments after the command's name. */
  usage: string;
  summary: string;
  /** More for `switchyard <command> --help`: what the exit codes mean for it. */
  details?: string;
}

/** Every command, by name. A new command is one import above and one line here. */
const commands: Record<string, Command> = {
  validate: { run: validateCommand, usage: '[--env NAME] [--budget] [--json] [FILE]', summary: 'check the manifest (every environment by default)' },
  build: { run: buildCommand, usage: '[--out NAME] [--quiet] [FILE]', summary: 'validate every environment and write .switchyard/manifests.json' },
  dev: { run: devCommand, usage: '[--port N] [--no-dev-auth] [wrangler dev args]', summary: 'serve locally (port from --port, PORT, else 8787) with local D1, KV and Queues' },
  send: {
    run: sendCommand,
    usage: '<integration> [event-type | --file payload.json] [--type TYPE] [--url URL] [--env NAME]',
    summary: 'post a signed sample event',
    details: `The payload is samples/<integration>/<event-type>.json, else the catalog sample of its provider:, or --file.
--type names the event type (needed with --file where the provider sends the type in a header).
A duplicate answer (the event id, or the same body, was received before) is printed at once with the
server's reason and exits 0: nothing new was recorded and nothing was lost. Exit 1 when the request is
refused or the event ends other than applied or ignored.`,
  },
  replay: { run: replayCommand, usage: '[--list [--json]] [--seq 1,2 | --integration NAME | --all | --events] [--url URL]', summary: 'list or replay dead letters' },
  handshake: { run: handshakeCommand, usage: '[status] | arm <integration> [--seconds N] | forget <integration> [--url URL]', summary: 'arm (or forget) a handshake that hands over a signing secret (Asana, Notion)' },
  rebuild: { run: rebuildCommand, usage: '<table|integration> [--url URL] [--batch N]', summary: 're-run projections from the event log' },
  backfill: { run: backfillCommand, usage: '<integration> [--objects a,b] [--since DATE] [--dry-run] [--yes] [--max-writes-per-minute N] [--retries N] [--restart] [--no-count] [--with-effects] [--url URL] [--env NAME]', summary: "load existing objects from the provider's list API through the handlers (resumable)" },
  reconcile: { run: reconcileCommand, usage: '<integration> [--objects a,b] [--repair] [--json] [--url URL] [--env NAME]', summary: 'compare projected rows with the provider, report drift (--repair: correct it)' },
  test: {
    run: testCommand,
    usage: '[MANIFEST] [FILE...] [--env NAME] [--update] [--json] [--coverage[=strict]] [--coverage-min PERCENT]',
    summary: "run the manifest's tests (tests/*.test.yaml) offline",
    details: `Every run lists the handlers and on: patterns no case applied an event to; --coverage=strict also fails on them.
--coverage lists each condition (if: of a handler or a step) with how often the cases saw it true and false,
the ones never true or never false first, at their manifest file:line:column. The exit code follows the cases
unless --coverage-min PERCENT asks that share of the conditions' outcomes (each true and false) to be seen.
A failing case names the conditions that skipped steps of its events; an event's expect: takes
skipped_by: ["integrations.stripe.handlers[0].if"] to assert them.`,
  },
  capture: { run: captureCommand, usage: '[--url URL] [--integration NAME] [--type TYPE] [--days N | --since ISO] [--limit N] [--out FILE]', summary: 'turn events from a running environment into scrubbed test fixtures' },
  plan: { run: planCommand, usage: '[--from <git-ref|file>] [--env NAME] [--markdown | --json] [--budget | --replay [--events fixtures|URL] [--days N]] [FILE]', summary: 'what a manifest change does (--replay: to the data), what an event costs' },
  providers: { run: providersCommand, usage: '[<name>] [--json]', summary: 'list the provider catalog, or show what `provider: <name>` sets' },
  types: { run: typesCommand, usage: '[--check] [--client FILE [MANIFEST]]', summary: 'write (or check) schemas/, the generated types and the typed commands client' },
  token: { run: tokenCommand, usage: '--provider NAME --sub ID [--claim KEY=VALUE]...', summary: 'mint a token from the local dev issuer (npm run dev only)' },
};

const EXIT_CODES = `exit codes:
  0  success
  1  the command ran and found a problem (an invalid manifest, a failed send or replay, no server to talk to)
  2  usage error (an unknown command or flag, a missing or malformed argument)`;

const ENVIRONMENT = `environment:
  SWITCHYARD_URL  the server send, replay and rebuild talk to when --url is not given (else the URL
                  \`npm run dev\` records in .switchyard/dev-url, else http://localhost:8787)
  ADMIN_TOKEN     the admin token for replay, rebuild and send's status check (else read from .dev.vars)
  NO_COLOR        no colour (colour is only used on a terminal)`;

function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `${paint('bold', 'usage:')} switchyard <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nflags:\n  -h, --help  show help (also: switchyard help <command>, switchyard <command> --help)\n  --version   print the version\n\nFILE is the manifest (default: integrations.yaml, found by walking up from the current directory).\n\n${ENVIRONMENT}\n\n${EXIT_CODES}`;
}

function commandHelp(name: string, command: Command): string {
  return `${paint('bold', 'usage:')} switchyard ${name} ${command.usage}\n\n${command.summary}\n\n${command.details ? `${command.details}\n\n` : ''}${EXIT_CODES}`;
}

/** Prints a usage error naming what was wrong, with a pointer to help; returns exit code 2. */
function usageError(message: string, name?: string): number {
  console.error(`${paint('red', 'error', process.stderr)}: ${message}`);
  console.error(name ? `usage: switchyard ${name} ${commands[name]!.usage}` : 'run `switchyard --help` for the commands');
  return 2;
}

/** Arguments before a `--` (which passes the rest on untouched, e.g. to wrangler). */
const own = (args: string[]) => (args.includes('--') ? args.slice(0, args.indexOf('--')) : args);

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) return usageError('no command given');
  if (name === '--help' || name === '-h') return (console.log(overview()), 0);
  if (name === '--version') return (console.log(version()), 0);
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) return (console.log(overview()), 0);
    if (!commands[topic]) return unknownCommand(topic);
    return (console.log(commandHelp(topic, commands[topic])), 0);
  }
  if (name.startsWith('-')) return usageError(`unknown flag ${name}`);
  const command = commands[name];
  if (!command) return unknownCommand(name);
  if (own(args).some((a) => a === '--help' || a === '-h')) return (console.log(commandHelp(name, command)), 0);
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
  const guess = closest(name, Object.keys(commands));
  return usageError(`unknown command "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
}

process.exitCode = await main(process.argv.slice(2));
