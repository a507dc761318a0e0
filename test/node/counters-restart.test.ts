/**
 * Counters across a `wrangler dev` restart: what /health shows (events accepted, refusals, lag) is read from the local
 * D1 the Worker wrote, so a new Worker process over the same state shows the same figures. Before, they were held in
 * the isolate's memory until a flush, and a restart showed zeros.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { stripeSignature } from '../support/sign.ts';
import { TEST_SECRETS } from '../support/secrets.ts';
import { startDevWorker, type DevWorker } from '../support/wrangler-dev.ts';

let worker: DevWorker | undefined;
afterAll(async () => {
  await worker?.stop();
});

type Hour = { accepted: number; rejected: number; lag_ms: { p50: number | null } };
const health = async (w: DevWorker) => {
  const res = await fetch(`${w.url}/admin/api/health`, {
    headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { integrations: Record<string, { hour: Hour }> }).integrations;
};

describe('counters across a wrangler dev restart', () => {
  it('health shows the same events and refusals after the Worker restarts over the same local state', async () => {
    worker = await startDevWorker();
    for (let i = 0; i < 21; i++) {
      const body = JSON.stringify({
        id: `evt_restart_${Date.now()}_${i}`,
        type: 'customer.subscription.updated',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: `sub_restart_${i}`, customer: 'cus_restart', status: 'active' } },
      });
      const res = await fetch(`${worker.url}/webhooks/stripe`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body),
        },
      });
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < 2; i++)
      expect(
        (
          await fetch(`${worker.url}/webhooks/github`, {
            method: 'POST',
            body: '{}',
            headers: { 'x-hub-signature-256': 'sha256=00' },
          })
        ).status,
      ).toBe(401);
    const before = await health(worker);
    expect(before.stripe!.hour).toMatchObject({ accepted: 21, lag_ms: { p50: expect.any(Number) } });
    expect(before.github!.hour.rejected).toBe(2);

    const persist = worker.persist;
    await worker.stop();
    worker = await startDevWorker({ persist });
    const after = await health(worker);
    expect(after.stripe!.hour).toEqual(before.stripe!.hour);
    expect(after.github!.hour.rejected).toBe(2);
  }, 240_000);
});
