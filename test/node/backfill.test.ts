/**
 * `switchyard backfill` and `switchyard reconcile` against the real Worker (`wrangler dev`: local D1, the same
 * pipeline as production) and a local fake of Stripe's list API (pagination, 429s with Retry-After, failures).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAsync, defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';
import { TEST_SECRETS } from '../support/secrets.ts';
import { stripeSignature } from '../support/sign.ts';
import { startDevWorker, type DevWorker } from '../support/wrangler-dev.ts';
import { startFakeLists, stripeSubscriptions, type FakeLists } from '../support/fake-lists.ts';

const KEY = 'sk_test_fake_list_key';
let worker: DevWorker;
let fake: FakeLists;
let dir: string;

beforeAll(async () => {
  fake = await startFakeLists({ key: KEY, throttleEvery: 3 });
  worker = await startDevWorker();
  // The project points Stripe's sources at the fake (the manifest overrides the catalog's URL), and scopes reconcile to
  // the rows the reconcile test plants (other tests write subscriptions too).
  const manifest = replaceOnce(
    defaultManifestText(),
    '  stripe:\n    provider: stripe\n',
    `  stripe:\n    provider: stripe\n    sources:\n      subscriptions: { url: "${fake.url}/v1/subscriptions", rate_limit: { per_second: 200 }, reconcile: { key_like: "sub_d%" } }\n`,
  )
    .replace(
      '  clerk:\n    provider: clerk\n    route:',
      `  clerk:\n    provider: clerk\n    sources: { users: { url: "${fake.url}/v1/users" } }\n    route:`,
    )
    .replace(
      '  paddle:\n    provider: paddle\n',
      `  paddle:\n    provider: paddle\n    sources: { subscriptions: { url: "${fake.url}/subscriptions" } }\n`,
    );
  dir = dirname(projectWith(manifest));
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await fake?.close();
});

const run = (args: string[], env: Record<string, string> = {}) =>
  cliAsync(args, {
    cwd: dir,
    env: {
      ADMIN_TOKEN: TEST_SECRETS.ADMIN_TOKEN!,
      SWITCHYARD_URL: worker.url,
      STRIPE_SECRET_KEY: KEY,
      CLERK_SECRET_KEY: KEY,
      PADDLE_API_KEY: KEY,
      ...env,
    },
  });
const rows = () =>
  worker.query<{ id: string; status: string; customer_id: string; plan_id: string | null }>(
    'SELECT id, status, customer_id, plan_id FROM subscriptions ORDER BY id',
  );
const backfilled = (like: string) =>
  worker.query<{ n: number }>(
    "SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND origin = 'backfill' AND id LIKE ?",
    like,
  )[0]!.n;

async function webhook(object: Record<string, unknown>, created: number) {
  const body = JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'customer.subscription.updated',
    created,
    data: { object },
  });
  const res = await fetch(`${worker.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body),
    },
    body,
  });
  expect(res.status).toBeLessThan(300);
}

describe('switchyard backfill', () => {
  it('fills an empty table from the list API through the handlers, honouring 429s, marked backfill, and writes the same objects once', async () => {
    fake.stripe.set('subscriptions', stripeSubscriptions(250, 'sub_a'));
    const done = await run(['backfill', 'stripe', '--objects', 'subscriptions', '--yes']);
    expect(done.stderr).toContain('429 from the provider (Retry-After)');
    expect(done.stdout).toContain('per object:');
    expect(done.stdout).toMatch(/250 events sent \(250 applied\)/);
    expect(done.code).toBe(0);
    const got = rows().filter((r) => r.id.startsWith('sub_a'));
    expect(got).toHaveLength(250);
    expect(got[0]).toEqual({ id: 'sub_a000000', status: 'canceled', customer_id: 'cus_000000', plan_id: 'price_pro' });
    expect(got[1]).toEqual({ id: 'sub_a000001', status: 'active', customer_id: 'cus_000001', plan_id: 'price_basic' });
    expect(backfilled('backfill:sub_a%')).toBe(250);
    expect(fake.throttled).toBeGreaterThan(0);
    const checkpoint = JSON.parse(
      readFileSync(join(dir, '.switchyard/backfill/default-stripe-subscriptions.json'), 'utf8'),
    );
    expect(checkpoint).toMatchObject({ listed: 250, sent: 250, cursor: null });
    expect(checkpoint.finished_at).toBeTruthy();

    // A finished source is not run again; --restart sends the same states, which the event log writes once.
    expect((await run(['backfill', 'stripe', '--objects', 'subscriptions', '--yes'])).stdout).toContain('finished');
    const again = await run(['backfill', 'stripe', '--objects', 'subscriptions', '--yes', '--restart']);
    expect(again.stdout).toMatch(/250 events sent \(250 duplicate\)/);
    expect(backfilled('backfill:sub_a%')).toBe(250);
    fake.throttleEvery = 0;
  }, 120_000);

  it('refuses without a terminal unless --yes, and --dry-run writes nothing', async () => {
    const refused = await run(['backfill', 'stripe', '--objects', 'subscriptions', '--restart']);
    expect(refused.stderr).toContain('pass --yes');
    expect(refused.code).toBe(2);
    const before = worker.query<{ n: number }>('SELECT count(*) AS n FROM events')[0]!.n;
    const dry = await run(['backfill', 'stripe', '--objects', 'subscriptions', '--dry-run']);
    expect(dry.stdout).toContain('"type": "customer.subscription.updated"');
    expect(dry.stdout).toContain('would send 250 customer.subscription.updated events; nothing written');
    expect(worker.query<{ n: number }>('SELECT count(*) AS n FROM events')[0]!.n).toBe(before);
    // A handler with effects is not run for every old object unless asked.
    const effects = await run(['backfill', 'stripe', '--objects', 'payment_intents', '--yes']);
    expect(effects.stderr).toContain('enqueue fulfillment');
    expect(effects.code).toBe(2);
  }, 60_000);

  it('resumes after the provider fails mid-way, from the last page written, and ends with exactly the expected rows', async () => {
    fake.stripe.set('subscriptions', stripeSubscriptions(300, 'sub_b', 1_710_000_000));
    fake.failFrom = fake.requests + 6; // the count pass (3 pages) and 2 pages go through, then 500s
    const failed = await run([
      'backfill',
      'stripe',
      '--objects',
      'subscriptions',
      '--yes',
      '--restart',
      '--retries',
      '0',
    ]);
    expect(failed.stderr).toContain('answered 500');
    expect(failed.stderr).toContain('run the same command to resume');
    expect(failed.code).toBe(1);
    const written = rows().filter((r) => r.id.startsWith('sub_b')).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(300);
    fake.failFrom = Infinity;
    const resumed = await run(['backfill', 'stripe', '--objects', 'subscriptions', '--yes', '--retries', '0']);
    expect(resumed.stdout).toContain(`resuming after ${written}`);
    expect(resumed.code).toBe(0);
    expect(rows().filter((r) => r.id.startsWith('sub_b'))).toHaveLength(300);
    expect(backfilled('backfill:sub_b%')).toBe(300);
  }, 120_000);

  it('paces D1 writes under --max-writes-per-minute (rows per event from the budget)', async () => {
    fake.stripe.set('subscriptions', stripeSubscriptions(30, 'sub_e', 1_715_000_000));
    // 4 rows an event, 10 events a batch: 40 rows, so 2,400 rows a minute is one batch a second.
    const paced = await run([
      'backfill',
      'stripe',
      '--objects',
      'subscriptions',
      '--yes',
      '--restart',
      '--max-writes-per-minute',
      '2400',
    ]);
    expect(paced.stdout).toContain('at most 2,400 rows written a minute (600 objects)');
    expect(paced.code).toBe(0);
    const times = worker
      .query<{ received_at: string }>("SELECT received_at FROM events WHERE id LIKE 'backfill:sub_e%' ORDER BY seq")
      .map((r) => Date.parse(r.received_at));
    expect(times).toHaveLength(30);
    expect(times[29]! - times[0]!).toBeGreaterThanOrEqual(1900);
  }, 60_000);

  it('races live webhooks: the newer state wins whichever arrives first', async () => {
    const [early, late, stale] = stripeSubscriptions(3, 'sub_c', 1_720_000_000);
    fake.stripe.set('subscriptions', [early!, late!, stale!]);
    const future = Math.floor(Date.now() / 1000) + 120;
    // A newer webhook before the backfill: the backfill (an older state) does not overwrite it.
    await webhook({ ...early, status: 'past_due' }, future);
    await run(['backfill', 'stripe', '--objects', 'subscriptions', '--yes', '--restart']);
    // A newer webhook after the backfill wins; an older one (in flight from before) does not.
    await webhook({ ...late, status: 'past_due' }, future);
    await webhook({ ...stale, status: 'incomplete' }, Math.floor(Date.now() / 1000) - 3600);
    const got = Object.fromEntries(
      rows()
        .filter((r) => r.id.startsWith('sub_c'))
        .map((r) => [r.id, r.status]),
    );
    expect(got).toEqual({ sub_c000000: 'past_due', sub_c000001: 'past_due', sub_c000002: 'active' });
  }, 60_000);
});

describe('backfill from Clerk and Paddle', () => {
  it('pages Clerk by offset (counted by its count endpoint) as user.updated, sending no welcome email, and Paddle by its next links', async () => {
    fake.clerkUsers = Array.from({ length: 1100 }, (_, i) => ({
      id: `user_${String(i).padStart(5, '0')}`,
      object: 'user',
      first_name: 'Ada',
      last_name: `N${i}`,
      primary_email_address_id: `idn_${i}`,
      email_addresses: [{ id: `idn_${i}`, email_address: `ada${i}@example.com`, verification: { status: 'verified' } }],
      created_at: 1_700_000_000_000 + i,
      updated_at: 1_700_000_500_000 + i,
    }));
    fake.paddleSubscriptions = Array.from({ length: 450 }, (_, i) => ({
      id: `sub_01h${String(i).padStart(23, '0')}`,
      status: 'active',
      customer_id: `ctm_${i}`,
      updated_at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      current_billing_period: { ends_at: '2026-01-01T00:00:00Z' },
      items: [{ price: { id: 'pri_1' } }],
    }));
    const clerk = await run(['backfill', 'clerk', '--yes']);
    expect(clerk.stdout).toContain('users: user.updated for 1,100 objects');
    expect(clerk.stdout).toMatch(/1100 events sent \(1100 applied\)/);
    expect(clerk.code).toBe(0);
    const users = worker.query<{ id: string; email: string; name: string }>(
      "SELECT id, email, name FROM users WHERE id LIKE 'user_%' ORDER BY id",
    );
    expect(users).toHaveLength(1100);
    expect(users[1099]).toEqual({ id: 'user_01099', email: 'ada1099@example.com', name: 'Ada N1099' });
    expect(worker.query<{ n: number }>("SELECT count(*) AS n FROM effects WHERE integration = 'clerk'")[0]!.n).toBe(0);

    const paddle = await run(['backfill', 'paddle', '--objects', 'subscriptions', '--yes']);
    expect(paddle.stdout).toContain('subscriptions: subscription.updated for 450 objects');
    expect(paddle.code).toBe(0);
    expect(
      worker.query<{ n: number }>(
        "SELECT count(*) AS n FROM subscriptions WHERE id LIKE 'sub_01h%' AND customer_id LIKE 'ctm_%' AND current_period_end = '2026-01-01T00:00:00.000Z'",
      )[0]!.n,
    ).toBe(450);
  }, 120_000);
});

describe('switchyard reconcile', () => {
  it('reports planted drift precisely (missing, extra, different columns) and --repair clears what the provider can say', async () => {
    const objects = stripeSubscriptions(120, 'sub_d', 1_730_000_000);
    fake.stripe.set('subscriptions', objects);
    expect((await run(['backfill', 'stripe', '--objects', 'subscriptions', '--yes', '--restart'])).code).toBe(0);
    // Drift as lost webhooks make it: a change nobody heard of, a new object, an object deleted at the provider.
    const changed = {
      ...objects[5]!,
      status: 'past_due',
      items: { object: 'list', data: [{ id: 'si_x', price: { id: 'price_team' } }] },
    };
    const added = stripeSubscriptions(1, 'sub_dnew', 1_730_500_000)[0]!;
    const current = [...objects.slice(0, 5), changed, ...objects.slice(6, 119), added];
    fake.stripe.set('subscriptions', current);
    const report = await run(['reconcile', 'stripe', '--objects', 'subscriptions', '--json']);
    expect(report.code).toBe(1);
    const drift = JSON.parse(report.stdout).results[0];
    expect(drift.missing).toEqual(['sub_dnew000000']);
    expect(drift.extra).toEqual(['sub_d000119']);
    expect(drift.different).toEqual([
      {
        key: 'sub_d000005',
        columns: [
          { column: 'status', row: 'active', provider: 'past_due' },
          { column: 'plan_id', row: 'price_basic', provider: 'price_team' },
        ],
      },
    ]);

    const repaired = await run(['reconcile', 'stripe', '--objects', 'subscriptions', '--repair']);
    expect(repaired.stdout).toContain('missing and different rows now match');
    expect(repaired.stdout).toContain('extra    sub_d000119');
    expect(rows().find((r) => r.id === 'sub_d000005')).toMatchObject({ status: 'past_due', plan_id: 'price_team' });
    expect(rows().find((r) => r.id === 'sub_dnew000000')).toBeTruthy();
    expect(worker.query<{ n: number }>("SELECT count(*) AS n FROM events WHERE origin = 'repair'")[0]!.n).toBe(2);
    const after = JSON.parse((await run(['reconcile', 'stripe', '--objects', 'subscriptions', '--json'])).stdout)
      .results[0];
    expect(after).toMatchObject({ missing: [], different: [], extra: ['sub_d000119'] });
  }, 120_000);
});
