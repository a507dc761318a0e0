/**
 * State first, effects after: the failures an adversarial review and a new user found, each reproduced. An email
 * outage never keeps a user row out of D1; two copies of an event send once; failed sends give their quota back;
 * ordering ties go by arrival; a poison message fails alone; nothing waits silently; every failure is visible.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, faultyDb, harness, uid, type Harness } from '../support/harness.ts';
import { stripeSignature, svixHeaders } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token' };
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

/** A Clerk webhook through the real route, signed as Svix signs; returns its event id (202: queued, 200: in the request). */
async function clerk(
  h: Harness,
  type: string,
  data: Record<string, unknown>,
  timestamp?: number,
  status = 202,
): Promise<string> {
  const id = uid('msg');
  const body = JSON.stringify({ type, object: 'event', data, ...(timestamp !== undefined ? { timestamp } : {}) });
  const res = await h.post('/webhooks/clerk', body, await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, id, body));
  expect(res.status).toBe(status);
  return id;
}

async function stripe(h: Harness, type: string, object: Record<string, unknown>, created: number): Promise<string> {
  const id = uid('evt');
  const body = JSON.stringify({ id, object: 'event', type, created, data: { object } });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
  expect(res.status).toBe(202);
  return id;
}

/** A fetch that cannot reach anything, as under `npm run dev` with no network: workerd names no host. */
const offline: typeof fetch = async () => {
  throw new Error('internal error; reference = 7s0qxkv3mde5aqk1t1lbd2lk');
};

const user = (id: string, first = 'Ada') => ({
  id,
  first_name: first,
  last_name: 'Lovelace',
  primary_email_address_id: 'idn_1',
  email_addresses: [{ id: 'idn_1', email_address: `${id}@example.com`, verification: { status: 'verified' } }],
  created_at: 1_700_000_000_000,
});

describe('state first: an email outage never holds a user back', () => {
  it('applies a signed Clerk user.created while Resend is unreachable; the welcome email retries on its own with the real error', async () => {
    let now = Date.now();
    let network: typeof fetch = offline;
    const fake = new FakeProviders();
    const h = harness({ now: () => now, fetch: (input, init) => network(input, init) });
    const userId = uid('user');
    // Applied in the request (200), the email tried right after the commit (awaited here: no execution context).
    const eventId = await clerk(h, 'user.created', user(userId), now, 200);

    expect(await row('SELECT id, email FROM users WHERE id = ?', userId)).toEqual({
      id: userId,
      email: `${userId}@example.com`,
    });
    const detail = (await (await h.request(`/admin/api/events/clerk/${eventId}`, { headers: ADMIN })).json()) as {
      event: { status: string };
      attempts: { target: string; n: number; duration_ms: number; error: string }[];
      effects: {
        action: string;
        status: string;
        attempts: number;
        max_attempts: number;
        error: string;
        next_at: string;
      }[];
    };
    expect(detail.event.status).toBe('applied');
    expect(detail.attempts).toEqual([
      expect.objectContaining({
        target: '1:0',
        n: 1,
        duration_ms: expect.any(Number),
        error: expect.stringContaining('could not reach api.resend.com'),
      }),
    ]);
    expect(detail.effects).toEqual([
      expect.objectContaining({
        action: 'resend',
        status: 'retrying',
        attempts: 1,
        max_attempts: 5,
        error: 'could not reach api.resend.com: no answer (internal error; reference = 7s0qxkv3mde5aqk1t1lbd2lk)',
        next_at: new Date(now + 30_000).toISOString(),
      }),
    ]);
    expect(await row('SELECT count(*) AS n FROM email_logs WHERE to_email = ?', `${userId}@example.com`)).toEqual({
      n: 0,
    });

    // Resend is back: the effect's own message, due in 30 s, sends it and logs it.
    network = fake.fetch;
    now += 30_000;
    const [retry] = h.drain();
    expect(retry!.body).toEqual({ effects: { integration: 'clerk', id: eventId } });
    await h.consume([retry!]);
    expect(fake.emails.map((e) => e.to[0])).toEqual([`${userId}@example.com`]);
    expect(
      await row("SELECT status, attempts, error FROM effects WHERE integration = 'clerk' AND event_id = ?", eventId),
    ).toEqual({ status: 'sent', attempts: 2, error: null });
    expect(await row('SELECT subject, status FROM email_logs WHERE to_email = ?', `${userId}@example.com`)).toEqual({
      subject: 'Welcome to Acme, Ada',
      status: 'sent',
    });
  });

  it('dead-letters an effect after its own max_attempts (a per-step retry policy), and replay sends it', async () => {
    let now = Date.now();
    let network: typeof fetch = offline;
    const fake = new FakeProviders();
    const m = structuredClone(defaultManifest);
    const welcome = m.integrations.clerk!.handlers![1]!.steps[0] as unknown as Record<string, unknown>;
    welcome.retry = { max_attempts: 2, initial_delay: '10s', jitter: 0 };
    const h = harness({
      compiled: compileManifest(m, defaultRegistry),
      now: () => now,
      fetch: (i, init) => network(i, init),
    });
    const eventId = await clerk(h, 'user.created', user(uid('user')), now, 200);
    await h.consume(h.drain());
    now += 10_000;
    await h.consume(h.drain());
    const letter = await row<{ seq: number; stage: string; reason: string; error: string; attempts: number }>(
      "SELECT seq, stage, reason, error, attempts FROM dead_letters WHERE integration = 'clerk' AND event_id = ?",
      `${eventId}#1:0`,
    );
    expect(letter).toMatchObject({
      stage: 'effect',
      reason: 'effect',
      attempts: 2,
      error: expect.stringContaining('could not reach api.resend.com'),
    });
    expect(await row("SELECT status FROM events WHERE integration = 'clerk' AND id = ?", eventId)).toEqual({
      status: 'applied',
    });
    expect(h.drain()).toEqual([]);

    network = fake.fetch;
    const replay = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(((await replay.json()) as { replayed: unknown[] }).replayed).toEqual([
      expect.objectContaining({ stage: 'effect', event_id: eventId }),
    ]);
    await h.consume(h.drain());
    expect(fake.emails).toHaveLength(1);
    expect(
      await row("SELECT status, attempts FROM effects WHERE integration = 'clerk' AND event_id = ?", eventId),
    ).toEqual({ status: 'sent', attempts: 1 });
  });
});

describe('effects happen once', () => {
  /** A manifest whose stripe events each send one email through Resend. */
  function emailing() {
    const m = structuredClone(defaultManifest) as Manifest;
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
        handlers: [
          {
            on: '*',
            steps: [
              {
                action: 'resend',
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
    return compileManifest(m, defaultRegistry);
  }
  const envelope = (email: string, id = uid('evt')): Envelope => ({
    integration: 'stripe',
    id,
    type: 'x',
    occurred_at: null,
    received_at: new Date().toISOString(),
    payload: { data: { object: { email } } },
  });

  it('two copies in one batch send one email, in one call carrying it once', async () => {
    const fake = new FakeProviders();
    const h = harness({ compiled: emailing(), fetch: fake.fetch });
    const e = envelope('copies@example.com');
    const copies = [fakeMessage(e), fakeMessage(e), fakeMessage(envelope('other@example.com'))];
    await h.consume(copies);
    expect(copies.every((c) => c.acked)).toBe(true);
    expect(
      fake.requests
        .flatMap((r) => (Array.isArray(r.json) ? r.json : [r.json]) as { to: string[] }[])
        .map((x) => x.to[0])
        .sort(),
    ).toEqual(['copies@example.com', 'other@example.com']);
  });

  it('two consumers running the same event in parallel send once; a redelivery afterwards sends nothing', async () => {
    const fake = new FakeProviders();
    const h = harness({ compiled: emailing(), fetch: fake.fetch });
    const e = envelope('parallel@example.com');
    const a = fakeMessage(e);
    const b = fakeMessage(e);
    await Promise.all([h.consume([a]), h.consume([b])]);
    expect(a.acked && b.acked).toBe(true);
    const redelivered = fakeMessage(e, 2);
    await h.consume([redelivered]);
    expect(redelivered.acked).toBe(true);
    expect(fake.requests).toHaveLength(1);
    expect(fake.emails).toHaveLength(1);
  });

  it('a crash between the send and its record: the effect is sent again only after its lease lapses, with the same key, and the provider sends once', async () => {
    let now = Date.now();
    const fake = new FakeProviders();
    const h = harness({ compiled: emailing(), fetch: fake.fetch, now: () => now });
    const e = envelope('crash@example.com');
    // The settle statement fails, as if the Worker died right after Resend answered.
    const m = fakeMessage(e);
    await h.consume([m], { DB: faultyDb(env.DB, () => e.id, /UPDATE effects SET status/) });
    expect(fake.requests).toHaveLength(1);
    expect(await row("SELECT status FROM effects WHERE integration = 'stripe' AND event_id = ?", e.id)).toEqual({
      status: 'sending',
    });
    // Its redelivery comes while the lease is held: nothing is sent, a message waits for the lease to lapse.
    h.drain();
    const early = fakeMessage(e, 2);
    await h.consume([early]);
    expect(fake.requests).toHaveLength(1);
    const [later] = h.drain();
    expect(h.events.filter((x) => x.kind === 'effect.scheduled').at(-1)).toMatchObject({ delay_seconds: 15 * 60 });
    now += 15 * 60_000;
    await h.consume([later!]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]!.headers['idempotency-key']).toBe(fake.requests[1]!.headers['idempotency-key']);
    expect(fake.emails).toHaveLength(1);
    expect(
      await row("SELECT status, attempts FROM effects WHERE integration = 'stripe' AND event_id = ?", e.id),
    ).toEqual({ status: 'sent', attempts: 2 });
  });

  it('the http action sends the idempotency key in a configured header', async () => {
    const fake = new FakeProviders();
    const m = structuredClone(defaultManifest) as Manifest;
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
        handlers: [
          {
            on: '*',
            steps: [
              {
                action: 'http',
                url: 'https://api.example.test/notes',
                idempotency_header: 'Idempotency-Key',
                body: { a: { const: 1 } },
              },
            ],
          },
        ],
      },
    };
    const h = harness({ compiled: compileManifest(m, defaultRegistry), fetch: fake.fetch });
    const e = envelope('x@example.com');
    await h.consume([fakeMessage(e)]);
    expect(fake.requests[0]!.headers['idempotency-key']).toBe(`stripe:${e.id}:0:0`);
  });
});

describe('quota is spent only on what was sent', () => {
  it('three Resend 503s against a limit of 3 leave the quota whole; the next healthy send goes out', async () => {
    const now = Date.now();
    const metric = `test.quota.${uid('q')}`;
    const fake = new FakeProviders();
    const m = structuredClone(defaultManifest) as Manifest;
    m.limits = { ...m.limits, [metric]: { period: 'month', limit: 3, on_exceed: 'defer' } };
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
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
    fake.failNext(/api\.resend\.com/, 503, { times: 3 });
    for (const i of [1, 2, 3]) {
      await h.consume([
        fakeMessage({
          integration: 'stripe',
          id: uid('evt'),
          type: 'x',
          occurred_at: null,
          received_at: new Date(now).toISOString(),
          payload: { data: { object: { email: `${metric}_${i}@example.com` } } },
        } satisfies Envelope),
      ]);
    }
    expect(fake.requests).toHaveLength(3);
    expect(fake.emails).toHaveLength(0);
    expect(await row("SELECT n FROM usage WHERE metric = ? AND key = '*'", metric)).toEqual({ n: 0 });
    h.drain();
    const healthy = fakeMessage({
      integration: 'stripe',
      id: uid('evt'),
      type: 'x',
      occurred_at: null,
      received_at: new Date(now).toISOString(),
      payload: { data: { object: { email: `${metric}_ok@example.com` } } },
    } satisfies Envelope);
    await h.consume([healthy]);
    expect(fake.emails.map((e) => e.to[0])).toEqual([`${metric}_ok@example.com`]);
    expect(await row("SELECT n FROM usage WHERE metric = ? AND key = '*'", metric)).toEqual({ n: 1 });
    expect(h.events.filter((e) => e.kind === 'limit.deferred')).toEqual([]);
  });
});

describe('ordering you can explain', () => {
  it('two subscription updates in the same second: the later arrival wins, whichever is consumed first', async () => {
    const h = harness({ queued: true });
    const sub = uid('sub');
    const created = 1_700_000_000;
    await stripe(h, 'customer.subscription.updated', { id: sub, customer: 'c', status: 'active' }, created);
    await stripe(h, 'customer.subscription.updated', { id: sub, customer: 'c', status: 'past_due' }, created);
    const [first, second] = h.drain();
    await h.consume([second!]);
    await h.consume([first!]);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'past_due' });
    // Whatever the (random) event ids are: the sequence decides, not the id.
    expect((first!.body as Envelope).seq).toBeLessThan((second!.body as Envelope).seq!);
  });

  it('a Clerk event without a timestamp never outranks one that has it, in either order', async () => {
    const h = harness({ queued: true });
    const a = uid('user');
    await clerk(h, 'user.updated', user(a, 'Timed'), 1_700_000_000_000);
    await clerk(h, 'user.updated', user(a, 'Untimed'));
    await h.consume(h.drain());
    expect(await row('SELECT name FROM users WHERE id = ?', a)).toEqual({ name: 'Timed Lovelace' });
    const b = uid('user');
    await clerk(h, 'user.updated', user(b, 'Untimed'));
    await h.consume(h.drain());
    await clerk(h, 'user.updated', user(b, 'Timed'), 1_600_000_000_000);
    await h.consume(h.drain());
    expect(await row('SELECT name FROM users WHERE id = ?', b)).toEqual({ name: 'Timed Lovelace' });
    // And a newer timed update still wins over both.
    await clerk(h, 'user.updated', user(b, 'Newer'), 1_800_000_000_000);
    await h.consume(h.drain());
    expect(await row('SELECT name FROM users WHERE id = ?', b)).toEqual({ name: 'Newer Lovelace' });
  });
});

describe('no poison', () => {
  it('in a batch of ten, three messages that cannot be processed are dead-lettered alone; the other seven apply', async () => {
    const h = harness();
    const subs = Array.from({ length: 7 }, () => uid('sub'));
    const good = subs.map((sub) =>
      fakeMessage({
        integration: 'stripe',
        id: uid('evt'),
        type: 'customer.subscription.created',
        occurred_at: '2024-01-01T00:00:00.000Z',
        received_at: new Date().toISOString(),
        payload: { data: { object: { id: sub, customer: 'c', status: 'active' } } },
      } satisfies Envelope),
    );
    // A body the runtime cannot deserialize (as Queues does for a body nested too deep): reading it throws.
    const unreadable = fakeMessage(null);
    Object.defineProperty(unreadable, 'body', {
      get: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });
    const garbage = fakeMessage({ hello: 'world' });
    const lost = fakeMessage({
      integration: 'stripe',
      id: uid('evt'),
      type: 'customer.subscription.created',
      occurred_at: null,
      received_at: new Date().toISOString(),
      payload: null,
      payload_ref: 'events:stripe:gone',
    } satisfies Envelope);
    const batch = [...good.slice(0, 3), unreadable, garbage, ...good.slice(3, 5), lost, ...good.slice(5)];
    await h.consume(batch);
    expect(batch.every((m) => m.acked)).toBe(true);
    for (const sub of subs)
      expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
    expect(
      h.events.filter((e) => e.kind === 'webhook.dead_lettered').map((e) => (e as { reason: string }).reason),
    ).toEqual([
      'malformed_message: RangeError: Maximum call stack size exceeded',
      'malformed_message: not a switchyard envelope',
      'permanent: PermanentError: its stored body is gone (pruned by retention, or never recorded)',
    ]);
    expect(h.events.filter((e) => e.kind === 'event.applied')).toHaveLength(7);
  });

  it('the sweep queues an event that sat with no outcome again (3 times, backing off), then dead-letters it and raises the stuck alert', async () => {
    let now = Date.now();
    const fake = new FakeProviders();
    const h = harness({ queued: true, now: () => now, fetch: fake.fetch });
    const id = await stripe(
      h,
      'customer.subscription.created',
      { id: uid('sub'), customer: 'c', status: 'active' },
      1_700_000_000,
    );
    h.drain(); // the message is lost
    now += 16 * 60_000;
    await h.runtime.scheduled(h.env);
    const again = h.drain().filter((m) => (m.body as Envelope).id === id);
    expect(again).toHaveLength(1);
    expect(h.events).toContainEqual(expect.objectContaining({ kind: 'event.stuck', id, action: 'requeued' }));
    for (const minutes of [16, 32, 61]) {
      h.drain(); // lost again
      now += minutes * 60_000;
      await h.runtime.scheduled(h.env);
    }
    expect(await row("SELECT status, error FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'dead_lettered',
      error: expect.stringContaining('no outcome'),
    });
    expect(await row("SELECT reason FROM dead_letters WHERE integration = 'stripe' AND event_id = ?", id)).toEqual({
      reason: 'stuck',
    });
    expect(fake.emails.filter((e) => e.subject.includes('stuck with no outcome'))).toHaveLength(1);
    // The dead letter replays: the stored body is read back and the event applies.
    const seq = (await row<{ seq: number }>(
      "SELECT seq FROM dead_letters WHERE integration = 'stripe' AND event_id = ?",
      id,
    ))!.seq;
    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [seq] }),
    });
    await h.consume(h.drain());
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'applied',
    });
  });
});

describe('every failure is visible', () => {
  it('a retrying event shows attempt n of max, its error and the next retry time; an event no handler matches is ignored', async () => {
    const now = Date.now();
    const h = harness({ queued: true, now: () => now });
    const id = await stripe(
      h,
      'customer.subscription.created',
      { id: uid('sub'), customer: 'c', status: 'active' },
      1_700_000_000,
    );
    await h.consume(
      h.drain().map((m) => Object.assign(m, { attempts: 2 })),
      { DB: faultyDb(env.DB, () => id) },
    );
    const res = await h.request(`/admin/api/events?integration=stripe&status=retrying`, { headers: ADMIN });
    const listed = ((await res.json()) as { events: Record<string, unknown>[] }).events.find((e) => e.id === id);
    expect(listed).toMatchObject({
      status: 'retrying',
      attempts: 2,
      error: 'Error: D1_ERROR: database is locked: SQLITE_BUSY',
      next_at: new Date(now + 60_000).toISOString(),
    });
    const detail = (await (await h.request(`/admin/api/events/stripe/${id}`, { headers: ADMIN })).json()) as {
      event: Record<string, unknown>;
      attempts: Record<string, unknown>[];
    };
    expect(detail.event).toMatchObject({ status: 'retrying', attempts: 2, max_attempts: 5 });
    expect(detail.attempts).toEqual([
      expect.objectContaining({ target: 'event', n: 2, error: 'Error: D1_ERROR: database is locked: SQLITE_BUSY' }),
    ]);

    const ignored = await stripe(h, 'charge.refunded', { id: 'ch_1' }, 1_700_000_000);
    await h.consume(h.drain());
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", ignored)).toEqual({
      status: 'ignored',
    });
    expect(
      await row(
        "SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
        ignored,
      ),
    ).toEqual({ n: 0 });
  });
});
