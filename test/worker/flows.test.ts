/**
 * The default manifest's conditional flows where `switchyard test` cannot script the provider: Slack's Web API
 * answers a refusal with 200 and `{"ok": false}`, so the Slack alert's `success: { path: ok, equals: true }` is what
 * makes it a failure (retried with Slack's error), not a message reported sent. tests/flows.test.yaml holds the rest.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { harness, uid, type Harness } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;

async function invoicePaid(h: Harness, object: Record<string, unknown>, nowMs: number) {
  const id = uid('evt');
  const created = Math.floor(nowMs / 1000);
  const body = JSON.stringify({ id, object: 'event', type: 'invoice.paid', created, data: { object } });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, created),
  });
  return { res, id };
}

const effect = (id: string) =>
  env.DB.prepare("SELECT status, attempts, error FROM effects WHERE integration = 'stripe' AND event_id = ?")
    .bind(id)
    .first<{ status: string; attempts: number; error: string | null }>();

describe('the Slack alert for invoices above 1,000 USD', () => {
  it('Slack refusing the message (200, ok false) is a failure retried with its error; the retry posts it once', async () => {
    let now = Date.now();
    const h = harness({ ctx: true, now: () => now });
    h.providers.failNext(/slack\.com\/api\/chat\.postMessage/, 200, {
      body: { ok: false, error: 'channel_not_found' },
    });
    const { res, id } = await invoicePaid(
      h,
      { id: uid('in'), number: 'ACME-7', customer_email: 'ap@example.com', amount_paid: 150_000, currency: 'usd' },
      now,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'applied', id });
    await h.settle();
    expect(await effect(id)).toMatchObject({
      status: 'retrying',
      attempts: 1,
      error: expect.stringContaining('channel_not_found'),
    });

    now += 2 * 3_600_000;
    await h.consume(h.drain());
    await h.settle();
    expect(await effect(id)).toMatchObject({ status: 'sent', attempts: 2 });
    const posts = h.providers.to(/slack\.com\/api\/chat\.postMessage/);
    expect(posts.map((p) => [p.headers.authorization, p.json])).toEqual([
      [
        `Bearer ${S.SLACK_BOT_TOKEN}`,
        { channel: '#billing', text: 'Invoice ACME-7 paid: $1,500.00 from ap@example.com' },
      ],
      [
        `Bearer ${S.SLACK_BOT_TOKEN}`,
        { channel: '#billing', text: 'Invoice ACME-7 paid: $1,500.00 from ap@example.com' },
      ],
    ]);
  });
});
