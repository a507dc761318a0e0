/**
 * The free tier, measured with D1's exact counters: what one event costs end to end, that a duplicate costs no
 * write, that an SQL-only event applies in the request (and falls back to the queue when it cannot), and that the
 * bookkeeping that runs on a schedule or for the dashboard reads rows in proportion to its result, not the log.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { faultyDb, harness, uid, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token' };
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

async function signed(type: string, object: Record<string, unknown>, id = uid('evt')) {
  const body = JSON.stringify({ id, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object } });
  return {
    id,
    body,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
    },
  };
}

const post = (h: Harness, db: D1Database, e: { body: string; headers: Record<string, string> }) =>
  Promise.resolve(
    h.runtime.app.request(
      'https://switchyard.test/webhooks/stripe',
      { method: 'POST', body: e.body, headers: e.headers },
      { ...h.env, DB: db },
    ),
  );

describe('cost per event', () => {
  it('a Stripe subscription event applies in the request for 4 rows written and no queue operation; its duplicate writes nothing', async () => {
    const h = harness();
    const m = metered(env.DB);
    const sub = uid('sub');
    const e = await signed('customer.subscription.updated', {
      id: sub,
      customer: 'cus_1',
      status: 'active',
      current_period_end: 1_800_000_000,
      items: { data: [{ price: { id: 'price_1' } }] },
    });
    const res = await post(h, m.db, e);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'applied', id: e.id });
    expect(h.queue.messages).toHaveLength(0);
    expect(await row('SELECT status, plan_id FROM subscriptions WHERE id = ?', sub)).toEqual({
      status: 'active',
      plan_id: 'price_1',
    });
    expect(m.written).toBe(4); // the event's row, already applied, and its dedup key; the projection's row and its key

    m.reset();
    const again = await post(h, m.db, e);
    expect(await again.json()).toEqual({ status: 'duplicate', id: e.id });
    expect(m.written).toBe(0);
  });

  it('through the queue (an effect, or apply: queue) an event costs the same 5 rows written, and 1 message', async () => {
    const h = harness({ queued: true });
    const m = metered(env.DB);
    const e = await signed('customer.subscription.created', { id: uid('sub'), customer: 'c', status: 'active' });
    expect((await post(h, m.db, e)).status).toBe(202);
    const messages = h.drain();
    expect(messages).toHaveLength(1);
    await h.consume(messages, { DB: m.db });
    expect(messages[0]!.acked).toBe(true);
    expect(m.written).toBe(5);
  });

  it('an SQL-only event that fails to apply in the request goes through the queue, and loses nothing', async () => {
    const h = harness();
    const sub = uid('sub');
    const e = await signed('customer.subscription.created', { id: sub, customer: 'c', status: 'active' });
    // D1 is busy for this event's commit: the request queues it instead, and answers 202.
    const busy = faultyDb(
      env.DB,
      () => e.id,
      /INSERT INTO events \(integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, updated_at, steps, origin, caller\)/,
    );
    const res = await post(h, busy, e);
    expect(res.status).toBe(202);
    const messages = h.drain();
    expect(messages.map((m) => (m.body as { id: string }).id)).toEqual([e.id]);
    await h.consume(messages);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", e.id)).toEqual({
      status: 'applied',
    });
  });

  it('an event that cannot be mapped in the request is queued, and the consumer dead-letters it: kept, replayable', async () => {
    const h = harness();
    const e = await signed('customer.subscription.created', { customer: 'c', status: 'active' }); // no id: the upsert cannot map it
    const res = await post(h, env.DB, e);
    expect(res.status).toBe(202);
    await h.consume(h.drain());
    expect(await row("SELECT reason FROM dead_letters WHERE integration = 'stripe' AND event_id = ?", e.id)).toEqual({
      reason: 'mapping',
    });
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", e.id)).toEqual({
      status: 'dead_lettered',
    });
  });

  it('same-second updates applied in the request keep the later arrival: @version reads the sequence the insert assigned', async () => {
    const h = harness();
    const sub = uid('sub');
    const created = Math.floor(Date.now() / 1000);
    for (const status of ['active', 'past_due', 'canceled']) {
      const id = uid('evt');
      const body = JSON.stringify({
        id,
        object: 'event',
        type: 'customer.subscription.updated',
        created,
        data: { object: { id: sub, customer: 'c', status } },
      });
      expect(
        (
          await post(h, env.DB, {
            body,
            headers: {
              'content-type': 'application/json',
              'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
            },
          })
        ).status,
      ).toBe(200);
    }
    const stored = await row<{ status: string; version: string }>(
      'SELECT status, version FROM subscriptions WHERE id = ?',
      sub,
    );
    expect(stored!.status).toBe('canceled');
    expect(stored!.version).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#\d{16}$/);
  });
});

describe('bookkeeping that stays flat with the log (100,000 events)', () => {
  const N = 100_000;
  const NOW = Date.now();
  const DAY = 86_400_000;

  beforeAll(async () => {
    // 100 days of events in arrival order (as ingest writes them), a few hundred of them still needing attention,
    // and nothing else: the log is read by its sequence, which ingest keeps in time order.
    await env.DB.prepare('DELETE FROM events').run();
    await env.DB.prepare('DELETE FROM checkpoints').run();
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO events (integration, id, type, status, received_at, updated_at, body)
       SELECT CASE i % 3 WHEN 0 THEN 'stripe' WHEN 1 THEN 'clerk' ELSE 'paddle' END, 'bulk_' || i,
              CASE i % 7 WHEN 0 THEN 'invoice.paid' ELSE 'customer.subscription.updated' END,
              CASE WHEN i % 500 = 0 THEN 'dead_lettered' WHEN i % 997 = 0 THEN 'retrying' ELSE 'applied' END,
              strftime('%Y-%m-%dT%H:%M:%fZ', (?2 - (?1 - i) * ?3) / 1000.0, 'unixepoch'),
              strftime('%Y-%m-%dT%H:%M:%fZ', (?2 - (?1 - i) * ?3) / 1000.0, 'unixepoch'),
              '{"bulk":true}'
       FROM n`,
    )
      .bind(N, NOW, Math.floor((100 * DAY) / N))
      .run();
    for (let i = 0; i < 50; i++) {
      await env.DB.prepare(
        "INSERT INTO dead_letters (integration, stage, event_id, reason, attempts, first_failed_at, last_failed_at) VALUES ('stripe', 'consumer', ?1, 'test', 1, ?2, ?2)",
      )
        .bind(`bulk_dl_${i}`, new Date(NOW).toISOString())
        .run();
    }
  });

  const budget = async (h: Harness, path: string, max: number) => {
    const m = metered(env.DB);
    const res = await h.runtime.app.request(
      `https://switchyard.test${path}`,
      { headers: ADMIN },
      { ...h.env, DB: m.db },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    expect(
      m.read,
      `${path} read ${m.read} rows: ${JSON.stringify([...m.statements].sort((a, b) => b.read - a.read).slice(0, 3))}`,
    ).toBeLessThanOrEqual(max);
    return { read: m.read, body: await res.json() };
  };

  it('the cron (sweep, retention, alerts) reads a bounded number of rows while it catches up, and a few hundred once it has', async () => {
    const h = harness({ now: () => NOW });
    const m = metered(env.DB);
    const dearest = () => JSON.stringify([...m.statements].sort((a, b) => b.read - a.read).slice(0, 3));
    await h.runtime.scheduled({ ...h.env, DB: m.db });
    // The first run walks from the start of the log: bounded by its batch sizes, not by the 100,000 rows.
    expect(m.read, dearest()).toBeLessThanOrEqual(25_000);
    let runs = 1;
    while (m.read > 1_000 && runs < 80) {
      m.reset();
      await h.runtime.scheduled({ ...h.env, DB: m.db });
      runs++;
      expect(m.read, dearest()).toBeLessThanOrEqual(25_000);
    }
    // Caught up (bodies past 30 days pruned, rows past 90 days deleted, the sweep at the head of the log): a run
    // now reads about what arrived since the last one, whatever the log's size.
    m.reset();
    await h.runtime.scheduled({ ...h.env, DB: m.db });
    expect(m.read, dearest()).toBeLessThanOrEqual(1_000);
    // Everything past 90 days is gone but the events still waiting for an outcome, which are never pruned.
    // (The sweep queued the retrying ones again: they wait as `replayed`.)
    expect(
      await row(
        "SELECT count(*) AS n FROM events WHERE id LIKE 'bulk_%' AND received_at < ? AND status NOT IN ('retrying', 'replayed')",
        new Date(NOW - 90 * DAY).toISOString(),
      ),
    ).toEqual({ n: 0 });
    // Bodies past 30 days are gone too, but those of events still waiting (a retry or a replay reads the body).
    expect(
      await row(
        "SELECT count(*) AS n FROM events WHERE id LIKE 'bulk_%' AND body IS NOT NULL AND received_at < ? AND status NOT IN ('retrying', 'replayed')",
        new Date(NOW - 30 * DAY).toISOString(),
      ),
    ).toEqual({ n: 0 });
  }, 60_000);

  it('/health, the event filters and the dead-letter list each read a bounded number of rows', async () => {
    const h = harness({ now: () => NOW });
    await budget(h, '/admin/api/health', 2_000);
    await budget(h, '/admin/api/events?limit=50', 200);
    const filtered = await budget(h, '/admin/api/events?integration=stripe&type=invoice.paid&limit=50', 2_200);
    expect((filtered.body as { events: unknown[] }).events.length).toBeGreaterThan(0);
    const retrying = await budget(h, '/admin/api/events?status=retrying&limit=50', 200);
    expect((retrying.body as { events: { status: string }[] }).events.every((e) => e.status === 'retrying')).toBe(true);
    await budget(h, '/admin/api/events?status=dead_lettered&integration=paddle&limit=20', 1_000);
    await budget(h, '/admin/api/dead-letters', 500);
    await budget(h, '/admin/api/usage', 500);
  });
});
