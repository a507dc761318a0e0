/** Request analytics on upstream routes: one api_request event per proxied request, queued after the answer. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest, RouteAnalytics } from '../../runtime/manifest/types.gen.ts';
import { clientIp } from '../../runtime/manifest/request-analytics.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, harness } from '../support/harness.ts';
import { clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';

const SECRETS = { POSTHOG_API_KEY: 'phc_test', MIXPANEL_TOKEN: 'mp_token', CLERK_SECRET_KEY: 'sk_test_profile' };
let key: TestKey;
beforeAll(async () => {
  key = await testKey('ra1');
});

function setup(manifest: Manifest = defaultManifest) {
  const fake = new FakeProviders();
  fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  fake.on(/api\.clerk\.com\/v1\/users\//, () =>
    Response.json({ id: 'user_123', first_name: 'Ada', last_name: 'L', email_addresses: [] }),
  );
  const h = harness({ compiled: compileManifest(manifest, defaultRegistry), fetch: fake.fetch, env: SECRETS });
  return { fake, h };
}

/** A request as Cloudflare delivers it: the client's address in CF-Connecting-IP and its country in request.cf. */
async function call(
  h: ReturnType<typeof harness>,
  path: string,
  headers: Record<string, string> = {},
  cf: Record<string, unknown> = { country: 'NL' },
) {
  const ctx = createExecutionContext();
  const request = new Request(`https://switchyard.test${path}`, {
    headers: { 'cf-connecting-ip': '203.0.113.77', ...headers },
    cf,
  } as RequestInit);
  const res = await h.runtime.fetch(request, h.env, ctx);
  return { res, ctx };
}

const analyticsEvents = (h: ReturnType<typeof harness>) => h.analytics.messages as Envelope[];
const propertiesOf = (e: Envelope) => (e.payload as { properties: Record<string, unknown> }).properties;

function withAnalytics(analytics: RouteAnalytics): Manifest {
  const m = structuredClone(defaultManifest);
  m.routes!.api!.analytics = analytics;
  return m;
}

describe('request analytics', () => {
  it('turns one proxied /api/* request into exactly one api_request event, which the consumer sends to PostHog and Mixpanel', async () => {
    const { fake, h } = setup();
    const token = await clerkToken(key);
    const { res, ctx } = await call(h, '/api/things?email=ada@example.com', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    await waitOnExecutionContext(ctx);
    const events = analyticsEvents(h);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({ integration: 'track', type: 'api_request' });
    expect(propertiesOf(event!)).toMatchObject({
      route: 'api',
      route_path: '/api/*',
      path: '/api/things',
      method: 'GET',
      status: 200,
      user_id: 'user_123',
      country: 'NL',
      ip: '203.0.113.0',
    });
    expect(propertiesOf(event!).duration_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(event)).not.toContain('ada@example.com');

    const messages = h.drain().map((m) => fakeMessage(m.body));
    await h.consume(messages);
    expect(messages.every((m) => m.acked)).toBe(true);
    const posthog = fake
      .to(/posthog\.com\/batch\//)
      .flatMap(
        (r) =>
          (r.json as { batch: { event: string; distinct_id: string; properties: Record<string, unknown> }[] }).batch,
      );
    expect(posthog.map((b) => [b.event, b.distinct_id, b.properties.path, b.properties.status])).toEqual([
      ['api_request', 'user_123', '/api/things', 200],
    ]);
    const mixpanel = fake
      .to(/api\.mixpanel\.com\/track/)
      .flatMap((r) => r.json as { event: string; properties: Record<string, unknown> }[]);
    expect(mixpanel.map((e) => [e.event, e.properties.distinct_id, e.properties.route])).toEqual([
      ['api_request', 'user_123', 'api'],
    ]);
  });

  it('tracks the upstream status, a 502 from an unreachable origin included', async () => {
    const { fake, h } = setup();
    fake.on(/origin\.example\.com\/api\/missing/, () => new Response('nope', { status: 404 }));
    fake.on(/origin\.example\.com\/api\/down/, () => Promise.reject(new Error('connection refused')));
    const token = await clerkToken(key);
    for (const path of ['/api/missing', '/api/down']) {
      const { ctx } = await call(h, path, { authorization: `Bearer ${token}` });
      await waitOnExecutionContext(ctx);
    }
    expect(analyticsEvents(h).map((e) => [propertiesOf(e).path, propertiesOf(e).status])).toEqual([
      ['/api/missing', 404],
      ['/api/down', 502],
    ]);
  });

  it('answers with the upstream response when the queue send throws, and logs the failure', async () => {
    const { h } = setup();
    h.analytics.failures = 1;
    const token = await clerkToken(key);
    const { res, ctx } = await call(h, '/api/things', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: '/api/things' });
    await waitOnExecutionContext(ctx);
    expect(analyticsEvents(h)).toHaveLength(0);
    expect(h.events.filter((e) => e.kind === 'analytics.send_failed')).toEqual([
      { kind: 'analytics.send_failed', route: 'api', to: 'track', error: 'Queue send failed: injected' },
    ]);
  });

  it('never waits for the queue: the answer comes while the send still hangs', async () => {
    const { h } = setup();
    let sends = 0;
    h.analytics.send = () => {
      sends++;
      return new Promise(() => {});
    };
    const token = await clerkToken(key);
    const { res } = await call(h, '/api/things', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    // The send starts after the answer (once the tracked-events count is in) and never finishes.
    await vi.waitFor(() => expect(sends).toBe(1));
  });

  it('does not track requests refused before the upstream (no token): anonymous traffic spends no queue operations', async () => {
    const { h } = setup();
    const { res, ctx } = await call(h, '/api/things');
    expect(res.status).toBe(401);
    await waitOnExecutionContext(ctx);
    expect(analyticsEvents(h)).toHaveLength(0);
  });

  it.each([
    [{ ip: 'none', country: false }, {}, ['ip', 'country']],
    [{ ip: 'full' }, { ip: '203.0.113.77', country: 'NL' }, []],
    [{}, { ip: '203.0.113.0', country: 'NL' }, []],
  ] as const)('honours privacy %j', async (privacy, expected, absent) => {
    const { h } = setup(withAnalytics({ to: 'track', privacy }));
    const { ctx } = await call(h, '/api/things', { authorization: `Bearer ${await clerkToken(key)}` });
    await waitOnExecutionContext(ctx);
    const properties = propertiesOf(analyticsEvents(h)[0]!);
    expect(properties).toMatchObject(expected);
    for (const field of absent) expect(properties).not.toHaveProperty(field);
  });

  it('keeps the query string only when asked to, and names the event as declared', async () => {
    const { h } = setup(withAnalytics({ to: 'track', event: 'backend_call', query: true }));
    const { ctx } = await call(h, '/api/things?page=2', {
      authorization: `Bearer ${await clerkToken(key)}`,
      'cf-connecting-ip': '2001:db8:85a3:8d3:1319:8a2e:370:7348',
    });
    await waitOnExecutionContext(ctx);
    const [event] = analyticsEvents(h);
    expect(event!.type).toBe('backend_call');
    expect(propertiesOf(event!)).toMatchObject({ path: '/api/things?page=2', ip: '2001:db8:85a3::' });
  });

  it('refuses analytics on a route that proxies nothing, and a `to` that queues no events', () => {
    const m = withAnalytics({ to: 'flags' });
    m.routes!.track!.analytics = { to: 'track' };
    try {
      compileManifest(m, defaultRegistry);
      expect.unreachable();
    } catch (error) {
      expect((error as ManifestError).problems.map((p) => [p.path.join('.'), p.message.split(':')[0]])).toEqual([
        ['routes.track.analytics', 'analytics tracks proxied requests'],
        ['routes.api.analytics.to', 'route "flags" does not queue events'],
      ]);
    }
  });
});

describe('clientIp', () => {
  it.each([
    ['203.0.113.77', 'truncated', '203.0.113.0'],
    ['203.0.113.77', 'full', '203.0.113.77'],
    ['203.0.113.77', 'none', undefined],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', 'truncated', '2001:db8:85a3::'],
    ['2001:db8::1', 'truncated', '2001:db8::'],
    ['2001:DB8:0:1::1', 'full', '2001:db8:0:1::1'],
    ['::ffff:192.0.2.1', 'truncated', '192.0.2.0'],
    ['::1', 'truncated', '::'],
    ['not-an-ip', 'full', undefined],
    ['999.1.1.1', 'truncated', undefined],
    ['1:2:3:4:5:6:7:8:9', 'truncated', undefined],
  ] as const)('%s (%s) is %s', (ip, mode, expected) => {
    expect(clientIp(ip, mode)).toBe(expected);
  });
});
