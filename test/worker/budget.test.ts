/**
 * The budget model (`switchyard plan --budget`, computed at build time into .switchyard/manifests.json) against
 * what D1 reports in workerd: events of the default manifest are delivered end to end (ingest, then the consumer)
 * with every statement's `meta.rows_written` / `meta.rows_read` summed. Rows written must match exactly. Rows read
 * are approximate, within READ_TOLERANCE either way: the model counts one row per key lookup, while SQLite also
 * reads an `IN (VALUES …)` list and, for the runtime's status UPDATE through one, passes the row twice (measured:
 * that UPDATE reads 4). Reads bind only past ~700,000 events a day on the free plan, far beyond writes.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import type { BudgetTable } from '../../runtime/lib/platform.ts';
import { harness, uid } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { stripeSignature } from '../support/sign.ts';

const READ_TOLERANCE = 4;
const S = env.TEST_SECRETS;
const budget = (built as unknown as { environments: Record<string, { budget?: BudgetTable }> }).environments.default!.budget!;
const modelled = (source: string, on: string) => budget.handlers.find((h) => h.source === source && h.on === on)!;

/** Delivers end to end with every statement metered (the platform's usage flush, every 10 minutes, is not due). */
async function measure(deliver: (h: ReturnType<typeof harness>) => Promise<void>) {
  const meter = metered(env.DB);
  const h = harness({ env: { DB: meter.db }, budget });
  await deliver(h);
  const queued = h.queue.messages.length;
  await h.consume(h.drain());
  return { written: meter.written, read: meter.read, h, queued };
}

const stripe = async (h: ReturnType<typeof harness>, type: string, object: Record<string, unknown>) => {
  const body = JSON.stringify({ id: uid('evt'), object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object } });
  const res = await h.post('/webhooks/stripe', body, { 'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body) });
  // Every handler of the default stripe integration applies in the request (its effects and outbox after the answer).
  expect(res.status).toBe(200);
};

const expectModel = (measured: { written: number; read: number }, model: { d1_rows_written: number; d1_rows_read: number }) => {
  expect(measured.written).toBe(model.d1_rows_written);
  expect(Math.abs(model.d1_rows_read - measured.read)).toBeLessThanOrEqual(READ_TOLERANCE);
};

describe('the budget model matches what D1 counts', () => {
  it('stripe customer.subscription.updated (a new subscription: the upsert inserts, its dearer case), applied in the request', async () => {
    const m = await measure((h) => stripe(h, 'customer.subscription.updated', { id: uid('sub'), customer: 'cus_1', status: 'active', current_period_end: 1_735_689_600, items: { data: [{ price: { id: 'price_pro' } }] } }));
    expectModel(m, modelled('stripe', 'customer.subscription.updated'));
  });

  it('stripe payment_intent.succeeded (an SQL step, an enqueue step: the outbox row and its message, and the SMS it opts in to), in the request', async () => {
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    // The model prices the SMS step behind its condition as taken (the dearer branch): the event asks for it.
    const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const m = await measure((h) => stripe(h, 'payment_intent.succeeded', { id: 'pi_1', customer: 'cus_9', amount: 1999, currency: 'usd', metadata: { order_id: orderId, notify_sms: 'true', phone } }));
    expect(m.h.fulfillment.messages).toHaveLength(1);
    expect(m.h.providers.to(/api\.twilio\.com/)).toHaveLength(1);
    expect(m.queued).toBe(0);
    expectModel(m, modelled('stripe', 'payment_intent.succeeded'));
    // The fulfillment message alone: no events-queue message.
    expect(modelled('stripe', 'payment_intent.succeeded')).toMatchObject({ path: 'direct', queue_operations: 3 });
  });

  it('stripe invoice.payment_failed (an action: the effect, its limit count, its log row, one subrequest), in the request', async () => {
    const failed = () => ({ id: 'in_1', customer_email: `${uid('pay')}@example.com`, amount_due: 1900, currency: 'usd', hosted_invoice_url: 'https://invoice.stripe.com/i/in_1' });
    // The month's first send creates the limit's counter row; the model prices every other send, an update of it.
    await measure((h) => stripe(h, 'invoice.payment_failed', failed()));
    const m = await measure((h) => stripe(h, 'invoice.payment_failed', failed()));
    expect(m.h.providers.to(/api\.resend\.com\/emails$/)).toHaveLength(1);
    expect(m.queued).toBe(0);
    expectModel(m, modelled('stripe', 'invoice.payment_failed'));
    expect(modelled('stripe', 'invoice.payment_failed')).toMatchObject({ path: 'direct', queue_operations: 0 });
    expect(modelled('stripe', 'invoice.payment_failed').subrequests).toBeGreaterThan(0);
  });

  it("the admin usage report projects today's mix with the build's costs", async () => {
    const { h } = await measure((h) => stripe(h, 'customer.subscription.updated', { id: uid('sub'), customer: 'cus_2', status: 'active' }));
    const usage = (await (await h.request('/admin/api/usage', { headers: { authorization: 'Bearer test-admin-token' } })).json()) as { projection: { events_today: number; fits: { events_per_day: number; binding: string; mix: string } } };
    expect(usage.projection.events_today).toBeGreaterThan(0);
    expect(usage.projection.fits).toMatchObject({ plan: 'free', mix: "today's" });
    expect(usage.projection.fits.events_per_day).toBeGreaterThan(0);
    expect(usage.projection.fits.binding).toMatch(/^(queue_operations|d1_rows_written|worker_requests|d1_rows_read|kv_reads|kv_writes)$/);
  });
});
