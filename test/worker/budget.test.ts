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
import type { BudgetTable } from '../../runtime/platform.ts';
import { harness, uid } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const READ_TOLERANCE = 4;
const S = env.TEST_SECRETS;
const budget = (built as unknown as { environments: Record<string, { budget?: BudgetTable }> }).environments.default!.budget!;
const modelled = (source: string, on: string) => budget.handlers.find((h) => h.source === source && h.on === on)!;

/** D1 that sums the rows every statement wrote and read (the platform's usage flush aside: the model leaves it out). */
function meteredDb(db: D1Database) {
  const total = { written: 0, read: 0 };
  const real = new WeakMap<object, D1PreparedStatement>();
  const sqlOf = new WeakMap<object, string>();
  const counted = (sql: string) => !/^INSERT INTO usage \(metric, key, period_start, n\) VALUES \(\?1, \?2, \?3, \?4\)/.test(sql);
  const add = (sql: string, meta: { rows_written?: number; rows_read?: number } | undefined) => {
    if (!counted(sql)) return;
    total.written += meta?.rows_written ?? 0;
    total.read += meta?.rows_read ?? 0;
  };
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(t, p) {
        if (p === 'bind') return (...params: unknown[]) => wrap(t.bind(...params), sql);
        if (p === 'run' || p === 'all') return async () => {
          const r = await t.all();
          add(sql, r.meta);
          return r;
        };
        if (p === 'first') return async (column?: string) => {
          const r = await t.all<Record<string, unknown>>();
          add(sql, r.meta);
          const row = r.results[0] ?? null;
          return column ? (row?.[column] ?? null) : row;
        };
        const value = Reflect.get(t, p, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
    real.set(proxy, statement);
    sqlOf.set(proxy, sql);
    return proxy;
  };
  const metered = new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === 'batch') return async (statements: D1PreparedStatement[]) => {
        const results = await target.batch(statements.map((s) => real.get(s) ?? s));
        results.forEach((r, i) => add(sqlOf.get(statements[i]!) ?? '', r.meta));
        return results;
      };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: metered, total };
}

async function measure(deliver: (h: ReturnType<typeof harness>) => Promise<void>) {
  const metered = meteredDb(env.DB);
  const h = harness({ env: { DB: metered.db }, budget });
  await deliver(h);
  await h.consume(h.drain());
  return { ...metered.total, h };
}

const stripe = async (h: ReturnType<typeof harness>, type: string, object: Record<string, unknown>) => {
  const body = JSON.stringify({ id: uid('evt'), object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object } });
  const res = await h.post('/webhooks/stripe', body, { 'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body) });
  expect(res.status).toBe(202);
};

const expectModel = (measured: { written: number; read: number }, model: { d1_rows_written: number; d1_rows_read: number }) => {
  expect(measured.written).toBe(model.d1_rows_written);
  expect(Math.abs(model.d1_rows_read - measured.read)).toBeLessThanOrEqual(READ_TOLERANCE);
};

describe('the budget model matches what D1 counts', () => {
  it('stripe customer.subscription.updated (a new subscription: the upsert inserts, its dearer case)', async () => {
    const m = await measure((h) => stripe(h, 'customer.subscription.updated', { id: uid('sub'), customer: 'cus_1', status: 'active', current_period_end: 1_735_689_600, items: { data: [{ price: { id: 'price_pro' } }] } }));
    expectModel(m, modelled('stripe', 'customer.subscription.updated'));
  });

  it('stripe payment_intent.succeeded (an SQL step and an enqueue step: the outbox row and its message)', async () => {
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const m = await measure((h) => stripe(h, 'payment_intent.succeeded', { id: 'pi_1', customer: 'cus_9', metadata: { order_id: orderId } }));
    expect(m.h.fulfillment.messages).toHaveLength(1);
    expectModel(m, modelled('stripe', 'payment_intent.succeeded'));
    expect(modelled('stripe', 'payment_intent.succeeded').queue_operations).toBe(6);
  });

  it('stripe invoice.payment_failed (an action: the effect, its limit count, its log row, one subrequest)', async () => {
    const m = await measure((h) => stripe(h, 'invoice.payment_failed', { id: 'in_1', customer_email: `${uid('pay')}@example.com`, amount_due: 1900, currency: 'usd', hosted_invoice_url: 'https://invoice.stripe.com/i/in_1' }));
    expect(m.h.providers.to(/api\.resend\.com\/emails$/)).toHaveLength(1);
    expectModel(m, modelled('stripe', 'invoice.payment_failed'));
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
