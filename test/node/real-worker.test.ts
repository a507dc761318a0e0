/** The real Worker under `wrangler dev`: the only place workerd's ban on code generation (Ajv, eval) would show. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeSignature } from '../support/sign.ts';
import { TEST_SECRETS } from '../support/secrets.ts';
import { startDevWorker, type DevWorker } from '../support/wrangler-dev.ts';

let worker: DevWorker;
beforeAll(async () => {
  worker = await startDevWorker();
});
afterAll(async () => {
  await worker?.stop();
});

describe('the real Worker started by wrangler dev', () => {
  it('serves /healthz as JSON', async () => {
    const res = await fetch(`${worker.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', environment: 'default', manifest: { version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it('accepts a signed Stripe event, records it as queued, and does not queue the redelivery', async () => {
    const id = `evt_real_${Date.now()}`;
    const body = JSON.stringify({ id, type: 'charge.succeeded', created: Math.floor(Date.now() / 1000), data: { object: {} } });
    const headers = { 'content-type': 'application/json', 'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body) };
    const first = await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers });
    expect(first.status).toBe(202);
    const again = await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers });
    expect([200, 409]).toContain(again.status);
    const rows = worker.query<{ deliveries: number }>('SELECT deliveries FROM events WHERE integration = ? AND id = ?', 'stripe', id);
    expect(rows).toEqual([{ deliveries: 2 }]);
  });

  it('refuses a forged Stripe event', async () => {
    const body = JSON.stringify({ id: 'evt_forged', type: 'charge.succeeded' });
    const res = await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers: { 'stripe-signature': await stripeSignature('whsec_wrong', body) } });
    expect(res.status).toBe(401);
    expect(worker.logs()).not.toContain('EvalError');
  });
});
