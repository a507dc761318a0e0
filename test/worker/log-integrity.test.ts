/**
 * What an adversarial review of the event store found: retention must never take what is still owed (an open effect,
 * an effect dead letter, a body a dead letter's replay needs) or reset the log's sequence, and a large event's dead
 * letter must replay as a message Queues accepts. Each test failed on the code the review read.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, faultyDb, harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { stripeSignature, svixHeaders } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token' };
const DAY = 86_400_000;
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

async function postStripe(
  h: Harness,
  id: string,
  type: string,
  object: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const body = JSON.stringify({ id, object: 'event', type, created: 1_700_000_000, data: { object }, ...extra });
  return h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
}

const offline: typeof fetch = async () => {
  throw new Error('internal error; reference = offline');
};

describe('retention keeps what is still owed, and letters replay', () => {
  it('a stuck dead letter (payload_ref envelope) still replays after retention pruned the raw body; the letter holds the body', async () => {
    let now = Date.now();
    const h = harness({ queued: true, now: () => now });
    const id = uid('evt');
    expect(
      (await postStripe(h, id, 'customer.subscription.created', { id: uid('sub'), customer: 'c', status: 'active' }))
        .status,
    ).toBe(202);
    h.drain(); // lost
    now += 16 * 60_000;
    await h.runtime.scheduled(h.env);
    for (const minutes of [16, 32, 61]) {
      h.drain(); // lost again
      now += minutes * 60_000;
      await h.runtime.scheduled(h.env);
    }
    const letter = await row<{ seq: number; raw_body: string | null }>(
      "SELECT seq, raw_body FROM dead_letters WHERE integration = 'stripe' AND event_id = ?",
      id,
    );
    expect(letter!.raw_body).toContain(id);
    // Default retention: payloads 30d, dead letters 90d. After 31 days the letter is open and replayable...
    now += 31 * DAY;
    await h.runtime.scheduled(h.env);
    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    await h.consume(h.drain());
    const after = await row<{ status: string; error: string }>(
      "SELECT status, error FROM events WHERE integration = 'stripe' AND id = ?",
      id,
    );
    expect(after, after?.error).toMatchObject({ status: 'applied' });
  });

  it('an effect dead letter re-failed on replay stays replayable until its own retention, though its event row is pruned first', async () => {
    let now = Date.now();
    let network: typeof fetch = offline;
    const fake = new FakeProviders();
    const m = structuredClone(defaultManifest);
    const welcome = m.integrations.clerk!.handlers![1]!.steps[0] as unknown as Record<string, unknown>;
    welcome.retry = { max_attempts: 1 };
    const h = harness({
      compiled: compileManifest(m, defaultRegistry),
      now: () => now,
      fetch: (i, init) => network(i, init),
    });
    const id = uid('msg');
    const userId = uid('user');
    const body = JSON.stringify({
      type: 'user.created',
      object: 'event',
      data: {
        id: userId,
        first_name: 'A',
        last_name: 'B',
        primary_email_address_id: 'idn_1',
        email_addresses: [
          { id: 'idn_1', email_address: `${userId}@example.com`, verification: { status: 'verified' } },
        ],
        created_at: 1_700_000_000_000,
      },
      timestamp: now,
    });
    // Applied in the request; its one attempt, right after the commit, fails: dead-lettered at once.
    expect(
      (await h.post('/webhooks/clerk', body, await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, id, body))).status,
    ).toBe(200);
    const letter = await row<{ seq: number }>(
      "SELECT seq FROM dead_letters WHERE integration = 'clerk' AND stage = 'effect' AND event_id = ?",
      `${id}#1:0`,
    );
    expect(letter).not.toBeNull();
    // Day 60: the operator replays it, Resend is still down: the letter is open again, last failed on day 60.
    now += 60 * DAY;
    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    await h.consume(h.drain());
    expect(await row('SELECT replayed_at FROM dead_letters WHERE seq = ?', letter!.seq)).toEqual({ replayed_at: null });
    // Day 91: default retention (events 90d, dead letters 90d since the last failure). Resend is back.
    now += 31 * DAY;
    await h.runtime.scheduled(h.env);
    network = fake.fetch;
    expect(await row('SELECT count(*) AS n FROM dead_letters WHERE seq = ?', letter!.seq)).toEqual({ n: 1 });
    const res = (await (
      await h.request('/admin/api/dead-letters/replay', {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ seq: [letter!.seq] }),
      })
    ).json()) as { skipped: unknown[] };
    await h.consume(h.drain());
    expect(res.skipped).toEqual([]);
    expect(fake.emails).toHaveLength(1);
  });

  it('retention never prunes an applied event whose effect is still deferred (events retention shorter than a monthly limit)', async () => {
    let now = Date.UTC(2031, 0, 10);
    const fake = new FakeProviders();
    const metric = `test.defer.${uid('q')}`;
    const m = structuredClone(defaultManifest) as Manifest;
    m.retention = { ...m.retention, events: '7d' };
    m.limits = { ...m.limits, [metric]: { period: 'month', limit: 1, on_exceed: 'defer' } };
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
        apply: 'queue',
        handlers: [
          {
            on: '*',
            steps: [
              {
                action: 'resend',
                limits: [metric],
                from: 'A <a@example.com>',
                to: 'data.object.email',
                subject: 'Hi',
                text: 'Hello',
                api_key: 'RESEND_API_KEY',
              },
            ],
          },
        ],
      },
    };
    const h = harness({ compiled: compileManifest(m, defaultRegistry), fetch: fake.fetch, now: () => now });
    const ids = [uid('evt'), uid('evt')];
    for (const id of ids)
      await h.consume([
        fakeMessage({
          integration: 'stripe',
          id,
          type: 'x',
          occurred_at: null,
          received_at: new Date(now).toISOString(),
          payload: { data: { object: { email: `${id}@example.com` } } },
        } satisfies Envelope),
      ]);
    expect(fake.emails).toHaveLength(1);
    expect(await row('SELECT status FROM effects WHERE event_id = ?', ids[1])).toEqual({ status: 'deferred' });
    h.drain();
    now += 10 * DAY; // the cron runs meanwhile
    await h.runtime.scheduled(h.env);
    expect(await row('SELECT status FROM effects WHERE event_id = ?', ids[1])).toEqual({ status: 'deferred' });
    now = Date.UTC(2031, 1, 1, 0, 1);
    await h.consume([fakeMessage({ effects: { integration: 'stripe', id: ids[1] } })]);
    expect(fake.emails).toHaveLength(2);
  });

  it('replaying the consumer dead letter of a large (payload_ref) event sends a message within Queues 128 KB', async () => {
    const h = harness({ queued: true });
    const id = uid('evt');
    const big = 'x'.repeat(200_000);
    expect(
      (
        await postStripe(h, id, 'customer.subscription.created', {
          id: uid('sub'),
          customer: 'c',
          status: 'active',
          note: big,
        })
      ).status,
    ).toBe(202);
    const [msg] = h.drain();
    expect((msg!.body as Envelope).payload_ref).toBeDefined();
    const last = fakeMessage(msg!.body, 99); // the last attempt fails (D1 busy): dead-lettered
    await h.consume([last], { DB: faultyDb(env.DB, () => id) });
    const letter = await row<{ seq: number; envelope: string }>(
      "SELECT seq, envelope FROM dead_letters WHERE integration = 'stripe' AND stage = 'consumer' AND event_id = ?",
      id,
    );
    expect(letter).not.toBeNull();
    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    const [replayed] = h.drain();
    expect(new TextEncoder().encode(JSON.stringify(replayed!.body)).length).toBeLessThanOrEqual(128 * 1024);
  });
});

describe('the log keeps its sequence', () => {
  it('an event queued after retention emptied the log is still found by the sweep', async () => {
    let now = Date.now();
    const h = harness({ queued: true, now: () => now });
    await env.DB.prepare('DELETE FROM events').run();
    const post = async (id: string) => {
      const body = JSON.stringify({
        id,
        object: 'event',
        type: 'customer.subscription.created',
        created: 1_700_000_000,
        data: { object: { id: uid('sub'), customer: 'c', status: 'active' } },
      });
      return h.post('/webhooks/stripe', body, {
        'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, Math.floor(now / 1000)),
      });
    };
    for (let i = 0; i < 5; i++) expect((await post(uid('evt'))).status).toBe(202);
    await h.consume(h.drain());
    await h.runtime.scheduled(h.env); // the sweep's checkpoint moves past them once they are old
    now += 91 * DAY; // a quiet staging environment: retention (90d) would empty the log
    await h.runtime.scheduled(h.env);
    // The newest row stays, so a new event's sequence goes on from it instead of starting again below the checkpoint.
    expect(await env.DB.prepare('SELECT count(*) AS n FROM events').first()).toEqual({ n: 1 });
    const id = uid('evt');
    expect((await post(id)).status).toBe(202);
    h.drain(); // its message is lost
    now += 16 * 60_000;
    await h.runtime.scheduled(h.env);
    const seq = await env.DB.prepare('SELECT seq FROM events WHERE id = ?').bind(id).first();
    const cp = await env.DB.prepare("SELECT seq FROM checkpoints WHERE name = 'sweep'").first();
    expect(h.events, JSON.stringify({ seq, cp })).toContainEqual(expect.objectContaining({ kind: 'event.stuck', id }));
  });
});

describe('retention and events still waiting', () => {
  it('retention keeps the body of a large (payload_ref) event still waiting for its outcome: its late message applies it', async () => {
    // Later than every row the tests above wrote, so retention's walk reaches this event.
    let now = Date.UTC(2035, 0, 1);
    const m = structuredClone(defaultManifest) as Manifest;
    m.retention = { ...m.retention, payloads: '1h' };
    const h = harness({ compiled: compileManifest(queuedOnly(m), defaultRegistry), now: () => now });
    const id = uid('evt');
    const sub = uid('sub');
    const body = JSON.stringify({
      id,
      object: 'event',
      type: 'customer.subscription.created',
      created: 1_700_000_000,
      data: { object: { id: sub, customer: 'c', status: 'active', note: 'x'.repeat(200_000) } },
    });
    expect(
      (
        await h.post('/webhooks/stripe', body, {
          'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, Math.floor(now / 1000)),
        })
      ).status,
    ).toBe(202);
    const held = h.drain(); // the queue is backed up: the message arrives late
    const settled = uid('evt');
    const small = JSON.stringify({
      id: settled,
      object: 'event',
      type: 'customer.subscription.created',
      created: 1_700_000_000,
      data: { object: { id: uid('sub'), customer: 'c', status: 'active' } },
    });
    expect(
      (
        await h.post('/webhooks/stripe', small, {
          'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, small, Math.floor(now / 1000)),
        })
      ).status,
    ).toBe(202);
    await h.consume(h.drain());
    expect((held[0]!.body as Envelope).payload_ref).toBeDefined();
    now += 2 * 3_600_000;
    await h.runtime.scheduled(h.env); // retention (payloads 1h) and the sweep run meanwhile
    h.drain();
    await h.consume(held);
    const after = await row<{ status: string; error: string | null }>(
      "SELECT status, error FROM events WHERE integration = 'stripe' AND id = ?",
      id,
    );
    expect(after, after?.error ?? '').toMatchObject({ status: 'applied' });
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
    // The settled event beside it lost its body as retention says.
    expect(await row("SELECT body FROM events WHERE integration = 'stripe' AND id = ?", settled)).toEqual({
      body: null,
    });
  });
});
