/**
 * The admin API's backfill and rows endpoints: synthetic events take a webhook's path after verification (same
 * projection, dedup, queue), marked with their origin; the batch is bounded; rows are read only from tables the
 * manifest's SQL writes.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { harness, uid } from '../support/harness.ts';

const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const subscription = (id: string, status: string, created: number) => ({
  body: {
    id: `backfill:${id}:${status}`,
    object: 'event',
    type: 'customer.subscription.updated',
    created,
    data: {
      object: {
        id,
        customer: 'cus_1',
        status,
        current_period_end: 1767225600,
        items: { data: [{ price: { id: 'price_1' } }] },
      },
    },
  },
});
const row = (id: string) =>
  env.DB.prepare('SELECT id, status, plan_id FROM subscriptions WHERE id = ?1').bind(id).first();
const origin = (id: string) =>
  env.DB.prepare("SELECT origin, status FROM events WHERE integration = 'stripe' AND id = ?1").bind(id).first();

describe('POST /admin/api/backfill/:integration', () => {
  it('applies synthetic events through the handlers without a signature, marked backfill, and writes the same event once', async () => {
    const h = harness();
    const id = uid('sub');
    const send = (events: unknown[], extra: Record<string, unknown> = {}) =>
      h.post('/admin/api/backfill/stripe', JSON.stringify({ events, ...extra }), admin);
    const first = await send([subscription(id, 'active', 1_700_000_000)]);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      integration: 'stripe',
      origin: 'backfill',
      counts: { applied: 1 },
      results: [{ id: `backfill:${id}:active`, status: 'applied' }],
    });
    expect(await row(id)).toEqual({ id, status: 'active', plan_id: 'price_1' });
    expect(await origin(`backfill:${id}:active`)).toEqual({ origin: 'backfill', status: 'applied' });
    expect(await (await send([subscription(id, 'active', 1_700_000_000)])).json()).toMatchObject({
      counts: { duplicate: 1 },
    });
    // An older state never overwrites a newer one; a repair is marked as such.
    await send([subscription(id, 'past_due', 1_600_000_000)]);
    expect(await row(id)).toMatchObject({ status: 'active' });
    expect(
      await (await send([subscription(id, 'canceled', 1_800_000_000)], { origin: 'repair' })).json(),
    ).toMatchObject({ origin: 'repair', counts: { applied: 1 } });
    expect(await row(id)).toMatchObject({ status: 'canceled' });
    expect(await origin(`backfill:${id}:canceled`)).toEqual({ origin: 'repair', status: 'applied' });
  });

  it('queues what is not SQL only, exactly like ingest, and the consumer applies it with its origin kept', async () => {
    const h = harness({ queued: true });
    const id = uid('sub');
    const answer = await (
      await h.post(
        '/admin/api/backfill/stripe',
        JSON.stringify({ events: [subscription(id, 'trialing', 1_700_000_000)] }),
        admin,
      )
    ).json();
    expect(answer).toMatchObject({ counts: { accepted: 1 } });
    expect(await origin(`backfill:${id}:trialing`)).toEqual({ origin: 'backfill', status: 'queued' });
    await h.consume(h.drain());
    expect(await row(id)).toMatchObject({ status: 'trialing' });
    expect(await origin(`backfill:${id}:trialing`)).toEqual({ origin: 'backfill', status: 'applied' });
  });

  it('refuses without the admin credential, over the batch bound, and answers an unusable event as rejected, storing nothing', async () => {
    const h = harness();
    const one = JSON.stringify({ events: [subscription(uid('sub'), 'active', 1)] });
    expect((await h.post('/admin/api/backfill/stripe', one)).status).toBe(401);
    expect((await h.post('/admin/api/backfill/nope', one, admin)).status).toBe(404);
    const eleven = Array.from({ length: 11 }, () => subscription(uid('sub'), 'active', 1));
    const over = await h.post('/admin/api/backfill/stripe', JSON.stringify({ events: eleven }), admin);
    expect(over.status).toBe(400);
    expect(await over.text()).toContain('1 to 10 events on the free plan');
    expect((await h.post('/admin/api/backfill/stripe', JSON.stringify({ events: [{ body: [] }] }), admin)).status).toBe(
      400,
    );
    expect(
      (
        await h.post(
          '/admin/api/backfill/stripe',
          JSON.stringify({ events: [subscription('x', 'a', 1)], origin: 'webhook' }),
          admin,
        )
      ).status,
    ).toBe(400);
    const before = await env.DB.prepare(
      'SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM dead_letters) AS n',
    ).first<{ n: number }>();
    const bad = await (
      await h.post(
        '/admin/api/backfill/stripe',
        JSON.stringify({ events: [{ body: { id: 'evt_no_type', data: {} } }] }),
        admin,
      )
    ).json();
    expect(bad).toMatchObject({
      counts: { rejected: 1 },
      results: [{ status: 'rejected', error: expect.stringContaining('type') }],
    });
    expect(
      await env.DB.prepare('SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM dead_letters) AS n').first<{
        n: number;
      }>(),
    ).toEqual(before);
  });
});

describe('POST /admin/api/rows', () => {
  it('reads projected rows by key or in key order within a scope, and only tables the manifest writes, only columns they have', async () => {
    const h = harness();
    const prefix = uid('rw');
    for (const n of [1, 2, 3])
      await env.DB.prepare("INSERT INTO subscriptions (id, customer_id, status) VALUES (?1, 'cus', 'active')")
        .bind(`${prefix}_${n}`)
        .run();
    const rows = async (query: Record<string, unknown>) => h.post('/admin/api/rows', JSON.stringify(query), admin);
    expect(
      await (await rows({ table: 'subscriptions', columns: ['status'], keys: [`${prefix}_2`, 'nope'] })).json(),
    ).toEqual({ rows: [{ id: `${prefix}_2`, status: 'active' }] });
    const page = (await (
      await rows({ table: 'subscriptions', columns: ['id'], key_like: `${prefix}%`, limit: 2 })
    ).json()) as { next: string };
    expect(page).toEqual({ rows: [{ id: `${prefix}_1` }, { id: `${prefix}_2` }], next: `${prefix}_2` });
    expect(
      await (
        await rows({ table: 'subscriptions', columns: ['id'], key_like: `${prefix}%`, limit: 2, after: page.next })
      ).json(),
    ).toEqual({ rows: [{ id: `${prefix}_3` }], next: null });
    const events = await rows({ table: 'events', columns: ['body'], keys: [] });
    expect(events.status).toBe(400);
    expect(await events.text()).toContain('not a table this manifest');
    expect((await rows({ table: 'subscriptions', columns: ['status; DROP TABLE users'] })).status).toBe(400);
    expect(
      (
        await rows({
          table: 'subscriptions',
          columns: ['status'],
          keys: Array.from({ length: 101 }, (_, i) => String(i)),
        })
      ).status,
    ).toBe(400);
    expect((await h.post('/admin/api/rows', JSON.stringify({ table: 'subscriptions', columns: ['id'] }))).status).toBe(
      401,
    );
  });
});
