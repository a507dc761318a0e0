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
import { capacity, type BudgetTable, type HandlerCost } from '../../runtime/lib/platform.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Handler, Manifest } from '../../runtime/manifest/types.gen.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { builtInputs, defaultManifest, harness, uid } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { stripeSignature } from '../support/sign.ts';

const READ_TOLERANCE = 4;
const S = env.TEST_SECRETS;
const budget = (built as unknown as { environments: Record<string, { budget?: BudgetTable }> }).environments.default!
  .budget!;
const modelled = (source: string, on: string) => budget.handlers.find((h) => h.source === source && h.on === on)!;

/** Delivers end to end with every statement metered (the platform's usage flush, every 10 minutes, is not due). */
async function measure(
  deliver: (h: ReturnType<typeof harness>) => Promise<void>,
  options: Parameters<typeof harness>[0] = {},
) {
  const meter = metered(env.DB);
  const h = harness({ env: { DB: meter.db }, budget, ...options });
  await deliver(h);
  const queued = h.queue.messages.length;
  await h.consume(h.drain());
  return { written: meter.written, read: meter.read, h, queued };
}

const stripe = async (h: ReturnType<typeof harness>, type: string, object: Record<string, unknown>) => {
  const body = JSON.stringify({
    id: uid('evt'),
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object },
  });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
  // Every handler of the default stripe integration applies in the request (its effects and outbox after the answer).
  expect(res.status).toBe(200);
};

const expectModel = (
  measured: { written: number; read: number },
  model: { d1_rows_written: number; d1_rows_read: number },
) => {
  expect(measured.written).toBe(model.d1_rows_written);
  expect(Math.abs(model.d1_rows_read - measured.read)).toBeLessThanOrEqual(READ_TOLERANCE);
};

describe('the budget model matches what D1 counts', () => {
  it('stripe customer.subscription.updated (a new subscription: the upsert inserts, its dearer case), applied in the request', async () => {
    const m = await measure((h) =>
      stripe(h, 'customer.subscription.updated', {
        id: uid('sub'),
        customer: 'cus_1',
        status: 'active',
        current_period_end: 1_735_689_600,
        items: { data: [{ price: { id: 'price_pro' } }] },
      }),
    );
    expectModel(m, modelled('stripe', 'customer.subscription.updated'));
  });

  it('stripe payment_intent.succeeded (an SQL step, an enqueue step: the outbox row and its message, and the SMS it opts in to), in the request', async () => {
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    // The model prices the SMS step behind its condition as taken (the dearer branch): the event asks for it.
    const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const m = await measure((h) =>
      stripe(h, 'payment_intent.succeeded', {
        id: 'pi_1',
        customer: 'cus_9',
        amount: 1999,
        currency: 'usd',
        metadata: { order_id: orderId, notify_sms: 'true', phone },
      }),
    );
    expect(m.h.fulfillment.messages).toHaveLength(1);
    expect(m.h.providers.to(/api\.twilio\.com/)).toHaveLength(1);
    expect(m.queued).toBe(0);
    expectModel(m, modelled('stripe', 'payment_intent.succeeded'));
    // The fulfillment message alone: no events-queue message.
    expect(modelled('stripe', 'payment_intent.succeeded')).toMatchObject({ path: 'direct', queue_operations: 3 });
  });

  it('stripe invoice.payment_failed (an action: the effect, its limit count, its log row, one subrequest), in the request', async () => {
    const failed = () => ({
      id: 'in_1',
      customer_email: `${uid('pay')}@example.com`,
      amount_due: 1900,
      currency: 'usd',
      hosted_invoice_url: 'https://invoice.stripe.com/i/in_1',
    });
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
    const { h } = await measure((h) =>
      stripe(h, 'customer.subscription.updated', { id: uid('sub'), customer: 'cus_2', status: 'active' }),
    );
    const usage = (await (
      await h.request('/admin/api/usage', { headers: { authorization: 'Bearer test-admin-token' } })
    ).json()) as {
      projection: { events_today: number; fits: { events_per_day: number; binding: string; mix: string } };
    };
    expect(usage.projection.events_today).toBeGreaterThan(0);
    expect(usage.projection.fits).toMatchObject({ plan: 'free', mix: "today's" });
    expect(usage.projection.fits.events_per_day).toBeGreaterThan(0);
    expect(usage.projection.fits.binding).toMatch(
      /^(queue_operations|d1_rows_written|worker_requests|d1_rows_read|kv_reads|kv_writes)$/,
    );
  });
});

/** The default manifest with Stripe checkouts split by mode: a payment writes its order and emails when it can, a subscription upserts. */
const TYPE = 'test.checkout.completed';
function withCheckouts(): Manifest {
  const m = structuredClone(defaultManifest);
  const stripe = m.integrations.stripe!;
  const payment = {
    on: TYPE,
    if: { path: 'data.object.mode', eq: 'payment' },
    steps: [
      {
        sql: "INSERT INTO orders (id, status, paid_at) VALUES (:id, 'paid', :at) ON CONFLICT (id) DO UPDATE SET status = 'paid'",
        params: { id: 'data.object.client_reference_id', at: '@occurred_at' },
      },
      {
        action: 'resend',
        if: { path: 'data.object.customer_details.email', exists: true },
        from: 'Acme <orders@example.com>',
        to: 'data.object.customer_details.email',
        subject: 'Thanks',
        text: 'Thanks',
        api_key: 'RESEND_API_KEY',
      },
    ],
  };
  const subscription = {
    on: TYPE,
    if: { path: 'data.object.mode', eq: 'subscription' },
    steps: [
      {
        sql: "INSERT INTO subscriptions (id, customer_id, status) VALUES (:id, :customer, 'active') ON CONFLICT (id) DO UPDATE SET status = 'active'",
        params: { id: 'data.object.subscription', customer: 'data.object.customer' },
      },
    ],
  };
  stripe.handlers = [...(stripe.handlers ?? []), payment as unknown as Handler, subscription as unknown as Handler];
  return m;
}

describe('plan --budget prices each branch of a type with conditions, as D1 counts it', async () => {
  const manifest = withCheckouts();
  const rows = (await (
    await env.MATRIX.fetch('http://matrix/budget', { method: 'POST', body: JSON.stringify(manifest) })
  ).json()) as HandlerCost[];
  const table: BudgetTable = { handlers: rows.map((r) => ({ ...r, capacity: capacity(r) })) };
  const compiled = compileManifest(manifest, defaultRegistry, builtInputs());
  const n = defaultManifest.integrations.stripe!.handlers!.length;
  const row = (branch: string, without = false) =>
    rows.find((r) => r.source === 'stripe' && r.on === TYPE && r.branch === branch && Boolean(r.without) === without)!;
  const event = (id: string) =>
    env.DB.prepare("SELECT status FROM events WHERE integration = 'stripe' AND id = ?")
      .bind(id)
      .first<{ status: string }>();
  const checkout = async (object: Record<string, unknown>) => {
    let id = '';
    const m = await measure(
      async (h) => {
        id = uid('evt');
        const body = JSON.stringify({
          id,
          object: 'event',
          type: TYPE,
          created: Math.floor(Date.now() / 1000),
          data: { object },
        });
        const res = await h.post('/webhooks/stripe', body, {
          'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
        });
        expect(res.status).toBe(200);
      },
      { compiled, budget: table },
    );
    return { ...m, status: (await event(id))?.status };
  };

  it('lists the branches: each condition alone (they need different modes), its step left out, and skipped', () => {
    expect(
      rows
        .filter((r) => r.source === 'stripe' && r.on === TYPE)
        .map((r) => [r.branch, r.without ?? [], r.status ?? 'applied']),
    ).toEqual([
      ['if data.object.mode eq payment', [], 'applied'],
      ['if data.object.mode eq payment', [`handlers[${n}].steps[1]`], 'applied'],
      ['if data.object.mode eq subscription', [], 'applied'],
      ['skipped', [], 'skipped'],
    ]);
  });

  it('a skipped event (no condition holds) costs its skipped row: the event row alone', async () => {
    const m = await checkout({ mode: 'setup', client_reference_id: uid('ord') });
    expect(m.status).toBe('skipped');
    expectModel(m, row('skipped'));
    expect(row('skipped')).toMatchObject({ status: 'skipped', queue_operations: 0, subrequests: 0 });
    expect(m.h.providers.emails).toHaveLength(0);
  });

  it("a true condition with its conditional step: the branch's full row (the order, the effect, its log row, one send)", async () => {
    const m = await checkout({
      mode: 'payment',
      client_reference_id: uid('ord'),
      customer_details: { email: `${uid('buyer')}@example.com` },
    });
    expect(m.status).toBe('applied');
    expect(m.h.providers.emails).toHaveLength(1);
    expectModel(m, row('if data.object.mode eq payment'));
    expect(row('if data.object.mode eq payment').subrequests).toBe(1 / 100);
  });

  it("a step whose own condition is false: the branch's row without it", async () => {
    const m = await checkout({ mode: 'payment', client_reference_id: uid('ord') });
    expect(m.status).toBe('applied');
    expect(m.h.providers.emails).toHaveLength(0);
    expectModel(m, row('if data.object.mode eq payment', true));
    expect(row('if data.object.mode eq payment', true).subrequests).toBe(0);
  });

  it('the other condition: its own row', async () => {
    const m = await checkout({ mode: 'subscription', subscription: uid('sub'), customer: 'cus_1' });
    expect(m.status).toBe('applied');
    expectModel(m, row('if data.object.mode eq subscription'));
  });

  it("the admin usage report prices today's skipped events with the budget's branches", async () => {
    const { h } = await checkout({ mode: 'setup' });
    const usage = (await (
      await h.request('/admin/api/usage', { headers: { authorization: 'Bearer test-admin-token' } })
    ).json()) as { projection: { fits: { events_per_day: number; mix: string } } };
    expect(usage.projection.fits).toMatchObject({ plan: 'free', mix: "today's" });
    expect(usage.projection.fits.events_per_day).toBeGreaterThan(0);
  });
});
