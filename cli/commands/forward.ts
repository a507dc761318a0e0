/**
 * `switchyard forward --to http://localhost:3000/webhooks`: forwards the events a running switchyard records (`npm run
 * dev`, or `--url`) to an app on this machine, like `stripe listen --forward-to`. It polls the runtime's admin API for
 * events received since it started and posts each one's raw body, signed with Standard Webhooks and with the headers
 * a `forward` action sends, so the app's receiver is the one it runs in production. Nothing changes in the runtime:
 * stop it and the events are still in the log.
 */
import { join } from 'node:path';
import { UsageError } from '../lib/args.ts';
import { defineCommand, parseCommand, URL_FLAG } from '../lib/command.ts';
import { readDevVars } from '../lib/dev-vars.ts';
import { projectFor } from '../lib/project.ts';
import { adminCall, adminTarget } from '../lib/server.ts';
import { forwardHeaders } from '../../adapters/actions/forward.ts';
import { parseDuration } from '../../runtime/lib/duration.ts';
import { toBase64 } from '../../runtime/lib/bytes.ts';

export const forwardSpec = defineCommand({
  name: 'forward',
  summary: 'forward live events from a running switchyard to an app on this machine',
  description: `Forwards every event the switchyard at --url records from now on (npm run dev by default) to --to, as a
forward action would: the provider's raw body, signed with Standard Webhooks (webhook-id, webhook-timestamp,
webhook-signature) and the switchyard-* headers (docs/forward.md). Run your app's receiver as in production.

The secret is the variable --secret names (from the environment, else .dev.vars); when it is not set, a fresh
whsec_ secret is made and printed for your app. It reads events through the admin API with ADMIN_TOKEN, polling
every --interval; each event is forwarded once per run (the webhook-id is the same every run, so your receiver
deduplicates a second run's).`,
  flags: {
    to: {
      type: 'string',
      value: 'URL',
      required: true,
      description: 'where to post each event, e.g. http://localhost:3000/webhooks',
    },
    integration: { type: 'string', value: 'NAME', description: "only this integration's events" },
    secret: {
      type: 'string',
      value: 'NAME',
      default: 'SWITCHYARD_FORWARD_SECRET',
      description: 'the variable holding the whsec_ secret to sign with',
    },
    since: {
      type: 'string',
      value: 'ISO',
      description: 'forward events received at or after this time too',
      defaultText: 'now',
    },
    interval: { type: 'string', value: 'DURATION', default: '1s', description: 'how often to look for new events' },
    once: { type: 'boolean', description: 'forward what has arrived since --since, then exit (for scripts)' },
    url: URL_FLAG,
  },
  examples: [
    {
      command: 'switchyard forward --to http://localhost:3000/webhooks/stripe --integration stripe',
      does: "post Stripe's events from npm run dev to the app on port 3000, signed",
    },
    {
      command: 'switchyard forward --to http://localhost:8000/hooks --since 2026-01-01T00:00:00Z --once',
      does: 'forward every event since New Year once, and exit',
    },
  ],
});

interface Listed {
  seq: number;
  integration: string;
  id: string;
  type: string;
  occurred_at: string | null;
}

export async function forwardCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(forwardSpec, args);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const to = URL.parse(values.to);
  if (!to || !/^https?:$/.test(to.protocol)) throw new UsageError(`--to ${values.to} is not an http(s) URL`);
  const since = values.since ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(since))) throw new UsageError(`--since ${since} is not a time (ISO 8601)`);
  const interval = parseDuration(values.interval);
  const project = projectFor();
  const target = adminTarget(project, values.url);
  if (!target) return 2;
  const { url, token } = target;
  let secret = process.env[values.secret] || readDevVars(join(project.root, '.dev.vars'))[values.secret];
  if (!secret) {
    secret = `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
    console.log(`${values.secret} is not set: signing with ${secret} (give it to your app)`);
  }
  const call = <T>(path: string) => adminCall<T>(url, token, path);
  const done = new Set<string>();
  let failed = 0;
  console.log(
    `forwarding events from ${url} to ${to.href}${values.integration ? ` (${values.integration} only)` : ''}`,
  );
  for (;;) {
    const query = new URLSearchParams({
      since,
      limit: '200',
      ...(values.integration ? { integration: values.integration } : {}),
    });
    const { events } = await call<{ events: Listed[] }>(`/events?${query}`);
    for (const e of events.filter((e) => !done.has(`${e.integration}\u0000${e.id}`)).sort((a, b) => a.seq - b.seq)) {
      done.add(`${e.integration}\u0000${e.id}`);
      const { event } = await call<{ event: { body: string | null; origin: string | null } }>(
        `/events/${encodeURIComponent(e.integration)}/${encodeURIComponent(e.id)}?raw=1`,
      );
      if (event.body === null) {
        console.error(`${e.integration} ${e.id}: its body is no longer stored, not forwarded`);
        continue;
      }
      const headers = await forwardHeaders(secret, {
        key: `${e.integration}:${e.id}:forward`,
        body: event.body,
        event: e,
        attempt: 1,
        origin: event.origin ?? 'webhook',
        envelope: false,
        now: Date.now(),
      });
      const started = Date.now();
      try {
        const res = await fetch(to, { method: 'POST', headers, body: event.body });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) failed++;
        console.log(`${e.integration} ${e.type} ${e.id} -> ${res.status} (${Date.now() - started} ms)`);
      } catch (error) {
        failed++;
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
        console.error(`${e.integration} ${e.type} ${e.id} -> not delivered (${cause})`);
      }
    }
    if (values.once) return failed ? 1 : 0;
    await new Promise((r) => setTimeout(r, interval));
  }
}
