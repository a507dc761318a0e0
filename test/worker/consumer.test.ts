/** The consumer's guarantees: applied once, ordering guards, isolation of failures, retries, dead letters, replay. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { createConsumer } from '../../runtime/consumer/consumer.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest, Step } from '../../runtime/manifest/types.gen.ts';
import { defaultManifest, fakeMessage, faultyDb, harness, QUEUE_NAMES, uid } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

const stripeEnvelope = (
  type: string,
  object: Record<string, unknown>,
  occurredAt = '2024-01-01T00:00:00.000Z',
  id = uid('evt'),
): Envelope => ({
  integration: 'stripe',
  id,
  type,
  occurred_at: occurredAt,
  received_at: new Date().toISOString(),
  payload: { id, type, data: { object } },
});

/** A manifest of one integration whose handler is these steps (on every event type). */
function manifestWith(steps: [Step, ...Step[]], retry: Record<string, unknown> = {}): Manifest {
  const base = structuredClone(defaultManifest);
  base.integrations = { stripe: { ...base.integrations.stripe!, retry, handlers: [{ on: '*', steps: steps }] } };
  return base;
}

describe('consumer', () => {
  it('applies a message delivered 3 times exactly once', async () => {
    const h = harness({ queued: true });
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const envelope = stripeEnvelope('payment_intent.succeeded', {
      id: 'pi_3x',
      customer: 'cus_3',
      metadata: { order_id: orderId },
    });
    for (let i = 1; i <= 3; i++) {
      const m = fakeMessage(envelope, i);
      await h.consume([m]);
      expect(m.acked).toBe(true);
    }
    expect(h.fulfillment.messages).toHaveLength(1);
    expect(h.events.filter((e) => e.kind === 'event.applied')).toHaveLength(1);
    expect(h.events.filter((e) => e.kind === 'event.duplicate')).toHaveLength(2);
    expect(
      await row(
        "SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
        envelope.id,
      ),
    ).toEqual({ n: 1 });
  });

  it('commits when used on its own, without a platform-usage counter (as the benchmark uses it)', async () => {
    const consume = createConsumer({
      compiled: compileManifest(defaultManifest, defaultRegistry),
      emit: () => undefined,
    });
    const sub = uid('sub');
    const m = fakeMessage(
      stripeEnvelope('customer.subscription.created', { id: sub, customer: 'c', status: 'active' }),
    );
    await consume([m], env);
    expect(m.acked).toBe(true);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
  });

  it('commits a batch of 100 messages in one transaction: one round trip, no lookup before it', async () => {
    const h = harness({ queued: true });
    // Counts the consumer's D1 round trips; the platform-usage flush (at most every 10 s) is not the consumer's.
    let batches = 0;
    const usageFlush = new WeakSet<object>();
    const counting = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'prepare') {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.startsWith('INSERT INTO usage')) return statement;
            return new Proxy(statement, {
              get(t, p) {
                if (p === 'bind')
                  return (...params: unknown[]) => {
                    const bound = t.bind(...params);
                    usageFlush.add(bound);
                    return bound;
                  };
                const value = Reflect.get(t, p, t);
                return typeof value === 'function' ? value.bind(t) : value;
              },
            });
          };
        }
        if (prop === 'batch')
          return (statements: D1PreparedStatement[]) => (
            statements.every((st) => usageFlush.has(st)) || batches++, target.batch(statements)
          );
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const messages = Array.from({ length: 100 }, (_, i) =>
      fakeMessage(
        stripeEnvelope('customer.subscription.created', { id: uid(`sub${i}`), customer: 'c', status: 'active' }),
      ),
    );
    await h.consume(messages, { DB: counting });
    expect(messages.every((m) => m.acked)).toBe(true);
    expect(batches).toBe(1);
    expect(h.events.filter((e) => e.kind === 'consumer.batch_fallback')).toEqual([]);
    expect(h.events.filter((e) => e.kind === 'event.applied')).toHaveLength(100);
  });

  it('keeps the newer state when an older event arrives after a newer one (same-second ties by event id)', async () => {
    const h = harness({ queued: true });
    const sub = uid('sub');
    const newer = stripeEnvelope(
      'customer.subscription.updated',
      { id: sub, customer: 'c', status: 'past_due' },
      '2024-01-01T00:00:10.000Z',
      'evt_b',
    );
    const older = stripeEnvelope(
      'customer.subscription.updated',
      { id: sub, customer: 'c', status: 'active' },
      '2024-01-01T00:00:05.000Z',
      'evt_a_older',
    );
    await h.consume([fakeMessage(newer)]);
    await h.consume([fakeMessage(older)]);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'past_due' });
    // The same second: the larger event id wins, whichever order they arrive in.
    const tieA = stripeEnvelope(
      'customer.subscription.updated',
      { id: sub, customer: 'c', status: 'unpaid' },
      '2024-01-01T00:00:20.000Z',
      'evt_tie_a',
    );
    const tieB = stripeEnvelope(
      'customer.subscription.updated',
      { id: sub, customer: 'c', status: 'active' },
      '2024-01-01T00:00:20.000Z',
      'evt_tie_b',
    );
    await h.consume([fakeMessage(tieB)]);
    await h.consume([fakeMessage(tieA)]);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
    // A deletion that arrives before the creation is not undone by it.
    const late = uid('sub');
    await h.consume([
      fakeMessage(
        stripeEnvelope('customer.subscription.deleted', { id: late, customer: 'c' }, '2024-01-02T00:00:00.000Z'),
      ),
    ]);
    await h.consume([
      fakeMessage(
        stripeEnvelope(
          'customer.subscription.created',
          { id: late, customer: 'c', status: 'active' },
          '2024-01-01T00:00:00.000Z',
        ),
      ),
    ]);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', late)).toEqual({ status: 'canceled' });
  });

  it('in a batch of 10 where message 8 fails, applies the other 9 once and retries only 8', async () => {
    const h = harness({ queued: true });
    const envelopes = Array.from({ length: 10 }, (_, i) =>
      stripeEnvelope(
        'customer.subscription.created',
        { id: uid(`sub${i + 1}`), customer: 'c', status: 'active' },
        undefined,
        uid(`evt${i + 1}`),
      ),
    );
    const messages = envelopes.map((e) => fakeMessage(e));
    const eighth = envelopes[7]!.id;
    await h.consume(messages, { DB: faultyDb(env.DB, () => eighth) });
    expect(messages.map((m) => m.acked)).toEqual([true, true, true, true, true, true, true, false, true, true]);
    expect(messages[7]!.retried).toEqual({ delaySeconds: 30 });
    for (const [i, e] of envelopes.entries()) {
      expect(
        await row(
          "SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
          e.id,
        ),
      ).toEqual({ n: i === 7 ? 0 : 1 });
    }
    // Its retry, with D1 healthy again, applies it; the others are not applied again.
    const again = messages.map((_m, i) => fakeMessage(envelopes[i], i === 7 ? 2 : 1));
    await h.consume(again);
    expect(again.every((m) => m.acked)).toBe(true);
    expect(h.events.filter((e) => e.kind === 'event.applied')).toHaveLength(10);
  });

  it('rolls back the first statement when the second fails, and dead-letters a constraint failure without retrying', async () => {
    const sid = uid('SM');
    await env.DB.prepare("INSERT INTO sms_logs (sid, status) VALUES (?, 'sent')").bind(sid).run();
    const orderId = uid('ord');
    const compiled = compileManifest(
      manifestWith([
        { sql: "INSERT INTO orders (id, status) VALUES (:id, 'paid')", params: { id: 'data.object.order' } },
        { sql: "INSERT INTO sms_logs (sid, status) VALUES (:sid, 'x')", params: { sid: 'data.object.sid' } },
      ]),
      defaultRegistry,
    );
    const h = harness({ compiled });
    const m = fakeMessage(stripeEnvelope('anything', { order: orderId, sid }));
    await h.consume([m]);
    expect(await row('SELECT id FROM orders WHERE id = ?', orderId)).toBeNull();
    expect(m.acked).toBe(true);
    expect(m.retried).toBeUndefined();
    const letter = await row<{ reason: string; error: string; attempts: number }>(
      "SELECT reason, error, attempts FROM dead_letters WHERE stage = 'consumer' AND event_id = ?",
      (m.body as Envelope).id,
    );
    expect(letter).toMatchObject({ reason: 'sql', attempts: 1 });
    expect(letter!.error).toContain('UNIQUE constraint failed: sms_logs.sid');
  });

  it('dead-letters a mapping error at once: a permanent error burns no retries', async () => {
    const h = harness({ queued: true });
    const m = fakeMessage(stripeEnvelope('payment_intent.succeeded', { id: 'pi_no_order' }));
    await h.consume([m]);
    expect(m.acked).toBe(true);
    expect(m.retried).toBeUndefined();
    expect(await row('SELECT reason, error FROM dead_letters WHERE event_id = ?', (m.body as Envelope).id)).toEqual({
      reason: 'mapping',
      error: 'MappingError: path data.object.metadata.order_id is missing from the event',
    });
  });

  it('retries transient failures with the policy, then dead-letters with the payload byte-identical; replay applies once', async () => {
    const h = harness({ queued: true });
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const body = JSON.stringify({
      id: uid('evt'),
      object: 'event',
      type: 'payment_intent.succeeded',
      created: 1_700_000_000,
      data: {
        object: { id: 'pi_dl', customer: 'cus_dl', metadata: { order_id: orderId }, note: 'ü ✓ "quoted"  spaced' },
      },
    });
    const res = await h.post('/webhooks/stripe', body, {
      'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
    });
    expect(res.status).toBe(202);
    const [queued] = h.drain();
    const id = (queued!.body as Envelope).id;
    const broken = { DB: faultyDb(env.DB, () => id) };

    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const m = fakeMessage(queued!.body, attempt);
      await h.consume([m], broken);
      expect(m.acked).toBe(false);
      delays.push(m.retried?.delaySeconds);
    }
    expect(delays).toEqual([30, 60, 120, 240]);
    expect(await row("SELECT status, attempts, error FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual(
      { status: 'retrying', attempts: 4, error: 'Error: D1_ERROR: database is locked: SQLITE_BUSY' },
    );

    const last = fakeMessage(queued!.body, 5);
    await h.consume([last], broken);
    expect(last.acked).toBe(true);
    const letter = await row<{ seq: number; raw_body: string; envelope: string; attempts: number; reason: string }>(
      "SELECT seq, raw_body, envelope, attempts, reason FROM dead_letters WHERE stage = 'consumer' AND event_id = ?",
      id,
    );
    expect(letter!.raw_body).toBe(body);
    expect(JSON.parse(letter!.envelope)).toEqual(queued!.body);
    expect(letter).toMatchObject({ attempts: 5, reason: 'transient' });
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'dead_lettered',
    });
    expect(h.fulfillment.messages).toHaveLength(0);

    // The fault is fixed: replay through the admin API, consume, and it applies exactly once.
    const replay = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(await replay.json()).toEqual({
      replayed: [{ seq: letter!.seq, integration: 'stripe', event_id: id, stage: 'consumer' }],
      skipped: [],
    });
    expect(await row('SELECT replayed_at IS NOT NULL AS done FROM dead_letters WHERE seq = ?', letter!.seq)).toEqual({
      done: 1,
    });
    const replayed = h.drain();
    expect(replayed).toHaveLength(1);
    await h.consume(replayed);
    await h.consume([fakeMessage(replayed[0]!.body)]);
    expect(await row('SELECT status, payment_intent_id FROM orders WHERE id = ?', orderId)).toEqual({
      status: 'paid',
      payment_intent_id: 'pi_dl',
    });
    expect(h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_dl' }]);
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'applied',
    });
    // A second replay finds nothing left to replay, and says so.
    const again = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(await again.json()).toEqual({
      replayed: [],
      skipped: [{ seq: letter!.seq, integration: 'stripe', reason: expect.stringMatching(/^already replayed at /) }],
    });
  });

  it('a redelivery of an applied event that now fails (a manifest change) stays applied, and its replay applies nothing twice', async () => {
    const h = harness({ queued: true });
    const sub = uid('sub');
    const envelope = stripeEnvelope('customer.subscription.updated', { id: sub, customer: 'c', status: 'active' });
    await h.consume([fakeMessage(envelope)]);
    await env.DB.prepare("UPDATE subscriptions SET status = 'changed_by_app' WHERE id = ?").bind(sub).run();
    // The handler now reads a path this event lacks: the redelivery fails to map.
    const broken = harness({
      compiled: compileManifest(
        manifestWith([
          {
            sql: 'UPDATE subscriptions SET status = :s WHERE id = :id',
            params: { s: 'data.object.missing', id: 'data.object.id' },
          },
        ]),
        defaultRegistry,
      ),
    });
    const again = fakeMessage(envelope, 2);
    await broken.consume([again]);
    expect(again.acked).toBe(true);
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", envelope.id)).toEqual({
      status: 'applied',
    });
    const letter = await row<{ seq: number }>(
      "SELECT seq FROM dead_letters WHERE stage = 'consumer' AND event_id = ?",
      envelope.id,
    );
    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    await h.consume(h.drain());
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'changed_by_app' });
    expect(h.events.filter((e) => e.kind === 'event.applied')).toHaveLength(1);
  });

  it('sends nothing from the outbox when the message fails to apply', async () => {
    const compiled = compileManifest(
      manifestWith([
        { enqueue: 'fulfillment', body: { orderId: 'data.object.order' } },
        { sql: 'INSERT INTO orders (id) VALUES (:id)', params: { id: 'data.object.missing' } },
      ]),
      defaultRegistry,
    );
    const h = harness({ compiled });
    await h.consume([fakeMessage(stripeEnvelope('x', { order: 'o1' }))]);
    expect(h.fulfillment.messages).toHaveLength(0);
  });

  it('re-sends an outbox the send failed for, on the retry, without applying again', async () => {
    const h = harness({ queued: true });
    const orderId = uid('ord');
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(orderId).run();
    const envelope = stripeEnvelope('payment_intent.succeeded', {
      id: 'pi_ob',
      customer: 'cus_ob',
      metadata: { order_id: orderId },
    });
    h.fulfillment.failures = 1;
    const first = fakeMessage(envelope);
    await h.consume([first]);
    expect(first.acked).toBe(false);
    expect(first.retried).toBeDefined();
    expect(await row('SELECT status FROM orders WHERE id = ?', orderId)).toEqual({ status: 'paid' });
    const second = fakeMessage(envelope, 2);
    await h.consume([second]);
    expect(second.acked).toBe(true);
    expect(h.fulfillment.messages).toEqual([{ orderId, customerId: 'cus_ob' }]);
    expect(h.events.filter((e) => e.kind === 'event.applied')).toHaveLength(1);
  });

  it('records what Queues gave up on (the dead-letter queue) in dead_letters', async () => {
    const h = harness({ queued: true });
    const envelope = stripeEnvelope('invoice.paid', { id: 'in_1' });
    const m = fakeMessage(envelope, 11);
    await h.runtime.queue({ queue: QUEUE_NAMES.EVENTS_DLQ, messages: [m] }, h.env);
    expect(m.acked).toBe(true);
    expect(
      await row("SELECT reason, attempts FROM dead_letters WHERE stage = 'consumer' AND event_id = ?", envelope.id),
    ).toEqual({ reason: 'platform_retries_exhausted', attempts: 11 });
  });

  it('replays an ingest dead letter after the manifest is fixed', async () => {
    const broken = structuredClone(defaultManifest);
    broken.integrations.stripe!.event!.type = 'kind';
    const before = harness({ compiled: compileManifest(broken, defaultRegistry) });
    const body = JSON.stringify({
      id: uid('evt'),
      type: 'charge.succeeded',
      created: 1_700_000_000,
      data: { object: {} },
    });
    expect(
      (
        await before.post('/webhooks/stripe', body, {
          'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
        })
      ).status,
    ).toBe(400);
    const after = harness({ queued: true });
    const res = await after.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
      body: JSON.stringify({ integration: 'stripe' }),
    });
    const result = (await res.json()) as { replayed: { event_id: string; stage: string }[] };
    expect(result.replayed).toContainEqual(expect.objectContaining({ event_id: JSON.parse(body).id, stage: 'ingest' }));
    const [message] = after.drain().filter((m) => (m.body as Envelope).id === JSON.parse(body).id);
    expect(message!.body).toMatchObject({ type: 'charge.succeeded', payload: JSON.parse(body) });
  });
});

describe('replay by event query', () => {
  it('re-queues events not yet applied from their stored bodies, and refuses to replay applied ones', async () => {
    const h = harness({ queued: true });
    const id = uid('evt');
    const body = JSON.stringify({
      id,
      type: 'customer.subscription.created',
      created: 1_700_000_000,
      data: { object: { id: uid('sub'), customer: 'c', status: 'active' } },
    });
    expect(
      (
        await h.post('/webhooks/stripe', body, {
          'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
        })
      ).status,
    ).toBe(202);
    h.drain();
    // The message was lost (say): the event stays queued; a query finds and re-queues it.
    const headers = { authorization: 'Bearer test-admin-token' };
    const res = await h.request('/admin/api/events/replay', {
      method: 'POST',
      headers,
      body: JSON.stringify({ integration: 'stripe', status: 'queued', type: 'customer.subscription.created' }),
    });
    const result = (await res.json()) as { replayed: { event_id: string }[] };
    expect(result.replayed.map((r) => r.event_id)).toContain(id);
    const again = h.drain().filter((m) => (m.body as Envelope).id === id);
    expect(again).toHaveLength(1);
    expect(again[0]!.body).toMatchObject({ id, payload: JSON.parse(body) });
    await h.consume(again);
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'applied',
    });
    expect(
      (
        await h.request('/admin/api/events/replay', {
          method: 'POST',
          headers,
          body: JSON.stringify({ status: 'applied' }),
        })
      ).status,
    ).toBe(400);
  });
});

describe('admin API', () => {
  it('refuses anonymous and wrong-token requests, and is closed when no token is configured', async () => {
    const h = harness({ queued: true });
    const anonymous = await h.request('/admin/api/dead-letters');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect((await h.request('/admin/api/dead-letters', { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
    const { admin: _admin, ...withoutAdminAuth } = defaultManifest;
    const closed = harness({
      env: { ADMIN_TOKEN: undefined },
      compiled: compileManifest(withoutAdminAuth as Manifest, defaultRegistry),
    });
    expect(
      (await closed.request('/admin/api/dead-letters', { headers: { authorization: 'Bearer test-admin-token' } }))
        .status,
    ).toBe(403);
    const ok = await h.request('/admin/api/dead-letters', { headers: { authorization: 'Bearer test-admin-token' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toHaveProperty('dead_letters');
  });
});
