/**
 * Attacks from the adversarial review (issue 11) on the ingest path and the edge endpoints: each test replays
 * one, through the public surface, and asserts the refusal.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { claimStatement } from '../../runtime/store/index.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { defaultManifest, harness, QUEUE_NAMES, queuedOnly, uid } from '../support/harness.ts';
import { signedIn } from '../support/jwt.ts';
import { githubSignature, shopifySignature, stripeSignature, twilioSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const TWILIO_URL = 'https://switchyard.test/webhooks/twilio';
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('a signed form cannot be stretched', () => {
  it('refuses a captured Twilio callback re-sent with a field repeated under the same signature', async () => {
    const h = harness({ queued: true });
    const sid = uid('SM');
    await env.DB.prepare(
      "INSERT INTO sms_logs (sid, to_number, body, status) VALUES (?, '+15550001111', 'hi', 'queued')",
    )
      .bind(sid)
      .run();
    const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+15550001111' };
    const signature = await twilioSignature(S.TWILIO_AUTH_TOKEN!, TWILIO_URL, params);
    const stretched = `${new URLSearchParams(params).toString()}&MessageStatus=delivered`;
    const res = await h.post('/webhooks/twilio', stretched, { ...form, 'x-twilio-signature': signature });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', reason: 'repeated_field' });
    expect(h.queue.messages).toHaveLength(0);
    await h.consume(h.drain());
    expect(await env.DB.prepare('SELECT status FROM sms_logs WHERE sid = ?').bind(sid).first()).toEqual({
      status: 'queued',
    });
    // The callback as Twilio sent it still works.
    expect(
      (
        await h.post('/webhooks/twilio', new URLSearchParams(params).toString(), {
          ...form,
          'x-twilio-signature': signature,
        })
      ).status,
    ).toBe(202);
  });
});

describe('headers outside the signature cannot choose the event', () => {
  it('github: a captured body re-sent under a new delivery id and event is not queued again', async () => {
    const h = harness({ queued: true });
    const body = JSON.stringify({ action: 'opened', issue: { number: Math.floor(Math.random() * 1e9) } });
    const signature = await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body);
    const first = await h.post('/webhooks/github', body, {
      'x-hub-signature-256': signature,
      'x-github-delivery': crypto.randomUUID(),
      'x-github-event': 'issues',
    });
    expect(first.status).toBe(202);
    const replay = await h.post('/webhooks/github', body, {
      'x-hub-signature-256': signature,
      'x-github-delivery': crypto.randomUUID(),
      'x-github-event': 'deployment',
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ status: 'duplicate', reason: 'same_body' });
    expect(h.queue.messages).toHaveLength(1);
    expect(h.events).toContainEqual(expect.objectContaining({ kind: 'webhook.replay_refused', integration: 'github' }));
  });

  it('shopify example: an unpaid order body re-sent as orders/paid under a new webhook id marks nothing paid', async () => {
    const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
      .manifest;
    const h = harness({ compiled: compileManifest(queuedOnly(manifest), defaultRegistry) });
    const order = String(Math.floor(Math.random() * 1e12));
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(order).run();
    const body = JSON.stringify({ id: Number(order), financial_status: 'pending', total_price: '12.00' });
    const signature = await shopifySignature(S.SHOPIFY_WEBHOOK_SECRET!, body);
    const send = (topic: string) =>
      h.post('/webhooks/shopify', body, {
        'x-shopify-hmac-sha256': signature,
        'x-shopify-webhook-id': uid('wh'),
        'x-shopify-topic': topic,
      });
    expect((await send('orders/create')).status).toBe(202);
    expect((await send('orders/paid')).status).toBe(200);
    await h.consume(h.drain());
    expect(await env.DB.prepare('SELECT status FROM orders WHERE id = ?').bind(order).first()).toEqual({
      status: 'pending',
    });
  });

  it('after the replay window the same body is a new event again; ids from the body or a signed header pay nothing extra', async () => {
    let now = Date.now();
    const h = harness({ queued: true, now: () => now });
    const body = JSON.stringify({ action: 'closed', number: Math.random() });
    const signature = await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body);
    const send = () =>
      h.post('/webhooks/github', body, {
        'x-hub-signature-256': signature,
        'x-github-delivery': crypto.randomUUID(),
        'x-github-event': 'issues',
      });
    expect((await send()).status).toBe(202);
    now += 31 * 86_400_000;
    expect((await send()).status).toBe(202);
    // Cost: an integration whose id is in the signed body writes no body hash (no index entry).
    const stripeId = uid('evt');
    const stripe = JSON.stringify({
      id: stripeId,
      type: 'customer.created',
      created: 1_700_000_000,
      data: { object: {} },
    });
    expect(
      (
        await h.post('/webhooks/stripe', stripe, {
          'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, stripe, Math.floor(now / 1000)),
        })
      ).status,
    ).toBe(202);
    expect(
      await env.DB.prepare("SELECT body_hash FROM events WHERE integration = 'stripe' AND id = ?")
        .bind(stripeId)
        .first(),
    ).toEqual({ body_hash: null });
  });

  it('github signs no timestamp: a captured delivery re-sent after `events` retention but within `payloads` retention is still a duplicate', async () => {
    // Later than every row the tests above wrote, so retention's walk reaches these.
    let now = Date.UTC(2036, 0, 1);
    const m = structuredClone(defaultManifest) as Manifest;
    m.retention = { ...m.retention, events: '7d', payloads: '30d' };
    const h = harness({ compiled: compileManifest(queuedOnly(m), defaultRegistry), now: () => now });
    const body = JSON.stringify({ action: 'opened', issue: { number: Math.floor(Math.random() * 1e9) } });
    const capture = {
      'x-hub-signature-256': await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body),
      'x-github-delivery': crypto.randomUUID(),
      'x-github-event': 'issues',
    };
    expect((await h.post('/webhooks/github', body, capture)).status).toBe(202);
    const later = JSON.stringify({ action: 'closed', issue: { number: 1 } });
    expect(
      (
        await h.post('/webhooks/github', later, {
          'x-hub-signature-256': await githubSignature(S.GITHUB_WEBHOOK_SECRET!, later),
          'x-github-delivery': crypto.randomUUID(),
          'x-github-event': 'issues',
        })
      ).status,
    ).toBe(202);
    await h.consume(h.drain());
    now += 10 * 86_400_000;
    await h.runtime.scheduled(h.env);
    h.drain();
    const again = await h.post('/webhooks/github', body, capture);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    expect(h.queue.messages).toHaveLength(0);
  });
});

it('costs: the body-hash claim writes one index entry more than the plain claim, and reads through the index', async () => {
  const at = new Date().toISOString();
  const envelope = (integration: string) => ({
    integration,
    id: uid('cost'),
    type: 't',
    occurred_at: null,
    received_at: at,
    payload: {},
  });
  const plain = await claimStatement(env.DB, envelope('cost_plain'), '{}', 'tok', Date.now()).run();
  const hashed = await claimStatement(env.DB, envelope('cost_hashed'), '{}', 'tok', Date.now(), {
    bodyHash: uid('h'),
    since: at,
  }).run();
  expect(hashed.meta.rows_written).toBe(plain.meta.rows_written + 1);
  const plan = await env.DB.prepare(
    'EXPLAIN QUERY PLAN SELECT 1 FROM events WHERE integration = ?1 AND body_hash = ?2 AND id <> ?3 AND received_at >= ?4',
  )
    .bind('a', 'b', 'c', 'd')
    .all<{ detail: string }>();
  expect(plan.results.map((r) => r.detail).join(' ')).toContain('events_by_body_hash');
});

describe('/v1/track and /v1/uploads are bounded', () => {
  const KEY = { 'x-switchyard-key': 'pk_dev_switchyard', 'content-type': 'application/json' };
  const SECRETS = {
    POSTHOG_API_KEY: 'phc_test',
    MIXPANEL_TOKEN: 'mp_token',
    CLOUDINARY_API_KEY: 'cl_key',
    CLOUDINARY_API_SECRET: 'cl_secret',
  };

  /** A body of `total` bytes that is produced only as it is read, and says how much was read. */
  function lazyBody(total: number) {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        const chunk = new Uint8Array(Math.min(64 * 1024, total - pulled)).fill(0x20);
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return { stream, pulled: () => pulled };
  }

  it('track refuses an oversized body after reading at most its limit (no content-length), and at once with one', async () => {
    const h = harness({ env: SECRETS });
    const body = lazyBody(8 * 1024 * 1024);
    const res = await h.request('/v1/track', {
      method: 'POST',
      body: body.stream,
      headers: KEY,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(body.pulled()).toBeLessThan(512 * 1024);
    const declared = await h.request('/v1/track', {
      method: 'POST',
      body: 'x'.repeat(70_000),
      headers: { ...KEY, 'content-length': '70000' },
    });
    expect(declared.status).toBe(413);
  });

  it('uploads refuses an oversized file after reading at most its limit', async () => {
    const { fake, token } = await signedIn('edge');
    const h = harness({ env: SECRETS, fetch: fake.fetch });
    const body = lazyBody(20 * 1024 * 1024);
    const res = await h.request('/v1/uploads', {
      method: 'POST',
      body: body.stream,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=x' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(body.pulled()).toBeLessThan(11 * 1024 * 1024);
  });

  it('checks credentials before the rate limit: keyless requests are counted in memory and cannot lock out a real one', async () => {
    // One fixed instant mid-minute: 125 requests under load could otherwise cross a minute and reset the count.
    const h = harness({ env: SECRETS, now: () => Date.UTC(2026, 10, 27, 12, 0, 30) });
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 125; i++)
      statuses.push(
        (
          await h.request('/v1/track', {
            method: 'POST',
            body: '[{"event":"x"}]',
            headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
          })
        ).status,
      );
    expect(statuses.slice(0, 120).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(120).every((s) => s === 429)).toBe(true);
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM usage WHERE metric = 'route.track' AND key = ?").bind(ip).first(),
    ).toEqual({ n: 0 });
    const real = await h.request('/v1/track', {
      method: 'POST',
      body: '[{"event":"x"}]',
      headers: { ...KEY, 'cf-connecting-ip': ip },
    });
    expect(real.status).toBe(202);
  });

  it('queues track events on their own queue, never on the webhooks queue', async () => {
    const h = harness({ env: SECRETS });
    expect(
      (await h.request('/v1/track', { method: 'POST', body: '[{"event":"x"},{"event":"y"}]', headers: KEY })).status,
    ).toBe(202);
    expect(h.queue.messages).toHaveLength(0);
    expect((h.analytics.messages as { items?: unknown[] }[]).map((m) => m.items?.length)).toEqual([2]);
  });

  it('refuses track events with 503 while too many are queued and not yet consumed', async () => {
    const m = structuredClone(defaultManifest);
    (m.routes!.track!.endpoint as { max_queued?: number }).max_queued = 3;
    const h = harness({ env: SECRETS, compiled: compileManifest(m, defaultRegistry) });
    const send = () => h.request('/v1/track', { method: 'POST', body: '[{"event":"x"},{"event":"y"}]', headers: KEY });
    expect((await send()).status).toBe(202);
    const full = await send();
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ error: 'unavailable', reason: 'backlog' });
    expect(full.headers.get('retry-after')).toBeTruthy();
    await h.runtime.queue({ queue: QUEUE_NAMES.ANALYTICS_QUEUE, messages: h.drain() }, h.env);
    expect((await send()).status).toBe(202);
  });

  it('prunes rate-limit counters of periods that are over', async () => {
    const { rateLimitPruneStatements } = await import('../../runtime/consumer/limits.ts');
    const compiled = compileManifest(defaultManifest, defaultRegistry);
    const now = Date.now();
    const key = uid('ip');
    await env.DB.prepare(
      "INSERT INTO usage (metric, key, period_start, n) VALUES ('route.track', ?1, ?2, 5), ('route.track', ?1, ?3, 1)",
    )
      .bind(key, new Date(now - 3_600_000).toISOString(), new Date(Math.floor(now / 60_000) * 60_000).toISOString())
      .run();
    await env.DB.batch(rateLimitPruneStatements(env.DB, compiled.routes, now, 500));
    expect(
      await env.DB.prepare('SELECT n FROM usage WHERE key = ?')
        .bind(key)
        .all()
        .then((r) => r.results),
    ).toEqual([{ n: 1 }]);
  });
});

describe('the http action keeps its host', () => {
  const withHttp = (url: string) => {
    const m = structuredClone(defaultManifest);
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
        handlers: [
          {
            on: '*',
            steps: [
              { action: 'http', url, secret_headers: { Authorization: { secret: 'SLACK_TOKEN', prefix: 'Bearer ' } } },
            ],
          },
        ],
      },
    };
    return m;
  };

  it.each([
    'https://api.example.com{data.object.path}',
    'https://api.example.com:{data.object.port}/x',
    'https://{data.object.host}/x',
    'https://api.example.com.{data.object.zone}/x',
  ])('refuses a template in the host or port at compile time, naming the step: %s', (url) => {
    let problems: { path: (string | number)[]; message: string }[] = [];
    try {
      compileManifest(withHttp(url), defaultRegistry);
    } catch (error) {
      problems = (error as { problems: typeof problems }).problems;
    }
    expect(problems).toEqual([
      {
        path: ['integrations', 'stripe', 'handlers', 0, 'steps', 0, 'action', 'url'],
        message: expect.stringMatching(/host and port must be literal/),
      },
    ]);
  });

  it('still fills templates after the path, query or fragment starts', () => {
    for (const url of [
      'https://api.example.com/{data.object.path}',
      'https://api.example.com?q={data.object.q}',
      'https://api.example.com:8443/x#{data.object.f}',
    ]) {
      expect(() => compileManifest(withHttp(url), defaultRegistry)).not.toThrow();
    }
  });
});

describe('bad input answers 4xx and loses nothing else', () => {
  const KEY = { 'x-switchyard-key': 'pk_dev_switchyard', 'content-type': 'application/json' };

  it('track: an event with an unrepresentable timestamp is refused by index; the rest of the batch is queued', async () => {
    const h = harness({ env: { POSTHOG_API_KEY: 'phc_test', MIXPANEL_TOKEN: 'mp_token' } });
    const batch = {
      events: [
        { event: 'ok_1' },
        { event: 'far', timestamp: 1e20 },
        { event: 'ok_2', timestamp: Date.now() },
        { event: 'past', timestamp: -1e17 },
      ],
    };
    const res = await h.request('/v1/track', { method: 'POST', body: JSON.stringify(batch), headers: KEY });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'invalid_timestamp' },
        { index: 3, reason: 'invalid_timestamp' },
      ],
    });
    expect(h.drain().map((m) => (m.body as { items: { type: string }[] }).items.map((i) => i.type))).toEqual([
      ['ok_1', 'ok_2'],
    ]);
    const none = await h.request('/v1/track', {
      method: 'POST',
      body: JSON.stringify([{ event: 'x', timestamp: 1e20 }]),
      headers: KEY,
    });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: 'bad_request', reason: 'invalid_timestamp' });
  });

  it.each([
    [{ seq: '12' }, /seq must be an array of dead-letter numbers/],
    [{ seq: [1, 'x'] }, /seq must be an array of dead-letter numbers/],
    [{ seq: Array.from({ length: 150 }, (_, i) => i + 1) }, /at most 100/],
    [{ integration: 7 }, /integration must be a name/],
  ])('dead-letter replay refuses %j with 400 and a clear message', async (selection, message) => {
    const h = harness({ queued: true });
    const res = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify(selection),
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_request', message: expect.stringMatching(message) });
  });
});

describe('an oversize or broken body is refused, whatever its framing (never a 500, nothing recorded)', () => {
  const SECRETS = { POSTHOG_API_KEY: 'phc_test', MIXPANEL_TOKEN: 'mp_token' };
  const MB = 1024 * 1024;
  // Each route's own limit: a webhook's and a command's max_body (default 1 MB), /v1/track's 64 KB.
  const routes = [
    {
      name: 'a webhook route',
      path: '/webhooks/stripe',
      max: MB,
      headers: () => ({ 'stripe-signature': 't=1,v1=00', 'content-type': 'application/json' }),
    },
    {
      name: 'a command route',
      path: '/v1/commands/send_password_reset',
      max: MB,
      headers: () => ({
        authorization: 'Bearer test-service-token',
        'idempotency-key': uid('k'),
        'content-type': 'application/json',
      }),
    },
    {
      name: '/v1/track',
      path: '/v1/track',
      max: 64 * 1024,
      headers: () => ({ 'x-switchyard-key': 'pk_dev_switchyard', 'content-type': 'application/json' }),
    },
  ];

  /**
   * `total` bytes in 16 KB chunks, made as they are read, with no content-length of their own (chunked). `failAt`:
   * the stream errors once that many bytes went out (a client gone mid-upload); `failCancel`: cancelling it throws.
   */
  function chunked(total: number, options: { failAt?: number; failCancel?: boolean } = {}): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (options.failAt !== undefined && sent >= options.failAt)
          return controller.error(new Error('connection reset by peer'));
        if (sent >= total) return controller.close();
        const chunk = new Uint8Array(Math.min(16 * 1024, total - sent)).fill(0x20);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        if (options.failCancel) throw new Error('the stream failed as it was cancelled');
      },
    });
  }

  async function counts() {
    const n = async (sql: string) => (await env.DB.prepare(sql).first<{ n: number }>())!.n;
    return {
      events: await n('SELECT count(*) AS n FROM events'),
      dead_letters: await n('SELECT count(*) AS n FROM dead_letters'),
    };
  }

  for (const route of routes) {
    it(`${route.name}: 413 chunked, lying small, lying big, failing on cancel and 20 at once; 400 for a stream that breaks`, async () => {
      const h = harness({ queued: true, env: SECRETS });
      const before = await counts();
      const send = (body: BodyInit, headers: Record<string, string> = {}) =>
        h.request(route.path, {
          method: 'POST',
          body,
          headers: { ...route.headers(), ...headers },
          duplex: 'half',
        } as RequestInit);
      const over = route.max + 16 * 1024;
      const answers = {
        chunked: (await send(chunked(over))).status,
        saysSmallSendsBig: (await send(chunked(over), { 'content-length': '100' })).status,
        saysBigSendsSmall: (await send(chunked(2), { 'content-length': String(route.max + 1) })).status,
        failsOnCancel: (await send(chunked(over, { failCancel: true }))).status,
        breaksMidStream: (await send(chunked(over, { failAt: 32 * 1024 }))).status,
        breaksWithinItsLength: (
          await send(chunked(over, { failAt: 32 * 1024 }), { 'content-length': String(48 * 1024) })
        ).status,
        concurrent: [
          ...new Set(
            (
              await Promise.all(
                Array.from({ length: 20 }, (_, i) => send(chunked(over, i % 2 ? { failCancel: true } : {}))),
              )
            ).map((r) => r.status),
          ),
        ],
      };
      expect(answers).toEqual({
        chunked: 413,
        saysSmallSendsBig: 413,
        saysBigSendsSmall: 413,
        failsOnCancel: 413,
        breaksMidStream: 400,
        breaksWithinItsLength: 400,
        concurrent: [413],
      });
      expect(h.events.filter((e) => e.kind === 'runtime.error')).toEqual([]);
      expect(h.queue.messages).toHaveLength(0);
      expect(h.drain()).toHaveLength(0);
      expect(await counts()).toEqual(before);
    });
  }
});
