#!/usr/bin/env -S node --no-warnings=ExperimentalWarning
/** switchyard CLI: one table of commands, each a module under cli/commands. */
import { buildCommand } from './commands/build.ts';
import { devCommand } from './commands/dev.ts';
import { planCommand } from './commands/plan.ts';
import { rebuildCommand } from './commands/rebuild.ts';
import { replayCommand } from './commands/replay.ts';
import { sendCommand } from './commands/send.ts';
import { typesCommand } from './commands/types.ts';
import { validateCommand } from './commands/validate.ts';

type Command = { run: (args: string[]) => Promise<number>; usage: string };

const commands: Record<string, Command> = {
  validate: { run: validateCommand, usage: 'validate [--env NAME] [--budget] [FILE]  check the manifest (every environment by default)' },
  build: { run: buildCommand, usage: 'build [FILE]               validate every environment and write .switchyard/manifests.json' },
  dev: { run: devCommand, usage: 'dev [wrangler args]         serve locally on :8787 with local D1, KV and Queues' },
  replay: { run: replayCommand, usage: 'replay [--list] [--seq 1,2 | --integration NAME | --all] [--url URL]  replay dead letters' },
  rebuild: { run: rebuildCommand, usage: 'rebuild <table|integration> [--url URL] [--batch N]  re-run projections from the event log' },
  send: { run: sendCommand, usage: 'send <integration> [event-type | --file payload.json] [--url URL] [--env NAME]  post a signed sample event' },
  plan: { run: planCommand, usage: 'plan [--from <git-ref|file>] [--env NAME] [--markdown] [--budget [--json]] [FILE]  what a manifest change does, what an event costs' },
  types: { run: typesCommand, usage: 'types [--check]            write (or check) schemas/ and the generated types' },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(`usage: switchyard <command>\n\n${Object.values(commands).map((c) => `  ${c.usage}`).join('\n')}`);
    return name && name !== '--help' ? 2 : 0;
  }
  return command.run(args);
}

process.exitCode = await main(process.argv.slice(2));
