/** `send` signs for the generic hmac verifier from the manifest alone (the example Shopify integration). */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { resolveWithProviders } from '../../cli/lib/catalog.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { CLI, ROOT } from '../support/project.ts';
import { capture } from '../../cli/lib/output.ts';
import { sendCommand } from '../../cli/commands/send.ts';
import { serveRuntime } from '../support/runtime-server.ts';

describe('switchyard send with the generic hmac verifier', () => {
  it('signs the example Shopify integration so its own verifier accepts it', async () => {
    const manifest = resolveWithProviders(
      parse(readFileSync(join(ROOT, 'examples/more-providers.yaml'), 'utf8')),
      'default',
    ) as Manifest;
    const shopify = compileManifest(manifest, defaultRegistry).integrations.get('shopify')!;
    const secret = 'shpss_example_secret';
    const seen: Record<string, string>[] = [];
    const adminToken = 'send-test-admin-token';
    const accepted = new Set<string>();
    const server = createServer((req, res) => {
      // Stands in for the runtime's admin API, which send asks for the event's final status.
      const detail = /^\/admin\/api\/events\/shopify\/(.+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && detail) {
        const ok = req.headers.authorization === `Bearer ${adminToken}` && accepted.has(decodeURIComponent(detail[1]!));
        res
          .writeHead(ok ? 200 : 404, { 'content-type': 'application/json' })
          .end(JSON.stringify(ok ? { event: { status: 'applied' } } : { error: 'not_found' }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        seen.push(Object.fromEntries(headers));
        try {
          await shopify.verifier.verify(
            {
              method: 'POST',
              url: new URL(`http://localhost${req.url}`),
              headers,
              body: new Uint8Array(Buffer.concat(chunks)),
              now: Date.now(),
            },
            { SHOPIFY_WEBHOOK_SECRET: secret },
          );
          accepted.add(headers.get('x-shopify-webhook-id')!);
          res
            .writeHead(202, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: 'accepted', id: headers.get('x-shopify-webhook-id') }));
        } catch (error) {
          res.writeHead(401).end(String(error));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    // Pinned, so a developer's .dev.vars (created by npm run dev) cannot change what send does here.
    const env = { ...process.env, ADMIN_TOKEN: adminToken };
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          CLI,
          'send',
          'shopify',
          'orders-paid',
          '--manifest',
          join(ROOT, 'examples/more-providers.yaml'),
          '--url',
          `http://127.0.0.1:${port}`,
        ],
        {
          env: { ...env, SHOPIFY_WEBHOOK_SECRET: secret },
          cwd: ROOT,
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    server.close();
    expect(run.out).toMatch(/-> 202 /);
    expect(run.code).toBe(0);
    expect(seen[0]).toMatchObject({
      'x-shopify-topic': 'orders-paid',
      'x-shopify-hmac-sha256': expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
    });
  });

  it('reads the outcome from the X-Switchyard-* headers when the integration declares its answer (response:)', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'x-switchyard-status': 'duplicate',
            'x-switchyard-id': 'wh_1',
          })
          .end('{"type":5}'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          CLI,
          'send',
          'shopify',
          'orders-paid',
          '--manifest',
          join(ROOT, 'examples/more-providers.yaml'),
          '--url',
          `http://127.0.0.1:${port}`,
        ],
        {
          env: { ...process.env, ADMIN_TOKEN: '', SHOPIFY_WEBHOOK_SECRET: 'shpss_example_secret' },
          cwd: ROOT,
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    server.close();
    expect(run.out).toContain('-> 200 {"type":5}');
    expect(run.out).toContain('event shopify/wh_1: duplicate: this event id was received before; not processed again');
    expect(run.code).toBe(0);
  });
});

describe('switchyard send with a provider: and no samples/ file', () => {
  const manifest = resolveWithProviders(
    parse(readFileSync(join(ROOT, 'examples/more-providers.yaml'), 'utf8')),
    'default',
  ) as Manifest;
  const compiled = compileManifest(manifest, defaultRegistry);
  const secrets: Record<string, string> = {
    SLACK_SIGNING_SECRET: 'slack-send-secret',
    ZOOM_WEBHOOK_SECRET_TOKEN: 'zoom-send-secret',
    TWITCH_EVENTSUB_SECRET: 'twitch-send-secret',
    DROPBOX_APP_SECRET: 'dropbox-send-secret',
    META_APP_SECRET: 'meta-send-secret',
    META_VERIFY_TOKEN: 'x',
  };

  /** Runs send against a server that verifies with the integration's own compiled verifier. */
  async function send(name: string): Promise<{ code: number | null; out: string; verdicts: string[] }> {
    const integration = compiled.integrations.get(name)!;
    const verdicts: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        try {
          await integration.verifier.verify(
            {
              method: 'POST',
              url: new URL(`http://127.0.0.1${req.url}`),
              headers,
              body: new Uint8Array(Buffer.concat(chunks)),
              now: Date.now(),
            },
            secrets,
          );
          verdicts.push('accepted');
          res
            .writeHead(202, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: 'accepted', id: 'x' }));
        } catch (error) {
          verdicts.push(String(error));
          res.writeHead(401).end(String(error));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, ...secrets, ADMIN_TOKEN: '' };
      const child = spawn(
        process.execPath,
        [
          CLI,
          'send',
          name,
          '--manifest',
          join(ROOT, 'examples/more-providers.yaml'),
          '--url',
          `http://127.0.0.1:${port}`,
        ],
        { env, cwd: ROOT },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    server.close();
    return { ...result, verdicts };
  }

  it.each(['slack', 'zoom', 'twitch', 'dropbox', 'meta'])(
    'signs the catalog sample for %s so its verifier accepts it',
    async (name) => {
      const run = await send(name);
      expect(run.verdicts).toEqual(['accepted']);
      expect(run.out).toMatch(/-> 202 /);
      expect(run.code).toBe(0);
    },
  );

  it('says why it cannot sign for a provider that signs with its private key', async () => {
    const run = await send('discord');
    expect(run.code).toBe(1);
    expect(run.verdicts).toEqual([]);
    expect(run.out).toContain("ed25519 requests are signed with the provider's private key");
  });
});

describe('switchyard send prints what the runtime recorded', () => {
  /** Sends to a server that accepts the delivery (202) and answers the admin API's event detail with `detail`. */
  async function sendTo(
    detail: (id: string) => [number, unknown],
    extra: string[] = [],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const asked = /^\/admin\/api\/events\/shopify\/(.+)$/.exec(req.url ?? '');
        const [status, body] = asked
          ? detail(decodeURIComponent(asked[1]!))
          : [202, { status: 'accepted', id: req.headers['x-shopify-webhook-id'] }];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const args = [
      CLI,
      'send',
      'shopify',
      'orders-paid',
      '--manifest',
      join(ROOT, 'examples/more-providers.yaml'),
      '--url',
      `http://127.0.0.1:${port}`,
      ...extra,
    ];
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, {
        env: { ...process.env, ADMIN_TOKEN: 'send-status-token', SHOPIFY_WEBHOOK_SECRET: 'shpss_example_secret' },
        cwd: ROOT,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    server.close();
    return run;
  }
  const detail = (status: string) => ({
    event: { status, attempts: 0, max_attempts: 5, error: null, next_at: null },
    effects: [],
  });

  it('an event still queued when the wait runs out is said to be still queued, not processed, never given as its final status', async () => {
    const run = await sendTo(() => [200, detail('queued')], ['--wait', '1']);
    expect(run.stdout).toMatch(/-> 202 /);
    expect(run.stdout).not.toMatch(/event shopify\/\S+: queued/);
    expect(run.stderr).toMatch(/event shopify\/\S+: still queued after 1 s: recorded, not processed yet/);
    expect(run.code).toBe(1);
  });

  it('an event the log does not have is said to be not recorded', async () => {
    const run = await sendTo((id) => [404, { error: 'not_found', message: `no event shopify/${id}` }], ['--wait', '1']);
    expect(run.stderr).toMatch(
      /event shopify\/\S+: not recorded: the event log has no such event after 1 s \(the server answered accepted;/,
    );
    expect(run.code).toBe(1);
  });

  it('polls until the event is settled, and prints the status it settled in', async () => {
    let asked = 0;
    const run = await sendTo(() => [200, detail(++asked < 3 ? 'queued' : 'applied')]);
    expect(run.stdout).toMatch(/event shopify\/\S+: applied\n/);
    expect(asked).toBe(3);
    expect(run.code).toBe(0);
  });
});

describe('switchyard send names an effect as the console does', () => {
  it('prints the step as the manifest names it and its action, not the row key (clerk.handlers[…].steps[…] resend, not 1:0)', async () => {
    const server = await serveRuntime(join(ROOT, 'integrations.yaml'));
    try {
      const { output, text } = capture();
      // The secrets the runtime was served with (.dev.vars.example): a fresh clone has no .dev.vars to sign from.
      const vars = readFileSync(join(ROOT, '.dev.vars.example'), 'utf8');
      const secret = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(vars)![1]!;
      const code = await sendCommand(['clerk', 'user.created', '--url', server.url], output, {
        ADMIN_TOKEN: secret('ADMIN_TOKEN'),
        CLERK_WEBHOOK_SECRET: secret('CLERK_WEBHOOK_SECRET'),
      });
      expect(text().stdout).toMatch(/^ {2}effect clerk\.handlers\[\d+\]\.steps\[\d+\] resend: sent$/m);
      expect(code).toBe(0);
    } finally {
      await server.close();
    }
  });
});
