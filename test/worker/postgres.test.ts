/**
 * The Postgres suite: examples/postgres.yaml on the real Worker code path, in workerd, through miniflare's Hyperdrive
 * binding over TCP to a real PostgreSQL (scripts/postgres-test.sh starts one; `.ci/run` does). Skipped, with one
 * message, where no Postgres answers.
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import built from '../../.switchyard/postgres.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { connectPg, openPg } from '../../adapters/stores/pg.ts';
import { faultyDb, fakeMessage, harness, uid, type Harness } from '../support/harness.ts';
import { stripeSignature, svixHeaders } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const base = (built as unknown as { environments: { default: { manifest: Manifest } } }).environments.default.manifest;
const enabled = Boolean(env.TEST_PG_MIGRATIONS && env.HYPERDRIVE);
if (!enabled)
  console.warn(
    'Postgres suite skipped: no Postgres at SWITCHYARD_PG_URL (run it with scripts/postgres-test.sh npm test)',
  );

/** The example plus handlers that make a double apply or a half-applied event visible. */
function manifest(): Manifest {
  const m = structuredClone(base);
  const count = {
    sql: 'INSERT INTO counters (id, n) VALUES (:id, 1) ON CONFLICT (id) DO UPDATE SET n = counters.n + 1',
    params: { id: 'data.object.id' },
  };
  m.integrations.stripe!.handlers!.push(
    { on: 'charge.captured', store: 'app', steps: [count] },
    // The second statement breaks a NOT NULL primary key: the first must roll back with it.
    {
      on: 'charge.refunded',
      store: 'app',
      steps: [
        count,
        { sql: 'INSERT INTO orders (id, status) VALUES (NULL, :status)', params: { status: 'data.object.status' } },
      ],
    },
    {
      on: 'charge.disputed',
      store: 'app',
      steps: [{ sql: 'INSERT INTO ledger (id) VALUES (:id)', params: { id: 'data.object.id' } }],
    },
    // One event, two stores (validate refuses this; the runtime must never half-apply it either).
    { on: 'charge.expired', store: 'app', steps: [count] },
    {
      on: 'charge.expired',
      steps: [{ sql: "UPDATE orders SET status = 'expired' WHERE id = :id", params: { id: 'data.object.id' } }],
    },
  );
  return m;
}

/** The example's runtime with the pg driver, as the Worker composes it from a build that has a postgres store. */
const pgHarness = () => harness({ compiled: compileManifest(manifest(), defaultRegistry), connectPostgres: connectPg });

let db: pg.Client;
const one = async <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  (await db.query(sql, params)).rows[0] as T | undefined;
const d1Status = async (id: string) =>
  (
    await env.DB.prepare("SELECT status FROM events WHERE integration = 'stripe' AND id = ?1")
      .bind(id)
      .first<{ status: string }>()
  )?.status;

const stripeEnvelope = (
  type: string,
  object: Record<string, unknown>,
  id = uid('evt'),
  created = Math.floor(Date.now() / 1000),
  seq = 1,
) => ({
  integration: 'stripe',
  id,
  type,
  occurred_at: new Date(created * 1000).toISOString(),
  received_at: new Date().toISOString(),
  payload: { id, type, created, data: { object } },
  seq,
});

async function post(
  h: Harness,
  type: string,
  object: Record<string, unknown>,
  created = Math.floor(Date.now() / 1000),
) {
  const id = uid('evt');
  const body = JSON.stringify({ id, object: 'event', type, created, data: { object } });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  const messages = h.drain();
  await h.consume(messages);
  return { id, messages };
}

describe.skipIf(!enabled)('projecting into Postgres through Hyperdrive', () => {
  beforeAll(async () => {
    db = await openPg(env.HYPERDRIVE!);
    for (const migration of env.TEST_PG_MIGRATIONS!) await db.query(migration);
    await db.query('CREATE TABLE IF NOT EXISTS counters (id text PRIMARY KEY, n int NOT NULL)');
    await db.query('DROP TABLE IF EXISTS ledger');
  });
  afterAll(async () => {
    await db?.end();
  });

  it('applies a signed Stripe event in Postgres, with its marker, and the event log says applied', async () => {
    const h = pgHarness();
    const sub = uid('sub');
    const { id, messages } = await post(h, 'customer.subscription.created', {
      id: sub,
      customer: 'cus_1',
      status: 'active',
      current_period_end: 1_800_000_000,
      items: { data: [{ price: { id: 'price_pro' } }] },
    });
    expect(messages.every((m) => m.acked)).toBe(true);
    expect(
      await one('SELECT customer_id, status, plan_id, current_period_end FROM subscriptions WHERE id = $1', sub),
    ).toEqual({
      customer_id: 'cus_1',
      status: 'active',
      plan_id: 'price_pro',
      current_period_end: new Date(1_800_000_000_000),
    });
    expect(
      await one('SELECT integration, id FROM switchyard_applied WHERE integration = $1 AND id = $2', 'stripe', id),
    ).toEqual({ integration: 'stripe', id });
    expect(await d1Status(id)).toBe('applied');
    // Nothing went to D1's subscriptions table.
    expect(await env.DB.prepare('SELECT id FROM subscriptions WHERE id = ?1').bind(sub).first()).toBeNull();
  });

  it('applies a message delivered 3 times, and twice in one batch, exactly once', async () => {
    const h = pgHarness();
    const charge = uid('ch');
    const envelope = stripeEnvelope('charge.captured', { id: charge });
    await h.consume([fakeMessage(envelope), fakeMessage(envelope)]);
    await h.consume([fakeMessage(envelope, 2)]);
    await h.consume([fakeMessage(envelope, 3)]);
    expect(await one('SELECT n FROM counters WHERE id = $1', charge)).toEqual({ n: 1 });
    expect(await d1Status(envelope.id)).toBe('applied');
  });

  it('a consumer that dies between the Postgres commit and the event log update: the retry applies nothing and settles the log', async () => {
    const h = pgHarness();
    const charge = uid('ch');
    const envelope = stripeEnvelope('charge.captured', { id: charge });
    // The event log's commit fails (D1 busy) after Postgres committed.
    const first = fakeMessage(envelope);
    await h.consume([first], { DB: faultyDb(env.DB, () => envelope.id) });
    expect(first.retried).toBeDefined();
    expect(await one('SELECT n FROM counters WHERE id = $1', charge)).toEqual({ n: 1 });
    expect(await d1Status(envelope.id)).not.toBe('applied');
    const again = fakeMessage(envelope, 2);
    await h.consume([again]);
    expect(again.acked).toBe(true);
    expect(await one('SELECT n FROM counters WHERE id = $1', charge)).toEqual({ n: 1 });
    expect(await d1Status(envelope.id)).toBe('applied');
  });

  it('an older event never overwrites newer state (@version ordering guard), whatever the arrival order', async () => {
    const h = pgHarness();
    const sub = uid('sub');
    const t = Math.floor(Date.now() / 1000);
    await post(h, 'customer.subscription.updated', { id: sub, customer: 'cus_1', status: 'past_due' }, t);
    await post(h, 'customer.subscription.created', { id: sub, customer: 'cus_1', status: 'incomplete' }, t - 60);
    expect(await one('SELECT status FROM subscriptions WHERE id = $1', sub)).toEqual({ status: 'past_due' });
    // Same second: the later arrival wins.
    await post(h, 'customer.subscription.deleted', { id: sub, customer: 'cus_1' }, t);
    expect(await one('SELECT status FROM subscriptions WHERE id = $1', sub)).toEqual({ status: 'canceled' });
  });

  it('rolls the first statement back when the second fails, dead-letters only the culprit, and leaves no marker', async () => {
    const h = pgHarness();
    const [bad, good] = [uid('ch'), uid('ch')];
    const failing = fakeMessage(stripeEnvelope('charge.refunded', { id: bad, status: 'refunded' }));
    const fine = fakeMessage(stripeEnvelope('charge.captured', { id: good }));
    await h.consume([failing, fine]);
    expect(await one('SELECT n FROM counters WHERE id = $1', bad)).toBeUndefined();
    expect(
      await one('SELECT id FROM switchyard_applied WHERE id = $1', (failing.body as { id: string }).id),
    ).toBeUndefined();
    expect(await one('SELECT n FROM counters WHERE id = $1', good)).toEqual({ n: 1 });
    expect(failing.acked && fine.acked).toBe(true);
    const letter = await env.DB.prepare(
      "SELECT reason, error FROM dead_letters WHERE integration = 'stripe' AND event_id = ?1",
    )
      .bind((failing.body as { id: string }).id)
      .first<{ reason: string; error: string }>();
    expect(letter?.reason).toBe('sql');
    expect(letter?.error).toMatch(/null value in column "id".*SQLSTATE 23502/);
  });

  it('dead-letters an event whose SQL would go to two stores, writing neither', async () => {
    const h = pgHarness();
    const charge = uid('ch');
    const message = fakeMessage(stripeEnvelope('charge.expired', { id: charge }));
    await h.consume([message]);
    expect(message.acked).toBe(true);
    expect(await one('SELECT n FROM counters WHERE id = $1', charge)).toBeUndefined();
    const letter = await env.DB.prepare(
      "SELECT reason, error FROM dead_letters WHERE integration = 'stripe' AND event_id = ?1",
    )
      .bind((message.body as { id: string }).id)
      .first<{ reason: string; error: string }>();
    expect(letter).toMatchObject({
      reason: 'permanent',
      error: expect.stringMatching(/its SQL goes to d1 and app: one event's SQL must go to one store/),
    });
  });

  it('replays a dead letter once its cause is fixed (a missing table created)', async () => {
    const h = pgHarness();
    const dispute = uid('dp');
    const { id } = await post(h, 'charge.disputed', { id: dispute });
    expect(await d1Status(id)).toBe('dead_lettered');
    const letter = await env.DB.prepare("SELECT seq FROM dead_letters WHERE integration = 'stripe' AND event_id = ?1")
      .bind(id)
      .first<{ seq: number }>();
    await db.query('CREATE TABLE IF NOT EXISTS ledger (id text PRIMARY KEY)');
    const replay = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(replay.status).toBe(200);
    const messages = h.drain();
    await h.consume(messages);
    await h.consume(messages.map((m) => fakeMessage(m.body, 2)));
    expect(await one('SELECT count(*)::int AS n FROM ledger WHERE id = $1', dispute)).toEqual({ n: 1 });
    expect(await d1Status(id)).toBe('applied');
  });

  it('rebuild re-projects a table from the event log into Postgres, and running it twice changes nothing', async () => {
    const h = pgHarness();
    const sub = uid('sub');
    const t = Math.floor(Date.now() / 1000);
    await post(h, 'customer.subscription.created', { id: sub, customer: 'cus_9', status: 'trialing' }, t - 10);
    await post(h, 'customer.subscription.updated', { id: sub, customer: 'cus_9', status: 'active' }, t);
    await db.query('DELETE FROM subscriptions WHERE id = $1', [sub]);
    const rebuild = async () => {
      let cursor: string | null = null;
      do {
        const res = await h.request('/admin/api/rebuild', {
          method: 'POST',
          headers: { authorization: 'Bearer test-admin-token' },
          body: JSON.stringify({ target: 'subscriptions', cursor, limit: 500 }),
        });
        expect(res.status).toBe(200);
        cursor = ((await res.json()) as { next_cursor: string | null }).next_cursor;
      } while (cursor);
    };
    await rebuild();
    expect(await one('SELECT status, customer_id FROM subscriptions WHERE id = $1', sub)).toEqual({
      status: 'active',
      customer_id: 'cus_9',
    });
    await rebuild();
    expect(await one('SELECT status FROM subscriptions WHERE id = $1', sub)).toEqual({ status: 'active' });
  });

  it('a Postgres that does not answer is retried by the policy, never dead-lettered at once, and applies nothing', async () => {
    const h = pgHarness();
    const charge = uid('ch');
    const message = fakeMessage(stripeEnvelope('charge.captured', { id: charge }));
    await h.consume([message], { HYPERDRIVE: { connectionString: 'postgres://nobody:nothing@127.0.0.1:1/none' } });
    expect(message.retried?.delaySeconds).toBeGreaterThan(0);
    expect(h.events.find((e) => e.kind === 'event.retry')).toMatchObject({ integration: 'stripe' });
    expect(await one('SELECT n FROM counters WHERE id = $1', charge)).toBeUndefined();
    const unbound = fakeMessage(stripeEnvelope('charge.captured', { id: charge }));
    await h.consume([unbound], { HYPERDRIVE: undefined });
    expect(unbound.retried).toBeDefined();
    expect(h.events.filter((e) => e.kind === 'event.retry').at(-1)).toMatchObject({
      error: expect.stringMatching(/binding HYPERDRIVE is not bound/),
    });
  });

  it('a Clerk user lands in Postgres and its welcome email is still sent, after the projection committed', async () => {
    const h = pgHarness();
    const user = uid('user');
    const body = JSON.stringify({
      type: 'user.created',
      object: 'event',
      timestamp: Date.now(),
      data: {
        id: user,
        first_name: 'Ada',
        last_name: 'Lovelace',
        created_at: 1_700_000_000_000,
        primary_email_address_id: 'idn_1',
        email_addresses: [{ id: 'idn_1', email_address: 'ada@example.com', verification: { status: 'verified' } }],
      },
    });
    expect(
      (await h.post('/webhooks/clerk', body, await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, uid('msg'), body)))
        .status,
    ).toBe(202);
    const messages = h.drain();
    await h.consume(messages);
    expect(messages.every((m) => m.acked)).toBe(true);
    expect(await one('SELECT email, name, created_at FROM users WHERE id = $1', user)).toEqual({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      created_at: new Date(1_700_000_000_000),
    });
    expect(h.providers.to(/api\.resend\.com\/emails$/)).toHaveLength(1);
  });
});

// Runs without a Postgres: the driver is missing before any connection is tried.
describe('a runtime composed without a Postgres driver (a build out of step with its manifest)', () => {
  it('retries a postgres projection saying the build has no driver, then dead-letters it with that message', async () => {
    const h = harness({ compiled: compileManifest(manifest(), defaultRegistry) });
    const hyperdrive = { HYPERDRIVE: { connectionString: 'postgres://nobody:nothing@127.0.0.1:1/none' } };
    const envelope = stripeEnvelope('charge.captured', { id: uid('ch') });
    const first = fakeMessage(envelope);
    await h.consume([first], hyperdrive);
    expect(first.retried?.delaySeconds).toBeGreaterThan(0);
    expect(h.events.filter((e) => e.kind === 'event.retry').at(-1)).toMatchObject({
      integration: 'stripe',
      error: expect.stringMatching(/this build has no Postgres driver: run switchyard build/),
    });
    const last = fakeMessage(envelope, 5);
    await h.consume([last], hyperdrive);
    expect(last.acked).toBe(true);
    const letter = await env.DB.prepare("SELECT error FROM dead_letters WHERE integration = 'stripe' AND event_id = ?1")
      .bind(envelope.id)
      .first<{ error: string }>();
    expect(letter?.error).toMatch(/this build has no Postgres driver: run switchyard build/);
  });
});
