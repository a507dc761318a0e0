/**
 * `switchyard upgrade [FILE] [--write]`: rewrites a manifest written for an older manifest version in the current
 * language (cli/lib/upgrade.ts's rules): prints the diff, or with --write changes the file. Only the renamed words
 * and `version:` change; comments and layout stay.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { defineCommand, parseCommand } from '../lib/command.ts';
import { log, logError, processOutput, type Output } from '../lib/output.ts';
import { projectFor, readText } from '../lib/project.ts';
import { unifiedDiff, upgradeText } from '../lib/upgrade.ts';
import { MANIFEST_VERSION } from '../../runtime/manifest/schema.ts';

export const upgradeSpec = defineCommand({
  name: 'upgrade',
  summary: 'rewrite a manifest written for an older manifest version (prints the diff; --write rewrites)',
  description: `Rewrites a manifest in the current manifest language (version ${MANIFEST_VERSION}): each form a later
version renamed is written the new way and version: is set to the current one. Only those words change in the file:
comments, quoting and layout are kept. Without --write it prints the change as a unified diff and writes nothing;
with --write it rewrites the file. validate names each old form it finds, with the fix.`,
  arguments: [{ name: '[FILE]', description: 'the manifest (default: integrations.yaml, found by walking up)' }],
  flags: {
    write: { type: 'boolean', description: 'rewrite the file instead of printing the diff' },
  },
  examples: [
    { command: 'switchyard upgrade', does: 'show what upgrading integrations.yaml changes' },
    { command: 'switchyard upgrade --write && switchyard validate', does: 'rewrite it, then check it' },
  ],
});

/** Runs `upgrade`; exit 0 when the file is (or now is) current. */
export async function upgradeCommand(args: string[], output: Output = processOutput): Promise<number> {
  const { values, positionals } = parseCommand(upgradeSpec, args);
  const project = projectFor(positionals[0]);
  const file = relative(process.cwd(), project.manifest) || project.manifest;
  const text = readText(project.manifest);
  if (text === undefined) {
    logError(output, `${file}: file not found`);
    return 1;
  }
  let upgraded: ReturnType<typeof upgradeText>;
  try {
    upgraded = upgradeText(text);
  } catch (error) {
    logError(output, `${file}: ${(error as Error).message}; run switchyard validate`);
    return 1;
  }
  if (upgraded.text === text) {
    log(output, `${file} is written in manifest version ${MANIFEST_VERSION}: nothing to upgrade`);
    return 0;
  }
  if (!values.write) {
    log(output, unifiedDiff(text, upgraded.text, file).trimEnd());
    log(
      output,
      `\n${upgraded.changes.length} change${upgraded.changes.length === 1 ? '' : 's'}; run \`switchyard upgrade --write${positionals[0] ? ` ${positionals[0]}` : ''}\` to rewrite ${file}`,
    );
    return 0;
  }
  writeFileSync(project.manifest, upgraded.text);
  for (const change of upgraded.changes) log(output, `  ${change}`);
  log(output, `rewrote ${file} for manifest version ${MANIFEST_VERSION}`);
  return 0;
}
