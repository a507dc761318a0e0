/** Retention pruning (bounded, by a fake clock) and alerts (once per incident), through the cron handler. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { defaultManifest, harness } from '../support/harness.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

async function event(integration: string, id: string, ageDays: number, status = 'applied') {
  const at = iso(NOW - ageDays * DAY);
  await env.DB.prepare(
    "INSERT INTO events (integration, id, type, status, received_at, body, updated_at) VALUES (?1, ?2, 't', ?3, ?4, '{\"x\":1}', ?4)",
  )
    .bind(integration, id, status, at)
    .run();
}

async function deadLetter(integration: string, id: string, ageDays: number, replayed: boolean) {
  const at = iso(NOW - ageDays * DAY);
  await env.DB.prepare(
    "INSERT INTO dead_letters (integration, stage, event_id, reason, attempts, first_failed_at, last_failed_at, replayed_at) VALUES (?1, 'consumer', ?2, 'test', 1, ?3, ?3, ?4)",
  )
    .bind(integration, id, at, replayed ? at : null)
    .run();
}

describe('retention', () => {
  it('prunes bodies after 30 days, events after 90 (never in-flight ones), dead letters when replayed or after 90 days', async () => {
    const h = harness({ now: () => NOW });
    // In arrival order, as ingest records them (the log is walked by sequence).
    await env.DB.prepare('DELETE FROM events').run();
    await event('ret', 'meta_old', 91);
    // Received 91 days ago and still in flight: its retry is due in a minute.
    await event('ret', 'retrying_old', 91, 'retrying');
    await event('ret', 'body_old', 31);
    await event('ret', 'fresh', 1);
    await env.DB.prepare(
      "UPDATE events SET updated_at = ?1, next_at = ?2 WHERE integration = 'ret' AND id = 'retrying_old'",
    )
      .bind(iso(NOW), iso(NOW + 60_000))
      .run();
    await deadLetter('ret', 'dl_fresh', 1, false);
    await deadLetter('ret', 'dl_replayed', 1, true);
    await deadLetter('ret', 'dl_old', 91, false);
    await h.runtime.scheduled(h.env);
    const rows = await env.DB.prepare(
      "SELECT id, body IS NOT NULL AS has_body FROM events WHERE integration = 'ret' ORDER BY id",
    ).all<{ id: string; has_body: number }>();
    expect(rows.results).toEqual([
      { id: 'body_old', has_body: 0 },
      { id: 'fresh', has_body: 1 },
      // Still waiting: its retry, the sweep's re-send or a replay reads the stored body.
      { id: 'retrying_old', has_body: 1 },
    ]);
    expect((await env.DB.prepare("SELECT event_id FROM dead_letters WHERE integration = 'ret'").all()).results).toEqual(
      [{ event_id: 'dl_fresh' }],
    );
    expect(h.events.find((e) => e.kind === 'retention.pruned')).toMatchObject({ events: 1, dead_letters: 2 });
  });

  it('prunes in bounded batches: a run touches at most rounds × batch rows, the next run continues', async () => {
    const m = structuredClone(defaultManifest);
    m.retention = { events: '90d', batch: 10 };
    const h = harness({ compiled: compileManifest(m, defaultRegistry), now: () => NOW });
    // The log is walked by sequence, oldest first: start it afresh, as a log whose oldest rows are these.
    await env.DB.prepare('DELETE FROM events').run();
    await env.DB.prepare('DELETE FROM checkpoints').run();
    for (let i = 0; i < 55; i++) await event('bounded', `e${i}`, 120);
    await h.runtime.scheduled(h.env);
    expect(await count("SELECT count(*) AS n FROM events WHERE integration = 'bounded'")).toBe(15);
    await h.runtime.scheduled(h.env);
    // All gone but the newest row, which keeps the log's sequence going.
    expect(await count("SELECT count(*) AS n FROM events WHERE integration = 'bounded'")).toBe(1);
  });
});

describe('alerts', () => {
  it('fire once per incident, resolve when the condition clears, and fire again for the next incident', async () => {
    const m = structuredClone(defaultManifest);
    m.alerts = {
      paddle_dead_letters: {
        when: { dead_letters: { integration: 'paddle', above: 1 } },
        notify: {
          action: 'resend',
          from: 'a <a@example.com>',
          to: { env: 'ADMIN_EMAIL' },
          subject: '{{ alert }}: {{ value }}',
          text: 'open since {{ opened_at }}',
          data: { alert: 'alert', value: 'value', opened_at: 'opened_at' },
          api_key: 'RESEND_API_KEY',
        },
      },
    };
    let now = NOW;
    const h = harness({ compiled: compileManifest(m, defaultRegistry), now: () => now });
    const emails = () =>
      h.providers.to(/api\.resend\.com\/emails$/).map((r) => (r.json as { subject: string }).subject);
    await h.runtime.scheduled(h.env);
    expect(emails()).toEqual([]);
    await deadLetter('paddle', 'p1', 0, false);
    await deadLetter('paddle', 'p2', 0, false);
    await deadLetter('paddle', 'p3', 0, false);
    for (let i = 0; i < 3; i++) {
      now += 600_000;
      await h.runtime.scheduled(h.env);
    }
    expect(emails()).toEqual(['paddle_dead_letters: 3']);
    await env.DB.prepare("UPDATE dead_letters SET replayed_at = ?1 WHERE integration = 'paddle'").bind(iso(now)).run();
    now += 600_000;
    await h.runtime.scheduled(h.env);
    expect(h.events.filter((e) => e.kind === 'alert.resolved')).toHaveLength(1);
    await deadLetter('paddle', 'p4', 0, false);
    await deadLetter('paddle', 'p5', 0, false);
    now += 600_000;
    await h.runtime.scheduled(h.env);
    expect(emails()).toEqual(['paddle_dead_letters: 3', 'paddle_dead_letters: 2']);
  });

  it('counts refused webhooks per integration and reason, and alerts on a spike', async () => {
    const m = structuredClone(defaultManifest);
    m.alerts = {
      github_spike: {
        when: { rejections: { integration: 'github', above: 4, within: '1h' } },
        notify: {
          action: 'resend',
          from: 'a <a@example.com>',
          to: { env: 'ADMIN_EMAIL' },
          subject: 'spike {{ value }}',
          text: 'x',
          data: { value: 'value' },
          api_key: 'RESEND_API_KEY',
        },
      },
    };
    const h = harness({ compiled: compileManifest(m, defaultRegistry), now: () => NOW });
    for (let i = 0; i < 5; i++)
      expect((await h.post('/webhooks/github', '{}', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    await h.runtime.scheduled(h.env);
    expect(await count("SELECT n FROM usage WHERE metric = 'rejections.github' AND key = 'signature_mismatch'")).toBe(
      5,
    );
    expect(h.providers.to(/api\.resend\.com\/emails$/).map((r) => (r.json as { subject: string }).subject)).toEqual([
      'spike 5',
    ]);
  });
});

describe('event log API', () => {
  const admin = { authorization: 'Bearer test-admin-token' };

  it('lists and filters events with cursor pagination, shows one with its payload, and reports health', async () => {
    const h = harness({ now: () => NOW });
    // In arrival order, oldest first, as ingest records them.
    for (let i = 4; i >= 0; i--) {
      const at = iso(NOW - (i + 1) * 60_000);
      await env.DB.prepare(
        "INSERT INTO events (integration, id, type, status, received_at, body, updated_at) VALUES ('resend', ?1, ?2, ?3, ?4, ?5, ?6)",
      )
        .bind(
          `log_${i}`,
          i % 2 ? 'email.bounced' : 'email.delivered',
          i === 4 ? 'dead_lettered' : 'applied',
          at,
          JSON.stringify({ n: i }),
          iso(Date.parse(at) + (i + 1) * 1000),
        )
        .run();
    }
    const page = async (query: string) =>
      (await (await h.request(`/admin/api/events?${query}`, { headers: admin })).json()) as {
        events: { id: string }[];
        next_cursor: string | null;
      };
    const first = await page('integration=resend&limit=2');
    expect(first.events.map((e) => e.id)).toEqual(['log_0', 'log_1']);
    const second = await page(`integration=resend&limit=2&cursor=${encodeURIComponent(first.next_cursor!)}`);
    expect(second.events.map((e) => e.id)).toEqual(['log_2', 'log_3']);
    const third = await page(`integration=resend&limit=2&cursor=${encodeURIComponent(second.next_cursor!)}`);
    expect(third).toEqual({ events: [expect.objectContaining({ id: 'log_4' })], next_cursor: null });
    expect((await page('integration=resend&type=email.bounced')).events.map((e) => e.id)).toEqual(['log_1', 'log_3']);
    expect((await page('integration=resend&status=dead_lettered')).events.map((e) => e.id)).toEqual(['log_4']);

    const detail = await (await h.request('/admin/api/events/resend/log_2', { headers: admin })).json();
    expect(detail).toMatchObject({ event: { id: 'log_2', payload: { n: 2 } }, dead_letters: [] });
    expect((await h.request('/admin/api/events/resend/log_2')).status).toBe(401);

    // Health reads hourly counters (never the log): events that went through this runtime.
    const { stripeSignature } = await import('../support/sign.ts');
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({
        id: `evt_health_${i}`,
        type: 'customer.subscription.updated',
        created: Math.floor(NOW / 1000),
        data: { object: { id: `sub_health_${i}`, customer: 'c', status: 'active' } },
      });
      expect(
        (
          await h.post('/webhooks/stripe', body, {
            'stripe-signature': await stripeSignature(
              env.TEST_SECRETS.STRIPE_WEBHOOK_SECRET!,
              body,
              Math.floor(NOW / 1000),
            ),
          })
        ).status,
      ).toBe(200);
    }
    const health = (await (await h.request('/admin/api/health', { headers: admin })).json()) as {
      integrations: Record<
        string,
        Record<string, { accepted: number; failed: number; lag_ms: { p50: number; p99: number } }>
      >;
    };
    expect(health.integrations.stripe!.hour).toMatchObject({ accepted: 3, failed: 0, lag_ms: { p50: 100, p99: 100 } });
  });

  it.each([
    ['three objects', btoa('[{},{},{}]')],
    ['three numbers', btoa('[1,2,3]')],
    ['two strings', btoa('["a","b"]')],
    ['null', btoa('null')],
    ['an object', btoa('{"0":"a","1":"b","2":"c"}')],
    ['not base64', '%%%'],
  ])('answers 400 for a cursor this API never returned (%s)', async (_name, cursor) => {
    const h = harness({ now: () => NOW });
    const res = await h.request(`/admin/api/events?cursor=${encodeURIComponent(cursor)}`, { headers: admin });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_request' });
  });
});

describe('rebuild', () => {
  it('reproduces truncated projection tables from the event log, identically and idempotently, sending nothing', async () => {
    const { stripeSignature, svixHeaders } = await import('../support/sign.ts');
    const S = env.TEST_SECRETS;
    const h = harness({ queued: true });
    const run = `rb${Date.now()}`;
    const deliver = async (path: string, body: string, headers: Record<string, string>) => {
      expect((await h.post(path, body, headers)).status).toBe(202);
      await h.consume(h.drain());
    };
    const stripe = async (type: string, object: Record<string, unknown>, created: number) => {
      const body = JSON.stringify({ id: `evt_${run}_${created}`, type, created, data: { object } });
      await deliver('/webhooks/stripe', body, {
        'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
      });
    };
    // Out of order on purpose: the version guards must give the same result on rebuild.
    await stripe(
      'customer.subscription.updated',
      { id: `sub_${run}`, customer: 'c1', status: 'past_due', items: { data: [{ price: { id: 'p2' } }] } },
      1_700_000_200,
    );
    await stripe(
      'customer.subscription.created',
      { id: `sub_${run}`, customer: 'c1', status: 'active', items: { data: [{ price: { id: 'p1' } }] } },
      1_700_000_100,
    );
    await stripe(
      'customer.subscription.created',
      { id: `sub2_${run}`, customer: 'c2', status: 'trialing' },
      1_700_000_300,
    );
    for (const [type, ts] of [
      ['user.created', 1_700_000_000_000],
      ['user.updated', 1_700_000_500_000],
      ['user.deleted', 1_700_000_900_000],
    ] as const) {
      const body = JSON.stringify({
        type,
        timestamp: ts,
        data: {
          id: `user_${run}`,
          first_name: 'Ada',
          last_name: ts > 1_700_000_100_000 ? 'King' : 'Byron',
          created_at: 1_700_000_000_000,
          primary_email_address_id: 'idn_1',
          email_addresses: [{ id: 'idn_1', email_address: 'ada@example.com', verification: { status: 'verified' } }],
        },
      });
      await deliver(
        '/webhooks/clerk',
        body,
        await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, `msg_${run}_${ts}`, body),
      );
    }
    const snapshot = async () => ({
      subscriptions: (
        await env.DB.prepare('SELECT * FROM subscriptions WHERE id LIKE ?1 ORDER BY id').bind(`%${run}`).all()
      ).results,
      users: (await env.DB.prepare('SELECT * FROM users WHERE id = ?1').bind(`user_${run}`).all()).results,
    });
    const before = await snapshot();
    expect(before.subscriptions).toHaveLength(2);
    expect(before.users).toEqual([expect.objectContaining({ name: 'Ada King', deleted_at: expect.any(String) })]);
    const sent = h.providers.requests.length;

    const rebuild = async (target: string) => {
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await h.request('/admin/api/rebuild', {
          method: 'POST',
          headers: { authorization: 'Bearer test-admin-token' },
          body: JSON.stringify({ target, cursor, limit: 2 }),
        });
        expect(res.status).toBe(200);
        cursor = ((await res.json()) as { next_cursor: string | null }).next_cursor;
        pages++;
      } while (cursor);
      return pages;
    };
    await env.DB.prepare('DELETE FROM subscriptions WHERE id LIKE ?1').bind(`%${run}`).run();
    await env.DB.prepare('DELETE FROM users WHERE id = ?1').bind(`user_${run}`).run();
    expect(await rebuild('subscriptions')).toBeGreaterThan(1);
    await rebuild('users');
    expect(await snapshot()).toEqual(before);
    await rebuild('subscriptions');
    await rebuild('users');
    expect(await snapshot()).toEqual(before);
    expect(h.providers.requests.length).toBe(sent);
  });
});
