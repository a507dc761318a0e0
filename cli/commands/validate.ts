/**
 * `switchyard validate [--env NAME] [--budget] [--json] [FILE]`: checks the manifest for one environment, or every
 * environment, and lists every problem as file:line:column. Exits 1 when there is any. `--budget` appends each
 * handler's cost per event and the capacity it implies; `--json` prints one object for machines instead.
 */
import { defineCommand, JSON_FLAG, parseCommand } from '../lib/command.ts';
import { checkProject, type EnvironmentBuild, type Problem } from '../lib/check.ts';
import { projectFor } from '../lib/project.ts';
import { log, logError, processOutput, type Output } from '../lib/output.ts';
import { paint } from '../lib/style.ts';
import { printBudget } from './plan.ts';
import { formatPath } from '../../runtime/manifest/problems.ts';

export function formatProblem(
  p: Problem,
  level: 'error' | 'warning' = 'error',
  stream: NodeJS.WritableStream = process.stderr,
): string {
  const envs = p.environments.length ? ` [${p.environments.join(', ')}]` : '';
  const at = p.path.length ? `${formatPath(p.path)}: ` : '';
  const caret =
    p.source === undefined ? '' : `\n  ${p.source}\n  ${' '.repeat(p.column - 1)}${paint('red', '^', stream)}`;
  return `${p.file}:${p.line}:${p.column}: ${paint(level === 'error' ? 'red' : 'yellow', level, stream)}${envs}: ${at}${p.message}${caret}`;
}

const days = (ms: number) => `${Math.round((ms / 86_400_000) * 100) / 100}d`;

/** A duration as the manifest writes it, in the largest unit that divides it (`5m`, `36h`). */
const formatDuration = (ms: number) => {
  const unit = (
    [
      ['d', 86_400_000],
      ['h', 3_600_000],
      ['m', 60_000],
      ['s', 1000],
    ] as const
  ).find(([, size]) => ms % size === 0);
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
};

/**
 * For each integration whose verifier signs no timestamp, how long a re-sent capture is refused: its event row's
 * life (retention.events), and where the id is an unsigned header, the body hash's (replay_window). Environments
 * that agree are listed once.
 */
function printReplayWindows(builds: EnvironmentBuild[], output: Output): void {
  const lines = new Map<string, string[]>();
  for (const b of builds) {
    for (const w of b.replayWindows) {
      const line = w.bodyWindowMs
        ? `  ${w.integration} (${w.verifier}): the same body is a duplicate for ${formatDuration(w.bodyWindowMs)} after it first arrived (event.id window), then accepted as new`
        : `  ${w.integration} (${w.verifier}): the same delivery is a duplicate for ${days(w.duplicateMs)} after it first arrived (retention.events), then accepted as new${w.sameBodyMs ? `; its body under another id, for ${days(w.sameBodyMs)} (replay_window)` : ''}`;
      lines.set(line, [...(lines.get(line) ?? []), b.name]);
    }
  }
  if (!lines.size) return;
  log(
    output,
    'replay windows: these verifiers sign no timestamp, so a captured delivery verifies forever; it is refused only while switchyard remembers it:',
  );
  for (const [line, envs] of lines) log(output, envs.length === builds.length ? line : `${line} [${envs.join(', ')}]`);
}

/** A problem as JSON: where it is, what it says, and which environments have it. */
const problemJson = (p: Problem) => ({
  file: p.file,
  line: p.line,
  column: p.column,
  path: formatPath(p.path),
  environments: p.environments,
  message: p.message,
});

export const validateSpec = defineCommand({
  name: 'validate',
  summary: 'check the manifest (every environment by default)',
  description: `Checks the manifest against its schema and the adapters' options, for every environment (or the one
--env names), and lists every problem as file:line:column with the line and a caret under the place. Warnings are
printed too, and do not fail it. A
Postgres store's SQL is prepared against the Postgres at SWITCHYARD_PG_URL when it answers, else in PGlite.

On success it prints each environment's build hash, and for verifiers that sign no timestamp how long a replayed
delivery is refused.`,
  arguments: [{ name: '[FILE]', description: 'the manifest (default: integrations.yaml, found by walking up)' }],
  flags: {
    env: {
      type: 'string',
      value: 'NAME',
      defaultText: 'every environment',
      description: 'check only this environment (a key under environments:, or default)',
    },
    budget: {
      type: 'boolean',
      description:
        "also print each handler's cost per event (D1 rows, queue operations) and the events a day each plan fits, for the environment (default: default)",
    },
    json: JSON_FLAG,
    'readme-secrets': {
      type: 'boolean',
      description:
        "also require each secret the manifest reads in the README's secrets table (this repository's CI uses it)",
    },
  },
  examples: [
    { command: 'switchyard validate', does: 'check integrations.yaml for every environment' },
    {
      command: 'switchyard validate --env production --budget',
      does: 'check production and print what an event of each handler costs',
    },
  ],
});

/** Runs `validate` with `args`, writing to `output` (the process's by default); returns the exit code. */
export async function validateCommand(args: string[], output: Output = processOutput): Promise<number> {
  const { values, positionals } = parseCommand(validateSpec, args);
  const env = values.env;
  const project = projectFor(positionals[0]);
  const result = checkProject(project, {
    ...(env ? { environments: [env] } : {}),
    readmeSecrets: values['readme-secrets'] ?? false,
  });
  const budgeted = values.budget ? result.builds.filter((b) => b.name === (env ?? 'default')) : [];
  if (values.json) {
    const budget = Object.fromEntries(budgeted.flatMap((b) => (b.budget ? [[b.name, b.budget]] : [])));
    log(
      output,
      JSON.stringify(
        {
          manifest: project.manifest,
          valid: !result.problems.length,
          problems: result.problems.map(problemJson),
          warnings: result.warnings.map(problemJson),
          environments: result.builds.map((b) => ({
            name: b.name,
            hash: b.hash,
            replay_windows: b.replayWindows.map((w) => ({
              integration: w.integration,
              verifier: w.verifier,
              duplicate: w.bodyWindowMs ? formatDuration(w.duplicateMs) : days(w.duplicateMs),
              ...(w.sameBodyMs ? { same_body: days(w.sameBodyMs) } : {}),
            })),
          })),
          ...(values.budget ? { budget } : {}),
        },
        null,
        2,
      ),
    );
    return result.problems.length || (values.budget && !Object.keys(budget).length) ? 1 : 0;
  }
  for (const problem of result.problems) logError(output, formatProblem(problem, 'error', output.stderr));
  for (const warning of result.warnings) log(output, formatProblem(warning, 'warning', output.stdout));
  if (result.problems.length) {
    logError(output, `\n${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} found`);
    return 1;
  }
  log(
    output,
    `${project.manifest}: valid for ${result.builds.map((b) => `${b.name} (${b.hash.slice(0, 12)})`).join(', ')}`,
  );
  printReplayWindows(result.builds, output);
  if (values.budget) {
    log(output, '');
    return printBudget(budgeted, false, output);
  }
  return 0;
}
