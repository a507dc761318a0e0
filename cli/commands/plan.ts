/**
 * `switchyard plan --from <git-ref|file> [--env NAME] [--markdown] [FILE]`: what a manifest change does, in words:
 * routes added or removed, verifiers changed, projections (handlers) changed, limits changed, and secrets that
 * the new manifest requires and the old did not (to set before deploying). CI can post it on a pull request.
 * `--budget` (with or without `--from`) adds each handler's cost per event and the events a day that fit each plan.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Registry } from '../../runtime/component/registry.ts';
import { loadOwnComponents } from '../lib/own-components.ts';
import { upgradeValue } from '../lib/upgrade.ts';
import { parseManifest } from '../../runtime/manifest/load.ts';
import { resolveWithProviders } from '../lib/catalog.ts';
import { buildManifestSchema } from '../../runtime/manifest/schema.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, parseCommand, type FlagValues } from '../lib/command.ts';
import { formatBudget } from '../lib/budget.ts';
import type { EnvironmentBuild } from '../lib/check.ts';
import { checkProject } from '../lib/check.ts';
import { projectFor, readText } from '../lib/project.ts';
import { secretUses } from '../lib/secrets.ts';
import { eventLogCase, fixtureCases, formatReplayPlan, manifestFromText, replayPlan } from '../lib/replay-plan.ts';
import { adminToken } from '../lib/server.ts';
import { log, logError, processOutput, type Output } from '../lib/output.ts';

// biome-ignore lint/suspicious/noExplicitAny: plan reads manifest JSON as the schema left it, by key
type Obj = Record<string, any>;

export interface PlanLine {
  sign: '+' | '-' | '~' | '!';
  text: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const keys = (a: Obj | undefined, b: Obj | undefined) =>
  [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();

/** Handler steps by event pattern, so a change reads as "these event types project differently". */
function byPattern(handlers: Obj[] | undefined): Map<string, unknown[]> {
  const map = new Map<string, unknown[]>();
  for (const h of handlers ?? [])
    for (const on of ([] as string[]).concat(h.on)) map.set(on, [...(map.get(on) ?? []), ...h.steps]);
  return map;
}

/** The SQL tables a statement writes (for the rebuild hint). */
const tablesWritten = (sql: string) =>
  [...sql.matchAll(/\b(?:INTO|(?<!\bDO\s+)UPDATE)\s+["`]?([A-Za-z_][A-Za-z0-9_]*)/gi)].map((m) => m[1]!);

/**
 * A changed projection, step by step: what changed in each (the SQL line by line, `-` before and `+` after, or
 * which options), and, where its SQL changed, the `rebuild` that re-projects the events already in the log.
 */
function stepChanges(integration: string, on: string, before: unknown[], after: unknown[]): PlanLine[] {
  const lines: PlanLine[] = [{ sign: '~', text: `projection ${integration} on ${on}: steps changed` }];
  const tables = new Set<string>();
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const a = before[i] as Obj | undefined;
    const b = after[i] as Obj | undefined;
    if (same(a, b)) continue;
    if (!a || !b) {
      lines.push({ sign: a ? '-' : '+', text: `  step ${i + 1}: ${JSON.stringify(a ?? b)}` });
      if (typeof b?.sql === 'string') tablesWritten(b.sql).forEach((t) => tables.add(t));
      continue;
    }
    if (typeof a.sql === 'string' && typeof b.sql === 'string' && a.sql !== b.sql) {
      const old = a.sql
        .trim()
        .split('\n')
        .map((l: string) => l.trim());
      const now = b.sql
        .trim()
        .split('\n')
        .map((l: string) => l.trim());
      lines.push({ sign: '~', text: `  step ${i + 1} sql:` });
      for (const l of old.filter((l: string) => !now.includes(l))) lines.push({ sign: '-', text: `    ${l}` });
      for (const l of now.filter((l: string) => !old.includes(l))) lines.push({ sign: '+', text: `    ${l}` });
      tablesWritten(b.sql).forEach((t) => tables.add(t));
    }
    const options = keys(a, b).filter((k) => k !== 'sql' && !same(a[k], b[k]));
    if (options.length) {
      lines.push({
        sign: '~',
        text: `  step ${i + 1}: ${options.map((k) => `${k} ${JSON.stringify(a[k])} -> ${JSON.stringify(b[k])}`).join(', ')}`,
      });
      if (typeof b.sql === 'string' && options.includes('params')) tablesWritten(b.sql).forEach((t) => tables.add(t));
    }
  }
  for (const table of tables)
    lines.push({
      sign: '!',
      text: `  events already applied keep the old projection: run \`switchyard rebuild ${table}\` after deploying to re-project them`,
    });
  return lines;
}

/** Compares two resolved manifests. */
export function planLines(before: Obj, after: Obj, registry: Registry = defaultRegistry): PlanLine[] {
  const lines: PlanLine[] = [];
  for (const name of keys(before.integrations, after.integrations)) {
    const a = before.integrations?.[name];
    const b = after.integrations?.[name];
    if (!a) lines.push({ sign: '+', text: `route POST ${b.route} (integration ${name}, verifier ${b.verifier.type})` });
    else if (!b) lines.push({ sign: '-', text: `route POST ${a.route} (integration ${name})` });
    else {
      if (a.route !== b.route) lines.push({ sign: '~', text: `integration ${name}: route ${a.route} -> ${b.route}` });
      if (!same(a.verifier, b.verifier)) {
        const changed = keys(a.verifier, b.verifier).filter((k) => !same(a.verifier[k], b.verifier[k]));
        lines.push({
          sign: '~',
          text: `verifier ${name} (${b.verifier.type}): ${changed.map((k) => `${k} ${JSON.stringify(a.verifier[k])} -> ${JSON.stringify(b.verifier[k])}`).join(', ')}`,
        });
      }
      if (!same(a.event, b.event)) lines.push({ sign: '~', text: `integration ${name}: event extraction changed` });
      const ha = byPattern(a.handlers);
      const hb = byPattern(b.handlers);
      for (const on of [...new Set([...ha.keys(), ...hb.keys()])].sort()) {
        if (!ha.has(on))
          lines.push({
            sign: '+',
            text: `projection ${name} on ${on} (${hb.get(on)!.length} step${hb.get(on)!.length === 1 ? '' : 's'})`,
          });
        else if (!hb.has(on)) lines.push({ sign: '-', text: `projection ${name} on ${on}` });
        else if (!same(ha.get(on), hb.get(on))) lines.push(...stepChanges(name, on, ha.get(on)!, hb.get(on)!));
      }
    }
  }
  for (const name of keys(before.routes, after.routes)) {
    const a = before.routes?.[name];
    const b = after.routes?.[name];
    if (!a) lines.push({ sign: '+', text: `route ${b.path} (${name}${b.auth ? `, auth ${b.auth}` : ', no auth'})` });
    else if (!b) lines.push({ sign: '-', text: `route ${a.path} (${name})` });
    else if (!same(a, b))
      lines.push({
        sign: '~',
        text: `route ${b.path} (${name}) changed: ${keys(a, b)
          .filter((k) => !same(a[k], b[k]))
          .join(', ')}`,
      });
  }
  for (const name of keys(before.limits, after.limits)) {
    const a = before.limits?.[name];
    const b = after.limits?.[name];
    const show = (l: Obj) => `${l.limit} per ${l.period}${l.per ? ' per key' : ''}, on_exceed ${l.on_exceed ?? 'warn'}`;
    if (!a) lines.push({ sign: '+', text: `limit ${name}: ${show(b)}` });
    else if (!b) lines.push({ sign: '-', text: `limit ${name}` });
    else if (!same(a, b)) lines.push({ sign: '~', text: `limit ${name}: ${show(a)} -> ${show(b)}` });
  }
  for (const name of keys(before.auth, after.auth)) {
    if (!same(before.auth?.[name], after.auth?.[name]))
      lines.push({ sign: !before.auth?.[name] ? '+' : !after.auth?.[name] ? '-' : '~', text: `auth provider ${name}` });
  }
  const schema = buildManifestSchema(registry);
  const had = new Set(secretUses(schema, before).map((u) => u.name));
  for (const name of [...new Set(secretUses(schema, after).map((u) => u.name))].sort()) {
    if (!had.has(name))
      lines.push({
        sign: '!',
        text: `new secret ${name}: set it before deploying (npx wrangler secret put ${name} --env <env>)`,
      });
  }
  return lines;
}

/** The old manifest's text: a file, or the manifest's path at a git ref. */
function readFrom(from: string, manifestPath: string): string {
  if (existsSync(from)) return readText(from)!;
  const cwd = dirname(manifestPath);
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' }).stdout.trim();
  const shown = spawnSync('git', ['show', `${from}:${relative(top, manifestPath)}`], { cwd, encoding: 'utf8' });
  if (shown.status !== 0)
    throw new Error(`cannot read ${relative(top, manifestPath)} at ${from}: ${shown.stderr.trim()}`);
  return shown.stdout;
}

const replayOnly = ['replay'] as const;

export const planSpec = defineCommand({
  name: 'plan',
  summary: 'what a manifest change does (--replay: to the data), what an event costs (--budget)',
  description: `--from compares the manifest with an earlier one (a git ref, or a file) and says what the change does, in
words: routes added or removed, verifiers changed, projections changed (each changed SQL line, and the rebuild to run
after deploying it), limits changed, and the secrets the new manifest needs that the old did not (to set before
deploying). CI can post it on a pull request (--markdown).

--budget prints what an event of each handler costs (D1 rows written and read, queue operations, the path it takes)
and how many events a day each plan fits; with --from, after the changes.

--replay runs events through the earlier manifest and the current one, into two scratch databases, and lists the
rows and effects that differ: the cases' events in tests/ (--events fixtures), or the last --days of a running
environment's event log (--events URL). Its --from defaults to HEAD.`,
  arguments: [{ name: '[FILE]', description: 'the manifest (default: integrations.yaml, found by walking up)' }],
  flags: {
    from: {
      type: 'string',
      value: 'REF',
      description:
        'the earlier manifest: a git ref (the manifest at that commit) or a file; with --replay, HEAD when not given',
    },
    budget: { type: 'boolean', description: "each handler's cost per event, and the events a day each plan fits" },
    replay: {
      type: 'boolean',
      description: 'what the change does to the data: the rows and effects that differ for real events',
    },
    events: {
      type: 'string',
      value: 'fixtures|URL',
      default: 'fixtures',
      requires: replayOnly,
      description: "the events to replay: the cases in tests/, or a running switchyard's event log",
    },
    days: {
      type: 'string',
      value: 'N',
      default: '7',
      requires: replayOnly,
      description: 'how many days of the event log to replay (with --events URL)',
    },
    env: ENV_FLAG,
    markdown: { type: 'boolean', description: 'print Markdown, for a pull request comment' },
    json: { type: 'boolean', description: 'print one JSON object instead of text' },
  },
  oneRequired: [['from', 'budget', 'replay']],
  exclusive: [
    ['json', 'markdown'],
    ['budget', 'replay'],
  ],
  examples: [
    {
      command: 'switchyard plan --from origin/main --markdown',
      does: 'what this branch changes, for a pull request comment',
    },
    { command: 'switchyard plan --budget', does: 'what an event of each handler costs on the free plan' },
    {
      command: 'switchyard plan --replay',
      does: 'the rows and effects your uncommitted manifest changes would change, for the cases in tests/',
    },
  ],
});

export async function planCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(planSpec, args);
  if (values.replay) return replayCommand(values, positionals[0]);
  const { from, budget = false, json = false } = values;
  const env = values.env;
  if (from === undefined)
    return printBudget(checkProject(projectFor(positionals[0]), { environments: [env] }).builds, json);
  const project = projectFor(positionals[0]);
  let before: Obj;
  let after: Obj;
  let registry: Registry;
  try {
    const old = parseManifest(readFrom(from, project.manifest), `${from}`);
    const now = parseManifest(readText(project.manifest) ?? '', project.manifest);
    for (const p of [...old.problems, ...now.problems])
      throw new Error(`${p.file}:${p.line}:${p.column}: ${p.message}`);
    // Both in the current manifest language, so a form `switchyard upgrade` renamed is no change.
    before = resolveWithProviders(upgradeValue(old.value).value, env) as Obj;
    after = resolveWithProviders(upgradeValue(now.value).value, env) as Obj;
    registry = loadOwnComponents(project.manifest, now.value).registry;
  } catch (error) {
    console.error(`plan: ${(error as Error).message}`);
    return 1;
  }
  const lines = planLines(before, after, registry);
  if (json) {
    const priced = budget
      ? checkProject(project, { environments: [env] }).builds.find((b) => b.name === env)?.budget
      : undefined;
    console.log(
      JSON.stringify(
        {
          manifest: project.manifest,
          environment: env,
          from,
          changes: lines,
          ...(budget ? { budget: priced ?? null } : {}),
        },
        null,
        2,
      ),
    );
    return budget && !priced ? 1 : 0;
  }
  const markdown = values.markdown ?? false;
  const title = `Plan for ${relative(process.cwd(), project.manifest) || project.manifest} [${env}], from ${from}`;
  console.log(markdown ? `### ${title}\n` : title);
  if (!lines.length) console.log(markdown ? '_No changes._' : '  no changes');
  for (const l of lines) console.log(markdown ? `- \`${l.sign}\` ${l.text}` : `  ${l.sign} ${l.text}`);
  if (budget) {
    console.log('');
    return printBudget(checkProject(project, { environments: [env] }).builds, false);
  }
  return 0;
}

/**
 * `plan --replay [--from <git-ref|file>] [--events fixtures|<url>] [--days N]`: the events through the base manifest
 * (git HEAD by default) and the current one, into two scratch databases, and the rows and effects that differ.
 */
async function replayCommand(values: FlagValues<typeof planSpec.flags>, manifestPath?: string): Promise<number> {
  const days = Number(values.days);
  if (!(days > 0)) throw new UsageError('--days takes a positive number');
  const source = values.events;
  if (source !== 'fixtures' && !/^https?:\/\//.test(source))
    throw new UsageError('--events takes fixtures (the cases in tests/) or the URL of a running switchyard');
  const env = values.env;
  const from = values.from ?? 'HEAD';
  const project = projectFor(manifestPath);
  let plan;
  try {
    const before = manifestFromText(project, readFrom(from, project.manifest), env, from);
    const after = manifestFromText(
      project,
      readText(project.manifest) ?? '',
      env,
      relative(process.cwd(), project.manifest) || project.manifest,
    );
    let cases;
    if (source === 'fixtures') cases = fixtureCases(project);
    else {
      const token = adminToken(project);
      if (!token)
        throw new Error('reading the event log needs the admin token: set ADMIN_TOKEN in the environment or .dev.vars');
      cases = [await eventLogCase(source.replace(/\/+$/, ''), token, after, days)];
    }
    plan = await replayPlan(
      project,
      env,
      before,
      after,
      cases,
      source === 'fixtures' ? 'tests/' : `${source} (last ${days} days)`,
    );
  } catch (error) {
    console.error(`plan --replay: ${(error as Error).message}`);
    return 1;
  }
  if (values.json)
    console.log(JSON.stringify({ manifest: project.manifest, environment: env, from, ...plan }, null, 2));
  else
    console.log(
      formatReplayPlan(
        plan,
        `Replay plan for ${relative(process.cwd(), project.manifest) || project.manifest} [${env}], from ${from}: ${plan.events} events from ${plan.source}`,
        values.markdown ?? false,
      ),
    );
  return 0;
}

/** Prints the budget of each built environment (text or JSON); 1 when none could be priced. */
export function printBudget(builds: EnvironmentBuild[], json: boolean, output: Output = processOutput): number {
  const priced = builds.filter((b) => b.budget);
  if (!priced.length) {
    logError(output, 'budget: the manifest could not be built or priced (run switchyard validate)');
    return 1;
  }
  if (json) log(output, JSON.stringify(Object.fromEntries(priced.map((b) => [b.name, b.budget])), null, 2));
  else log(output, priced.map((b) => `Budget [${b.name}]\n${formatBudget(b.budget!)}`).join('\n\n'));
  return 0;
}
