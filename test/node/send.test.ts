/** `send` signs for the generic hmac verifier from the manifest alone (the example Shopify integration). */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../adapters/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { CLI, ROOT } from '../support/project.ts';

describe('switchyard send with the generic hmac verifier', () => {
  it('signs the example Shopify integration so its own verifier accepts it', async () => {
    const manifest = parse(readFileSync(join(ROOT, 'examples/more-providers.yaml'), 'utf8'));
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
        res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { event: { status: 'applied' } } : { error: 'not_found' }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        seen.push(Object.fromEntries(headers));
        try {
          await shopify.verifier.verify({ method: 'POST', url: new URL(`http://localhost${req.url}`), headers, body: new Uint8Array(Buffer.concat(chunks)), now: Date.now() }, { SHOPIFY_WEBHOOK_SECRET: secret });
          accepted.add(headers.get('x-shopify-webhook-id')!);
          res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'accepted', id: headers.get('x-shopify-webhook-id') }));
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
      const child = spawn(process.execPath, [CLI, 'send', 'shopify', 'orders-paid', '--manifest', join(ROOT, 'examples/more-providers.yaml'), '--url', `http://127.0.0.1:${port}`], {
        env: { ...env, SHOPIFY_WEBHOOK_SECRET: secret },
        cwd: ROOT,
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    server.close();
    expect(run.out).toMatch(/-> 202 /);
    expect(run.code).toBe(0);
    expect(seen[0]).toMatchObject({ 'x-shopify-topic': 'orders-paid', 'x-shopify-hmac-sha256': expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) });
  });
});
