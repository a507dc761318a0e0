/** Every default projection: a signed webhook in, through the queue consumer, to the D1 row. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { harness, uid, type Harness } from '../support/harness.ts';
import { paddleSignature, stripeSignature, svixHeaders, twilioSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

async function deliver(h: Harness, path: string, body: string, headers: Record<string, string>) {
  const res = await h.post(path, body, headers);
  expect([200, 202], await res.clone().text()).toContain(res.status);
  const messages = h.drain();
  await h.consume(messages);
  expect(messages.every((m) => m.acked)).toBe(true);
}

const stripe = async (
  h: Harness,
  type: string,
  object: Record<string, unknown>,
  created = Math.floor(Date.now() / 1000),
  id = uid('evt'),
) => {
  const body = JSON.stringify({ id, object: 'event', type, created, data: { object } });
  await deliver(h, '/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
  return id;
};
const clerk = async (h: Harness, type: string, data: Record<string, unknown>, timestamp = Date.now()) => {
  const body = JSON.stringify({ type, object: 'event', timestamp, data });
  await deliver(h, '/webhooks/clerk', body, await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, uid('msg'), body));
};

describe('default projections', () => {
  it('clerk: user.created inserts, user.updated updates, user.deleted soft-deletes', async () => {
    const h = harness();
    const id = uid('user');
    const created = {
      id,
      first_name: 'Ada',
      last_name: 'Lovelace',
      created_at: 1_700_000_000_000,
      primary_email_address_id: 'idn_1',
      email_addresses: [{ id: 'idn_1', email_address: 'ada@example.com', verification: { status: 'verified' } }],
    };
    await clerk(h, 'user.created', created, 1_700_000_000_000);
    expect(await row('SELECT email, name, created_at, deleted_at FROM users WHERE id = ?', id)).toEqual({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      created_at: '2023-11-14T22:13:20.000Z',
      deleted_at: null,
    });
    const [welcome] = h.providers.to(/api\.resend\.com\/emails$/);
    expect(welcome!.json).toMatchObject({ to: ['ada@example.com'], subject: 'Welcome to Acme, Ada' });
    expect(await row("SELECT subject, status FROM email_logs WHERE to_email = 'ada@example.com'")).toEqual({
      subject: 'Welcome to Acme, Ada',
      status: 'sent',
    });
    await clerk(
      h,
      'user.updated',
      {
        ...created,
        last_name: 'King',
        primary_email_address_id: 'idn_1',
        email_addresses: [{ id: 'idn_1', email_address: 'ada@king.example', verification: { status: 'verified' } }],
      },
      1_700_000_100_000,
    );
    expect(await row('SELECT email, name FROM users WHERE id = ?', id)).toEqual({
      email: 'ada@king.example',
      name: 'Ada King',
    });
    await clerk(h, 'user.deleted', { id, deleted: true }, 1_700_000_200_000);
    const deleted = await row<{ deleted_at: string; email: string }>(
      'SELECT deleted_at, email FROM users WHERE id = ?',
      id,
    );
    expect(deleted!.email).toBe('ada@king.example');
    expect(Date.parse(deleted!.deleted_at)).not.toBeNaN();
  });

  it('supabase: users.insert inserts the user with its metadata as JSON', async () => {
    const h = harness();
    const id = crypto.randomUUID();
    const body = JSON.stringify({
      type: 'INSERT',
      table: 'users',
      schema: 'auth',
      record: {
        id,
        email: 'sb@example.com',
        raw_user_meta_data: { plan: 'pro' },
        created_at: '2024-03-01T12:00:00.5+00:00',
      },
      old_record: null,
    });
    await deliver(
      h,
      '/webhooks/supabase',
      body,
      await svixHeaders('webhook-', S.SUPABASE_WEBHOOK_SECRET!, uid('msg'), body),
    );
    expect(await row('SELECT email, metadata, created_at FROM users WHERE id = ?', id)).toEqual({
      email: 'sb@example.com',
      metadata: '{"plan":"pro"}',
      created_at: '2024-03-01T12:00:00.500Z',
    });
  });

  it('stripe: payment_intent.succeeded marks the order paid and enqueues fulfillment after commit', async () => {
    const h = harness();
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    await stripe(
      h,
      'payment_intent.succeeded',
      { id: 'pi_123', customer: 'cus_9', metadata: { order_id: orderId } },
      1_700_000_000,
    );
    expect(await row('SELECT status, paid_at, payment_intent_id FROM orders WHERE id = ?', orderId)).toEqual({
      status: 'paid',
      paid_at: '2023-11-14T22:13:20.000Z',
      payment_intent_id: 'pi_123',
    });
    expect(h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_9' }]);
    const eventId = (await row<{ id: string }>(
      "SELECT id FROM events WHERE integration = 'stripe' AND type = 'payment_intent.succeeded' AND body LIKE ?",
      `%${orderId}%`,
    ))!.id;
    const detail = (await (
      await h.request(`/admin/api/events/stripe/${eventId}`, { headers: { authorization: 'Bearer test-admin-token' } })
    ).json()) as { steps: unknown[]; event: { status: string } };
    expect(detail.event.status).toBe('applied');
    // The SMS step is behind metadata.notify_sms: skipped, and the event's steps say which condition decided.
    expect(detail.steps).toEqual([
      { kind: 'sql', statements: 1, outbox: 0, actions: 0 },
      { kind: 'enqueue', statements: 0, outbox: 1, actions: 0 },
      {
        kind: 'action',
        statements: 0,
        outbox: 0,
        actions: 0,
        skipped: expect.stringMatching(
          /^integrations\.stripe\.handlers\[0\]\.steps\[2\]\.if: data\.object\.metadata\.notify_sms eq /,
        ),
      },
    ]);
    expect(await row('SELECT count(*) AS n FROM outbox WHERE body LIKE ?', `%${orderId}%`)).toEqual({ n: 0 });
  });

  it('stripe: invoice.payment_failed emails the customer through Resend and logs it', async () => {
    const h = harness();
    const to = `${uid('pay')}@example.com`;
    await stripe(h, 'invoice.payment_failed', {
      id: 'in_1',
      customer_email: to,
      amount_due: 1900,
      currency: 'usd',
      hosted_invoice_url: 'https://invoice.stripe.com/i/in_1',
    });
    const [email] = h.providers.to(/api\.resend\.com\/emails$/);
    expect(email!.json).toMatchObject({
      to: [to],
      subject: 'Your payment did not go through',
      text: 'We could not collect 1900 USD. Pay the invoice here: https://invoice.stripe.com/i/in_1',
    });
    expect((email!.json as { html: string }).html).toContain('href="https://invoice.stripe.com/i/in_1"');
    expect(await row('SELECT status FROM email_logs WHERE to_email = ?', to)).toEqual({ status: 'sent' });
  });

  it('stripe: subscription created/updated upsert, deleted sets canceled', async () => {
    const h = harness();
    const id = uid('sub');
    const object = {
      id,
      customer: 'cus_1',
      status: 'trialing',
      current_period_end: 1_735_689_600,
      items: { data: [{ price: { id: 'price_basic' } }] },
    };
    await stripe(h, 'customer.subscription.created', object, 1_700_000_000);
    expect(
      await row('SELECT customer_id, status, current_period_end, plan_id FROM subscriptions WHERE id = ?', id),
    ).toEqual({
      customer_id: 'cus_1',
      status: 'trialing',
      current_period_end: '2025-01-01T00:00:00.000Z',
      plan_id: 'price_basic',
    });
    await stripe(
      h,
      'customer.subscription.updated',
      { ...object, status: 'active', items: { data: [{ price: { id: 'price_pro' } }] } },
      1_700_000_100,
    );
    expect(await row('SELECT status, plan_id FROM subscriptions WHERE id = ?', id)).toEqual({
      status: 'active',
      plan_id: 'price_pro',
    });
    await stripe(h, 'customer.subscription.deleted', { ...object, status: 'canceled' }, 1_700_000_200);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', id)).toEqual({ status: 'canceled' });
  });

  it('stripe: an event dated an hour ahead counts as occurring at most the verifier tolerance (5m) after it arrived, so a later, correctly dated one wins', async () => {
    let now = Date.now();
    const h = harness({ now: () => now });
    const id = uid('sub');
    const send = async (type: string, status: string, created: number) => {
      const body = JSON.stringify({
        id: uid('evt'),
        object: 'event',
        type,
        created,
        data: {
          object: {
            id,
            customer: 'cus_1',
            status,
            current_period_end: 1_735_689_600,
            items: { data: [{ price: { id: 'price_basic' } }] },
          },
        },
      });
      await deliver(h, '/webhooks/stripe', body, {
        'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, Math.floor(now / 1000)),
      });
    };
    const first = now;
    const arrived = Math.floor(now / 1000);
    await send('customer.subscription.updated', 'past_due', arrived + 3600);
    now += 10 * 60_000;
    await send('customer.subscription.deleted', 'canceled', arrived + 600);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', id)).toEqual({ status: 'canceled' });
    // The log keeps the capped time: rebuild and replay order events the same way.
    const stored = await row<{ occurred_at: string }>(
      "SELECT occurred_at FROM events WHERE integration = 'stripe' AND type = 'customer.subscription.updated' AND body LIKE ?",
      `%${id}%`,
    );
    expect(stored!.occurred_at).toBe(new Date(first + 5 * 60_000).toISOString());
  });

  it('paddle: subscription.created upserts subscriptions', async () => {
    const h = harness();
    const id = uid('sub');
    const body = JSON.stringify({
      event_id: uid('evt'),
      event_type: 'subscription.created',
      occurred_at: '2024-04-12T10:18:49.621022Z',
      data: {
        id,
        customer_id: 'ctm_1',
        status: 'active',
        current_billing_period: { ends_at: '2024-05-12T10:18:47.000000Z' },
        items: [{ price: { id: 'pri_1' } }],
      },
    });
    await deliver(h, '/webhooks/paddle', body, {
      'paddle-signature': await paddleSignature(S.PADDLE_WEBHOOK_SECRET!, body),
    });
    expect(
      await row('SELECT customer_id, status, current_period_end, plan_id FROM subscriptions WHERE id = ?', id),
    ).toEqual({
      customer_id: 'ctm_1',
      status: 'active',
      current_period_end: '2024-05-12T10:18:47.000Z',
      plan_id: 'pri_1',
    });
  });

  it('twilio: a status callback sets sms_logs.status', async () => {
    const h = harness();
    const sid = uid('SM');
    await env.DB.prepare(
      "INSERT INTO sms_logs (sid, to_number, body, status) VALUES (?, '+15550001111', 'hi', 'queued')",
    )
      .bind(sid)
      .run();
    const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+15550001111' };
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': await twilioSignature(
        S.TWILIO_AUTH_TOKEN!,
        'https://switchyard.test/webhooks/twilio',
        params,
      ),
    };
    await deliver(h, '/webhooks/twilio', new URLSearchParams(params).toString(), headers);
    expect(await row('SELECT status FROM sms_logs WHERE sid = ?', sid)).toEqual({ status: 'delivered' });
  });

  it('resend: email events set email_logs.status', async () => {
    const h = harness();
    const emailId = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO email_logs (id, to_email, subject, status) VALUES (?, 'a@example.com', 'Hi', 'sent')",
    )
      .bind(emailId)
      .run();
    for (const type of ['email.delivered', 'email.bounced']) {
      const body = JSON.stringify({ type, created_at: new Date().toISOString(), data: { email_id: emailId } });
      await deliver(
        h,
        '/webhooks/resend',
        body,
        await svixHeaders('svix-', S.RESEND_WEBHOOK_SECRET!, uid('msg'), body),
      );
      expect(await row('SELECT status FROM email_logs WHERE id = ?', emailId)).toEqual({
        status: type.slice('email.'.length),
      });
    }
  });

  it('records an event no handler matches as ignored in the event log, not applied', async () => {
    const h = harness();
    const id = await stripe(h, 'charge.refunded', { id: 'ch_1' });
    expect(await row("SELECT status, attempts FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'ignored',
      attempts: 1,
    });
  });
});
