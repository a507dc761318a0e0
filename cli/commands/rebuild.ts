/**
 * `switchyard rebuild <table|integration> [--url URL] [--batch N]`: re-runs projections from the stored event log,
 * in order, page by page through the runtime's admin API (so it works against `npm run dev` and a deployed
 * environment alike), with a progress bar. Idempotent: run it again and nothing changes.
 */
import { join } from 'node:path';
import { parseArgs } from '../lib/args.ts';
import { readDevVars } from '../lib/dev-vars.ts';
import { projectFor } from '../lib/project.ts';

/** `[#########-----------] 45% 90/200` */
export function progressBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${done}/${total}`;
}

export async function rebuildCommand(args: string[]): Promise<number> {
  const { flags, positional } = parseArgs(args, ['url', 'batch']);
  const target = positional[0];
  if (!target) {
    console.error('usage: switchyard rebuild <table|integration> [--url URL] [--batch N]');
    return 2;
  }
  const url = String(flags.get('url') ?? 'http://localhost:8787').replace(/\/$/, '');
  const token = process.env.ADMIN_TOKEN ?? readDevVars(join(projectFor().root, '.dev.vars')).ADMIN_TOKEN;
  if (!token) {
    console.error('no admin token: set ADMIN_TOKEN in the environment or in .dev.vars');
    return 2;
  }
  const limit = Number(flags.get('batch') ?? 200);
  let cursor: string | null = null;
  let total = 0;
  let done = 0;
  let statements = 0;
  let skipped = 0;
  const tty = process.stdout.isTTY;
  do {
    const res = await fetch(`${url}/admin/api/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ target, cursor, limit }) });
    if (!res.ok) {
      console.error(`\nrebuild failed: ${res.status} ${await res.text()}`);
      return 1;
    }
    const page = (await res.json()) as { processed: number; statements: number; skipped: number; total: number; next_cursor: string | null };
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
