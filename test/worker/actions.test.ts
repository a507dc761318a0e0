/** Outbound actions through the consumer, against a local fake of the providers' APIs. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { HttpAction, Manifest, ResendAction, Step } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, faultyDb, harness, uid } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();
const SECRETS = {
  SENDGRID_API_KEY: 'SG.test',
  TWILIO_ACCOUNT_SID: 'AC0123',
  TWILIO_AUTH_TOKEN: 'tw_token',
  MIXPANEL_TOKEN: 'mp_token',
  MIXPANEL_API_SECRET: 'mp_secret',
  POSTHOG_API_KEY: 'phc_test',
  SLACK_TOKEN: 'xoxb-1',
};

const envelope = (type: string, object: Record<string, unknown>, id = uid('evt')): Envelope => ({
  integration: 'stripe',
  id,
  type,
  occurred_at: '2024-06-01T12:00:00.000Z',
  received_at: '2024-06-01T12:00:01.000Z',
  payload: { id, type, data: { object } },
});

/** The default manifest with its stripe integration's handlers replaced, and extra limits. */
function manifest(steps: [Step, ...Step[]], limits: Record<string, unknown> = {}): Manifest {
  const m = structuredClone(defaultManifest);
  m.integrations = { stripe: { ...m.integrations.stripe!, handlers: [{ on: '*', steps: steps }] } };
  m.limits = { ...m.limits, ...(limits as Manifest['limits']) };
  return m;
}

function setup(steps: [Step, ...Step[]], limits: Record<string, unknown> = {}, now?: () => number) {
  const fake = new FakeProviders();
  const h = harness({
    compiled: compileManifest(manifest(steps, limits), defaultRegistry),
    fetch: fake.fetch,
    env: SECRETS,
    ...(now ? { now } : {}),
  });
  return { fake, h };
}

const welcome: ResendAction = {
  action: 'resend',
  from: 'Acme <hello@example.com>',
  to: 'data.object.email',
  template: 'welcome',
  data: { first_name: 'data.object.name', app_url: { env: 'APP_URL' } },
  api_key: 'RESEND_API_KEY',
};

describe('action request shapes', () => {
  it('resend: POST /emails with bearer auth, an idempotency key and the rendered template; logs email_logs', async () => {
    const { fake, h } = setup([welcome]);
    const m = fakeMessage(envelope('customer.created', { email: 'ada@example.com', name: 'Ada' }));
    await h.consume([m]);
    expect(m.acked).toBe(true);
    const [req] = fake.to(/api\.resend\.com\/emails$/);
    expect(req!.headers.authorization).toBe('Bearer re_test_key');
    expect(req!.headers['idempotency-key']).toBe(`stripe:${(m.body as Envelope).id}:0:0`);
    expect(req!.json).toMatchObject({
      from: 'Acme <hello@example.com>',
      to: ['ada@example.com'],
      subject: 'Welcome to Acme, Ada',
      text: 'Welcome, Ada! Your account is ready: https://app.test',
    });
    expect((req!.json as { html: string }).html).toContain('<h1>Welcome, Ada!</h1>');
    expect(await row("SELECT to_email, subject, status FROM email_logs WHERE to_email = 'ada@example.com'")).toEqual({
      to_email: 'ada@example.com',
      subject: 'Welcome to Acme, Ada',
      status: 'sent',
    });
  });

  it('sendgrid: a dynamic template with dynamic_template_data, logged under X-Message-Id', async () => {
    const { fake, h } = setup([
      {
        action: 'sendgrid',
        from: 'Acme <hello@example.com>',
        to: 'data.object.email',
        template_id: 'd-abc123',
        data: { name: 'data.object.name' },
        api_key: 'SENDGRID_API_KEY',
      },
    ]);
    await h.consume([fakeMessage(envelope('x', { email: 'sg@example.com', name: 'Grace' }))]);
    const [req] = fake.to(/api\.sendgrid\.com\/v3\/mail\/send/);
    expect(req!.headers.authorization).toBe('Bearer SG.test');
    expect(req!.json).toEqual({
      personalizations: [{ to: [{ email: 'sg@example.com' }], dynamic_template_data: { name: 'Grace' } }],
      from: { email: 'hello@example.com', name: 'Acme' },
      template_id: 'd-abc123',
    });
    expect(await row("SELECT id FROM email_logs WHERE to_email = 'sg@example.com'")).toEqual({
      id: expect.stringMatching(/^sg_/),
    });
  });

  it('twilio: form-encoded Messages.json with Basic auth; logs sms_logs', async () => {
    const to = `+1555${Math.floor(Math.random() * 1e7)}`.slice(0, 12);
    const { fake, h } = setup([
      {
        action: 'twilio',
        to: 'data.object.phone',
        from: '+15005550006',
        text: 'Code {{code}}',
        data: { code: 'data.object.code' },
        account_sid: 'TWILIO_ACCOUNT_SID',
        auth_token: 'TWILIO_AUTH_TOKEN',
      },
    ]);
    await h.consume([fakeMessage(envelope('x', { phone: to, code: '4821' }))]);
    const [req] = fake.to(/api\.twilio\.com\/2010-04-01\/Accounts\/AC0123\/Messages\.json/);
    expect(req!.headers.authorization).toBe(`Basic ${btoa('AC0123:tw_token')}`);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
      To: to,
      From: '+15005550006',
      Body: 'Code 4821',
    });
    expect(await row('SELECT body, status FROM sms_logs WHERE to_number = ?', to)).toEqual({
      body: 'Code 4821',
      status: 'queued',
    });
  });

  it('mixpanel: one /import?strict=1 call for the batch, each event with $insert_id; posthog: /batch/ with uuid', async () => {
    const { fake, h } = setup([
      {
        action: 'mixpanel',
        event: '@type',
        distinct_id: 'data.object.customer',
        properties: { plan: 'data.object.plan' },
        token: 'MIXPANEL_TOKEN',
        api_secret: 'MIXPANEL_API_SECRET',
      },
      { action: 'posthog', event: '@type', distinct_id: 'data.object.customer', api_key: 'POSTHOG_API_KEY' },
    ]);
    const messages = [1, 2, 3].map((i) => fakeMessage(envelope('plan.changed', { customer: `cus_${i}`, plan: 'pro' })));
    await h.consume(messages);
    const [mp] = fake.to(/api\.mixpanel\.com\/import\?strict=1/);
    expect(mp!.headers.authorization).toBe(`Basic ${btoa('mp_secret:')}`);
    const events = mp!.json as { event: string; properties: Record<string, unknown> }[];
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({
      event: 'plan.changed',
      properties: {
        distinct_id: 'cus_1',
        plan: 'pro',
        token: 'mp_token',
        time: Date.parse('2024-06-01T12:00:00.000Z'),
      },
    });
    expect(new Set(events.map((e) => e.properties.$insert_id)).size).toBe(3);
    const [ph] = fake.to(/us\.i\.posthog\.com\/batch\//);
    const body = ph!.json as { api_key: string; batch: { uuid: string; distinct_id: string }[] };
    expect(body.api_key).toBe('phc_test');
    expect(body.batch.map((b) => b.distinct_id)).toEqual(['cus_1', 'cus_2', 'cus_3']);
    expect(body.batch[0]!.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('http: method, URL template (encoded), headers, secret headers and a JSON body', async () => {
    const { fake, h } = setup([
      {
        action: 'http',
        method: 'POST',
        url: 'https://api.example.test/customers/{data.object.customer}/notes',
        headers: { 'x-source': { const: 'switchyard' } },
        secret_headers: { Authorization: { secret: 'SLACK_TOKEN', prefix: 'Bearer ' } },
        body: { text: { template: 'Invoice {data.object.id} failed' } },
      },
    ]);
    await h.consume([fakeMessage(envelope('x', { customer: 'cus a/b', id: 'in_1' }))]);
    const [req] = fake.to(/api\.example\.test/);
    expect(req!.url).toBe('https://api.example.test/customers/cus%20a%2Fb/notes');
    expect(req!.headers).toMatchObject({
      'x-source': 'switchyard',
      authorization: 'Bearer xoxb-1',
      'content-type': 'application/json',
    });
    expect(req!.json).toEqual({ text: 'Invoice in_1 failed' });
  });
});

describe('action delivery', () => {
  it('groups 250 emails from one consumer batch into 3 Resend batch calls', async () => {
    const { fake, h } = setup([welcome]);
    const run = uid('b');
    const messages = Array.from({ length: 250 }, (_, i) =>
      fakeMessage(envelope('customer.created', { email: `${run}_${i}@example.com`, name: `N${i}` })),
    );
    await h.consume(messages);
    expect(messages.every((m) => m.acked)).toBe(true);
    const calls = fake.to(/api\.resend\.com\/emails\/batch/);
    expect(calls.map((c) => (c.json as unknown[]).length)).toEqual([100, 100, 50]);
    expect(fake.to(/api\.resend\.com\/emails$/)).toHaveLength(0);
    expect(await row('SELECT count(*) AS n FROM email_logs WHERE to_email LIKE ?', `${run}_%`)).toEqual({ n: 250 });
  });

  it('retries a 429 after Retry-After as an effect (the state is applied at once), dead-letters a 400, and a retry sends the same idempotency key', async () => {
    let now = Date.parse('2024-06-01T12:00:00.000Z');
    const { fake, h } = setup([welcome], {}, () => now);
    fake.failNext(/\/emails$/, 429, { headers: { 'retry-after': '120' } });
    const m = fakeMessage(envelope('customer.created', { email: 'slow@example.com', name: 'S' }));
    const id = (m.body as Envelope).id;
    await h.consume([m]);
    expect(m.acked).toBe(true);
    const [scheduled] = h.drain();
    expect(scheduled!.body).toEqual({ effects: { integration: 'stripe', id } });
    expect(h.events.find((e) => e.kind === 'effect.scheduled')).toMatchObject({ id, delay_seconds: 120 });
    now += 120_000;
    await h.consume([scheduled!]);
    expect(scheduled!.acked).toBe(true);
    const keys = fake.to(/\/emails$/).map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(await row("SELECT status, attempts FROM effects WHERE integration = 'stripe' AND event_id = ?", id)).toEqual(
      { status: 'sent', attempts: 2 },
    );

    fake.failNext(/\/emails$/, 400, { body: { message: 'Invalid `to` field' } });
    const bad = fakeMessage(envelope('customer.created', { email: 'not-an-email', name: 'B' }));
    const badId = (bad.body as Envelope).id;
    await h.consume([bad]);
    expect(bad.acked).toBe(true);
    expect(bad.retried).toBeUndefined();
    expect(
      await row(
        "SELECT stage, event_id, reason, error FROM dead_letters WHERE integration = 'stripe' AND event_id LIKE ?",
        `${badId}%`,
      ),
    ).toEqual({
      stage: 'effect',
      event_id: `${badId}#0:0`,
      reason: 'effect',
      error: expect.stringContaining('resend answered 400'),
    });
    expect(
      await row(
        "SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND id = ? AND status = 'applied'",
        badId,
      ),
    ).toEqual({ n: 1 });
  });

  it('sends nothing while the state fails to commit, and once when the retry commits; logs once', async () => {
    const { fake, h } = setup([welcome]);
    const m = fakeMessage(envelope('customer.created', { email: 'ledger@example.com', name: 'L' }));
    const id = (m.body as Envelope).id;
    await h.consume([m], { DB: faultyDb(env.DB, () => id) });
    expect(m.acked).toBe(false);
    await h.consume([fakeMessage(m.body, 2)]);
    expect(fake.to(/api\.resend\.com/)).toHaveLength(1);
    expect(await row("SELECT count(*) AS n FROM email_logs WHERE to_email = 'ledger@example.com'")).toEqual({ n: 1 });
  });

  it('escapes values in HTML: a name like <img onerror=…> renders as text', async () => {
    const { fake, h } = setup([welcome]);
    await h.consume([
      fakeMessage(envelope('customer.created', { email: 'x@example.com', name: '<img src=x onerror=alert(1)>' })),
    ]);
    const sent = fake.to(/\/emails$/)[0]!.json as { html: string; text: string };
    expect(sent.html).toContain('Welcome, &lt;img src&#61;x onerror&#61;alert(1)&gt;!');
    expect(sent.html).not.toContain('<img');
    expect(sent.text).toContain('Welcome, <img src=x onerror=alert(1)>!');
  });
});

describe('limits', () => {
  const limited = (metric: string) => ({ ...welcome, limits: [metric] });
  const notify = {
    action: 'resend',
    from: 'alerts <a@example.com>',
    to: { env: 'ADMIN_EMAIL' },
    template: 'limit_warning',
    data: {
      limit: 'limit',
      key: 'key',
      level: 'level',
      used: 'used',
      max: 'max',
      percent: 'percent',
      period: 'period',
      period_start: 'period_start',
      period_end: 'period_end',
    },
    api_key: 'RESEND_API_KEY',
  };

  it('200 concurrent sends against a limit of 150 allow exactly 150; the warning is sent exactly once', async () => {
    const metric = `test.emails.${uid('c')}`;
    const { fake, h } = setup([limited(metric)], {
      [metric]: { period: 'month', limit: 150, warn_at: 0.8, on_exceed: 'drop', notify },
    });
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 10 }, (_, i) =>
        fakeMessage(envelope('customer.created', { email: `${metric}_${b}_${i}@example.com`, name: 'C' })),
      ),
    );
    await Promise.all(batches.map((batch) => h.consume(batch)));
    expect(batches.flat().every((m) => m.acked)).toBe(true);
    const userEmails = fake.requests
      .flatMap((r) =>
        r.url.endsWith('/emails/batch')
          ? (r.json as { to: string[] }[])
          : r.url.endsWith('/emails')
            ? [r.json as { to: string[] }]
            : [],
      )
      .filter((e) => e.to[0]!.startsWith(metric));
    expect(userEmails).toHaveLength(150);
    expect(h.events.filter((e) => e.kind === 'limit.dropped')).toHaveLength(50);
    const alerts = fake
      .to(/\/emails$/)
      .map((r) => r.json as { to: string[]; subject: string })
      .filter((e) => e.to[0] === 'ops@test.example');
    expect(alerts.filter((a) => a.subject.includes('at 120 of 150'))).toHaveLength(1);
    expect(alerts).toHaveLength(2);
    expect(await row("SELECT n FROM usage WHERE metric = ? AND key = '*'", metric)).toEqual({ n: 150 });
  });

  it('defers past the limit until the period resets, then sends (rollover)', async () => {
    const metric = `test.minute.${uid('r')}`;
    let now = Date.parse('2024-06-01T12:00:30.000Z');
    const { fake, h } = setup(
      [limited(metric)],
      { [metric]: { period: 'minute', limit: 2, on_exceed: 'defer' } },
      () => now,
    );
    const messages = [1, 2, 3].map((i) =>
      fakeMessage(envelope('customer.created', { email: `${metric}_${i}@example.com`, name: 'R' })),
    );
    await h.consume(messages);
    expect(messages.every((m) => m.acked)).toBe(true);
    expect(fake.requests.filter((r) => r.url.includes('resend'))).toHaveLength(1);
    const deferred = h.events.find((e) => e.kind === 'limit.deferred');
    expect(deferred).toMatchObject({ delay_seconds: 30, until: '2024-06-01T12:01:00.000Z' });
    const third = (messages[2]!.body as Envelope).id;
    expect(
      await row("SELECT status, attempts, next_at FROM effects WHERE integration = 'stripe' AND event_id = ?", third),
    ).toEqual({ status: 'deferred', attempts: 0, next_at: '2024-06-01T12:01:00.000Z' });
    const [back] = h.drain();
    expect(back!.body).toEqual({ effects: { integration: 'stripe', id: third } });
    now = Date.parse('2024-06-01T12:01:00.500Z');
    await h.consume([back!]);
    expect(back!.acked).toBe(true);
    const sentTo = fake.requests
      .filter((r) => r.url.includes('resend'))
      .flatMap((r) => (Array.isArray(r.json) ? r.json : [r.json]) as { to: string[] }[])
      .map((e) => e.to[0]);
    expect(sentTo).toContain(`${metric}_3@example.com`);
    expect(await row("SELECT status FROM effects WHERE integration = 'stripe' AND event_id = ?", third)).toEqual({
      status: 'sent',
    });
  });

  it('limits SMS per recipient: 5 an hour to one number, others unaffected', async () => {
    const metric = `twilio.sms_per_recipient.${uid('p')}`;
    const sms: Step = {
      action: 'twilio',
      limits: [metric],
      to: 'data.object.phone',
      from: '+15005550006',
      text: 'hi',
      account_sid: 'TWILIO_ACCOUNT_SID',
      auth_token: 'TWILIO_AUTH_TOKEN',
    };
    const { fake, h } = setup([sms], {
      [metric]: { period: 'hour', limit: 5, on_exceed: 'drop', per: 'data.object.phone' },
    });
    const to = (phone: string) => fakeMessage(envelope('sms', { phone }));
    await h.consume([...Array.from({ length: 6 }, () => to('+15550000001')), to('+15550000002')]);
    const sent = fake.to(/Messages\.json/).map((r) => new URLSearchParams(r.body).get('To'));
    expect(sent.filter((n) => n === '+15550000001')).toHaveLength(5);
    expect(sent.filter((n) => n === '+15550000002')).toHaveLength(1);
    expect(h.events.filter((e) => e.kind === 'limit.dropped')).toEqual([
      expect.objectContaining({ key: '+15550000001' }),
    ]);
  });
});

describe('KV response cache', () => {
  const lookup: HttpAction = {
    action: 'http',
    method: 'GET',
    url: 'https://api.example.test/plans/{data.object.plan}',
    secret_headers: { Authorization: { secret: 'SLACK_TOKEN', prefix: 'Bearer ' } },
    cache: { ttl: '5m' },
  };

  it('serves a GET from KV within the TTL, fetches again after it, and keys the cache by credential', async () => {
    let now = Date.now();
    const plan = uid('plan');
    const { fake, h } = setup([lookup], {}, () => now);
    const call = () => h.consume([fakeMessage(envelope('x', { plan }))]);
    await call();
    await call();
    expect(fake.to(/api\.example\.test\/plans/)).toHaveLength(1);
    now += 6 * 60_000;
    await call();
    expect(fake.to(/api\.example\.test\/plans/)).toHaveLength(2);
    await h.consume([fakeMessage(envelope('x', { plan }))], { SLACK_TOKEN: 'another-credential' });
    expect(fake.to(/api\.example\.test\/plans/)).toHaveLength(3);
  });
});

describe('usage report', () => {
  it("reports the declared limits' usage and the runtime's own platform usage against the plan", async () => {
    const { h } = setup([{ ...welcome, limits: ['resend.emails'] }]);
    const before = (await (
      await h.request('/admin/api/usage', { headers: { authorization: 'Bearer test-admin-token' } })
    ).json()) as {
      limits: { name: string; usage: { key: string; n: number }[] }[];
      platform: { plan: string; metrics: { metric: string; used: number; allowance: number }[] };
    };
    const sentBefore = before.limits.find((l) => l.name === 'resend.emails')?.usage[0]?.n ?? 0;
    await h.runtime.queue(
      {
        queue: 'test-events',
        messages: [fakeMessage(envelope('customer.created', { email: 'usage@example.com', name: 'U' }))],
      },
      h.env,
    );
    const res = await h.request('/admin/api/usage', { headers: { authorization: 'Bearer test-admin-token' } });
    const report = (await res.json()) as typeof before;
    expect(report.limits.find((l) => l.name === 'resend.emails')).toMatchObject({
      name: 'resend.emails',
      usage: [{ key: '*', n: sentBefore + 1 }],
    });
    expect(report.platform.plan).toBe('free');
    const metric = (name: string) => report.platform.metrics.find((m) => m.metric === name)!;
    expect(metric('worker_requests').used).toBeGreaterThanOrEqual(1);
    expect(metric('queue_operations').used).toBeGreaterThanOrEqual(2);
    expect(metric('d1_rows_written').used).toBeGreaterThan(0);
    expect(metric('kv_writes').allowance).toBe(1000);
  });
});

describe('action adapter examples', () => {
  // Delivered as Stripe delivers it (signed, recorded with its body, applied in the request, sent after the answer):
  // an action that sends the event's own body (forward) reads it from the event log.
  it.each([...defaultRegistry.actions.values()].map((a) => [a.name, a] as const))(
    '%s: the shipped example config sends end to end',
    async (_type, adapter) => {
      const m = structuredClone(defaultManifest);
      m.templates = { ...m.templates, welcome: { subject: 'Hi {{ name }}', text: 'Hello {{ name }}' } };
      m.integrations = {
        stripe: { ...m.integrations.stripe!, handlers: [{ on: '*', steps: [adapter.example as unknown as Step] }] },
      }; // each example passes the schema (validate.test.ts)
      const fake = new FakeProviders();
      const h = harness({
        compiled: compileManifest(m, defaultRegistry),
        fetch: fake.fetch,
        env: { ...SECRETS, APP_FORWARD_SECRET: env.TEST_SECRETS.APP_FORWARD_SECRET },
        ctx: true,
      });
      const id = uid('evt');
      const created = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        id,
        object: 'event',
        type: 'example.event',
        created,
        data: {
          id: 'u1',
          email: 'ex@example.com',
          first_name: 'Ex',
          phone: '+15550001234',
          code: '42',
          channel: 'T0/B0/x',
          object: { customer: 'cus_ex' },
        },
      });
      const res = await h.post('/webhooks/stripe', body, {
        'stripe-signature': await stripeSignature(env.TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body, created),
      });
      expect(res.status).toBe(200);
      await h.settle();
      expect(fake.requests).toHaveLength(1);
      expect(
        await env.DB.prepare("SELECT status FROM effects WHERE integration = 'stripe' AND event_id = ?1")
          .bind(id)
          .first(),
      ).toEqual({ status: 'sent' });
    },
  );
});
