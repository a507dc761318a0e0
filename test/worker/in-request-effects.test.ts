/**
 * Effects and outbox messages delivered in the request, after the commit (issue 31): an event whose steps are D1
 * SQL, actions and enqueues is recorded, projected and its effects recorded (leased to the request) in one D1
 * transaction, answered 200, and delivered right after the answer (`ctx.waitUntil`). Only what fails or cannot finish
 * reaches a queue; a delivery that never ran is taken back by the cron sweep once its lease lapses. Nothing is lost,
 * and nothing is sent twice.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { commandCallId } from '../../runtime/store/index.ts';
import { SWEEP_DUE_EFFECTS_VAR } from '../../runtime/operations/sweep.ts';
import { fakeMessage, faultyDb, harness, uid, type FakeMessage, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { losingAnswers } from '../support/fake-providers.ts';
import { githubSignature, stripeSignature, svixHeaders } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const SERVICE = { authorization: 'Bearer test-service-token' };
/** Past the in-request lease and the sweep's stuck_after (15 minutes): a delivery that never ran is overdue. */
const LAPSED_MS = 20 * 60_000;

const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

async function clerkUserCreated(h: Harness, userId: string, email: string, svixId = uid('msg'), nowMs = Date.now()) {
  const body = JSON.stringify({
    object: 'event',
    type: 'user.created',
    timestamp: nowMs,
    data: {
      id: userId,
      first_name: 'Ada',
      last_name: 'Lovelace',
      created_at: nowMs,
      primary_email_address_id: 'idn_1',
      email_addresses: [{ id: 'idn_1', email_address: email, verification: { status: 'verified' } }],
    },
  });
  return h.post(
    '/webhooks/clerk',
    body,
    await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, svixId, body, Math.floor(nowMs / 1000)),
  );
}

async function stripeEvent(
  h: Harness,
  type: string,
  object: Record<string, unknown>,
  id = uid('evt'),
  nowMs = Date.now(),
) {
  const body = JSON.stringify({ id, object: 'event', type, created: Math.floor(nowMs / 1000), data: { object } });
  return h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, Math.floor(nowMs / 1000)),
  });
}

const command = (h: Harness, name: string, input: unknown, key: string) =>
  h.post(`/v1/commands/${name}`, JSON.stringify(input), { ...SERVICE, 'idempotency-key': key });

const emailsTo = (h: Harness, email: string) => h.providers.emails.filter((e) => e.to.includes(email));
/** Effects messages for one event, among what was queued. */
const effectsFor = (messages: FakeMessage[], id: string) =>
  messages.filter((m) => (m.body as { effects?: { id: string } }).effects?.id === id);

/**
 * Rows written per event on the queued path before issue 31 (metered here, end to end): the request path writes no
 * more. (Clerk: issue 31 quotes 11; metered here the queued path wrote 12.)
 */
const QUEUED_ROWS_WRITTEN = { clerk: 11, invoice: 9, payment: 8, github: 4, command: 9, subscription: 4 };

/** A delivery end to end (request, the work after the answer, any queue messages consumed), metered. */
async function measure(deliver: (h: Harness) => Promise<Response>) {
  const meter = metered(env.DB);
  const h = harness({ env: { DB: meter.db }, ctx: true });
  const res = await deliver(h);
  await h.settle();
  const queued = h.queue.messages.length + h.analytics.messages.length;
  await h.consume(h.drain());
  return { res, h, written: meter.written, read: meter.read, queued, fulfillment: h.fulfillment.messages.length };
}

describe('work done in the request, effects sent right after the answer', () => {
  it('clerk user.created: 200 applied, the user row, one welcome email, no queue message', async () => {
    const userId = uid('user');
    const email = `${uid('ada')}@example.com`;
    const m = await measure((h) => clerkUserCreated(h, userId, email));
    expect(m.res.status).toBe(200);
    expect(await m.res.json()).toMatchObject({ status: 'applied' });
    expect(m.queued).toBe(0);
    expect(await row('SELECT email FROM users WHERE id = ?', userId)).toEqual({ email });
    expect(emailsTo(m.h, email)).toHaveLength(1);
    expect(
      await row(
        "SELECT status, attempts FROM effects WHERE integration = 'clerk' AND action = 'resend' AND payload LIKE ?",
        `%${email}%`,
      ),
    ).toEqual({ status: 'sent', attempts: 1 });
    expect(m.written).toBeLessThanOrEqual(QUEUED_ROWS_WRITTEN.clerk);
  });

  it('stripe invoice.payment_failed: 200, one email, no queue message', async () => {
    const email = `${uid('pay')}@example.com`;
    const m = await measure((h) =>
      stripeEvent(h, 'invoice.payment_failed', {
        id: 'in_1',
        customer_email: email,
        amount_due: 1900,
        currency: 'usd',
        hosted_invoice_url: 'https://invoice.stripe.com/i/in_1',
      }),
    );
    expect(m.res.status).toBe(200);
    expect(m.queued).toBe(0);
    expect(emailsTo(m.h, email)).toHaveLength(1);
    expect(m.written).toBeLessThanOrEqual(QUEUED_ROWS_WRITTEN.invoice);
  });

  it('stripe payment_intent.succeeded: 200, the order paid, one fulfillment message after the commit, its outbox row gone', async () => {
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const id = uid('evt');
    const m = await measure((h) =>
      stripeEvent(
        h,
        'payment_intent.succeeded',
        { id: 'pi_1', customer: 'cus_9', metadata: { order_id: orderId } },
        id,
      ),
    );
    expect(m.res.status).toBe(200);
    expect(await m.res.json()).toMatchObject({ status: 'applied' });
    expect(m.queued).toBe(0);
    expect(m.h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_9' }]);
    expect(await row('SELECT status FROM orders WHERE id = ?', orderId)).toEqual({ status: 'paid' });
    expect(await row("SELECT count(*) AS n FROM outbox WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      n: 0,
    });
    expect(m.written).toBeLessThanOrEqual(QUEUED_ROWS_WRITTEN.payment);
  });

  it('stripe customer.subscription.updated (SQL only) stays in the request', async () => {
    const m = await measure((h) =>
      stripeEvent(h, 'customer.subscription.updated', {
        id: uid('sub'),
        customer: 'cus_1',
        status: 'active',
        current_period_end: 1_735_689_600,
        items: { data: [{ price: { id: 'price_pro' } }] },
      }),
    );
    expect(m.res.status).toBe(200);
    expect(m.queued).toBe(0);
    expect(m.written).toBeLessThanOrEqual(QUEUED_ROWS_WRITTEN.subscription);
  });

  it('github (no handler, an id from an unsigned header): 200 ignored, no queue; the same body under another delivery id is a same_body duplicate', async () => {
    const body = JSON.stringify({ action: 'opened', issue: { number: Math.floor(Math.random() * 1e9) } });
    const signature = await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body);
    const send = (h: Harness) =>
      h.post('/webhooks/github', body, {
        'x-hub-signature-256': signature,
        'x-github-delivery': crypto.randomUUID(),
        'x-github-event': 'issues',
      });
    const m = await measure(send);
    expect(m.res.status).toBe(200);
    expect(await m.res.json()).toMatchObject({ status: 'ignored' });
    expect(m.queued).toBe(0);
    expect(m.written).toBeLessThanOrEqual(QUEUED_ROWS_WRITTEN.github);
    const replay = await m.h.post('/webhooks/github', body, {
      'x-hub-signature-256': signature,
      'x-github-delivery': crypto.randomUUID(),
      'x-github-event': 'deployment',
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ status: 'duplicate', reason: 'same_body' });
    expect(m.h.queue.messages).toHaveLength(0);
  });

  for (const [name, input] of [
    ['send_password_reset', (email: string) => ({ email, reset_url: 'https://app.example.com/reset?t=1' })],
    ['order_confirmation', (email: string) => ({ email, order_id: uid('o'), name: 'Ada' })],
  ] as const) {
    it(`command ${name}: 200 applied, one email, no queue message; a repeat of the key answers the same`, async () => {
      const email = `${uid('c')}@example.com`;
      const key = crypto.randomUUID();
      const body = input(email);
      const m = await measure((h) => command(h, name, body, key));
      expect(m.res.status).toBe(200);
      expect(await m.res.json()).toEqual({ id: key, status: 'applied' });
      expect(m.queued).toBe(0);
      expect(emailsTo(m.h, email)).toEqual([
        expect.objectContaining({ key: `command:${name}:${await commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN')}:0:0` }),
      ]);
      expect(m.written).toBeLessThanOrEqual(QUEUED_ROWS_WRITTEN.command);
      const again = await command(m.h, name, body, key);
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual({ id: key, status: 'applied' });
      await m.h.settle();
      expect(emailsTo(m.h, email)).toHaveLength(1);
    });
  }

  it('without an execution context the delivery is awaited before the answer', async () => {
    const h = harness();
    const email = `${uid('sync')}@example.com`;
    expect((await clerkUserCreated(h, uid('user'), email)).status).toBe(200);
    expect(emailsTo(h, email)).toHaveLength(1);
  });

  it('apply: queue keeps the queue path', async () => {
    const h = harness({ queued: true, ctx: true });
    const email = `${uid('q')}@example.com`;
    expect((await clerkUserCreated(h, uid('user'), email)).status).toBe(202);
    await h.settle();
    expect(emailsTo(h, email)).toHaveLength(0);
    expect(h.queue.messages).toHaveLength(1);
  });
});

describe('sent once, whatever fails', () => {
  it('the provider acts and the connection drops: the effect retries under one delayed effects message, and the retry sends nothing new', async () => {
    let now = Date.now();
    let h!: Harness;
    const { net, fetch: lossy } = losingAnswers((input, init) => h.providers.fetch(input, init));
    net.lose = 1;
    h = harness({ ctx: true, fetch: lossy, now: () => now });
    const email = `${uid('lost')}@example.com`;
    const svixId = uid('msg');
    expect((await clerkUserCreated(h, uid('user'), email, svixId, now)).status).toBe(200);
    await h.settle();
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'retrying',
    });
    const retries = effectsFor(h.drain(), svixId);
    expect(retries).toHaveLength(1);
    now += 60 * 60_000;
    await h.consume(retries);
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'sent',
    });
    const calls = h.providers.to(/api\.resend\.com\/emails/).filter((r) => r.body.includes(email));
    expect(calls).toHaveLength(2);
    expect(calls[1]!.headers['idempotency-key']).toBe(calls[0]!.headers['idempotency-key']);
    expect(emailsTo(h, email)).toHaveLength(1);
  });

  it('a retry whose delayed message was dropped (a reload under switchyard dev) is taken back by the sweep once due where SWITCHYARD_SWEEP_DUE_EFFECTS is set, and sent once', async () => {
    let now = Date.now();
    let h!: Harness;
    const { net, fetch: lossy } = losingAnswers((input, init) => h.providers.fetch(input, init));
    net.lose = 1;
    h = harness({ ctx: true, fetch: lossy, now: () => now });
    const email = `${uid('dropped')}@example.com`;
    const svixId = uid('msg');
    expect((await clerkUserCreated(h, uid('user'), email, svixId, now)).status).toBe(200);
    await h.settle();
    expect(effectsFor(h.drain(), svixId)).toHaveLength(1); // the retry's message, dropped here
    now += 5 * 60_000; // due, and well short of stuck_after (15m)
    await h.runtime.scheduled(h.env);
    expect(effectsFor(h.drain(), svixId)).toHaveLength(0);
    await h.runtime.scheduled({ ...h.env, [SWEEP_DUE_EFFECTS_VAR]: 'true' });
    const swept = effectsFor(h.drain(), svixId);
    expect(swept).toHaveLength(1);
    await h.consume(swept);
    expect(emailsTo(h, email)).toHaveLength(1);
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'sent',
    });
  });

  it('the invocation dies between the commit and the send: nothing is sent; after the lease lapses the cron sweep sends it once', async () => {
    let now = Date.now();
    const dead = { on: true };
    let h!: Harness;
    // The isolate stops before the fetch: the request never reaches the provider, and nothing settles.
    const dying: typeof fetch = (input, init) =>
      dead.on ? new Promise<Response>(() => undefined) : h.providers.fetch(input, init);
    h = harness({ ctx: true, fetch: dying, now: () => now });
    const email = `${uid('crash')}@example.com`;
    const svixId = uid('msg');
    expect((await clerkUserCreated(h, uid('user'), email, svixId, now)).status).toBe(200);
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'sending',
    });
    expect(h.queue.messages).toHaveLength(0);
    dead.on = false;
    now += LAPSED_MS;
    await h.runtime.scheduled(h.env);
    const swept = effectsFor(h.drain(), svixId);
    expect(swept).toHaveLength(1);
    await h.consume(swept);
    expect(emailsTo(h, email)).toHaveLength(1);
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'sent',
    });
  });

  it('the invocation dies after the send, before the settle: the sweep re-sends under the same key, and the provider sends once', async () => {
    let now = Date.now();
    const svixId = uid('msg');
    const h = harness({
      ctx: true,
      now: () => now,
      env: { DB: faultyDb(env.DB, () => svixId, /UPDATE effects SET status/) },
    });
    const email = `${uid('settle')}@example.com`;
    expect((await clerkUserCreated(h, uid('user'), email, svixId, now)).status).toBe(200);
    await h.settle();
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'sending',
    });
    now += LAPSED_MS;
    await h.runtime.scheduled({ ...h.env, DB: env.DB });
    const swept = effectsFor(h.drain(), svixId);
    expect(swept).toHaveLength(1);
    await h.consume(swept, { DB: env.DB });
    const calls = h.providers.to(/api\.resend\.com\/emails/).filter((r) => r.body.includes(email));
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1);
    expect(emailsTo(h, email)).toHaveLength(1);
    expect(await row("SELECT status FROM effects WHERE integration = 'clerk' AND event_id = ?", svixId)).toEqual({
      status: 'sent',
    });
  });

  it('the outbox send fails: an effects message delivers the fulfillment message once', async () => {
    const h = harness({ ctx: true });
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const id = uid('evt');
    h.fulfillment.failures = 1;
    expect(
      (
        await stripeEvent(
          h,
          'payment_intent.succeeded',
          { id: 'pi_2', customer: 'cus_2', metadata: { order_id: orderId } },
          id,
        )
      ).status,
    ).toBe(200);
    await h.settle();
    expect(h.fulfillment.messages).toHaveLength(0);
    const messages = effectsFor(h.drain(), id);
    expect(messages).toHaveLength(1);
    await h.consume(messages);
    expect(messages[0]!.acked).toBe(true);
    // A redelivered copy of that message sends nothing more.
    await h.consume(messages.map((m) => ({ ...m, attempts: 2 })));
    expect(h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_2' }]);
    expect(await row("SELECT count(*) AS n FROM outbox WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      n: 0,
    });
  });

  it('the outbox send and the effects message both fail: the cron sweep finds the unsent outbox row and delivers it once', async () => {
    let now = Date.now();
    const h = harness({ ctx: true, now: () => now });
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const id = uid('evt');
    h.fulfillment.failures = 1;
    h.queue.failures = 1;
    expect(
      (
        await stripeEvent(
          h,
          'payment_intent.succeeded',
          { id: 'pi_3', customer: 'cus_3', metadata: { order_id: orderId } },
          id,
          now,
        )
      ).status,
    ).toBe(200);
    await h.settle();
    expect(h.queue.messages).toHaveLength(0);
    expect(await row("SELECT count(*) AS n FROM outbox WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      n: 1,
    });
    now += LAPSED_MS;
    await h.runtime.scheduled(h.env);
    const swept = effectsFor(h.drain(), id);
    expect(swept).toHaveLength(1);
    await h.consume(swept);
    expect(h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_3' }]);
    expect(await row("SELECT count(*) AS n FROM outbox WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      n: 0,
    });
  });

  it('an outbox message that cannot be sent ends in one visible dead letter, and the cron stops re-sending it until that letter is replayed', async () => {
    let now = Date.now();
    const h = harness({ ctx: true, now: () => now });
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const id = uid('evt');
    // The fulfillment queue refuses every send (a binding gone, a queue deleted): nothing will get it out.
    h.fulfillment.failures = Number.POSITIVE_INFINITY;
    expect(
      (
        await stripeEvent(
          h,
          'payment_intent.succeeded',
          { id: 'pi_4', customer: 'cus_4', metadata: { order_id: orderId } },
          id,
          now,
        )
      ).status,
    ).toBe(200);
    await h.settle();
    const [retry] = effectsFor(h.drain(), id);
    // The effects message's last attempt: the delivery fails again and the event gets its dead letter.
    await h.consume([fakeMessage(retry!.body, 5)]);
    expect(
      await row(
        "SELECT reason FROM dead_letters WHERE integration = 'stripe' AND stage = 'consumer' AND event_id = ? AND replayed_at IS NULL",
        id,
      ),
    ).toEqual({ reason: 'delivery' });
    // Each later cron run finds the row still unsent, but its letter is open: no message per run, for ever.
    for (let run = 0; run < 3; run++) {
      now += LAPSED_MS;
      await h.runtime.scheduled(h.env);
      expect(effectsFor(h.drain(), id)).toHaveLength(0);
    }
    expect(await row("SELECT count(*) AS n FROM outbox WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      n: 1,
    });
    // Fixed and replayed: the message goes out once.
    h.fulfillment.failures = 0;
    const letter = await row<{ seq: number }>(
      "SELECT seq FROM dead_letters WHERE integration = 'stripe' AND stage = 'consumer' AND event_id = ?",
      id,
    );
    expect(
      (
        await h.request('/admin/api/dead-letters/replay', {
          method: 'POST',
          headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
          body: JSON.stringify({ seq: [letter!.seq] }),
        })
      ).status,
    ).toBe(200);
    await h.consume(h.drain());
    expect(h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_4' }]);
    expect(await row("SELECT count(*) AS n FROM outbox WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      n: 0,
    });
  });

  it('a second delivery of the same webhook while the first is still sending: a duplicate, and one email', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let h!: Harness;
    const slow: typeof fetch = async (input, init) => {
      await gate;
      return h.providers.fetch(input, init);
    };
    h = harness({ ctx: true, fetch: slow });
    const email = `${uid('twice')}@example.com`;
    const userId = uid('user');
    const svixId = uid('msg');
    const first = await clerkUserCreated(h, userId, email, svixId);
    expect(first.status).toBe(200);
    const second = await clerkUserCreated(h, userId, email, svixId);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: 'duplicate' });
    release();
    await h.settle();
    expect(h.queue.messages).toHaveLength(0);
    expect(emailsTo(h, email)).toHaveLength(1);
  });
});
