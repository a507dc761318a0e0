/**
 * docs/forward.md's Node receiver, run as written against a real forward: the runtime serving examples/forward.yaml
 * (the offline target) takes a Stripe event and forwards it; the receiver verifies it with `standardwebhooks` and
 * processes it once, though Stripe delivers it twice. And a receiver on a real socket that records the request and
 * then destroys the connection gets the retry under the same webhook-id. And `switchyard forward --to` posts what a
 * running switchyard recorded to the same receiver on this machine, which verifies it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { serveRuntime } from '../support/runtime-server.ts';
import { forwardCommand } from '../../cli/commands/forward.ts';
import { stripeSignature } from '../support/sign.ts';

const ROOT = join(import.meta.dirname, '../..');
const devVars = Object.fromEntries(
  readFileSync(join(ROOT, '.dev.vars.example'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const scratch = join(ROOT, 'node_modules/.cache');
mkdirSync(scratch, { recursive: true });
const dir = mkdtempSync(join(scratch, 'forward-receiver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The receiver block of docs/forward.md, as a module. */
function receiverSource(): string {
  const doc = readFileSync(join(ROOT, 'docs/forward.md'), 'utf8');
  const block = /<!-- forward-receiver:node -->\n```ts\n([\s\S]*?)```\n<!-- \/forward-receiver:node -->/.exec(doc);
  if (!block) throw new Error('docs/forward.md has no Node receiver block');
  return block[1]!;
}

async function stripe(
  url: string,
  id: string,
  now: number,
  object: Record<string, unknown> = { id: 'in_1', customer: 'cus_1' },
) {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'invoice.paid',
    created: Math.floor(now / 1000),
    data: { object },
  });
  const signature = await stripeSignature(devVars.STRIPE_WEBHOOK_SECRET!, body, Math.floor(now / 1000));
  return fetch(`${url}/webhooks/stripe`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
  });
}

describe("docs/forward.md's Node receiver against a real forward", () => {
  it('verifies the forward with standardwebhooks and processes the event once, though Stripe sent it twice', async () => {
    process.env.APP_FORWARD_SECRET = devVars.APP_FORWARD_SECRET;
    const file = join(dir, 'receiver.ts');
    writeFileSync(file, receiverSource());
    const { app } = (await import(file)) as { app: { fetch(request: Request): Promise<Response> } };
    const logged = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const answers: number[] = [];
    const runtime = await serveRuntime(join(ROOT, 'examples/forward.yaml'), {
      fetch: async (input, init) => {
        const request = new Request(input as RequestInfo, init);
        if (new URL(request.url).host !== 'app.example.com') return new Response('ok');
        const res = await app.fetch(request);
        answers.push(res.status);
        return res;
      },
    });
    try {
      const now = Date.now();
      expect((await stripe(runtime.url, 'evt_fwd_1', now)).status).toBe(200);
      expect((await stripe(runtime.url, 'evt_fwd_1', now)).status).toBe(200);
      expect(answers).toEqual([200]);
      expect(logged.mock.calls.filter((c) => c[0] === 'stripe event')).toEqual([
        ['stripe event', 'invoice.paid', 'evt_fwd_1'],
      ]);
      const [effect] = await runtime.query<{ status: string }>(
        "SELECT status FROM effects WHERE event_id = 'evt_fwd_1' AND action = 'forward' ORDER BY step",
      );
      expect(effect?.status).toBe('sent');
    } finally {
      logged.mockRestore();
      await runtime.close();
    }
  });

  it('switchyard forward --to: the events a running switchyard recorded, posted to the receiver on this machine, verified', async () => {
    process.env.APP_FORWARD_SECRET = devVars.APP_FORWARD_SECRET;
    const file = join(dir, 'receiver-cli.ts');
    writeFileSync(file, receiverSource());
    const { app } = (await import(file)) as { app: { fetch(request: Request): Promise<Response> } };
    const logged = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)] as [string, string]));
        const answer = await app.fetch(
          new Request(`http://127.0.0.1${req.url}`, { method: req.method!, headers, body: Buffer.concat(chunks) }),
        );
        res.writeHead(answer.status).end(await answer.text());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const runtime = await serveRuntime(join(ROOT, 'examples/forward.yaml'));
    const saved = {
      ADMIN_TOKEN: process.env.ADMIN_TOKEN,
      SWITCHYARD_FORWARD_SECRET: process.env.SWITCHYARD_FORWARD_SECRET,
    };
    process.env.ADMIN_TOKEN = devVars.ADMIN_TOKEN;
    process.env.SWITCHYARD_FORWARD_SECRET = devVars.APP_FORWARD_SECRET;
    try {
      const since = new Date(Date.now() - 1000).toISOString();
      expect((await stripe(runtime.url, 'evt_cli_1', Date.now())).status).toBe(200);
      const code = await forwardCommand([
        '--to',
        `http://127.0.0.1:${port}/webhooks/stripe`,
        '--url',
        runtime.url,
        '--since',
        since,
        '--integration',
        'stripe',
        '--once',
      ]);
      expect(code).toBe(0);
      expect(logged.mock.calls.filter((c) => c[0] === 'stripe event')).toEqual([
        ['stripe event', 'invoice.paid', 'evt_cli_1'],
      ]);
      expect(
        logged.mock.calls.some((c) => /^stripe invoice\.paid evt_cli_1 -> 200 \(\d+ ms\)$/.test(String(c[0]))),
      ).toBe(true);
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      logged.mockRestore();
      await runtime.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a receiver that records the request and destroys the socket gets it again, under the same webhook-id', async () => {
    const seen: { id: string; attempt: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ id: String(req.headers['webhook-id']), attempt: String(req.headers['switchyard-attempt']) });
        if (seen.length === 1) return req.socket.destroy();
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const clock = { now: Date.now() };
    const runtime = await serveRuntime(join(ROOT, 'examples/forward.yaml'), {
      now: () => clock.now,
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.host !== 'app.example.com') return Promise.resolve(new Response('ok'));
        return fetch(`http://127.0.0.1:${port}${url.pathname}`, init);
      },
    });
    try {
      expect((await stripe(runtime.url, 'evt_fwd_drop', clock.now)).status).toBe(200);
      expect(seen).toHaveLength(1);
      const [retrying] = await runtime.query<{ status: string }>(
        "SELECT status FROM effects WHERE event_id = 'evt_fwd_drop' AND action = 'forward'",
      );
      expect(retrying?.status).toBe('retrying');
      clock.now += 2 * 60_000;
      await runtime.scheduled();
      expect(seen).toHaveLength(2);
      expect(seen[1]!.id).toBe(seen[0]!.id);
      expect(seen.map((s) => s.attempt)).toEqual(['1', '2']);
      const [sent] = await runtime.query<{ status: string }>(
        "SELECT status FROM effects WHERE event_id = 'evt_fwd_drop' AND action = 'forward'",
      );
      expect(sent?.status).toBe('sent');
    } finally {
      await runtime.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
