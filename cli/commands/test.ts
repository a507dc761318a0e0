/**
 * `switchyard test [MANIFEST] [FILE...] [--env NAME] [--update] [--json] [--coverage[=strict]] [--coverage-min N]`:
 * runs the manifest's test cases (tests/*.test.yaml beside integrations.yaml, `<name>.tests/` beside any other
 * manifest) offline, through the real runtime on node:sqlite (and PGlite or SWITCHYARD_PG_URL for `postgres` stores),
 * and reports each failed expectation at its file:line:column with a diff of expected against actual, and which
 * conditions skipped steps of its events. `--update` writes the actual results into the failing expectations for
 * review. Coverage lists the handlers and `on:` patterns no case exercised (failing the run only with
 * `--coverage=strict`); `--coverage` also lists the projected columns (what each sql step writes) no case asserts
 * after the step ran (failing with `--coverage=strict` too), and each condition (`if:`) with how often it was true
 * and false, the ones never seen one way first (failing the run only under `--coverage-min`). Exit 0 when every case
 * passes, 1 otherwise.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { locate, parseManifest } from '../../runtime/manifest/load.ts';
import { commandOf } from '../../runtime/manifest/commands/compile.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, JSON_FLAG, MANIFEST_FLAG, parseCommand } from '../lib/command.ts';
import { projectFor, readText, type Project } from '../lib/project.ts';
import { log, logError, processOutput, type Output } from '../lib/output.ts';
import { paint } from '../lib/style.ts';
import { setInDocument, type CaseFile, type Location } from '../lib/manifest-tests/cases.ts';
import { findCaseFiles, loadCaseFiles, nodeTarget, testsDir, TEST_SUFFIX } from '../lib/manifest-tests/node.ts';
import { formatDiff } from '../lib/manifest-tests/report.ts';
import { coverage, runCase, type CaseResult, type Coverage, type Target } from '../lib/manifest-tests/run.ts';
import { conditionCoverage, conditionGap, type ConditionCoverage } from '../lib/manifest-tests/conditions.ts';
import { columnCoverage, type ColumnGap } from '../lib/manifest-tests/columns.ts';
import type { Case } from '../lib/manifest-tests/cases.ts';
import { formatProblem } from './validate.ts';

const at = (l: Location) => `${l.file}:${l.line}:${l.column}`;

/** A condition's coverage line: where it is, how often it held and did not (what it lacks first), and what it says. */
function conditionLine(c: Omit<ConditionCoverage, 'path'> & { location: string }, output: Output): string {
  const gap = conditionGap(c);
  const counts = gap
    ? `${paint('yellow', gap, output.stdout)} (true ${c.true}, false ${c.false})`
    : `true ${c.true}, false ${c.false}`;
  return `${c.location}: ${counts}: ${c.at} (${c.condition})`;
}

/** Where a manifest path is written, `file:line:column` (or its nearest written parent). */
function manifestLocator(project: Project): (path: (string | number)[]) => string {
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest.slice(project.root.length + 1));
  return (path) => {
    const [p] = locate(parsed, [{ path, message: '' }]);
    return `${p!.file}:${p!.line}:${p!.column}`;
  };
}

/** Coverage gaps placed in the manifest, so an editor can jump to the handler. */
function coverageLines(project: Project, gaps: Coverage): { location: string; text: string }[] {
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest.slice(project.root.length + 1));
  const at = (source: string, index: number) => {
    const command = commandOf(source);
    if (command !== undefined) {
      const [p] = locate(parsed, [{ path: ['commands', command], message: '' }]);
      return `${p!.file}:${p!.line}:${p!.column}`;
    }
    const kind =
      parsed.value && (parsed.value as { integrations?: Record<string, unknown> }).integrations?.[source]
        ? 'integrations'
        : 'routes';
    const [p] = locate(parsed, [{ path: [kind, source, 'handlers', index, 'on'], message: '' }]);
    return `${p!.file}:${p!.line}:${p!.column}`;
  };
  return [
    ...gaps.handlers.map((h) => ({
      location: at(h.source, h.index),
      text:
        commandOf(h.source) !== undefined
          ? `${h.source}: no case applied a call of it`
          : `${h.source} handler on ${h.on.join(', ')}: no case applied an event to it`,
    })),
    ...gaps.patterns.map((p) => ({
      location: at(p.source, p.index),
      text: `${p.source} on ${p.pattern}: no event of this type was applied`,
    })),
  ];
}

/** A column gap placed at its sql step: the handler, the table and the columns no case asserted after it ran. */
function columnLine(
  g: ColumnGap,
  where: (path: (string | number)[]) => string,
): { location: string; handler: string; step: string; table: string; columns: string[]; text: string } {
  const why = g.ran ? 'no case that ran it asserts' : 'no case ran it; unasserted';
  return {
    location: where([...g.step.path, 'sql']),
    handler: g.step.handler,
    step: g.step.at,
    table: g.table,
    columns: g.columns,
    text: `${g.step.label}: ${why} ${g.table}.${g.columns.join(`, ${g.table}.`)}`,
  };
}

/** `--coverage` alone means `--coverage=report`: the flag takes a value only as `=strict`/`=report` or `strict`/`report` after it. */
const COVERAGE_MODES = ['strict', 'report'];
const bareCoverage = (args: string[]) =>
  args.map((a, i) => (a === '--coverage' && !COVERAGE_MODES.includes(args[i + 1] ?? '') ? '--coverage=report' : a));

export const testSpec = defineCommand({
  name: 'test',
  summary: "run the manifest's tests (tests/*.test.yaml) offline",
  description: `Runs the manifest's test cases (tests/*.test.yaml beside integrations.yaml, <name>.tests/ beside any other
manifest) offline, through the real runtime on node:sqlite (postgres stores in PGlite, or at SWITCHYARD_PG_URL when
it answers). Each event is signed with the integration's own signer (the one send uses) and the development secrets
of .dev.vars.example. A failed expectation is reported at its file:line:column with a diff of expected against
actual, and the conditions that skipped steps of its events.

Every run lists the handlers and on: patterns no case applied an event to; --coverage=strict also fails on them.
--coverage lists each condition (if: of a handler or a step) with how often the cases saw it true and false, the
ones never true or never false first. The exit code follows the cases unless --coverage-min asks that share of the
conditions' outcomes (each true and false) to be seen. An event's expect: takes
skipped_by: ["integrations.stripe.handlers[0].if"] to assert which conditions skipped its steps.

Every run also counts the projected columns (what each sql step writes: an INSERT's columns, DO UPDATE SET, an
UPDATE's SET) that no case asserts, in an expected row of expect: tables:, after its events ran that step and before
another step wrote the column; --coverage lists them at their sql step, and --coverage=strict fails on them.`,
  arguments: [
    {
      name: '[MANIFEST]',
      description: 'a manifest file (a .yaml with integrations: and no cases:) instead of integrations.yaml',
    },
    { name: '[FILE...]', description: 'only these test files (default: every test file of the manifest)' },
  ],
  flags: {
    env: ENV_FLAG,
    update: {
      type: 'boolean',
      description: 'write the actual results into the failing expectations, for review (git diff tests/)',
    },
    json: JSON_FLAG,
    coverage: {
      type: 'string',
      value: 'MODE',
      description:
        'report: list the projected columns no case asserts and each condition with how often it was true and false; strict: also fail on untested handlers, on: patterns and columns (--coverage alone is report)',
    },
    'coverage-min': {
      type: 'string',
      value: 'PERCENT',
      description: "fail unless this share of the conditions' outcomes (each true and false) was seen",
    },
    manifest: MANIFEST_FLAG,
  },
  examples: [
    { command: 'switchyard test', does: "run every case of integrations.yaml's tests" },
    {
      command: 'switchyard test tests/stripe.test.yaml --coverage=strict',
      does: 'one file, failing on handlers no case exercised',
    },
    { command: 'switchyard test examples/postgres.yaml', does: "another manifest's cases" },
  ],
});

/** Runs `switchyard test` with `args`, writing to `output` (the process's by default); returns the exit code. */
export async function testCommand(args: string[], output: Output = processOutput): Promise<number> {
  const { values, positionals } = parseCommand(testSpec, bareCoverage(args));
  if (values.coverage !== undefined && !COVERAGE_MODES.includes(values.coverage))
    throw new UsageError('--coverage takes strict (fail on untested handlers) or report (the default)');
  const min = values['coverage-min'];
  if (min !== undefined && !(/^\d+(\.\d+)?$/.test(min) && Number(min) <= 100))
    throw new UsageError(
      "--coverage-min takes a percentage from 0 to 100: the share of the conditions' outcomes (each true and false) the cases must see",
    );
  const environment = values.env;
  const json = values.json ?? false;
  const started = performance.now();
  // A manifest among the arguments (`switchyard test examples/postgres.yaml`) picks the manifest; the rest are tests.
  const manifests = positionals.filter(isManifestArgument);
  if (manifests.length > 1 || (manifests.length && values.manifest !== undefined))
    throw new UsageError('give one manifest (FILE.yaml or --manifest FILE)');
  const project = projectFor(values.manifest ?? manifests[0]);
  const testArgs = positionals.filter((p) => !manifests.includes(p));
  const built = nodeTarget(project, environment);
  if (!built.ok) {
    if (json)
      log(
        output,
        JSON.stringify(
          {
            environment,
            ok: false,
            problems: built.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, message: p.message })),
          },
          null,
          2,
        ),
      );
    else {
      for (const p of built.problems) logError(output, formatProblem(p, 'error', output.stderr));
      logError(output, `the manifest is not valid for ${environment}: no test ran`);
    }
    return 1;
  }
  try {
    return await runTests(
      project,
      built.target,
      environment,
      testArgs,
      { ...values, ...(min !== undefined ? { coverageMin: Number(min) } : {}) },
      started,
      output,
    );
  } finally {
    await built.target.close?.();
  }
}

/** A positional that names a manifest rather than tests: a YAML file, not `*.test.yaml`, with `integrations:` and no `cases:`. */
function isManifestArgument(arg: string): boolean {
  if (!/\.ya?ml$/.test(arg) || arg.endsWith(TEST_SUFFIX)) return false;
  const text = readText(arg);
  return text !== undefined && /^integrations\s*:/m.test(text) && !/^cases\s*:/m.test(text);
}

async function runTests(
  project: Project,
  target: Target,
  environment: string,
  positionals: string[],
  values: { update?: boolean; json?: boolean; coverage?: string; coverageMin?: number },
  started: number,
  output: Output,
): Promise<number> {
  const json = values.json ?? false;
  const files = loadCaseFiles(project, findCaseFiles(project, positionals));
  const problems = files.flatMap((f) => f.problems);
  // A new project (npm create switchyard --template empty, or picked providers) has no handler and no command yet:
  // nothing to test is a pass, so its CI is green from the first push. One handler without a test file fails.
  if (!files.length && !positionals.length && coverage(target.manifest, []).total.handlers === 0) {
    const add = relative(project.root, join(testsDir(project), `<name>${TEST_SUFFIX}`));
    if (json) log(output, JSON.stringify({ environment, ok: true, cases: 0, handlers: 0 }, null, 2));
    else log(output, `nothing to test yet: the manifest has no handler or command (with the first, add ${add})`);
    return 0;
  }
  if (!files.length || problems.length) {
    if (json)
      log(
        output,
        JSON.stringify(
          { environment, ok: false, problems: problems.map((p) => ({ ...p.location, message: p.message })) },
          null,
          2,
        ),
      );
    else if (!files.length)
      logError(
        output,
        `no test files: add ${relative(project.root, join(testsDir(project), `<name>${TEST_SUFFIX}`))} (see docs/testing.md)`,
      );
    for (const p of problems)
      if (!json) logError(output, `${at(p.location)}: ${paint('red', 'error', output.stderr)}: ${p.message}`);
    return 1;
  }

  const results: CaseResult[] = [];
  const cases: Case[] = [];
  for (const file of files) for (const c of file.cases) cases.push(c), results.push(await runCase(target, c));
  const gaps = coverage(
    target.manifest,
    results.flatMap((r) => r.applied),
  );
  const engine = target.engine?.();
  const gapLines = coverageLines(project, gaps);
  const strict = values.coverage === 'strict';
  const failed = results.filter((r) => r.failures.length);
  const byFile = new Map(files.map((f) => [f.file, f]));
  const ms = performance.now() - started;
  const where = manifestLocator(project);
  const conditions = conditionCoverage(
    target.conditions?.declared ?? [],
    results.map((r) => r.conditions),
  );
  const conditionRows = conditions.conditions.map(({ path, ...c }) => ({ ...c, location: where(path) }));
  const columns = columnCoverage(
    target.manifest,
    results.map((r, i) => ({ expect: cases[i]!.expect, ran: r.ran })),
  );
  const columnRows = columns.gaps.map((g) => columnLine(g, where));
  const percent = conditions.total ? Math.floor((conditions.seen / conditions.total) * 100) : 100;
  const underMin =
    values.coverageMin !== undefined &&
    conditions.total > 0 &&
    (conditions.seen / conditions.total) * 100 < values.coverageMin;
  /** Per case, the events some condition skipped steps of, at the event's place in its test file. */
  const skippedOf = (i: number) => {
    const file = byFile.get(results[i]!.file)!;
    return results[i]!.actual.steps.flatMap((s, k) =>
      s.skipped
        ? [
            {
              location: file.locate(cases[i]!.steps[k]!.path),
              event: s.id ?? '(no id)',
              status: s.event ?? null,
              conditions: s.skipped,
            },
          ]
        : [],
    );
  };

  let updated = 0;
  if (values.update) updated = update(project, byFile, failed);

  const ok = !failed.length && !(strict && (gapLines.length || columnRows.length)) && !underMin;
  if (json) {
    log(
      output,
      JSON.stringify(
        {
          environment,
          ok,
          passed: results.length - failed.length,
          failed: failed.length,
          ms: Math.round(ms),
          ...(values.update ? { updated } : {}),
          cases: results.map((r, i) => {
            const skipped = skippedOf(i);
            return {
              file: r.file,
              name: r.name,
              location: byFile.get(r.file)!.locate(r.path),
              ok: !r.failures.length,
              ms: Math.round(r.ms),
              failures: r.failures.map((f) => ({
                location: byFile.get(r.file)!.locate(f.at ?? f.path),
                what: f.what,
                message: f.message,
                expected: f.expected,
                actual: f.actual,
              })),
              ...(skipped.length ? { skipped } : {}),
            };
          }),
          coverage: {
            handlers: gaps.total.handlers,
            patterns: gaps.total.patterns,
            untested: gapLines,
            columns: {
              total: columns.total,
              asserted: columns.asserted,
              unasserted: columnRows.map(({ text: _, ...g }) => g),
            },
            conditions: conditionRows,
            outcomes: { seen: conditions.seen, total: conditions.total },
          },
          ...(engine ? { postgres: engine } : {}),
        },
        null,
        2,
      ),
    );
    return ok ? 0 : 1;
  }

  log(
    output,
    `${paint('bold', 'switchyard test', output.stdout)} [${environment}]: ${results.length} case${results.length === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}`,
  );
  if (engine) log(output, `postgres stores: ${engine}`);
  for (const [i, r] of results.entries()) {
    const file = byFile.get(r.file)!;
    if (!r.failures.length) {
      log(
        output,
        `  ${paint('green', '✓', output.stdout)} ${r.file} › ${r.name} ${paint('dim', `(${Math.round(r.ms)} ms)`, output.stdout)}`,
      );
      continue;
    }
    log(output, `  ${paint('red', '✗', output.stdout)} ${r.file} › ${r.name}`);
    for (const f of r.failures) {
      log(output, `    ${at(file.locate(f.at ?? f.path))}: ${paint('red', f.message, output.stdout)}`);
      const diff = formatDiff(f.expected, f.actual);
      if (diff) log(output, diff);
    }
    // What a condition decided is often why rows are missing: name it even where no expectation asked.
    const skipped = skippedOf(i);
    if (skipped.length) log(output, '    which conditions decided:');
    for (const s of skipped)
      for (const condition of s.conditions)
        log(
          output,
          `      ${at(s.location)}: event ${s.event} (${s.status ?? 'not recorded'}) skipped by ${condition}`,
        );
  }
  const uncovered = `${gaps.handlers.length} of ${gaps.total.handlers} handlers and ${gaps.patterns.length} more on: patterns not exercised`;
  if (gapLines.length) {
    log(output, `\ncoverage: ${paint(strict ? 'red' : 'yellow', uncovered, output.stdout)}`);
    for (const g of gapLines) log(output, `  ${g.location}: ${g.text}`);
  } else
    log(
      output,
      `\ncoverage: every handler${target.manifest.commands ? ' and command' : ''} (${gaps.total.handlers}) and on: pattern (${gaps.total.patterns}) exercised`,
    );
  if (columns.total) {
    const unasserted = columns.total - columns.asserted;
    if (!unasserted) log(output, `columns: every projected column (${columns.total}) asserted after its sql step ran`);
    else {
      const line = `${unasserted} of ${columns.total} projected columns not asserted after their sql step ran`;
      if (values.coverage === undefined)
        log(output, `columns: ${paint('yellow', line, output.stdout)} (--coverage lists them)`);
      else {
        log(output, `columns: ${paint(strict ? 'red' : 'yellow', line, output.stdout)}`);
        for (const c of columnRows) log(output, `  ${c.location}: ${c.text}`);
      }
    }
  }
  if (conditionRows.length) {
    const both = `${conditions.both} of ${conditionRows.length} seen both true and false`;
    const all = conditions.both === conditionRows.length;
    if (values.coverage === undefined && values.coverageMin === undefined)
      log(
        output,
        `conditions: ${paint(all ? 'green' : 'yellow', both, output.stdout)}${all ? '' : ' (--coverage lists them)'}`,
      );
    else {
      log(
        output,
        `conditions: ${paint(all ? 'green' : 'yellow', both, output.stdout)}; ${conditions.seen} of ${conditions.total} outcomes (${percent}%)`,
      );
      for (const c of conditionRows) log(output, `  ${conditionLine(c, output)}`);
    }
  } else if (values.coverage !== undefined)
    log(output, 'conditions: the manifest has none (no if: on a handler or step)');
  if (underMin)
    log(
      output,
      paint(
        'red',
        `conditions: ${conditions.seen} of ${conditions.total} outcomes seen (${percent}%), under --coverage-min ${values.coverageMin}%`,
        output.stdout,
      ),
    );
  if (values.update)
    log(
      output,
      `updated ${updated} expectation${updated === 1 ? '' : 's'}: review the diff (git diff tests/) before committing`,
    );
  const summary = `${results.length - failed.length} passed, ${failed.length} failed (${Math.round(ms)} ms)`;
  log(output, failed.length ? paint('red', summary, output.stdout) : paint('green', summary, output.stdout));
  return ok ? 0 : 1;
}

/** Writes each failed expectation's actual value into its file; returns how many were written. */
function update(project: Project, files: Map<string, CaseFile>, failed: CaseResult[]): number {
  let n = 0;
  const touched = new Set<CaseFile>();
  for (const r of failed) {
    const file = files.get(r.file)!;
    for (const f of r.failures) {
      if (f.update === undefined) continue;
      setInDocument(file.doc, f.path, f.update);
      touched.add(file);
      n++;
    }
  }
  for (const file of touched) writeFileSync(join(project.root, file.file), file.doc.toString({ lineWidth: 0 }));
  return n;
}
