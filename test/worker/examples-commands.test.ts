/**
 * The example commands of examples/more-providers.yaml (validated by the build in vitest.config) against local fakes
 * that check each provider's wire format: Stripe's createPaymentIntent (synchronous: the client secret now, the
 * idempotency key sent, the second call served from KV), Paddle's updateSubscription, Mixpanel's profile update and
 * Paddle Classic's subscription update (a 200 that says it failed is dead-lettered through the http success check).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { validators } from '../../.switchyard/examples.validators.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { fakeMixpanel, fakePaddle, fakeStripe } from '../support/fake-apis.ts';
import { builtInputs, harness, uid, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { commandCallId } from '../../runtime/store/index.ts';

const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
const S = env.TEST_SECRETS;
const SERVICE = { authorization: 'Bearer test-service-token' };
const ADMIN = { authorization: 'Bearer test-admin-token' };
const DAY = 86_400_000;

function setup(dbOverride?: D1Database) {
  const h = harness({
    compiled: compileManifest(manifest, defaultRegistry, builtInputs('default', validators)),
    ...(dbOverride ? { env: { DB: dbOverride } } : {}),
  });
  return h;
}
const call = (h: Harness, name: string, input: unknown, key: string) =>
  h.post(`/v1/commands/${name}`, JSON.stringify(input), { ...SERVICE, 'idempotency-key': key });
/** A call's id in the log: the key the backend sent, scoped to its service token. */
const callId = (key: string) => commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN');
const all = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .all()
  ).results;

describe('create_payment_intent (Stripe, synchronous)', () => {
  it('answers the client secret now, sends a form-encoded body with the Idempotency-Key, and serves the second call from KV', async () => {
    const h = setup();
    const stripe = fakeStripe(h.providers);
    const key = crypto.randomUUID();
    const orderId = uid('ord');
    const input = { order_id: orderId, amount: 2000, currency: 'eur' };

    const first = await call(h, 'create_payment_intent', input, key);
    expect(first.status).toBe(200);
    const body = (await first.json()) as {
      id: string;
      status: string;
      result: { client_secret: string; payment_intent_id: string };
    };
    expect(body).toEqual({
      id: key,
      status: 'applied',
      result: {
        client_secret: expect.stringMatching(/^pi_\w+_secret_\w+$/),
        payment_intent_id: expect.stringMatching(/^pi_/),
      },
    });

    const [sent] = h.providers.to(/api\.stripe\.com/);
    expect(sent!.method).toBe('POST');
    expect(sent!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent!.headers.authorization).toBe(`Bearer ${S.STRIPE_SECRET_KEY}`);
    expect(sent!.headers['idempotency-key']).toBe(`command:create_payment_intent:${await callId(key)}:0:0`);
    // Byte for byte what stripe-node sends for the same parameters (adapters/actions/form-encode.test.ts checks the encoder against it).
    expect(sent!.body).toBe(
      `amount=2000&currency=eur&automatic_payment_methods[enabled]=true&metadata[order_id]=${orderId}`,
    );

    const again = await call(h, 'create_payment_intent', { currency: 'eur', amount: 2000, order_id: orderId }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(body);
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(1);
    expect(stripe.created).toBe(1);

    // The same key with another amount: 422, and Stripe is not asked.
    const other = await call(h, 'create_payment_intent', { ...input, amount: 2500 }, key);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ reason: 'idempotency_key_reused' });
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(1);

    // The event log has the call like any event; the effect row keeps the status, never the client secret.
    const effects = await all(
      "SELECT status, result, payload FROM effects WHERE integration = 'command:create_payment_intent' AND event_id = ?",
      await callId(key),
    );
    expect(effects).toEqual([expect.objectContaining({ status: 'sent' })]);
    expect(JSON.stringify(effects)).not.toContain(body.result.client_secret);
    expect(JSON.stringify(effects)).not.toContain(S.STRIPE_SECRET_KEY!);
  });

  it('answers 502 with Stripe\u2019s error code when the card is declined, leaves a dead letter without secrets, and a retry with the same key asks again', async () => {
    const h = setup();
    const stripe = fakeStripe(h.providers);
    stripe.decline = 1;
    const key = crypto.randomUUID();
    const input = { order_id: uid('ord'), amount: 1000, currency: 'usd' };

    const declined = await call(h, 'create_payment_intent', input, key);
    expect(declined.status).toBe(502);
    const body = await declined.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'bad_gateway', reason: 'card_declined', provider_status: 402 });
    expect(body).not.toContain(S.STRIPE_SECRET_KEY!);
    const letters = await all(
      "SELECT stage, error, envelope FROM dead_letters WHERE integration = 'command:create_payment_intent' AND event_id = ?",
      `${await callId(key)}#0:0`,
    );
    expect(letters).toEqual([
      expect.objectContaining({ stage: 'effect', error: expect.stringContaining('card_declined') }),
    ]);
    // Stripe's answer echoed the Authorization header: the letter, the attempt and the logs have it redacted.
    expect(JSON.stringify(letters)).not.toContain(S.STRIPE_SECRET_KEY!);
    expect(JSON.stringify(letters)).toContain('[redacted]');
    expect(
      JSON.stringify(
        await all(
          "SELECT error FROM attempts WHERE integration = 'command:create_payment_intent' AND event_id = ?",
          await callId(key),
        ),
      ),
    ).not.toContain(S.STRIPE_SECRET_KEY!);
    expect(JSON.stringify(h.events)).not.toContain(S.STRIPE_SECRET_KEY!);

    const retry = await call(h, 'create_payment_intent', input, key);
    expect([retry.status, retry.headers.get('idempotent-replayed')]).toEqual([200, null]);
    expect(await retry.json()).toMatchObject({ result: { client_secret: expect.stringMatching(/_secret_/) } });
    const keys = h.providers.to(/api\.stripe\.com/).map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([
      `command:create_payment_intent:${await callId(key)}:0:0`,
      `command:create_payment_intent:${await callId(key)}:0:0`,
    ]);
    expect(
      await all(
        "SELECT replayed_at IS NOT NULL AS replayed FROM dead_letters WHERE integration = 'command:create_payment_intent' AND event_id = ?",
        `${await callId(key)}#0:0`,
      ),
    ).toEqual([{ replayed: 1 }]);
  });

  it('a retry of key K reopens only K\u2019s own dead letter: the letter of key K#x stays open and replayable, and neither event lists the other\u2019s', async () => {
    const h = setup();
    const stripe = fakeStripe(h.providers);
    stripe.decline = 2;
    const key = crypto.randomUUID();
    // The key K#x whose call id (K#x~<caller>) starts with K's own call id and a '#', as an effect letter's does.
    const other = `${await callId(key)}#x`;
    const input = { order_id: uid('ord'), amount: 1200, currency: 'eur' };
    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(502);
    expect((await call(h, 'create_payment_intent', input, other)).status).toBe(502);

    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(200);
    type Letter = { seq: number; event_id: string; replayed_at: string | null };
    const lettersOf = async (id: string) =>
      (
        (await (
          await h.request(`/admin/api/events/command:create_payment_intent/${encodeURIComponent(id)}`, {
            headers: ADMIN,
          })
        ).json()) as { dead_letters: Letter[] }
      ).dead_letters.map((d) => [d.event_id, d.replayed_at !== null]);
    const [K, X] = [await callId(key), await callId(other)];
    expect(X.startsWith(`${K}#`)).toBe(true);
    expect(await lettersOf(K)).toEqual([[`${K}#0:0`, true]]);
    expect(await lettersOf(X)).toEqual([[`${X}#0:0`, false]]);
    const open = (await (
      await h.request('/admin/api/dead-letters?integration=command:create_payment_intent', { headers: ADMIN })
    ).json()) as { dead_letters: Letter[] };
    expect(open.dead_letters.filter((d) => d.event_id.startsWith(key)).map((d) => d.event_id)).toEqual([`${X}#0:0`]);

    // K#x's own retry is what reopens its letter, and Stripe sees its own key.
    expect((await call(h, 'create_payment_intent', input, other)).status).toBe(200);
    expect(await lettersOf(X)).toEqual([[`${X}#0:0`, true]]);
    expect(h.providers.to(/api\.stripe\.com/).map((r) => r.headers['idempotency-key'])).toEqual(
      [K, X, K, X].map((k) => `command:create_payment_intent:${k}:0:0`),
    );
  });

  it('retention prunes the event of key K once its letter is replayed, though the letter of key K#x is still open (and keeps K#x)', async () => {
    let now = Date.now();
    const m = structuredClone(manifest);
    // payloads too: while an integration signs no timestamp (github, twilio), event rows outlive bodies.
    m.retention = { ...m.retention, events: '7d', payloads: '7d' };
    const h = harness({
      compiled: compileManifest(m, defaultRegistry, builtInputs('default', validators)),
      now: () => now,
    });
    const stripe = fakeStripe(h.providers);
    stripe.decline = 1;
    const key = crypto.randomUUID();
    // The key K#x whose call id (K#x~<caller>) starts with K's own call id and a '#', as an effect letter's does.
    const other = `${await callId(key)}#x`;
    const input = { order_id: uid('ord'), amount: 1300, currency: 'eur' };
    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(502);
    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(200);
    stripe.decline = 1;
    expect((await call(h, 'create_payment_intent', input, other)).status).toBe(502);
    // A later call, so neither is the newest row (which retention always keeps).
    expect((await call(h, 'create_payment_intent', input, crypto.randomUUID())).status).toBe(200);
    now += 8 * DAY;
    await h.runtime.scheduled(h.env);
    const [K, X] = [await callId(key), await callId(other)];
    expect(X.startsWith(`${K}#`)).toBe(true);
    expect(
      await all(
        "SELECT id FROM events WHERE integration = 'command:create_payment_intent' AND id IN (?1, ?2) ORDER BY id",
        K,
        X,
      ),
    ).toEqual([{ id: X }]);
  });

  it('after the cache time, asks Stripe again with the same Idempotency-Key and answers what Stripe replays', async () => {
    const h = setup();
    fakeStripe(h.providers);
    const key = crypto.randomUUID();
    const input = { order_id: uid('ord'), amount: 3100, currency: 'eur' };
    const first = (await (await call(h, 'create_payment_intent', input, key)).json()) as {
      result: { client_secret: string };
    };
    // KV dropped the result (its hour is over).
    await env.KV.delete(`command:create_payment_intent:${await callId(key)}`);
    const later = await call(h, 'create_payment_intent', input, key);
    expect([later.status, later.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(await later.json()).toMatchObject({ result: { client_secret: first.result.client_secret } });
    const sent = h.providers.to(/api\.stripe\.com/);
    expect(sent.map((r) => r.headers['idempotency-key'])).toEqual([
      `command:create_payment_intent:${await callId(key)}:0:0`,
      `command:create_payment_intent:${await callId(key)}:0:0`,
    ]);
    expect(sent[1]!.body).toBe(sent[0]!.body);
    // Cached again: the next repeat is served from KV.
    expect((await call(h, 'create_payment_intent', input, key)).headers.get('idempotent-replayed')).toBe('true');
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(2);
  });

  it('with cache: 0s keeps nothing in KV: a repeat asks Stripe again with the same key', async () => {
    const uncached = structuredClone(manifest);
    uncached.commands!.create_payment_intent!.sync!.cache = '0s';
    const h = harness({ compiled: compileManifest(uncached, defaultRegistry, builtInputs('default', validators)) });
    fakeStripe(h.providers);
    const key = crypto.randomUUID();
    const input = { order_id: uid('ord'), amount: 700, currency: 'eur' };
    const first = await (await call(h, 'create_payment_intent', input, key)).json();
    const again = await call(h, 'create_payment_intent', input, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(first);
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(2);
    expect(await env.KV.get(`command:create_payment_intent:${await callId(key)}`)).toBeNull();
  });

  it('answers 409 to a repeat while the first call is still waiting for Stripe', async () => {
    const h = setup();
    const stripe = fakeStripe(h.providers);
    let release!: () => void;
    stripe.hold = new Promise<void>((resolve) => (release = resolve));
    const key = crypto.randomUUID();
    const input = { order_id: uid('ord'), amount: 900, currency: 'gbp' };
    const first = call(h, 'create_payment_intent', input, key);
    await new Promise((r) => setTimeout(r, 50));
    const second = await call(h, 'create_payment_intent', input, key);
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(200);
  });

  it('costs 5 D1 rows written (and 1 KV write) for a first call, and nothing in D1 for a repeat (1 KV read)', async () => {
    const meter = metered(env.DB);
    const h = setup(meter.db);
    fakeStripe(h.providers);
    const key = crypto.randomUUID();
    const input = { order_id: uid('ord'), amount: 5000, currency: 'eur' };
    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(200);
    const first = { written: meter.written, read: meter.read };
    meter.reset();
    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(200);
    // The event row and key (2), the effect and its open-index entry (2), its settlement (1); nothing for the repeat.
    expect({ first: first.written, repeat: { written: meter.written, read: meter.read } }).toEqual({
      first: 5,
      repeat: { written: 0, read: 0 },
    });
  });
});

describe('update_subscription (Paddle Billing) and update_user_profile (Mixpanel), applied in the request', () => {
  it('PATCHes the subscription with a bearer key and Paddle\u2019s snake_case JSON body', async () => {
    const h = setup();
    fakePaddle(h.providers);
    const key = crypto.randomUUID();
    const res = await call(
      h,
      'update_subscription',
      { subscription_id: 'sub_01h8', items: [{ price_id: 'pri_01gold', quantity: 2 }] },
      key,
    );
    expect(res.status).toBe(200);
    const [sent] = h.providers.to(/api\.paddle\.com/);
    expect(sent).toMatchObject({ method: 'PATCH', url: 'https://api.paddle.com/subscriptions/sub_01h8' });
    expect(sent!.headers.authorization).toBe(`Bearer ${S.PADDLE_API_KEY}`);
    expect(sent!.json).toEqual({
      items: [{ price_id: 'pri_01gold', quantity: 2 }],
      proration_billing_mode: 'prorated_immediately',
    });
    const detail = (await (
      await h.request(`/admin/api/events/command:update_subscription/${await callId(key)}`, { headers: ADMIN })
    ).json()) as { effects: { status: string; result: { status: number } }[] };
    expect(detail.effects).toEqual([
      expect.objectContaining({ status: 'sent', result: expect.objectContaining({ status: 200 }) }),
    ]);
  });

  it('sets Mixpanel profile properties through /engage, with the project token in the body but never in the effect row', async () => {
    const h = setup();
    fakeMixpanel(h.providers, S.MIXPANEL_TOKEN!);
    const key = crypto.randomUUID();
    const res = await call(
      h,
      'update_user_profile',
      { distinct_id: 'user_42', properties: { plan: 'pro', seats: 3 } },
      key,
    );
    expect(res.status).toBe(200);
    const [sent] = h.providers.to(/api\.mixpanel\.com/);
    expect(sent!.url).toBe('https://api.mixpanel.com/engage?verbose=1');
    expect(sent!.json).toEqual({ $distinct_id: 'user_42', $set: { plan: 'pro', seats: 3 }, $token: S.MIXPANEL_TOKEN });
    const rows = await all(
      "SELECT status, payload, result FROM effects WHERE integration = 'command:update_user_profile' AND event_id = ?",
      await callId(key),
    );
    expect(rows).toEqual([
      expect.objectContaining({ status: 'sent', result: expect.stringContaining('\\"status\\":1') }),
    ]);
    expect(JSON.stringify(rows)).not.toContain(S.MIXPANEL_TOKEN!);
    expect(JSON.parse(rows[0]!.payload as string)).toMatchObject({ secrets: { body: [['$token', 'MIXPANEL_TOKEN']] } });
  });
});

/**
 * APIs that answer a refusal with HTTP 200 and an error in the body: the http action's `success` check turns such an
 * answer into a provider failure, retried per the step's policy and finally dead-lettered with the provider's reason.
 */
describe('a 200 that says it failed (success check)', () => {
  const AUTH_CODE = S.PADDLE_VENDOR_AUTH_CODE!;
  /** Consumes until nothing is queued, moving the clock past each retry's delay. */
  async function settleAll(h: Harness, clock: { now: number }) {
    for (let round = 0; round < 20; round++) {
      const messages = h.drain();
      if (!messages.length) return;
      await h.consume(messages);
      clock.now += 24 * 3600_000;
    }
    throw new Error('still queueing after 20 rounds');
  }
  function timed() {
    const clock = { now: Date.now() };
    const h = harness({
      compiled: compileManifest(manifest, defaultRegistry, builtInputs('default', validators)),
      now: () => clock.now,
    });
    return { h, clock };
  }
  const everything = async (integration: string, id: string) => ({
    effects: await all(
      'SELECT status, attempts, result, payload, error FROM effects WHERE integration = ?1 AND event_id = ?2',
      integration,
      id,
    ),
    letters: await all(
      "SELECT reason, error, envelope, attempts FROM dead_letters WHERE integration = ?1 AND stage = 'effect' AND event_id >= ?2 || '#' AND event_id < ?2 || '$'",
      integration,
      id,
    ),
    attempts: await all('SELECT * FROM attempts WHERE integration = ?1 AND event_id = ?2', integration, id),
  });

  it('dead-letters a Paddle Classic {"success": false} with its error code as the reason, the vendor_auth_code nowhere', async () => {
    const { h, clock } = timed();
    h.providers.on(/vendors\.paddle\.com/, (r) =>
      Response.json({
        success: false,
        error: {
          code: 107,
          message: `You don't have permission to access this resource (vendor_auth_code ${new URLSearchParams(r.body).get('vendor_auth_code')})`,
        },
      }),
    );
    const key = crypto.randomUUID();
    expect((await call(h, 'paddle_classic_update_subscription', { subscription_id: 5, plan_id: 9 }, key)).status).toBe(
      200,
    );
    await settleAll(h, clock);

    const sent = h.providers.to(/vendors\.paddle\.com/);
    expect(sent.length).toBeGreaterThan(1); // retried like a 5xx, not sent once and forgotten
    expect(sent[0]!.url).toBe('https://vendors.paddle.com/api/2.0/subscription/users/update');
    expect(Object.fromEntries(new URLSearchParams(sent[0]!.body))).toEqual({
      vendor_id: '123456',
      vendor_auth_code: AUTH_CODE,
      subscription_id: '5',
      plan_id: '9',
      prorate: 'true',
      bill_immediately: 'false',
    });

    const stored = await everything('command:paddle_classic_update_subscription', await callId(key));
    expect(stored.effects).toEqual([expect.objectContaining({ status: 'dead_lettered', attempts: sent.length })]);
    expect(stored.letters).toEqual([
      expect.objectContaining({
        reason: 'effect',
        attempts: sent.length,
        error: expect.stringMatching(/answered 200 but success is false, not true: 107$/),
      }),
    ]);
    expect(stored.effects[0]!.error).toMatch(/: 107$/);
    expect(stored.attempts).toHaveLength(sent.length);
    expect(JSON.stringify(stored)).toContain('PADDLE_VENDOR_AUTH_CODE');
    expect(JSON.stringify(stored)).not.toContain(AUTH_CODE);
    expect(JSON.stringify(h.events)).toContain('effect.dead_lettered');
    expect(JSON.stringify(h.events)).not.toContain(AUTH_CODE);
  });

  it('records a Paddle Classic {"success": true} as sent, once', async () => {
    const { h, clock } = timed();
    h.providers.on(/vendors\.paddle\.com/, () =>
      Response.json({
        success: true,
        response: {
          subscription_id: 5,
          user_id: 425123,
          plan_id: 9,
          next_payment: { amount: 144.06, currency: 'GBP', date: '2018-02-15' },
        },
      }),
    );
    const key = crypto.randomUUID();
    await call(h, 'paddle_classic_update_subscription', { subscription_id: 5, plan_id: 9, prorate: false }, key);
    await settleAll(h, clock);
    expect(h.providers.to(/vendors\.paddle\.com/)).toHaveLength(1);
    const stored = await everything('command:paddle_classic_update_subscription', await callId(key));
    expect(stored.effects).toEqual([expect.objectContaining({ status: 'sent', attempts: 1 })]);
    expect(stored.letters).toEqual([]);
  });

  it('dead-letters a Mixpanel {"status": 0} with Mixpanel\u2019s error as the reason, the project token nowhere', async () => {
    const { h, clock } = timed();
    fakeMixpanel(h.providers, 'not-the-configured-token');
    const key = crypto.randomUUID();
    await call(h, 'update_user_profile', { distinct_id: 'user_42', properties: { plan: 'pro' } }, key);
    await settleAll(h, clock);
    const sent = h.providers.to(/api\.mixpanel\.com/);
    expect(sent.length).toBeGreaterThan(1);
    const stored = await everything('command:update_user_profile', await callId(key));
    expect(stored.effects).toEqual([expect.objectContaining({ status: 'dead_lettered' })]);
    expect(stored.letters).toEqual([
      expect.objectContaining({
        error: expect.stringMatching(/answered 200 but status is 0, not 1: token, missing or empty$/),
      }),
    ]);
    expect(JSON.stringify(stored)).not.toContain(S.MIXPANEL_TOKEN!);
    expect(JSON.stringify(h.events)).not.toContain(S.MIXPANEL_TOKEN!);
  });
});
