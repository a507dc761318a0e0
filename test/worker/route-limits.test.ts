/** Limits that count more than sends: active users per month, tracked events, and sends per recipient. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { ManifestError } from '../../runtime/manifest/problems.ts';
import { countTrackedEvents } from '../../runtime/edge/route-limits.ts';
import type { TelemetryEvent } from '../../runtime/lib/telemetry.ts';
import type { Manifest, Step } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, harness, uid } from '../support/harness.ts';
import { clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';

let key: TestKey;
beforeAll(async () => {
  key = await testKey('rl1');
});

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
const usage = (metric: string) =>
  env.DB.prepare("SELECT n FROM usage WHERE metric = ? AND key = '*'").bind(metric).first<{ n: number }>();

function manifestWith(limits: Record<string, unknown>, routes: Record<string, Record<string, unknown>>): Manifest {
  const m = structuredClone(defaultManifest);
  m.limits = { ...m.limits, ...(limits as Manifest['limits']) };
  for (const [name, options] of Object.entries(routes)) Object.assign(m.routes![name]!, options);
  return m;
}

function setup(manifest: Manifest) {
  const fake = new FakeProviders();
  fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  fake.on(/api\.clerk\.com\/v1\/users\//, (r) =>
    Response.json({ id: r.url.split('/').pop(), first_name: 'A', email_addresses: [] }),
  );
  const h = harness({
    compiled: compileManifest(manifest, defaultRegistry),
    fetch: fake.fetch,
    env: { CLERK_SECRET_KEY: 'sk', POSTHOG_API_KEY: 'phc', MIXPANEL_TOKEN: 'mp' },
  });
  /** One request as the Worker gets it, waiting for what it left to run after the answer. */
  const call = async (path: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const res = await h.runtime.fetch(new Request(`https://switchyard.test${path}`, init), h.env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  const alerts = () =>
    fake
      .to(/api\.resend\.com\/emails$/)
      .map((r) => r.json as { to: string[]; subject: string; text: string })
      .filter((e) => e.to[0] === 'ops@test.example');
  return { fake, h, call, alerts };
}

describe('active users (counts: active_users)', () => {
  it('counts 40 concurrent new users against 30 exactly, warns once at 80% with the percentage, and serves every one', async () => {
    const metric = `test.mau.${uid('m')}`;
    const { call, alerts, h } = setup(
      manifestWith(
        { [metric]: { counts: 'active_users', period: 'month', limit: 30, warn_at: 0.8, notify } },
        { api: { limits: [metric] } },
      ),
    );
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => clerkToken(key, { sub: `${metric}_u${i}` })));
    const answers = await Promise.all(
      tokens.map((t) => call('/api/me', { headers: { authorization: `Bearer ${t}` } })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(await usage(metric)).toEqual({ n: 30 });
    const sent = alerts();
    expect(sent.map((a) => a.subject).sort()).toEqual([
      `switchyard: ${metric} at 24 of 30 (80%) this month`,
      `switchyard: ${metric} at 30 of 30 (100%) this month`,
    ]);
    expect(h.events.filter((e) => e.kind === 'limit.warned')).toEqual([
      expect.objectContaining({ limit: metric, used: 24, max: 30, percent: 80 }),
    ]);
  });

  it('counts a user once per period, however many requests and isolates', async () => {
    const metric = `test.mau.${uid('o')}`;
    const manifest = manifestWith(
      { [metric]: { counts: 'active_users', period: 'month', limit: 100 } },
      { api: { limits: [metric] }, flags: { limits: [metric] } },
    );
    const token = await clerkToken(key, { sub: `${metric}_same` });
    const headers = { authorization: `Bearer ${token}` };
    const first = setup(manifest);
    const second = setup(manifest);
    await Promise.all([1, 2, 3].map(() => first.call('/api/me', { headers })));
    await Promise.all([second.call('/api/me', { headers }), second.call('/v1/flags', { headers })]);
    expect(await usage(metric)).toEqual({ n: 1 });
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM active_users WHERE metric = ?').bind(metric).first(),
    ).toEqual({ n: 1 });
  });

  it('does not count refused requests', async () => {
    const metric = `test.mau.${uid('r')}`;
    const { call } = setup(
      manifestWith(
        { [metric]: { counts: 'active_users', period: 'month', limit: 100 } },
        { api: { limits: [metric], require: { roles: ['admin'] } } },
      ),
    );
    expect(
      (await call('/api/me', { headers: { authorization: `Bearer ${await clerkToken(key, { sub: `${metric}_x` })}` } }))
        .status,
    ).toBe(403);
    expect(await usage(metric)).toBeNull();
  });
});

describe('tracked events (counts: tracked_events)', () => {
  const batch = (n: number) => ({
    method: 'POST',
    body: JSON.stringify({ events: Array.from({ length: n }, (_, i) => ({ event: `e${i}` })) }),
    headers: { 'content-type': 'application/json', 'x-switchyard-key': 'pk_dev_switchyard' },
  });

  it('counts each queued event, and past a dropping limit answers the batch without queueing it', async () => {
    const metric = `test.events.${uid('t')}`;
    const { call, h } = setup(
      manifestWith(
        { [metric]: { counts: 'tracked_events', period: 'month', limit: 5, on_exceed: 'drop' } },
        { track: { limits: [metric] } },
      ),
    );
    expect(await (await call('/v1/track', batch(3))).json()).toEqual({ accepted: 3 });
    const refused = await call('/v1/track', batch(3));
    expect(refused.status).toBe(202);
    expect(await refused.json()).toEqual({ accepted: 0, dropped: 3, reason: 'limit_reached' });
    expect(await (await call('/v1/track', batch(2))).json()).toEqual({ accepted: 2 });
    // One message per request, carrying its events.
    expect((h.analytics.messages as Envelope[]).map((m) => m.items?.length)).toEqual([3, 2]);
    expect(await usage(metric)).toEqual({ n: 5 });
  });

  it("counts a route's api_request events against the collecting route's limit, and drops them past it without touching the answer", async () => {
    const metric = `test.events.${uid('a')}`;
    const { call, h } = setup(
      manifestWith(
        { [metric]: { counts: 'tracked_events', period: 'month', limit: 2, on_exceed: 'drop' } },
        { track: { limits: [metric] } },
      ),
    );
    const headers = { authorization: `Bearer ${await clerkToken(key, { sub: `${metric}_u` })}` };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('/api/things', { headers })).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect((h.analytics.messages as Envelope[]).map((e) => e.type)).toEqual(['api_request', 'api_request']);
    expect(h.events.filter((e) => e.kind === 'analytics.dropped')).toEqual([
      { kind: 'analytics.dropped', route: 'api', to: 'track', reason: 'limit_reached' },
    ]);
  });

  it('queues past a warn-only limit, and warns', async () => {
    const metric = `test.events.${uid('w')}`;
    const { call, h } = setup(
      manifestWith(
        { [metric]: { counts: 'tracked_events', period: 'month', limit: 2, on_exceed: 'warn' } },
        { track: { limits: [metric] } },
      ),
    );
    expect(await (await call('/v1/track', batch(3))).json()).toEqual({ accepted: 3 });
    expect((h.analytics.messages as Envelope[]).map((m) => m.items?.length)).toEqual([3]);
    expect(h.events.filter((e) => e.kind === 'limit.exceeded')).toEqual([
      expect.objectContaining({ limit: metric, percent: 100 }),
    ]);
  });
});

describe('tracked events when D1 cannot count', () => {
  it('lets the events go on and logs the failure (a quota guard, not a gate)', async () => {
    const events: TelemetryEvent[] = [];
    const compiled = compileManifest(
      manifestWith({ x: { counts: 'tracked_events', period: 'month', limit: 1, on_exceed: 'drop' } }, {}),
      defaultRegistry,
    );
    const db = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: () => Promise.reject(new Error('D1_ERROR: overloaded')),
    } as unknown as D1Database;
    const allowed = await countTrackedEvents([compiled.limits.get('x')!], 3, {
      db,
      io: { env: {}, fetch, now: Date.now() },
      emit: (e) => events.push(e),
      compiled,
    });
    expect(allowed).toBe(true);
    expect(events).toEqual([{ kind: 'runtime.error', where: 'limits.tracked_events', error: 'D1_ERROR: overloaded' }]);
  });
});

describe('sends per recipient (per_recipient)', () => {
  it("the default manifest's SMS limit allows 5 an hour to one number, whatever path the event keeps it under", async () => {
    const m = structuredClone(defaultManifest);
    const sms = (to: string): Step => ({
      action: 'twilio',
      limits: ['twilio.sms_per_number'],
      to,
      from: '+15005550006',
      text: 'hi',
      account_sid: 'TWILIO_ACCOUNT_SID',
      auth_token: 'TWILIO_AUTH_TOKEN',
    });
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
        apply: 'queue',
        handlers: [
          { on: 'a', steps: [sms('data.phone')] },
          { on: 'b', steps: [sms('data.contact.mobile')] },
        ],
      },
    };
    const fake = new FakeProviders();
    const h = harness({
      compiled: compileManifest(m, defaultRegistry),
      fetch: fake.fetch,
      env: { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'tok' },
    });
    const number = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const event = (type: string, data: unknown) =>
      fakeMessage({
        integration: 'stripe',
        id: uid('e'),
        type,
        occurred_at: null,
        received_at: new Date().toISOString(),
        payload: { data },
      } satisfies Envelope);
    await h.consume([
      ...[1, 2, 3].map(() => event('a', { phone: number })),
      ...[1, 2, 3].map(() => event('b', { contact: { mobile: number } })),
      event('a', { phone: '+15550009999' }),
    ]);
    const sent = fake.to(/Messages\.json/).map((r) => new URLSearchParams(r.body).get('To'));
    expect(sent.filter((n) => n === number)).toHaveLength(5);
    expect(sent.filter((n) => n === '+15550009999')).toHaveLength(1);
    expect(h.events.filter((e) => e.kind === 'limit.dropped')).toEqual([
      expect.objectContaining({ limit: 'twilio.sms_per_number', key: number }),
    ]);
  });
});

describe('limit declarations', () => {
  const problems = (m: Manifest) => {
    try {
      compileManifest(m, defaultRegistry);
      return [];
    } catch (error) {
      return (error as ManifestError).problems.map((p) => `${p.path.join('.')}: ${p.message}`);
    }
  };

  it.each([
    [
      'an active-users limit that would lock users out',
      { x: { counts: 'active_users', period: 'month', limit: 5, on_exceed: 'drop' } },
      {},
      'limits.x.on_exceed: a limit on active users only warns',
    ],
    [
      'tracked events deferred',
      { x: { counts: 'tracked_events', period: 'month', limit: 5, on_exceed: 'defer' } },
      {},
      'limits.x.on_exceed: tracked events cannot wait',
    ],
    [
      'per on a count of users',
      { x: { counts: 'active_users', period: 'month', limit: 5, per: 'sub' } },
      {},
      'limits.x.per: a limit that counts active_users is counted as a whole',
    ],
    [
      'a sends limit on a route',
      {},
      { api: { limits: ['resend.emails'] } },
      'routes.api.limits.0: limit resend.emails counts sends',
    ],
    [
      'tracked events on a route that queues nothing',
      { x: { counts: 'tracked_events', period: 'month', limit: 5 } },
      { api: { limits: ['x'] } },
      'routes.api.limits.0: limit x counts tracked events',
    ],
    [
      'an undeclared limit',
      {},
      { api: { limits: ['clerk.mau'] } },
      'routes.api.limits.0: limit "clerk.mau" is not declared',
    ],
  ] as const)('refuses %s', (_name, limits, routes, expected) => {
    expect(problems(manifestWith(limits, routes as Record<string, Record<string, unknown>>)).join('\n')).toContain(
      expected,
    );
  });

  it('refuses a users limit on an action step, and per_recipient on an action without one recipient', () => {
    const m = structuredClone(defaultManifest);
    m.integrations.stripe!.handlers = [
      {
        on: 'x',
        steps: [
          {
            action: 'resend',
            limits: ['clerk.active_users'],
            from: 'a <a@example.com>',
            to: 'email',
            subject: 's',
            text: 't',
            api_key: 'RESEND_API_KEY',
          },
          {
            action: 'posthog',
            limits: ['twilio.sms_per_number'],
            event: '@type',
            distinct_id: 'id',
            api_key: 'POSTHOG_API_KEY',
          },
        ],
      },
    ];
    const found = problems(m).join('\n');
    expect(found).toContain('limit clerk.active_users counts active_users, not sends');
    expect(found).toContain(
      'limit twilio.sms_per_number counts per recipient, and a posthog send has no single recipient',
    );
  });
});
