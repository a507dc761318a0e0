/**
 * A skipped event in `switchyard replay`: settled, so never replayed, and the output says which condition skipped each
 * of its steps. Against the real runtime served in this process (test/support/runtime-server.ts) with a manifest whose
 * Stripe checkouts run only in payment mode; the CLI spawned as a user runs it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultManifest } from '../../bench/fixtures.ts';
import { cliAsync, defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';
import { serveRuntime, type RuntimeServer } from '../support/runtime-server.ts';
import { stripeSignature } from '../support/sign.ts';

const HANDLER = [
  '      - on: test.checkout.completed',
  '        if: { path: data.object.mode, eq: payment }',
  '        steps:',
  "          - sql: INSERT INTO orders (id, status) VALUES (:id, 'paid')",
  '            params: { id: data.object.id }',
  '',
].join('\n');
let server: RuntimeServer;
let vars: Record<string, string>;
const n = defaultManifest().integrations.stripe!.handlers!.length;

beforeAll(async () => {
  const manifest = projectWith(
    replaceOnce(
      defaultManifestText(),
      '\n  clerk:\n    provider: clerk\n',
      `\n${HANDLER}\n  clerk:\n    provider: clerk\n`,
    ),
  );
  vars = Object.fromEntries(
    readFileSync(join(dirname(manifest), '.dev.vars.example'), 'utf8')
      .split('\n')
      .flatMap((l) => (/^\w+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])),
  );
  server = await serveRuntime(manifest);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const send = async (id: string, mode: string) => {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'test.checkout.completed',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `ord_${id}`, mode } },
  });
  const res = await fetch(`${server.url}/webhooks/stripe`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(vars.STRIPE_WEBHOOK_SECRET!, body),
    },
  });
  return ((await res.json()) as { status: string }).status;
};

describe('switchyard replay and skipped events', () => {
  it('replay --events --status skipped lists each skipped event with the condition that skipped each step, and replays nothing', async () => {
    const id = `evt_skip_${Date.now()}`;
    expect(await send(id, 'subscription')).toBe('skipped');
    const run = await cliAsync(
      ['replay', '--events', '--status', 'skipped', '--integration', 'stripe', '--url', server.url],
      { env: { ADMIN_TOKEN: vars.ADMIN_TOKEN!, SWITCHYARD_URL: undefined } },
    );
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith(`stripe  ${id}  test.checkout.completed`));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toBe(
      `  step 0 sql: skipped by integrations.stripe.handlers[${n}].if: data.object.mode eq payment`,
    );
    expect(run.stderr).toMatch(/skipped events?: settled, never replayed \(their conditions decided\)/);
    expect(await server.query('SELECT status FROM events WHERE id = ?', id)).toEqual([{ status: 'skipped' }]);
  });

  it("replaying one skipped event by its id (the dashboard's Replay) says which condition decided", async () => {
    const id = `evt_skip_one_${Date.now()}`;
    expect(await send(id, 'setup')).toBe('skipped');
    const res = await fetch(`${server.url}/admin/api/events/replay`, {
      method: 'POST',
      body: JSON.stringify({ integration: 'stripe', id }),
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(await res.json()).toEqual({
      replayed: [],
      skipped: [
        {
          seq: 0,
          integration: 'stripe',
          reason: `${id} is skipped (integrations.stripe.handlers[${n}].if: data.object.mode eq payment): its conditions decided, and a settled event is deduplicated (change the manifest, then rebuild)`,
        },
      ],
    });
  });
});
