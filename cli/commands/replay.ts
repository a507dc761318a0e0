/**
 * `switchyard replay [--list [--json]] [--seq 1,2] [--integration NAME] [--all] [--url URL]`: lists or replays dead
 * letters; `switchyard replay --events [--integration NAME] [--status retrying] [--type T] [--since ISO] [--until ISO]`
 * replays events by query through the runtime's admin API, so it works the same against `npm run dev` (local D1
 * and queues) and a deployed environment (`--url https://…` or SWITCHYARD_URL). The token is ADMIN_TOKEN from the
 * environment, else .dev.vars. `--events --status skipped` lists skipped events with the condition that skipped each
 * step (they are settled: their conditions decided, so they are never replayed).
 */
import { parseIntegerList, UsageError } from '../lib/args.ts';
import { defineCommand, parseCommand, URL_FLAG } from '../lib/command.ts';
import { projectFor } from '../lib/project.ts';
import { adminCall, adminTarget } from '../lib/server.ts';
import { EventStatus } from '../../runtime/store/status.ts';

interface DeadLetter {
  seq: number;
  integration: string;
  stage: string;
  event_id: string;
  reason: string;
  error?: string | null;
  attempts: number;
  last_failed_at: string;
}

const eventsOnly = ['events'] as const;

export const replaySpec = defineCommand({
  name: 'replay',
  summary: 'list or replay dead letters, or replay events by query',
  description: `Lists the open dead letters (--list), or replays them: by number (--seq), every one of an integration
(--integration), or all (--all). A letter is queued again as it was; its event goes through the same pipeline, once.

With --events it replays events that were not applied, selected by query (--integration, --status, --type, --since,
--until), from their stored bodies. --events --status skipped lists skipped events with the condition that skipped
each step instead: they are settled (their conditions decided), so they are never replayed.

It talks to the runtime's admin API with ADMIN_TOKEN (from the environment, else .dev.vars), so it works the same
against npm run dev and a deployed environment.`,
  flags: {
    list: {
      type: 'boolean',
      description:
        'list the open dead letters (number, integration, stage, event, reason, attempts, time, and the error)',
    },
    json: { type: 'boolean', requires: ['list'], description: 'print the list as JSON' },
    seq: { type: 'string', value: '1,2', description: 'replay these dead letters, by number' },
    integration: {
      type: 'string',
      value: 'NAME',
      description: "replay (or list) this integration's dead letters; with --events, its events",
    },
    all: { type: 'boolean', description: 'replay every open dead letter' },
    events: { type: 'boolean', description: 'replay events by query instead of dead letters' },
    status: {
      type: 'string',
      value: 'STATUS',
      requires: eventsOnly,
      description: 'events with this status (queued, retrying, dead_lettered, replayed; skipped lists them instead)',
    },
    type: { type: 'string', value: 'TYPE', requires: eventsOnly, description: 'events of this type' },
    since: { type: 'string', value: 'ISO', requires: eventsOnly, description: 'events received at or after this time' },
    until: { type: 'string', value: 'ISO', requires: eventsOnly, description: 'events received before this time' },
    url: URL_FLAG,
  },
  exclusive: [['list', 'events', 'seq', 'all']],
  examples: [
    { command: 'switchyard replay --list', does: 'the dead letters waiting, with why each failed' },
    { command: 'switchyard replay --seq 3,4', does: 'replay dead letters #3 and #4' },
    {
      command: 'switchyard replay --events --integration stripe --status retrying',
      does: "replay Stripe's events that are still retrying, now",
    },
  ],
});

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(replaySpec, args);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const seqs = values.seq === undefined ? undefined : parseIntegerList('seq', values.seq);
  const project = projectFor();
  const target = adminTarget(project, values.url);
  if (!target) return 2;
  const { url, token } = target;
  const call = <T>(path: string, init?: RequestInit) => adminCall<T>(url, token, path, init);

  if (values.list) {
    const query = values.integration ? `?integration=${encodeURIComponent(values.integration)}` : '';
    const { dead_letters } = await call<{ dead_letters: DeadLetter[] }>(`/dead-letters${query}`);
    if (values.json) console.log(JSON.stringify(dead_letters, null, 2));
    else if (!dead_letters.length) console.log('no dead letters waiting for replay');
    for (const d of values.json ? [] : dead_letters) {
      console.log(
        `#${d.seq}  ${d.integration}  ${d.stage}  ${d.event_id}  ${d.reason}  attempts=${d.attempts}  ${d.last_failed_at}`,
      );
      // The error is what says why (the reason is its kind): each of its lines, indented under the letter.
      if (d.error) console.log(d.error.trim().replace(/^/gm, '    '));
    }
    return 0;
  }
  if (values.events && values.status === EventStatus.skipped) return listSkipped(call, values);
  if (values.events) {
    // By event query: events not yet applied, from their stored bodies.
    const query = Object.fromEntries(
      (['integration', 'status', 'type', 'since', 'until'] as const).flatMap((k) =>
        values[k] !== undefined ? [[k, values[k]]] : [],
      ),
    );
    const result = await call<{ replayed: { integration: string; event_id: string }[]; skipped: { reason: string }[] }>(
      '/events/replay',
      { method: 'POST', body: JSON.stringify(query) },
    );
    for (const r of result.replayed) console.log(`replayed ${r.integration} ${r.event_id}`);
    for (const s of result.skipped) console.error(`skipped ${s.reason}`);
    console.log(`${result.replayed.length} replayed, ${result.skipped.length} skipped`);
    if (!result.replayed.length && !result.skipped.length) console.error('no event matched the query');
    return result.skipped.length || !result.replayed.length ? 1 : 0;
  }
  const selection = seqs
    ? { seq: seqs }
    : values.integration
      ? { integration: values.integration }
      : values.all
        ? { all: true }
        : undefined;
  if (!selection)
    throw new UsageError('choose what to replay: --seq 1,2 | --integration NAME | --all (or --list to see them)');
  const result = await call<{
    replayed: { seq: number; integration: string; event_id: string }[];
    skipped: { seq: number; integration: string; reason: string }[];
  }>('/dead-letters/replay', {
    method: 'POST',
    body: JSON.stringify(selection),
  });
  for (const r of result.replayed) console.log(`replayed #${r.seq} ${r.integration} ${r.event_id}`);
  for (const s of result.skipped) console.error(`skipped #${s.seq} ${s.integration}: ${s.reason}`);
  const seen = new Set([...result.replayed, ...result.skipped].map((r) => r.seq));
  const unmatched = (seqs ?? []).filter((s) => !seen.has(s));
  if (unmatched.length)
    console.error(`no dead letter ${unmatched.map((s) => `#${s}`).join(', ')} (see switchyard replay --list)`);
  console.log(`${result.replayed.length} replayed, ${result.skipped.length} skipped`);
  if (!seen.size && !seqs)
    console.error(`no dead letters ${values.integration ? `for ${values.integration} ` : ''}to replay`);
  return result.skipped.length || unmatched.length || (!seen.size && !values.all) ? 1 : 0;
}

/** Up to this many skipped events are listed, newest first (each one's steps is one more read). */
const SKIPPED_LISTED = 25;

/** Skipped events, each with its steps and the condition that skipped each; they are settled, so nothing is replayed. */
async function listSkipped(
  call: <T>(path: string, init?: RequestInit) => Promise<T>,
  values: Partial<Record<'integration' | 'type' | 'since' | 'until', string>>,
): Promise<number> {
  const query = new URLSearchParams({ status: EventStatus.skipped, limit: String(SKIPPED_LISTED) });
  for (const k of ['integration', 'type', 'since', 'until'] as const)
    if (values[k] !== undefined) query.set(k, values[k]!);
  const { events } = await call<{ events: { integration: string; id: string; type: string; received_at: string }[] }>(
    `/events?${query}`,
  );
  for (const e of events) {
    const { steps } = await call<{ steps: { kind: string; skipped?: string }[] }>(
      `/events/${encodeURIComponent(e.integration)}/${encodeURIComponent(e.id)}`,
    );
    console.log(`${e.integration}  ${e.id}  ${e.type}  ${e.received_at}`);
    steps.forEach((s, i) =>
      console.log(`  step ${i} ${s.kind}: ${s.skipped !== undefined ? `skipped by ${s.skipped}` : 'ran'}`),
    );
  }
  console.error(
    events.length
      ? `${events.length} skipped event${events.length === 1 ? '' : 's'}${events.length === SKIPPED_LISTED ? ' (the newest)' : ''}: settled, never replayed (their conditions decided); change the manifest, then rebuild`
      : 'no skipped event matched the query',
  );
  return 1;
}
