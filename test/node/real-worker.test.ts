/** The real Worker under `wrangler dev`: the only place workerd's ban on code generation (Ajv, eval) would show. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/project.ts';
import { stripeSignature } from '../support/sign.ts';
import { TEST_SECRETS } from '../support/secrets.ts';
import { startDevWorker, type DevWorker } from '../support/wrangler-dev.ts';
import { LOG_ERRORS_VAR } from '../../runtime/lib/telemetry.ts';
import { devAuthVars, generateDevAuthKey, mintDevToken, type DevAuthKey } from '../../cli/lib/dev-auth.ts';

let worker: DevWorker;
let devKey: DevAuthKey;

/** Polls until the probe returns something (the local queue delivers within its batch timeout). */
async function eventually<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms:\n${worker.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
beforeAll(async () => {
  devKey = await generateDevAuthKey();
  // What `switchyard dev` passes: the dev issuer, and error log lines on stdout.
  worker = await startDevWorker({ vars: { ...devAuthVars(devKey), [LOG_ERRORS_VAR]: 'stdout' } });
});
afterAll(async () => {
  await worker?.stop();
});

describe('the real Worker started by wrangler dev', () => {
  it('serves /healthz as JSON', async () => {
    const res = await fetch(`${worker.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      environment: 'default',
      manifest: { version: 2, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it('takes a signed Stripe event through the real queue and consumer into D1, and deduplicates the redelivery', async () => {
    const id = `evt_real_${Date.now()}`;
    const sub = `sub_real_${Date.now()}`;
    const body = JSON.stringify({
      id,
      type: 'customer.subscription.created',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: { id: sub, customer: 'cus_real', status: 'active', items: { data: [{ price: { id: 'price_real' } }] } },
      },
    });
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body),
    };
    const first = await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers });
    // SQL-only handlers apply in the request: committed before the answer, no queue operations.
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'applied', id });

    const row = await eventually(
      () =>
        worker.query<{ customer_id: string; status: string; plan_id: string }>(
          'SELECT customer_id, status, plan_id FROM subscriptions WHERE id = ?',
          sub,
        )[0],
    );
    expect(row).toEqual({ customer_id: 'cus_real', status: 'active', plan_id: 'price_real' });
    expect(
      await eventually(
        () =>
          worker.query<{ status: string }>(
            "SELECT status FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
            id,
          )[0],
      ),
    ).toEqual({ status: 'applied' });

    const again = await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate', id });
    expect(
      worker.query<{ n: number }>(
        "SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
        id,
      ),
    ).toEqual([{ n: 1 }]);
  });

  it("checks a command input with the build's generated code (no Ajv at run time) and applies sync_user in the request", async () => {
    const call = (input: unknown, key: string) =>
      fetch(`${worker.url}/v1/commands/sync_user`, {
        method: 'POST',
        body: JSON.stringify(input),
        headers: {
          authorization: `Bearer ${TEST_SECRETS.SWITCHYARD_SERVICE_TOKEN}`,
          'idempotency-key': key,
          'content-type': 'application/json',
        },
      });
    const bad = await call({ id: 'u', email: 'nope' }, `real-bad-${Date.now()}`);
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ problems: [{ path: '/email', message: 'must match format "email"' }] });
    const id = `user_real_${Date.now()}`;
    const key = `real-${Date.now()}`;
    const first = await call({ id, email: `${id}@example.com` }, key);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ id: key, status: 'applied' });
    expect(worker.query<{ email: string }>('SELECT email FROM users WHERE id = ?', id)).toEqual([
      { email: `${id}@example.com` },
    ]);
    const again = await call({ id, email: `${id}@example.com` }, key);
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
  });

  it('applies an event with an effect in the request: the state applies, the email is tried after the answer and retries offline', async () => {
    const id = `evt_queue_${Date.now()}`;
    const body = JSON.stringify({
      id,
      type: 'invoice.payment_failed',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: 'in_q',
          customer_email: 'q@example.com',
          amount_due: 500,
          currency: 'usd',
          hosted_invoice_url: 'https://pay.example/in_q',
        },
      },
    });
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body),
    };
    expect((await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers })).status).toBe(200);
    expect(
      await eventually(
        () =>
          worker.query<{ status: string }>(
            "SELECT status FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
            id,
          )[0],
      ),
    ).toEqual({ status: 'applied' });
    // No network here: Resend cannot be reached, and the effect says so.
    const effect = await eventually(
      () =>
        worker.query<{ status: string; error: string }>(
          "SELECT status, error FROM effects WHERE integration = 'stripe' AND event_id = ? AND status = 'retrying'",
          id,
        )[0],
    );
    expect(effect!.error).toContain('could not reach api.resend.com');
  });

  it('dead-letters an event the manifest cannot apply, lists it and replays it with the CLI', async () => {
    const id = `evt_dead_${Date.now()}`;
    const body = JSON.stringify({
      id,
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'pi_x' } },
    });
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body),
    };
    expect((await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers })).status).toBe(202);
    const letter = await eventually(
      () =>
        worker.query<{ seq: number; reason: string; raw_body: string }>(
          'SELECT seq, reason, raw_body FROM dead_letters WHERE event_id = ? AND replayed_at IS NULL',
          id,
        )[0],
    );
    expect(letter).toMatchObject({ reason: 'mapping', raw_body: body });

    const env = { ...process.env, ADMIN_TOKEN: TEST_SECRETS.ADMIN_TOKEN };
    const list = spawnSync(process.execPath, [CLI, 'replay', '--list', '--url', worker.url], {
      encoding: 'utf8',
      env,
      cwd: ROOT,
    });
    expect(list.stdout).toContain(`#${letter.seq}  stripe  consumer  ${id}  mapping`);
    const replay = spawnSync(process.execPath, [CLI, 'replay', '--seq', String(letter.seq), '--url', worker.url], {
      encoding: 'utf8',
      env,
      cwd: ROOT,
    });
    expect(replay.stdout).toContain(`replayed #${letter.seq} stripe ${id}`);
    expect(replay.status).toBe(0);
    // Still unmappable, so it comes back as a dead letter: nothing is lost either way.
    expect(
      await eventually(() =>
        worker
          .query<{ n: number }>('SELECT count(*) AS n FROM dead_letters WHERE event_id = ? AND replayed_at IS NULL', id)
          .find((r) => r.n === 1),
      ),
    ).toEqual({ n: 1 });
  });

  it.each([
    ['stripe', 'customer.subscription.created', 'applied'],
    ['clerk', 'user.updated', 'applied'],
    ['supabase', 'users.insert', 'applied'],
    ['paddle', 'subscription.created', 'applied'],
    ['twilio', 'message.delivered', 'applied'],
    // The default manifest verifies GitHub but declares no handler: recorded, and ignored.
    ['github', 'issues', 'ignored'],
    ['resend', 'email.delivered', 'applied'],
  ])('switchyard send %s %s: signed as the provider signs, accepted and %s', (integration, type, status) => {
    const env = { ...process.env, ...TEST_SECRETS };
    const result = spawnSync(process.execPath, [CLI, 'send', integration, type, '--url', worker.url], {
      encoding: 'utf8',
      env,
      cwd: ROOT,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/-> 20[02] /);
    expect(result.stdout).toMatch(new RegExp(`event ${integration}/.+: ${status}`));
    expect(result.status).toBe(0);
  });

  it('switchyard rebuild re-runs the projections from the event log with a progress bar', () => {
    const before = worker.query<Record<string, unknown>>('SELECT * FROM subscriptions ORDER BY id');
    expect(before.length).toBeGreaterThan(0);
    const env = { ...process.env, ADMIN_TOKEN: TEST_SECRETS.ADMIN_TOKEN };
    const result = spawnSync(process.execPath, [CLI, 'rebuild', 'subscriptions', '--url', worker.url, '--batch', '1'], {
      encoding: 'utf8',
      env,
      cwd: ROOT,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\[#+\] 100% (\d+)\/\1/);
    expect(result.stdout).toMatch(/rebuilt subscriptions: \d+ events, \d+ statements/);
    expect(worker.query('SELECT * FROM subscriptions ORDER BY id')).toEqual(before);
  });

  it('refuses a forged Stripe event', async () => {
    const body = JSON.stringify({ id: 'evt_forged', type: 'charge.succeeded' });
    const res = await fetch(`${worker.url}/webhooks/stripe`, {
      method: 'POST',
      body,
      headers: { 'stripe-signature': await stripeSignature('whsec_wrong', body) },
    });
    expect(res.status).toBe(401);
    expect(worker.logs()).not.toContain('EvalError');
  });

  describe('with the local dev issuer (SWITCHYARD_DEV_AUTH, no JWKS reachable)', () => {
    const ADMIN_CLAIMS = { org_role: 'org:admin', org_id: 'org_dev_switchyard' };

    it('lets a dev token for the provider past auth on a protected route: the offline upstream is a 502, not a 401 or 503', async () => {
      const token = await mintDevToken(devKey, { provider: 'clerk', sub: 'user_dev_1' });
      const res = await fetch(`${worker.url}/api/things`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: 'bad_gateway', reason: 'upstream_unreachable' });
      // The error it logs is one JSON object on its own line, not wrangler's decorated "✘ [ERROR]" block.
      const line = worker
        .logs()
        .split('\n')
        .find((l) => l.includes('"routes.api.upstream"'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ level: 'error', kind: 'runtime.error', where: 'routes.api.upstream' });
      const none = await fetch(`${worker.url}/api/things`);
      expect(none.status).toBe(401);
    });

    it('opens the admin API to an org-bound admin dev token, and refuses one for another org', async () => {
      const admin = await mintDevToken(devKey, { provider: 'clerk', sub: 'user_admin', claims: ADMIN_CLAIMS });
      const res = await fetch(`${worker.url}/admin/api/dead-letters`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(res.status).toBe(200);
      const other = await mintDevToken(devKey, {
        provider: 'clerk',
        sub: 'user_admin',
        claims: { ...ADMIN_CLAIMS, org_id: 'org_other' },
      });
      expect(
        (await fetch(`${worker.url}/admin/api/dead-letters`, { headers: { authorization: `Bearer ${other}` } })).status,
      ).toBe(403);
    });

    it('refuses a dev token signed by another key, and one minted for another provider', async () => {
      const stranger = await generateDevAuthKey();
      const forged = await mintDevToken(stranger, { provider: 'clerk', sub: 'user_admin', claims: ADMIN_CLAIMS });
      const res = await fetch(`${worker.url}/admin/api/dead-letters`, {
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(res.status).toBe(401);
      const elsewhere = await mintDevToken(devKey, { provider: 'auth0', sub: 'user_dev_1' });
      const other = await fetch(`${worker.url}/api/things`, { headers: { authorization: `Bearer ${elsewhere}` } });
      expect(await other.json()).toMatchObject({ reason: 'dev_issuer_other_provider' });
    });
  });
});
