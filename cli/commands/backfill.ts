/**
 * `switchyard backfill <integration> [--objects a,b] [--since DATE] [--dry-run] [--yes] [--max-writes-per-minute N]`:
 * pages through the provider's list API with the operator's credentials, turns each object into the event its
 * handlers already read (the source's template), and sends them in batches to the environment's admin API, which
 * takes them through the normal pipeline (same projections, same @version guards), marked `backfill` in the event
 * log. Resumable from a checkpoint per source, paced under the provider's rate limit and a D1 write bound, with the
 * projected cost and a confirmation first. See docs/backfill.md.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { BackfillSource } from '../../runtime/manifest/sources.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, parseCommand, URL_FLAG } from '../lib/command.ts';
import { checkpointPath, readCheckpoint, writeCheckpoint, type Checkpoint } from '../lib/backfill/checkpoint.ts';
import {
  costOf,
  DEFAULT_WRITES_PER_MINUTE,
  duration,
  PAID_WRITES_PER_MINUTE,
  projectionLines,
} from '../lib/backfill/cost.ts';
import { ListError, Pager, type Cursor, type Page } from '../lib/backfill/pager.ts';
import { handlersFor, resolveSources, type ResolvedSources } from '../lib/backfill/sources.ts';
import { synthesise, wanted, type SyntheticEvent } from '../lib/backfill/template.ts';
import { checkProject } from '../lib/check.ts';
import { readDevVars } from '../lib/dev-vars.ts';
import { projectFor, type Project } from '../lib/project.ts';
import { adminCall, adminToken, serverUrl, ServerError } from '../lib/server.ts';
import { progressBar } from './rebuild.ts';

import { MAX_BACKFILL_EVENTS } from '../../runtime/operations/backfill.ts';

interface Target {
  name: string;
  source: BackfillSource;
  pager: Pager;
  path: string;
  checkpoint: Checkpoint;
  objects: number | null;
  /** The first page, when it was read to learn the total (sent first, not read twice). */
  first?: Page;
}

/** The operator's environment for provider credentials: the process environment, then the project's .dev.vars. */
export function operatorEnv(project: Project): Record<string, string | undefined> {
  return { ...readDevVars(join(project.root, '.dev.vars')), ...process.env };
}

/** The sources named by `--objects` (all by default: those whose event type some handler reads). */
export function pickSources(
  resolved: ResolvedSources,
  objects: string | undefined,
  withEffects: boolean,
  log: (line: string) => void,
): [string, BackfillSource][] {
  if (!resolved.sources.size)
    throw new UsageError(
      `${resolved.integration} declares no backfill sources${resolved.provider ? ` (catalog/${resolved.provider}.yaml has none)` : ''}: add \`sources:\` to the integration`,
    );
  const named = objects
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of named ?? [])
    if (!resolved.sources.has(n))
      throw new UsageError(
        `${resolved.integration} has no source ${n}; sources: ${[...resolved.sources.keys()].join(', ')}`,
      );
  const out: [string, BackfillSource][] = [];
  for (const [name, source] of resolved.sources) {
    if (named && !named.includes(name)) continue;
    const h = handlersFor(resolved, source.event.type);
    if (!h.count) {
      if (named)
        throw new UsageError(
          `no handler of ${resolved.integration} reads ${source.event.type}: backfilling ${name} would record events and project nothing`,
        );
      log(`skipping ${name}: no handler reads ${source.event.type}`);
      continue;
    }
    if (h.effects.length && !withEffects) {
      throw new UsageError(
        `${source.event.type} runs ${h.effects.join(', ')}: a backfill would do that once per old ${name} object. Pass --with-effects to do it anyway, or leave ${name} out with --objects`,
      );
    }
    out.push([name, source]);
  }
  if (!out.length) throw new UsageError(`nothing to backfill for ${resolved.integration}`);
  return out;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Counts objects by listing (a source that declares no total): pages only, nothing kept. */
async function countByListing(pager: Pager): Promise<number> {
  let cursor: Cursor | null = null;
  let n = 0;
  do {
    const page = await pager.page(cursor);
    n += page.items.filter((o) => wanted(pager.source, o)).length;
    cursor = page.next;
  } while (cursor);
  return n;
}

export const backfillSpec = defineCommand({
  name: 'backfill',
  summary: "load existing objects from the provider's list API through the handlers (resumable)",
  description: `Pages through the provider's list API (the integration's backfill sources: sources: in the manifest,
else its catalog preset's) with your credentials, turns each object into the event its handlers already read, and
sends them in batches to the environment's admin API, which takes them through the normal pipeline (same
projections, same @version guards), marked backfill in the event log. Credentials come from your shell, then
.dev.vars, never the Worker.

It states the projected cost (D1 rows, time) and asks before writing. It is paced under the provider's rate limit
and a bound on D1 writes per minute, and resumable: a checkpoint per source under .switchyard/ keeps its place, so
running the same command again continues. A source whose events run effects (emails) is refused unless
--with-effects.`,
  arguments: [{ name: '<integration>', description: 'the integration to backfill' }],
  flags: {
    objects: {
      type: 'string',
      value: 'a,b',
      defaultText: 'every source some handler reads',
      description: 'the sources to backfill, by name',
    },
    since: {
      type: 'string',
      value: 'DATE',
      description: 'only objects created since this date (2024-01-31 or an ISO time)',
    },
    'dry-run': { type: 'boolean', description: 'list what would be sent (the first events whole), write nothing' },
    yes: { type: 'boolean', description: 'do not ask before writing (needed without a terminal)' },
    'max-writes-per-minute': {
      type: 'string',
      value: 'N',
      defaultText: `none against a local server; else ${DEFAULT_WRITES_PER_MINUTE} (free plan) or ${PAID_WRITES_PER_MINUTE} (paid)`,
      description: 'the bound on D1 rows written per minute',
    },
    retries: {
      type: 'string',
      value: 'N',
      default: '5',
      description: 'how many times a failed provider request is tried again before the backfill stops (resumable)',
    },
    restart: {
      type: 'boolean',
      description: 'ignore the checkpoint and start over (objects already written are written once)',
    },
    'no-count': {
      type: 'boolean',
      description: 'do not list the objects first to count them, where the provider states no total',
    },
    'with-effects': {
      type: 'boolean',
      description: "backfill sources whose events run effects too (each old object's effects run once)",
    },
    url: URL_FLAG,
    env: ENV_FLAG,
  },
  examples: [
    { command: 'switchyard backfill stripe --dry-run', does: 'what a backfill of Stripe would send, without writing' },
    {
      command: 'switchyard backfill stripe --objects subscriptions --since 2024-01-01 --yes',
      does: 'load the subscriptions created since 2024, without asking',
    },
  ],
});

export async function backfillCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(backfillSpec, args);
  const [integration, extra] = positionals;
  if (!integration) throw new UsageError('name the integration to backfill (e.g. switchyard backfill stripe)');
  if (extra) throw new UsageError(`unexpected argument ${extra}`);
  const since = values.since ? new Date(values.since) : undefined;
  if (since && Number.isNaN(since.getTime()))
    throw new UsageError(`--since takes a date (2024-01-31 or an ISO time), not ${values.since}`);
  const env = values.env;
  const dryRun = values['dry-run'] ?? false;
  const project = projectFor();
  const resolved = resolveSources(project, integration, env);
  const picked = pickSources(resolved, values.objects, values['with-effects'] ?? false, (l) => console.log(l));
  const build = checkProject(project, { environments: [env] }).builds.find((b) => b.name === env);
  const plan = build?.manifest.platform?.plan ?? 'free';
  const url = serverUrl(project, values.url);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  let writesPerMinute = local ? Infinity : plan === 'paid' ? PAID_WRITES_PER_MINUTE : DEFAULT_WRITES_PER_MINUTE;
  if (values['max-writes-per-minute'] !== undefined) {
    writesPerMinute = Number(values['max-writes-per-minute']);
    if (!(writesPerMinute > 0))
      throw new UsageError(`--max-writes-per-minute takes a positive number, not ${values['max-writes-per-minute']}`);
  }
  const token = dryRun ? undefined : adminToken(project);
  if (!dryRun && !token) {
    console.error('no admin token: set ADMIN_TOKEN in the environment or in .dev.vars');
    return 2;
  }
  const retries = Number(values.retries);
  if (!Number.isSafeInteger(retries) || retries < 0)
    throw new UsageError(`--retries takes a whole number, not ${values.retries}`);
  const vars = operatorEnv(project);
  const onWait = (ms: number, why: string) => {
    if (ms >= 1000) process.stderr.write(`${process.stdout.isTTY ? '\n' : ''}waiting ${duration(ms)}: ${why}\n`);
  };

  // 1. What it will do and cost.
  const targets: Target[] = [];
  for (const [name, source] of picked) {
    const pager = new Pager(source, { env: vars, onWait, retries, ...(since ? { since } : {}) });
    const path = checkpointPath(project.root, env, integration, name);
    const saved = dryRun || values.restart ? undefined : readCheckpoint(path);
    if (saved?.finished_at && !values.restart) {
      console.log(
        `${integration} ${name}: finished ${saved.finished_at} (${saved.sent} events); --restart to run it again (same objects are written once)`,
      );
      continue;
    }
    if (saved && (saved.since ?? null) !== (since?.toISOString() ?? null))
      throw new UsageError(
        `the checkpoint ${path} was started with --since ${saved.since ?? '(none)'}; run with the same, or --restart`,
      );
    const now = new Date().toISOString();
    const checkpoint: Checkpoint = saved ?? {
      integration,
      object: name,
      environment: env,
      url,
      since: since?.toISOString() ?? null,
      cursor: null,
      listed: 0,
      sent: 0,
      skipped: 0,
      counts: {},
      total: null,
      started_at: now,
      updated_at: now,
      finished_at: null,
    };
    const target: Target = { name, source, pager, path, checkpoint, objects: null };
    try {
      if (checkpoint.total !== null) target.objects = checkpoint.total;
      else if (source.total?.url) target.objects = (await pager.countEndpoint()) ?? null;
      else if (source.total && !checkpoint.cursor) {
        target.first = await pager.page(null);
        target.objects = target.first.total ?? null;
      }
      if (target.objects === null && !values['no-count']) target.objects = await countByListing(pager);
    } catch (error) {
      if (error instanceof ListError) return fail(`${integration} ${name}: ${error.message}`);
      throw error;
    }
    checkpoint.total = target.objects;
    targets.push(target);
  }
  if (!targets.length) return 0;

  console.log(`${dryRun ? 'dry run: ' : ''}backfill ${integration} -> ${url} (environment ${env}, ${plan} plan)`);
  for (const t of targets) {
    const pageSize =
      t.source.pagination.type === 'offset'
        ? t.source.pagination.limit
        : t.source.pagination.type === 'page'
          ? t.source.pagination.size
          : Number(t.source.query?.limit ?? t.source.query?.per_page ?? 100) || 100;
    const remaining = t.objects === null ? null : Math.max(0, t.objects - t.checkpoint.listed);
    console.log(
      `${t.name}: ${t.source.event.type} for ${t.objects === null ? 'an unknown number of' : t.objects.toLocaleString('en-US')} objects${t.checkpoint.cursor ? `, resuming after ${t.checkpoint.listed.toLocaleString('en-US')}` : ''}`,
    );
    for (const line of projectionLines({
      objects: remaining,
      cost: costOf(build?.budget, integration, t.source.event.type),
      writesPerMinute,
      perSecond: t.source.rate_limit?.per_second ?? 5,
      pageSize,
      batch: MAX_BACKFILL_EVENTS[plan],
      plan,
    }))
      console.log(line);
  }

  if (dryRun) return dryRunAll(targets, integration);

  if (!values.yes) {
    if (!process.stdin.isTTY) {
      console.error('refusing to write without confirmation: pass --yes (no terminal to ask on)');
      return 2;
    }
    if (!(await confirm('Proceed? [y/N] '))) {
      console.log('nothing written');
      return 1;
    }
  }

  // 2. Run, source by source, page by page, checkpointing after each page the server took whole.
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(
      '\ninterrupted: finishing the page in flight, then saving the checkpoint (Ctrl-C again to quit now: that page is sent again on resume, and written once)\n',
    );
  };
  process.on('SIGINT', onSigint);
  try {
    for (const t of targets) {
      const code = await runTarget(t, {
        integration,
        url,
        token: token!,
        writesPerMinute,
        batch: MAX_BACKFILL_EVENTS[plan],
        cost: costOf(build?.budget, integration, t.source.event.type)?.d1_rows_written ?? 3,
        stopped: () => stop,
      });
      if (code !== 0) return code;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  return 0;
}

function fail(message: string): number {
  console.error(message);
  return 1;
}

async function dryRunAll(targets: Target[], integration: string): Promise<number> {
  for (const t of targets) {
    let cursor: Cursor | null = t.checkpoint.cursor;
    let page: Page | undefined = t.first;
    let shown = 0;
    let n = 0;
    let skipped = 0;
    for (;;) {
      page ??= await t.pager.page(cursor);
      for (const object of page.items) {
        if (!wanted(t.source, object)) {
          skipped++;
          continue;
        }
        const event = synthesise(t.source, object, page.fetchedAt);
        n++;
        if (shown < 3) {
          console.log(
            `would send to ${integration}: ${JSON.stringify({ body: event.body, ...(event.headers ? { headers: event.headers } : {}) }, null, 2)}`,
          );
          shown++;
        } else if (n <= 20) console.log(`would send ${event.type} ${event.id}`);
      }
      cursor = page.next;
      page = undefined;
      if (!cursor) break;
    }
    console.log(
      `${t.name}: would send ${n} ${t.source.event.type} events${skipped ? ` (${skipped} objects skipped by \`only:\`)` : ''}; nothing written`,
    );
  }
  return 0;
}

interface RunOptions {
  integration: string;
  /** Events per admin API call (the endpoint's bound for the plan). */
  batch: number;
  url: string;
  token: string;
  writesPerMinute: number;
  /** D1 rows one event writes (the budget's figure): the pace's unit. */
  cost: number;
  stopped: () => boolean;
}

interface BatchAnswer {
  counts: Record<string, number>;
  results: { id: string | null; status: string; error?: string }[];
}

/** Sends one batch, retrying a server that is briefly unavailable; the answer, or a message to stop with. */
async function sendBatch(o: RunOptions, events: SyntheticEvent[]): Promise<BatchAnswer | string> {
  for (let attempt = 1; ; attempt++) {
    let answer: BatchAnswer;
    try {
      answer = await adminCall<BatchAnswer>(o.url, o.token, `/backfill/${encodeURIComponent(o.integration)}`, {
        method: 'POST',
        body: JSON.stringify({
          events: events.map((e) => ({ body: e.body, ...(e.headers ? { headers: e.headers } : {}) })),
        }),
      });
    } catch (error) {
      if (attempt >= 5 || !(error instanceof ServerError) || /refused|no admin token|answered 4/.test(error.message))
        return (error as Error).message;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
      continue;
    }
    const rejected = answer.results.find((r) => r.status === 'rejected' || r.status === 'misconfigured');
    if (rejected)
      return `the server refused ${rejected.id ?? 'an event'}: ${rejected.error ?? rejected.status} (check the source's event template against the integration's envelope)`;
    if (!answer.results.some((r) => r.status === 'unavailable') || attempt >= 5) return answer;
    // Some could not be queued: send the batch again (what went through is deduplicated).
    await new Promise((r) => setTimeout(r, 1000 * attempt));
  }
}

async function runTarget(t: Target, o: RunOptions): Promise<number> {
  const c = t.checkpoint;
  const tty = process.stdout.isTTY;
  const started = Date.now();
  const startedListed = c.listed;
  let nextWriteAt = Date.now();
  let lastLine = 0;
  const show = (force = false) => {
    const done = c.listed;
    const rate = (done - startedListed) / Math.max(1, (Date.now() - started) / 1000);
    const eta = c.total !== null && rate > 0 ? duration(((c.total - done) / rate) * 1000) : 'unknown';
    const line = `${t.name} ${progressBar(done, c.total ?? done)} · ${
      Object.entries(c.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'starting'
    } · ${rate.toFixed(1)}/s · ETA ${eta}`;
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else if (force || Date.now() - lastLine > 5000) {
      console.log(line);
      lastLine = Date.now();
    }
  };
  let cursor: Cursor | null = c.cursor;
  let page: Page | undefined = c.cursor ? undefined : t.first;
  for (;;) {
    if (o.stopped()) break;
    try {
      page ??= await t.pager.page(cursor);
    } catch (error) {
      if (tty) process.stdout.write('\n');
      if (error instanceof ListError)
        return fail(
          `${o.integration} ${t.name}: ${error.message}\nthe checkpoint ${t.path} keeps ${c.listed} objects done: run the same command to resume`,
        );
      throw error;
    }
    const events = page.items
      .filter((obj) => wanted(t.source, obj))
      .map((obj) => synthesise(t.source, obj, page!.fetchedAt));
    for (let i = 0; i < events.length; i += o.batch) {
      const batch = events.slice(i, i + o.batch);
      // Bounded D1 writes: wait until the rows this batch writes fit under the per-minute bound.
      const wait = nextWriteAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      nextWriteAt =
        Math.max(Date.now(), nextWriteAt) +
        (Number.isFinite(o.writesPerMinute) ? ((batch.length * o.cost) / o.writesPerMinute) * 60_000 : 0);
      const answer = await sendBatch(o, batch);
      if (typeof answer === 'string') {
        if (tty) process.stdout.write('\n');
        return fail(
          `${o.integration} ${t.name}: ${answer}\nthe checkpoint ${t.path} keeps ${c.listed} objects done: run the same command to resume`,
        );
      }
      for (const [k, v] of Object.entries(answer.counts)) c.counts[k] = (c.counts[k] ?? 0) + v;
    }
    c.sent += events.length;
    c.skipped += page.items.length - events.length;
    c.listed += page.items.length;
    c.cursor = page.next;
    c.updated_at = new Date().toISOString();
    if (!page.next) c.finished_at = c.updated_at;
    writeCheckpoint(t.path, c);
    show();
    cursor = page.next;
    page = undefined;
    if (!cursor) break;
  }
  show(true);
  if (tty) process.stdout.write('\n');
  const { requests, throttled, retried } = t.pager.stats;
  if (!c.finished_at) {
    console.log(
      `${o.integration} ${t.name}: stopped after ${c.listed} objects; the checkpoint ${t.path} resumes from there`,
    );
    return 130;
  }
  console.log(
    `${o.integration} ${t.name}: ${c.sent} events sent (${Object.entries(c.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )})${c.skipped ? `, ${c.skipped} objects skipped by only:` : ''} in ${duration(Date.now() - started)}; provider: ${requests} requests, ${throttled} rate-limited, ${retried} retried`,
  );
  return 0;
}
