/**
 * Conditions (`if:` on handlers and steps) and derived values (`let:`), end to end in workerd: a handler whose
 * condition is false is `skipped`, not `ignored`, and its event says which condition decided; a step's condition
 * leaves its effect unrecorded; `$name` values reach params and templates; the in-request path and the queue agree.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Handler, Manifest } from '../../runtime/manifest/types.gen.ts';
import { builtInputs, defaultManifest, harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;

/** The default manifest with one more Stripe handler (on a type of its own, so the default ones stay out of it). */
function withHandler(handler: unknown, integrationLet?: unknown): Manifest {
  const m = structuredClone(defaultManifest);
  const stripe = m.integrations.stripe!;
  stripe.handlers = [...(stripe.handlers ?? []), handler as Handler];
  if (integrationLet) stripe.let = integrationLet as NonNullable<typeof stripe.let>;
  return m;
}

async function stripeEvent(h: Harness, type: string, object: Record<string, unknown>, id = uid('evt')) {
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ id, object: 'event', type, created: now, data: { object } });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, now),
  });
  return { res, id };
}

const event = (id: string) =>
  env.DB.prepare("SELECT status, steps FROM events WHERE integration = 'stripe' AND id = ?")
    .bind(id)
    .first<{ status: string; steps: string }>();
const order = (id: string) =>
  env.DB.prepare('SELECT status, paid_at FROM orders WHERE id = ?')
    .bind(id)
    .first<{ status: string; paid_at: string | null }>();

const TYPE = 'test.checkout.completed';
const checkout = {
  on: TYPE,
  if: { path: 'data.object.mode', eq: 'payment' },
  let: { order_id: 'data.object.client_reference_id' },
  steps: [
    {
      sql: "INSERT INTO orders (id, status, paid_at) VALUES (:id, 'paid', :at) ON CONFLICT (id) DO UPDATE SET status = 'paid'",
      params: { id: '$order_id', at: '@occurred_at' },
    },
    {
      action: 'resend',
      if: { path: 'data.object.customer_details.email', exists: true },
      from: 'Acme <orders@example.com>',
      to: 'data.object.customer_details.email',
      subject: 'Order {{ order }}: {{ total }}',
      text: 'Thanks',
      data: { order: '$order_id', total: '$total' },
      api_key: 'RESEND_API_KEY',
    },
  ],
};

describe.each([
  ['in the request', false],
  ['through the queue', true],
])('conditions, %s', (_, queued) => {
  const setup = () => {
    const m = withHandler(checkout, {
      total: { path: 'data.object.amount_total', transform: [{ money: 'data.object.currency' }] },
    });
    return harness({
      compiled: compileManifest(queued ? queuedOnly(m) : m, defaultRegistry, builtInputs()),
      ctx: true,
    });
  };
  const settle = async (h: Harness) => {
    await h.settle();
    if (queued) await h.consume(h.drain());
    await h.settle();
  };

  it('a handler whose condition is false is skipped, and says which condition decided', async () => {
    const h = setup();
    const orderId = uid('ord');
    const { res, id } = await stripeEvent(h, TYPE, {
      mode: 'subscription',
      client_reference_id: orderId,
      amount_total: 1999,
      currency: 'usd',
    });
    expect(res.status).toBe(queued ? 202 : 200);
    if (!queued) expect(await res.json()).toMatchObject({ status: 'skipped', id });
    await settle(h);
    const row = await event(id);
    expect(row?.status).toBe('skipped');
    expect(JSON.parse(row!.steps)).toEqual([
      expect.objectContaining({
        kind: 'sql',
        skipped: `integrations.stripe.handlers[${defaultManifest.integrations.stripe!.handlers!.length}].if: data.object.mode eq payment`,
      }),
      expect.objectContaining({ kind: 'action', skipped: expect.stringContaining('data.object.mode eq payment') }),
    ]);
    expect(await order(orderId)).toBeNull();
    expect(h.providers.emails).toHaveLength(0);
  });

  it('a true condition runs the steps; derived values reach params and templates, formatted from cents', async () => {
    const h = setup();
    const orderId = uid('ord');
    const { res, id } = await stripeEvent(h, TYPE, {
      mode: 'payment',
      client_reference_id: orderId,
      amount_total: 123456,
      currency: 'eur',
      customer_details: { email: 'ada@example.com' },
    });
    expect(res.status).toBe(queued ? 202 : 200);
    await settle(h);
    expect((await event(id))?.status).toBe('applied');
    expect((await order(orderId))?.status).toBe('paid');
    expect(h.providers.emails.map((e) => e.subject)).toEqual([`Order ${orderId}: €1,234.56`]);
  });

  it("a step's false condition skips only that step: no effect is recorded", async () => {
    const h = setup();
    const orderId = uid('ord');
    const { id } = await stripeEvent(h, TYPE, {
      mode: 'payment',
      client_reference_id: orderId,
      amount_total: 500,
      currency: 'usd',
    });
    await settle(h);
    const row = await event(id);
    expect(row?.status).toBe('applied');
    expect(JSON.parse(row!.steps)[1]).toMatchObject({
      kind: 'action',
      actions: 0,
      skipped: expect.stringMatching(/steps\[1\]\.if: data\.object\.customer_details\.email exists true$/),
    });
    expect((await order(orderId))?.status).toBe('paid');
    const effects = await env.DB.prepare(
      "SELECT count(*) AS n FROM effects WHERE integration = 'stripe' AND event_id = ?",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(effects?.n).toBe(0);
    expect(h.providers.emails).toHaveLength(0);
  });
});

describe('derived values in SQL params', () => {
  it('a let reads an earlier one, and both steps get the same value', async () => {
    const m = withHandler({
      on: TYPE,
      let: {
        at: '@occurred_at',
        stamp: { path: '$at', transform: [{ add: '1d' }, { format_date: 'YYYY-MM-DD HH:mm' }] },
      },
      steps: [
        {
          sql: "INSERT INTO orders (id, status, paid_at) VALUES (:id, 'a', :at)",
          params: { id: { template: '{data.object.id}-1' }, at: '$stamp' },
        },
        {
          sql: "INSERT INTO orders (id, status, paid_at) VALUES (:id, 'b', :at)",
          params: { id: { template: '{data.object.id}-2' }, at: '$stamp' },
        },
      ],
    });
    const h = harness({ compiled: compileManifest(m, defaultRegistry, builtInputs()) });
    const oid = uid('o');
    const { res, id } = await stripeEvent(h, TYPE, { id: oid });
    expect([res.status, (await event(id))?.status]).toEqual([200, 'applied']);
    const a = await order(`${oid}-1`);
    expect(a?.paid_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect((await order(`${oid}-2`))?.paid_at).toBe(a?.paid_at);
  });
});

describe('derived values in event extraction', () => {
  it('an id may read a let computed from the body, before the envelope exists', async () => {
    const m = structuredClone(defaultManifest);
    const stripe = m.integrations.stripe!;
    stripe.let = { account: { path: 'account', default: 'platform' } };
    stripe.event = { ...stripe.event!, id: { template: '{$account}/{id}' } };
    const h = harness({ compiled: compileManifest(m, defaultRegistry, builtInputs()) });
    const { res, id } = await stripeEvent(h, 'test.unhandled', {});
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ignored', id: `platform/${id}` });
  });

  it('a let the envelope reads may not read the envelope', () => {
    const m = structuredClone(defaultManifest);
    const stripe = m.integrations.stripe!;
    stripe.let = { kind: '@type' };
    stripe.event = { ...stripe.event!, id: { template: '{$kind}/{id}' } };
    expect(() => compileManifest(m, defaultRegistry, builtInputs())).toThrow(
      /integrations\.stripe\.let\.kind: envelope path @type is not available here \(read by event:/,
    );
  });

  it('an id reading a name no let declares fails at its place, compiled at once or on the first webhook', () => {
    for (const declared of [undefined, { acount: 'account' }]) {
      const m = structuredClone(defaultManifest);
      const stripe = m.integrations.stripe!;
      if (declared) stripe.let = declared;
      stripe.event = { ...stripe.event!, id: { template: '{$account}/{id}' } };
      const expected = /integrations\.stripe\.event\.id\.template: \$account is not a derived value in scope/;
      expect(() => compileManifest(m, defaultRegistry, builtInputs())).toThrow(expected);
      const lazy = compileManifest(m, defaultRegistry, { ...builtInputs(), lazy: true });
      expect(() => lazy.webhookPaths.get('/webhooks/stripe')).toThrow(expected);
    }
  });
});

describe('mistakes fail the compile at their place', () => {
  const problems = (handler: Record<string, unknown>) => {
    try {
      compileManifest(withHandler(handler), defaultRegistry, builtInputs());
    } catch (error) {
      if (error instanceof ManifestError) return error.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
      throw error;
    }
    return [];
  };
  const at = `integrations.stripe.handlers.${defaultManifest.integrations.stripe!.handlers!.length}`;
  it('an unknown operator, a range against quoted digits, an unknown derived value', () => {
    expect(problems({ on: TYPE, if: { path: 'data.object.mode', equals: 'x' }, steps: [{ sql: 'SELECT 1' }] })).toEqual(
      [expect.stringMatching(new RegExp(`^${at}\\.if\\.equals: unknown operator "equals"`))],
    );
    expect(
      problems({
        on: TYPE,
        if: { all: [{ path: 'data.object.amount_due', gt: '100000' }] },
        steps: [{ sql: 'SELECT 1' }],
      }),
    ).toEqual([
      `${at}.if.all.0.gt: compares numbers or ISO-8601 dates, and "100000" is a string: write 100000 without quotes`,
    ]);
    expect(
      problems({
        on: TYPE,
        let: { total: 'data.object.amount_total' },
        steps: [{ sql: 'SELECT :x', params: { x: '$totl' } }],
      }),
    ).toEqual([
      `${at}.steps.0.params.x: $totl is not a derived value in scope (did you mean "total"?); let: names $total`,
    ]);
    expect(problems({ on: TYPE, let: { a: '$b', b: 'data.x' }, steps: [{ sql: 'SELECT 1' }] })).toEqual([
      expect.stringMatching(new RegExp(`^${at}\\.let\\.a: \\$b is not a derived value declared before this one`)),
    ]);
  });
});
