/**
 * `switchyard rebuild <table|integration> [--url URL] [--batch N] [--env NAME]`: re-runs projections from the stored
 * event log, in order, page by page through the runtime's admin API (so it works against `npm run dev` and a
 * deployed environment alike), with a progress bar. Idempotent: run it again and nothing changes.
 */
import { closest } from '../../runtime/language/closest.ts';
import { parseManifest } from '../../runtime/manifest/load.ts';
import { resolveWithProviders } from '../lib/catalog.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, parseCommand, URL_FLAG } from '../lib/command.ts';
import { type Project, projectFor, readText } from '../lib/project.ts';
import { adminCall, adminTarget } from '../lib/server.ts';

/** `[#########-----------] 45% 90/200` */
export function progressBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${done}/${total}`;
}

/** What can be rebuilt: the manifest's integrations and the tables its SQL steps write (undefined if it does not load). */
export function rebuildTargets(
  project: Project,
  env: string,
): { integrations: string[]; tables: string[] } | undefined {
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  if (parsed.problems.length) return undefined;
  const manifest = resolveWithProviders(parsed.value, env) as Manifest;
  const tables = new Set<string>();
  for (const integration of Object.values(manifest.integrations ?? {})) {
    for (const handler of integration.handlers ?? []) {
      for (const step of handler.steps) {
        if ('sql' in step)
          for (const m of step.sql.matchAll(/\b(?:INTO|UPDATE)\s+(?!SET\b)["`]?([A-Za-z_][A-Za-z0-9_]*)/gi))
            tables.add(m[1]!);
      }
    }
  }
  return { integrations: Object.keys(manifest.integrations ?? {}).sort(), tables: [...tables].sort() };
}

export const rebuildSpec = defineCommand({
  name: 'rebuild',
  summary: 're-run projections from the event log',
  description: `Re-runs the projections (the SQL steps) of the events already in the log, in order, page by page
through the runtime's admin API, with a progress bar: for one table (every handler that writes it) or one
integration. It re-runs only SQL: it never sends an email or calls an API again, and running it twice changes
nothing. Run it after deploying a changed projection (switchyard plan says which table).`,
  arguments: [{ name: '<table|integration>', description: 'a table the manifest writes, or an integration' }],
  flags: {
    url: URL_FLAG,
    batch: { type: 'string', value: 'N', default: '200', description: 'events per admin API call' },
    env: {
      ...ENV_FLAG,
      description: "the manifest's environment whose tables and integrations the target is checked against",
    },
  },
  examples: [
    { command: 'switchyard rebuild subscriptions', does: 're-project every event that writes the subscriptions table' },
  ],
});

export async function rebuildCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(rebuildSpec, args);
  const [target, extra] = positionals;
  if (!target) throw new UsageError('name the table or integration to rebuild');
  if (extra) throw new UsageError(`unexpected argument ${extra}`);
  const limit = Number(values.batch);
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new UsageError(`--batch takes a positive whole number, not ${values.batch}`);
  const project = projectFor();
  const known = rebuildTargets(project, values.env);
  if (known && !known.integrations.includes(target) && !known.tables.includes(target)) {
    const guess = closest(target, [...known.tables, ...known.integrations]);
    console.error(
      `${target} is neither a table the manifest writes nor an integration${guess ? ` (did you mean ${guess}?)` : ''}\n  tables: ${known.tables.join(', ')}\n  integrations: ${known.integrations.join(', ')}`,
    );
    return 1;
  }
  const server = adminTarget(project, values.url);
  if (!server) return 2;
  const { url, token } = server;
  let cursor: string | null = null;
  let total = 0;
  let done = 0;
  let statements = 0;
  let skipped = 0;
  const tty = process.stdout.isTTY;
  do {
    const page: { processed: number; statements: number; skipped: number; total: number; next_cursor: string | null } =
      await adminCall(url, token, '/rebuild', {
        method: 'POST',
        body: JSON.stringify({ target, cursor, limit }),
      });
    if (page.total >= 0) total = page.total;
    done += page.processed;
    statements += page.statements;
    skipped += page.skipped;
    cursor = page.next_cursor;
    const bar = progressBar(done, total);
    if (tty) process.stdout.write(`\r${bar}`);
    else console.log(bar);
  } while (cursor);
  if (tty) process.stdout.write('\n');
  console.log(`rebuilt ${target}: ${done} events, ${statements} statements${skipped ? `, ${skipped} skipped` : ''}`);
  return 0;
}
