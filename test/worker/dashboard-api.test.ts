/**
 * The admin API behind the dashboard's failure views: a dead letter opened whole and dismissed (kept in the log),
 * a bulk replay previewed, one event replayed by its id, search by id and by a value in the payload (bounded),
 * an event's origin (backfill, repair) shown and filtered, and the favicon.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { countOpen, LIST_SCAN } from '../../runtime/store/index.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Handler } from '../../runtime/manifest/types.gen.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { builtInputs, defaultManifest, harness, uid } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const NOW = Date.parse('2026-06-01T00:00:00.000Z');
const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const at = new Date(NOW - 60_000).toISOString();

async function letter(
  integration: string,
  stage: string,
  eventId: string,
  extra: { error?: string; raw_body?: string; headers?: string; envelope?: string } = {},
): Promise<number> {
  const row = await env.DB.prepare(
    `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, raw_body, content_type, headers, attempts, first_failed_at, last_failed_at)
     VALUES (?1, ?2, ?3, 'unmappable', ?4, ?5, ?6, 'application/json', ?7, 2, ?8, ?9) RETURNING seq`,
  )
    .bind(
      integration,
      stage,
      eventId,
      extra.error ?? 'boom',
      extra.envelope ?? null,
      extra.raw_body ?? null,
      extra.headers ?? null,
      at,
      new Date(NOW - 1000).toISOString(),
    )
    .first<{ seq: number }>();
  return row!.seq;
}

async function event(integration: string, id: string, status: string, body: string) {
  await env.DB.prepare(
    'INSERT INTO events (integration, id, type, status, received_at, body, updated_at, attempts, error, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, 1, NULL, NULL)',
  )
    .bind(integration, id, 'invoice.payment_failed', status, at, body)
    .run();
}

describe('dead-letter detail and dismiss', () => {
  it('shows the full error and the raw body and headers; a dismissed letter leaves the open list and count and stays in the log', async () => {
    const h = harness({ now: () => NOW });
    const long = `${'x'.repeat(500)} the end of a long error`;
    const integration = uid('dl');
    const seq = await letter(integration, 'ingest', 'key_1', {
      error: long,
      raw_body: '{"hello":"world"}',
      headers: JSON.stringify({ 'x-event': 'ping' }),
    });
    const other = await letter(integration, 'consumer', 'evt_2');

    const detail = await (await h.request(`/admin/api/dead-letters/${seq}`, { headers: admin })).json();
    expect(detail).toMatchObject({
      dead_letter: {
        seq,
        error: long,
        raw_body: '{"hello":"world"}',
        headers: { 'x-event': 'ping' },
        content_type: 'application/json',
        dismissed_at: null,
      },
    });
    expect((await h.request('/admin/api/dead-letters/999999', { headers: admin })).status).toBe(404);

    expect(await countOpen(env.DB, integration)).toBe(2);
    const dismissed = await h.request(`/admin/api/dead-letters/${seq}/dismiss`, { method: 'POST', headers: admin });
    expect(dismissed.status).toBe(200);
    expect(await dismissed.json()).toEqual({ seq, dismissed_at: new Date(NOW).toISOString() });
    // Once only: a second dismiss says why.
    expect((await h.request(`/admin/api/dead-letters/${seq}/dismiss`, { method: 'POST', headers: admin })).status).toBe(
      409,
    );
    expect(await countOpen(env.DB, integration)).toBe(1);

    const list = async (view: string) =>
      (
        (await (
          await h.request(`/admin/api/dead-letters?integration=${integration}${view}`, { headers: admin })
        ).json()) as { dead_letters: { seq: number; dismissed_by: string | null }[] }
      ).dead_letters;
    expect((await list('')).map((d) => d.seq)).toEqual([other]);
    expect(await list('&view=dismissed')).toEqual([expect.objectContaining({ seq, dismissed_by: 'ADMIN_TOKEN' })]);
    expect((await list('&view=all')).map((d) => d.seq)).toEqual([other, seq]);

    // Replaying it now says why it was skipped.
    const replay = await (
      await h.request('/admin/api/dead-letters/replay', {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ seq: [seq, 999999] }),
      })
    ).json();
    expect(replay).toEqual({
      replayed: [],
      skipped: [
        { seq, integration, reason: expect.stringContaining('dismissed at') },
        expect.objectContaining({ seq: 999999, reason: 'no dead letter 999999' }),
      ],
    });
  });

  it('previews a bulk replay (count, integrations, stages) and changes nothing', async () => {
    const h = harness({ now: () => NOW });
    const a = uid('pa');
    await letter(a, 'consumer', 'evt_a1', { envelope: '{}' });
    await letter(a, 'effect', 'evt_a2#1:0');
    const res = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ integration: a, dry_run: true }),
    });
    expect(await res.json()).toMatchObject({
      dry_run: true,
      count: 2,
      truncated: false,
      integrations: { [a]: 2 },
      stages: { consumer: 1, effect: 1 },
      letters: [{ event_id: 'evt_a1' }, { event_id: 'evt_a2#1:0' }],
    });
    expect(await countOpen(env.DB, a)).toBe(2);
    expect(h.queue.messages).toEqual([]);
  });
});

describe('one event replayed by id', () => {
  it('replays a retrying event through its key, and says why an applied one is skipped', async () => {
    const h = harness({ now: () => NOW });
    const id = uid('evt');
    await event(
      'stripe',
      id,
      'retrying',
      JSON.stringify({ id, type: 'invoice.payment_failed', created: 1, data: { object: { customer_email: 'a@b.c' } } }),
    );
    const replay = (body: unknown) =>
      h
        .request('/admin/api/events/replay', { method: 'POST', headers: admin, body: JSON.stringify(body) })
        .then((r) => r.json());
    expect(await replay({ integration: 'stripe', id })).toMatchObject({
      replayed: [{ integration: 'stripe', event_id: id }],
      skipped: [],
    });
    expect(h.queue.messages).toEqual([expect.objectContaining({ id, integration: 'stripe' })]);

    const done = uid('evt');
    await event('stripe', done, 'applied', '{}');
    expect(await replay({ integration: 'stripe', id: done })).toEqual({
      replayed: [],
      skipped: [expect.objectContaining({ reason: expect.stringContaining('is applied') })],
    });
    expect(await replay({ integration: 'stripe', id: 'evt_nosuch' })).toEqual({
      replayed: [],
      skipped: [expect.objectContaining({ reason: 'no event stripe/evt_nosuch' })],
    });
  });
});

describe('search', () => {
  it('finds an event by exact id, with or without its integration', async () => {
    const h = harness({ now: () => NOW });
    const id = uid('evt_find');
    await event('resend', id, 'applied', '{}');
    const find = async (query: string) =>
      (
        (await (await h.request(`/admin/api/events?${query}`, { headers: admin })).json()) as {
          events: { id: string; integration: string }[];
        }
      ).events;
    expect(await find(`id=${id}`)).toEqual([expect.objectContaining({ id, integration: 'resend' })]);
    expect(await find(`id=${id}&integration=resend`)).toEqual([expect.objectContaining({ id })]);
    expect(await find(`id=${id}&integration=stripe`)).toEqual([]);
  });

  it('finds events by a value in the payload, scanning at most LIST_SCAN rows a call, and goes on by the cursor', async () => {
    const h = harness({ now: () => NOW });
    const needle = uid('cus');
    const id = uid('evt_needle');
    await event('stripe', id, 'applied', JSON.stringify({ data: { object: { customer: needle } } }));
    // Newer events than the match, more than one scan holds.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO events (integration, id, type, status, received_at, body, updated_at) SELECT 'stripe', ?2 || i, 't', 'applied', ?3, '{}', ?3 FROM n`,
    )
      .bind(LIST_SCAN + 5, uid('filler'), at)
      .run();
    const search = async (query: string) =>
      (await (await h.request(`/admin/api/events?${query}`, { headers: admin })).json()) as {
        events: { id: string }[];
        next_cursor: string | null;
        scan_limit: number;
      };
    const first = await search(`q=${needle}`);
    expect(first).toMatchObject({ events: [], scan_limit: LIST_SCAN });
    expect(first.next_cursor).not.toBeNull();
    const second = await search(`q=${needle}&cursor=${first.next_cursor}`);
    expect(second.events.map((e) => e.id)).toEqual([id]);
  });
});

describe('origin', () => {
  it('a backfilled event carries its origin in the list and the detail, and the list filters by it', async () => {
    const h = harness();
    const sub = uid('sub');
    const created = Math.floor(Date.now() / 1000);
    const backfilled = {
      body: {
        id: `backfill:${sub}`,
        object: 'event',
        type: 'customer.subscription.updated',
        created,
        data: {
          object: {
            id: sub,
            customer: 'cus_1',
            status: 'active',
            current_period_end: created + 86_400,
            items: { data: [{ price: { id: 'price_1' } }] },
          },
        },
      },
    };
    expect((await h.post('/admin/api/backfill/stripe', JSON.stringify({ events: [backfilled] }), admin)).status).toBe(
      200,
    );
    const delivered = uid('evt_webhook');
    await event('stripe', delivered, 'applied', '{}');
    const list = async (query: string) =>
      (await (await h.request(`/admin/api/events?${query}`, { headers: admin })).json()) as {
        events: { id: string; origin: string | null }[];
      };
    const all = (await list('integration=stripe')).events;
    expect(all.find((e) => e.id === `backfill:${sub}`)).toMatchObject({ origin: 'backfill' });
    expect(all.find((e) => e.id === delivered)).toMatchObject({ origin: null });
    const only = (await list('integration=stripe&origin=backfill')).events.map((e) => e.id);
    expect(only).toContain(`backfill:${sub}`);
    expect(only).not.toContain(delivered);
    expect((await list('origin=repair')).events.map((e) => e.id)).not.toContain(`backfill:${sub}`);
    expect((await h.request('/admin/api/events?origin=webhook', { headers: admin })).status).toBe(400);
    const detail = (await (
      await h.request(`/admin/api/events/stripe/${encodeURIComponent(`backfill:${sub}`)}`, { headers: admin })
    ).json()) as { event: { origin: string } };
    expect(detail.event.origin).toBe('backfill');
  });
});

describe('skipped events', () => {
  it('are listed and filtered as skipped, their detail says which condition decided, and health counts them accepted, not failed', async () => {
    const m = structuredClone(defaultManifest);
    const n = m.integrations.stripe!.handlers!.length;
    m.integrations.stripe!.handlers!.push({
      on: 'test.checkout.completed',
      if: { path: 'data.object.mode', eq: 'payment' },
      steps: [{ sql: "INSERT INTO orders (id, status) VALUES (:id, 'paid')", params: { id: 'data.object.id' } }],
    } as unknown as Handler);
    const now = Date.parse('2026-06-02T10:00:00.000Z');
    const h = harness({ compiled: compileManifest(m, defaultRegistry, builtInputs()), now: () => now });
    const send = async (id: string, mode: string) => {
      const body = JSON.stringify({
        id,
        object: 'event',
        type: 'test.checkout.completed',
        created: now / 1000,
        data: { object: { id: uid('ord'), mode } },
      });
      return (
        await h.post('/webhooks/stripe', body, {
          'stripe-signature': await stripeSignature(env.TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body, now / 1000),
        })
      ).json();
    };
    // Health reads D1 (what earlier tests of this file recorded too): these two events add to it.
    const hourOf = async () =>
      (
        (await (await h.request('/admin/api/health', { headers: admin })).json()) as {
          integrations: Record<string, { hour: { accepted: number; failed: number } }>;
        }
      ).integrations.stripe!.hour;
    const before = await hourOf();
    const skipped = uid('evt_skip');
    const applied = uid('evt_pay');
    expect(await send(skipped, 'subscription')).toEqual({ status: 'skipped', id: skipped });
    expect(await send(applied, 'payment')).toEqual({ status: 'applied', id: applied });
    const list = async (query: string) =>
      (
        (await (await h.request(`/admin/api/events?${query}`, { headers: admin })).json()) as {
          events: { id: string; status: string }[];
        }
      ).events;
    expect((await list('integration=stripe&status=skipped')).map((e) => e.id)).toContain(skipped);
    expect((await list('integration=stripe&status=skipped')).map((e) => e.id)).not.toContain(applied);
    const detail = (await (await h.request(`/admin/api/events/stripe/${skipped}`, { headers: admin })).json()) as {
      event: { status: string };
      steps: unknown[];
    };
    expect(detail.event.status).toBe('skipped');
    expect(detail.steps).toEqual([
      {
        kind: 'sql',
        statements: 0,
        outbox: 0,
        actions: 0,
        skipped: `integrations.stripe.handlers[${n}].if: data.object.mode eq payment`,
      },
    ]);
    expect(await hourOf()).toMatchObject({ accepted: before.accepted + 2, failed: before.failed });
  });
});

describe('favicon', () => {
  it('answers 200 with an SVG', async () => {
    const h = harness({ now: () => NOW });
    const res = await h.request('/favicon.ico');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('image/svg+xml');
    expect(await res.text()).toContain('<svg');
  });
});
