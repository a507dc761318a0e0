/**
 * Every command, in the order `switchyard --help` and docs/cli.md list them: its declaration (name, summary, flags:
 * cli/lib/command.ts) and what runs it. A new command is one import and one line here.
 */
import type { CommandSpec } from '../lib/command.ts';
import { cliDoc } from '../lib/cli-doc.ts';
import { backfillCommand, backfillSpec } from './backfill.ts';
import { buildCommand, buildSpec } from './build.ts';
import { captureCommand, captureSpec } from './capture.ts';
import { devCommand, devSpec } from './dev.ts';
import { forwardCommand, forwardSpec } from './forward.ts';
import { handshakeCommand, handshakeSpec } from './handshake.ts';
import { initCommand, initSpec } from './init.ts';
import { migrateCommand, migrateSpec } from './migrate.ts';
import { planCommand, planSpec } from './plan.ts';
import { providersCommand, providersSpec } from './providers.ts';
import { rebuildCommand, rebuildSpec } from './rebuild.ts';
import { reconcileCommand, reconcileSpec } from './reconcile.ts';
import { replayCommand, replaySpec } from './replay.ts';
import { sendCommand, sendSpec } from './send.ts';
import { testCommand, testSpec } from './test.ts';
import { tokenCommand, tokenSpec } from './token.ts';
import { CLI_DOC_PATH, typesCommand, typesSpec } from './types.ts';
import { upgradeCommand, upgradeSpec } from './upgrade.ts';
import { validateCommand, validateSpec } from './validate.ts';

export interface Command {
  spec: CommandSpec;
  run: (args: string[]) => Promise<number>;
}

export const COMMANDS: readonly Command[] = [
  { spec: initSpec, run: initCommand },
  { spec: validateSpec, run: (args) => validateCommand(args) },
  { spec: buildSpec, run: buildCommand },
  { spec: devSpec, run: devCommand },
  { spec: migrateSpec, run: migrateCommand },
  { spec: testSpec, run: (args) => testCommand(args) },
  { spec: sendSpec, run: (args) => sendCommand(args) },
  { spec: replaySpec, run: replayCommand },
  { spec: forwardSpec, run: forwardCommand },
  { spec: handshakeSpec, run: handshakeCommand },
  { spec: rebuildSpec, run: rebuildCommand },
  { spec: backfillSpec, run: backfillCommand },
  { spec: reconcileSpec, run: reconcileCommand },
  { spec: captureSpec, run: captureCommand },
  { spec: planSpec, run: planCommand },
  { spec: upgradeSpec, run: (args) => upgradeCommand(args) },
  { spec: providersSpec, run: providersCommand },
  { spec: typesSpec, run: (args) => typesCommand(args, () => [[CLI_DOC_PATH, cliDoc(COMMANDS.map((c) => c.spec))]]) },
  { spec: tokenSpec, run: tokenCommand },
];

/** The command named `name`, if any. */
export const commandNamed = (name: string): Command | undefined => COMMANDS.find((c) => c.spec.name === name);
