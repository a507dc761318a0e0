/**
 * `switchyard replay [--list] [--seq 1,2] [--integration NAME] [--all] [--url URL]`: lists or replays dead letters;
 * `switchyard replay --events [--integration NAME] [--status retrying] [--type T] [--since ISO] [--until ISO]` replays
 * events by query
 * through the runtime's admin API, so it works the same against `npm run dev` (local D1 and queues, the default
 * URL) and a deployed environment (`--url https://…`). The token is ADMIN_TOKEN from the environment, else .dev.vars.
 */
import { join } from 'node:path';
import { parseArgs } from '../lib/args.ts';
import { readDevVars } from '../lib/dev-vars.ts';
import { projectFor } from '../lib/project.ts';

interface DeadLetter {
  seq: number;
  integration: string;
  stage: string;
  event_id: string;
  reason: string;
  attempts: number;
  last_failed_at: string;
}

export async function replayCommand(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, ['seq', 'integration', 'url', 'status', 'type', 'since', 'until']);
  const url = String(flags.get('url') ?? 'http://localhost:8787').replace(/\/$/, '');
  const token = process.env.ADMIN_TOKEN ?? readDevVars(join(projectFor().root, '.dev.vars')).ADMIN_TOKEN;
  if (!token) {
    console.error('no admin token: set ADMIN_TOKEN in the environment or in .dev.vars');
    return 2;
  }
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}/admin/api${path}`, { ...init, headers });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${res.status} ${String(body.message ?? res.statusText)}`);
    return body;
  };

  try {
    if (flags.has('list')) {
      const integration = flags.get('integration');
      const { dead_letters } = (await call(`/dead-letters${typeof integration === 'string' ? `?integration=${encodeURIComponent(integration)}` : ''}`)) as { dead_letters: DeadLetter[] };
      if (!dead_letters.length) console.log('no dead letters waiting for replay');
      for (const d of dead_letters) console.log(`#${d.seq}  ${d.integration}  ${d.stage}  ${d.event_id}  ${d.reason}  attempts=${d.attempts}  ${d.last_failed_at}`);
      return 0;
    }
    if (flags.has('events')) {
      // By event query: events not yet applied, from their stored bodies.
      const query = Object.fromEntries(['integration', 'status', 'type', 'since', 'until'].flatMap((k) => (typeof flags.get(k) === 'string' ? [[k, flags.get(k)]] : [])));
      const result = (await call('/events/replay', { method: 'POST', body: JSON.stringify(query) })) as { replayed: { integration: string; event_id: string }[]; skipped: { reason: string }[] };
      for (const r of result.replayed) console.log(`replayed ${r.integration} ${r.event_id}`);
      for (const s of result.skipped) console.error(`skipped ${s.reason}`);
      console.log(`${result.replayed.length} replayed, ${result.skipped.length} skipped`);
      return result.skipped.length ? 1 : 0;
    }
    const seq = flags.get('seq');
    const integration = flags.get('integration');
    const selection =
      typeof seq === 'string' ? { seq: seq.split(',').map(Number) }
      : typeof integration === 'string' ? { integration }
      : flags.has('all') ? { all: true }
      : undefined;
    if (!selection) {
      console.error('choose what to replay: --seq 1,2 | --integration NAME | --all (or --list to see them)');
      return 2;
    }
    const result = (await call('/dead-letters/replay', { method: 'POST', body: JSON.stringify(selection) })) as {
      replayed: { seq: number; integration: string; event_id: string }[];
      skipped: { seq: number; integration: string; reason: string }[];
    };
    for (const r of result.replayed) console.log(`replayed #${r.seq} ${r.integration} ${r.event_id}`);
    for (const s of result.skipped) console.error(`skipped #${s.seq} ${s.integration}: ${s.reason}`);
    console.log(`${result.replayed.length} replayed, ${result.skipped.length} skipped`);
    return result.skipped.length ? 1 : 0;
  } catch (error) {
    console.error(`replay failed against ${url}: ${(error as Error).message}`);
    return 1;
  }
}
