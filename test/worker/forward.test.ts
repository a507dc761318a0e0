/**
 * Forward (issue 27): a verified Stripe event delivered to an app elsewhere, signed with Standard Webhooks and
 * checked by the spec's own library (`standardwebhooks`), with the guarantees of every effect: once per event, retried
 * with backoff, dead-lettered with the app's answer, replayed; the same webhook-id on every try; ordered per key.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { builtInputs, defaultManifest, harness, uid, type Harness } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
/** The destination's secret (the Standard Webhooks spec's example key). */
const APP_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Received {
  id: string;
  body: string;
  headers: Record<string, string>;
  status: number;
}

/**
 * The app: verifies every request with `standardwebhooks` (401 when it does not verify), records it, and processes
 * each webhook-id once (as the library's docs tell receivers to). `answers` scripts its next statuses (default 200);
 * `drops` records that many requests and then drops the connection, as a server killed mid-answer would.
 */
class App {
  readonly received: Received[] = [];
  readonly processed: Received[] = [];
  answers: number[] = [];
  drops = 0;
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const body = await request.text();
    const headers = Object.fromEntries(request.headers);
    try {
      new Webhook(APP_SECRET).verify(body, headers);
    } catch (error) {
      return new Response(`not verified: ${String(error)}`, { status: 401 });
    }
    const status = this.answers.shift() ?? 200;
    const got = { id: headers['webhook-id']!, body, headers, status };
    this.received.push(got);
    if (status < 300 && !this.processed.some((p) => p.id === got.id)) this.processed.push(got);
    if (this.drops > 0) {
      this.drops--;
      throw new TypeError('Network connection lost.');
    }
    return new Response(status < 300 ? 'ok' : `app failed: ${'x'.repeat(2000)}`, { status });
  };
}

function world(
  step: Record<string, unknown> = {},
  retry: Record<string, unknown> = { max_attempts: 3, backoff: 'fixed', initial_delay: '1s', jitter: 0 },
) {
  const name = uid('shop').toLowerCase();
  const m = structuredClone(defaultManifest) as Manifest;
  m.integrations = {
    [name]: {
      ...m.integrations.stripe!,
      route: `/webhooks/${name}`,
      handlers: [
        {
          on: '*',
          steps: [
            {
              action: 'forward',
              url: 'https://app.example.test/webhooks/stripe',
              secret: 'APP_FORWARD_SECRET',
              retry,
              ...step,
            },
          ],
        },
      ],
    } as Manifest['integrations'][string],
  };
  const app = new App();
  const clock = { now: Date.now() };
  const h = harness({
    compiled: compileManifest(m, defaultRegistry, builtInputs()),
    fetch: app.fetch,
    now: () => clock.now,
    ctx: true,
    env: { APP_FORWARD_SECRET: APP_SECRET },
  });
  const effect = (id: string) =>
    env.DB.prepare(
      'SELECT status, attempts, next_at, error, result FROM effects WHERE integration = ?1 AND event_id = ?2',
    )
      .bind(name, id)
      .first<{
        status: string;
        attempts: number;
        next_at: string | null;
        error: string | null;
        result: string | null;
      }>();
  return {
    name,
    app,
    h,
    clock,
    effect,
    /** Stripe delivers an event (signed as Stripe signs), and the work after the answer runs. */
    async stripe(type: string, object: Record<string, unknown>, id = uid('evt'), body?: string) {
      const text =
        body ??
        JSON.stringify({ id, object: 'event', type, created: Math.floor(clock.now / 1000), data: { object } }, null, 2);
      const res = await h.post(`/webhooks/${name}`, text, {
        'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, text, Math.floor(clock.now / 1000)),
      });
      await h.settle();
      return { res, id, text };
    },
    /** Time passes and the queue delivers what was scheduled (the delayed effects messages). */
    async later(ms: number) {
      clock.now += ms;
      await h.consume(h.drain());
    },
  };
}

const admin = (h: Harness, path: string, body?: unknown) =>
  h.request(
    path,
    body === undefined ? { headers: ADMIN } : { method: 'POST', headers: ADMIN, body: JSON.stringify(body) },
  );

describe('forward: a Stripe event to an app that verifies Standard Webhooks', () => {
  it('forwards the raw body, signed and described by headers; the same event redelivered by Stripe is forwarded once', async () => {
    const w = world();
    const first = await w.stripe('invoice.paid', { id: 'in_1', customer: 'cus_1' });
    expect(first.res.status).toBe(200);
    expect(w.app.received).toHaveLength(1);
    const got = w.app.received[0]!;
    // Byte for byte what Stripe sent (pretty-printed here), not a re-serialisation.
    expect(got.body).toBe(first.text);
    expect(got.headers).toMatchObject({
      'content-type': 'application/json',
      'switchyard-integration': w.name,
      'switchyard-event-id': first.id,
      'switchyard-event-type': 'invoice.paid',
      'switchyard-attempt': '1',
      'switchyard-origin': 'webhook',
    });
    expect(got.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(got.headers['switchyard-occurred-at']).toMatch(/^\d{4}-\d\d-\d\dT/);

    const again = await w.stripe('invoice.paid', {}, first.id, first.text);
    expect(again.res.status).toBe(200);
    await w.later(60_000);
    expect(w.app.received).toHaveLength(1);
    expect((await w.effect(first.id))!.status).toBe('sent');
  });

  it('a 500 is retried with backoff under the same webhook-id, then dead-lettered with the answer, and replayed once', async () => {
    const w = world();
    w.app.answers = [500, 503, 500];
    const { id } = await w.stripe('invoice.payment_failed', { id: 'in_2', customer: 'cus_2' });
    const after1 = (await w.effect(id))!;
    expect(after1).toMatchObject({ status: 'retrying', attempts: 1 });
    // Not before its time: the retry message is delayed, and a consumer that runs early finds nothing due.
    expect(Date.parse(after1.next_at!) - w.clock.now).toBe(1000);
    const early = w.h.drain();
    await w.h.consume(early);
    expect(w.app.received).toHaveLength(1);

    await w.later(1500);
    expect((await w.effect(id))!).toMatchObject({ status: 'retrying', attempts: 2 });
    await w.later(1500);
    const dead = (await w.effect(id))!;
    expect(dead).toMatchObject({ status: 'dead_lettered', attempts: 3 });
    expect(w.app.received.map((r) => r.headers['switchyard-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(w.app.received.map((r) => r.id)).size).toBe(1);
    expect(w.app.processed).toHaveLength(0);

    // The event's timeline: each failed attempt with its status and how long it took; the dead letter keeps the app's answer.
    const detail = (await (await admin(w.h, `/admin/api/events/${w.name}/${id}`)).json()) as {
      attempts: { n: number; error: string; duration_ms: number | null }[];
      dead_letters: { stage: string; reason: string }[];
    };
    expect(detail.dead_letters).toMatchObject([{ stage: 'effect', reason: 'effect' }]);
    expect(detail.attempts.map((a) => [a.n, a.error.slice(0, 19)])).toEqual([
      [1, 'forward answered 50'],
      [2, 'forward answered 50'],
      [3, 'forward answered 50'],
    ]);
    expect(detail.attempts.every((a) => typeof a.duration_ms === 'number')).toBe(true);
    const stored = await env.DB.prepare('SELECT envelope FROM dead_letters WHERE integration = ?1 AND event_id = ?2')
      .bind(w.name, `${id}#0:0`)
      .first<{ envelope: string }>();
    const letter = JSON.parse(stored!.envelope) as {
      action: string;
      answer: { status: number; excerpt: string; at: string };
    };
    expect(letter.action).toBe('forward');
    expect(letter.answer.status).toBe(500);
    expect(letter.answer.excerpt).toMatch(/^forward answered 500: app failed: x+$/);
    expect(letter.answer.excerpt.length).toBeLessThanOrEqual(500);

    // The app is fixed; the console's retry now replays it: once, under the same webhook-id, marked as a replay.
    const res = await admin(w.h, '/admin/api/effects/retry', { integration: w.name, id, step: '0:0' });
    expect(res.status).toBe(200);
    expect(w.app.processed).toHaveLength(1);
    expect(w.app.processed[0]!.id).toBe(w.app.received[0]!.id);
    expect(w.app.processed[0]!.headers['switchyard-origin']).toBe('replay');
    const sent = (await w.effect(id))!;
    expect(sent.status).toBe('sent');
    // The delivery that succeeded is on the timeline too: its status, when it ended and how long its call took.
    const after = (await (await admin(w.h, `/admin/api/events/${w.name}/${id}`)).json()) as {
      effects: { status: string; duration_ms: number | null; updated_at: string }[];
    };
    expect(after.effects).toMatchObject([{ status: 'sent', duration_ms: expect.any(Number) }]);
    expect(JSON.parse(sent.result!)).toMatchObject({ status: 200, body: 'ok' });
    expect(typeof (JSON.parse(sent.result!) as { duration_ms: unknown }).duration_ms).toBe('number');
  });

  it('410, and a 4xx the destination declares permanent, stop retrying; another 4xx is retried', async () => {
    const w = world({ permanent: [422] });
    w.app.answers = [410, 422, 400];
    const gone = await w.stripe('invoice.paid', { id: 'in_3' });
    const refused = await w.stripe('invoice.paid', { id: 'in_4' });
    const bad = await w.stripe('invoice.paid', { id: 'in_5' });
    expect((await w.effect(gone.id))!).toMatchObject({ status: 'dead_lettered', attempts: 1 });
    expect((await w.effect(refused.id))!).toMatchObject({ status: 'dead_lettered', attempts: 1 });
    expect((await w.effect(bad.id))!).toMatchObject({ status: 'retrying', attempts: 1 });
  });

  it('sent once: the app records the request and the connection drops; the retry carries the same webhook-id, and the app processes it once', async () => {
    const w = world();
    w.app.drops = 1;
    const { id } = await w.stripe('customer.updated', { id: 'cus_9' });
    expect((await w.effect(id))!.status).toBe('retrying');
    await w.later(1500);
    expect(w.app.received).toHaveLength(2);
    expect(w.app.received[1]!.id).toBe(w.app.received[0]!.id);
    expect(w.app.processed).toHaveLength(1);
    expect((await w.effect(id))!.status).toBe('sent');
  });

  it('order per key: a later event for the same customer waits while the first retries; other customers are not held', async () => {
    const w = world({ order_by: 'data.object.customer' });
    w.app.answers = [500];
    const a = await w.stripe('invoice.paid', { id: 'in_a', customer: 'cus_A' });
    w.clock.now += 100;
    const b = await w.stripe('invoice.paid', { id: 'in_b', customer: 'cus_A' });
    w.clock.now += 100;
    const c = await w.stripe('invoice.paid', { id: 'in_c', customer: 'cus_C' });
    expect((await w.effect(a.id))!.status).toBe('retrying');
    const held = (await w.effect(b.id))!;
    expect(held).toMatchObject({ status: 'deferred', attempts: 0 });
    expect(held.error).toContain(`held: an earlier send with the same order key (${w.name}/${a.id}`);
    expect(w.app.processed.map((p) => p.headers['switchyard-event-id'])).toEqual([c.id]);

    for (let i = 0; i < 4 && (await w.effect(b.id))!.status !== 'sent'; i++) await w.later(6000);
    expect(w.app.processed.map((p) => p.headers['switchyard-event-id'])).toEqual([c.id, a.id, b.id]);
    expect(w.app.received.filter((r) => r.headers['switchyard-event-id'] === b.id)).toHaveLength(1);
  });

  it('order per key: once the earlier event is dead-lettered, the later one for that customer proceeds', async () => {
    const w = world(
      { order_by: 'data.object.customer' },
      { max_attempts: 2, backoff: 'fixed', initial_delay: '1s', jitter: 0 },
    );
    w.app.answers = [500, 500];
    const a = await w.stripe('invoice.paid', { id: 'in_da', customer: 'cus_D' });
    w.clock.now += 100;
    const b = await w.stripe('invoice.paid', { id: 'in_db', customer: 'cus_D' });
    expect((await w.effect(b.id))!.status).toBe('deferred');
    for (let i = 0; i < 4 && (await w.effect(b.id))!.status !== 'sent'; i++) await w.later(6000);
    expect((await w.effect(a.id))!.status).toBe('dead_lettered');
    expect((await w.effect(b.id))!.status).toBe('sent');
    expect(w.app.processed.map((p) => p.headers['switchyard-event-id'])).toEqual([b.id]);
  });

  it('body: envelope sends the normalised envelope, through a Service Binding when one is named', async () => {
    const app = new App();
    const w = world({ body: 'envelope', service: 'APP_WORKER', url: 'https://app.internal/hooks' });
    w.h.env.APP_WORKER = { fetch: app.fetch };
    const { id } = await w.stripe('invoice.paid', { id: 'in_6', customer: 'cus_6' });
    expect(w.app.received).toHaveLength(0);
    expect(app.processed).toHaveLength(1);
    expect(JSON.parse(app.processed[0]!.body)).toMatchObject({
      integration: w.name,
      id,
      type: 'invoice.paid',
      payload: { id, data: { object: { id: 'in_6' } } },
    });
  });
});
