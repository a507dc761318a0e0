/** Edge auth, protected routes and the application endpoints, against a local JWKS and fake providers. */
import { env } from 'cloudflare:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { cloudinarySignature } from '../../adapters/endpoints/cloudinary-upload.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, harness } from '../support/harness.ts';
import { CLERK_ISSUER, clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';

const SECRETS = {
  POSTHOG_API_KEY: 'phc_test',
  MIXPANEL_TOKEN: 'mp_token',
  CLOUDINARY_API_KEY: 'cl_key',
  CLOUDINARY_API_SECRET: 'cl_secret',
  CLERK_SECRET_KEY: 'sk_test_profile',
};
let k1: TestKey;
let k2: TestKey;
beforeAll(async () => {
  k1 = await testKey('k1');
  k2 = await testKey('k2');
});

/** The default manifest's runtime with a fake JWKS (serving `keys()`), fake providers, and an adjustable clock. */
function setup(
  options: { keys?: () => TestKey[]; manifest?: Manifest; jwksStatus?: () => number; jwksDelayMs?: number } = {},
) {
  const fake = new FakeProviders();
  let jwksFetches = 0;
  fake.on(/\/\.well-known\/jwks\.json$/, async () => {
    jwksFetches++;
    if (options.jwksDelayMs) await new Promise((r) => setTimeout(r, options.jwksDelayMs));
    const status = options.jwksStatus?.() ?? 200;
    return status === 200 ? Response.json(jwks(...(options.keys?.() ?? [k1]))) : new Response('down', { status });
  });
  const clock = { now: Date.now() };
  const h = harness({
    ...(options.manifest ? { compiled: compileManifest(options.manifest, defaultRegistry) } : {}),
    fetch: fake.fetch,
    env: SECRETS,
    now: () => clock.now,
  });
  return { fake, h, clock, jwksFetches: () => jwksFetches };
}

const api = (h: ReturnType<typeof harness>, token?: string, headers: Record<string, string> = {}) =>
  h.request('/api/things?limit=2', { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

describe('protected upstream route', () => {
  it('proxies with the user id and chosen claims as headers, without the token or spoofed identity headers', async () => {
    const { fake, h } = setup();
    const res = await api(h, await clerkToken(k1), {
      'x-user-id': 'spoofed',
      'x-user-email': 'spoofed@example.com',
      'x-request-id': 'r1',
    });
    expect(res.status).toBe(200);
    const [upstream] = fake.to(/origin\.example\.com/);
    expect(upstream!.url).toBe('https://origin.example.com/api/things?limit=2');
    expect(upstream!.headers).toMatchObject({
      'x-user-id': 'user_123',
      'x-user-email': 'ada@example.com',
      'x-request-id': 'r1',
    });
    expect(upstream!.headers.authorization).toBeUndefined();
  });

  it('answers 401 JSON with WWW-Authenticate for a missing token, and never calls upstream', async () => {
    const { fake, h } = setup();
    const res = await api(h);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect(await res.json()).toEqual({
      error: 'unauthorized',
      message: 'a bearer token is required',
      reason: 'missing_token',
    });
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  });

  it.each([
    [
      'alg none',
      async () => new UnsecuredJWT({ iss: CLERK_ISSUER, sub: 'u', exp: Math.floor(Date.now() / 1000) + 60 }).encode(),
      'algorithm_not_allowed',
    ],
    [
      'HS256 signed with the public key (algorithm confusion)',
      async () =>
        new SignJWT({ iss: CLERK_ISSUER, sub: 'u', exp: Math.floor(Date.now() / 1000) + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .sign(new TextEncoder().encode(JSON.stringify(k1.publicJwk))),
      'algorithm_not_allowed',
    ],
    ['no exp', async () => clerkToken(k1, { exp: undefined }), 'claim_invalid:exp'],
    [
      'expired beyond the tolerance',
      async () => clerkToken(k1, { exp: Math.floor(Date.now() / 1000) - 30 }),
      'token_expired',
    ],
    [
      'nbf in the future',
      async () => clerkToken(k1, { nbf: Math.floor(Date.now() / 1000) + 120 }),
      'claim_invalid:nbf',
    ],
    ['wrong iss', async () => clerkToken(k1, { iss: 'https://evil.clerk.accounts.dev' }), 'claim_invalid:iss'],
    ['azp not allowed', async () => clerkToken(k1, { azp: 'https://evil.example.com' }), 'azp_not_allowed'],
    ['signed by an unknown key', async () => clerkToken(k2), 'unknown_key'],
    [
      'a sub that cannot be a header (CRLF)',
      async () => clerkToken(k1, { sub: 'user_1\r\nX-Admin: 1' }),
      'claim_invalid:sub',
    ],
  ])('refuses a token with %s', async (_name, make, reason) => {
    const { fake, h } = setup();
    const token = await make();
    const res = await api(h, token);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', reason });
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  });

  it.each([
    [
      'alg none',
      async () => new UnsecuredJWT({ iss: CLERK_ISSUER, sub: 'u', exp: Math.floor(Date.now() / 1000) + 60 }).encode(),
    ],
    [
      'HS256 where RS256 is expected',
      async () =>
        new SignJWT({ iss: CLERK_ISSUER, sub: 'u', exp: Math.floor(Date.now() / 1000) + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .sign(new TextEncoder().encode('guessed')),
    ],
    [
      'an unknown alg',
      async () =>
        `${btoa(JSON.stringify({ alg: 'XS999', kid: 'k1' })).replace(/=+$/, '')}.${btoa(JSON.stringify({ sub: 'u' })).replace(/=+$/, '')}.c2ln`,
    ],
  ])('refuses a token with %s before fetching any key (401, even with the JWKS unreachable)', async (_name, make) => {
    const { fake, h, jwksFetches } = setup({ jwksStatus: () => 500 });
    const res = await api(h, await make());
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', reason: 'algorithm_not_allowed' });
    expect(jwksFetches()).toBe(0);
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  });

  it.each([
    '/api/..%2finternal',
    '/api/..%2Finternal',
    '/api/a%5c..%5cinternal',
    '/api/%5C%5Cevil.example',
    '/api/..%252finternal',
    '/api/%252e%252e/internal',
    '/api/x/%25%32%65%25%32%65/y',
    '/api/x%25252Fy',
  ])(
    'refuses the proxied path %s (encoded separator or dot segment) with 400, and never calls upstream',
    async (path) => {
      const { fake, h } = setup();
      const res = await h.request(path, { headers: { authorization: `Bearer ${await clerkToken(k1)}` } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_request', reason: 'path_not_allowed' });
      expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
    },
  );

  it('never forwards a dot segment the URL parser resolves itself (%2e%2e is "..": the route no longer matches)', async () => {
    const { fake, h } = setup();
    const token = await clerkToken(k1);
    for (const path of ['/api/%2e%2e/internal', '/api/.%2E/internal'])
      expect((await h.request(path, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  });

  it('still proxies ordinary encoded characters in a path', async () => {
    const { fake, h } = setup();
    const res = await h.request('/api/files/a%20b%3Fc.txt', {
      headers: { authorization: `Bearer ${await clerkToken(k1)}` },
    });
    expect(res.status).toBe(200);
    expect(fake.to(/origin\.example\.com/)[0]!.url).toBe('https://origin.example.com/api/files/a%20b%3Fc.txt');
  });

  it('accepts a token expired within the clock tolerance (5s)', async () => {
    const { h } = setup();
    expect((await api(h, await clerkToken(k1, { exp: Math.floor(Date.now() / 1000) - 3 }))).status).toBe(200);
  });

  it('checks the audience (here an Auth0 provider, swapped in by its auth block alone: the route is unchanged)', async () => {
    const m = structuredClone(defaultManifest);
    m.auth = { clerk: { type: 'auth0', domain: 'example.clerk.accounts.dev', audience: 'https://api.example.com' } };
    const { h } = setup({ manifest: m });
    const token = (aud: string) => clerkToken(k1, { iss: 'https://example.clerk.accounts.dev/', aud });
    expect((await api(h, await token('https://api.example.com'))).status).toBe(200);
    expect(await (await api(h, await token('https://other.example.com'))).json()).toMatchObject({
      reason: 'claim_invalid:aud',
    });
  });

  it('refetches the JWKS once for an unknown kid, then waits out the cooldown (and picks up a rotated key)', async () => {
    let keys = [k1];
    const { h, clock, jwksFetches } = setup({ keys: () => keys });
    expect((await api(h, await clerkToken(k1))).status).toBe(200);
    expect(jwksFetches()).toBe(1);
    // Within the cooldown of that fetch an unknown kid is refused without fetching again.
    expect((await api(h, await clerkToken(k2))).status).toBe(401);
    expect(jwksFetches()).toBe(1);
    clock.now += 31_000;
    expect((await api(h, await clerkToken(k2))).status).toBe(401);
    expect(jwksFetches()).toBe(2);
    expect((await api(h, await clerkToken(k2))).status).toBe(401);
    expect(jwksFetches()).toBe(2);
    keys = [k1, k2];
    clock.now += 31_000;
    expect((await api(h, await clerkToken(k2))).status).toBe(200);
    expect(jwksFetches()).toBe(3);
  });

  it('answers 503 when the JWKS cannot be fetched, never letting the token through', async () => {
    const { fake, h } = setup({ jwksStatus: () => 500 });
    const res = await api(h, await clerkToken(k1));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'unavailable', reason: 'jwks_unreachable' });
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  });

  it('does not hang concurrent requests while the JWKS is being fetched', async () => {
    const { h } = setup({ jwksDelayMs: 50 });
    const token = await clerkToken(k1);
    const results = await Promise.race([
      Promise.all(Array.from({ length: 10 }, () => api(h, token).then((r) => r.status))),
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000)),
    ]);
    expect(results).toEqual(Array(10).fill(200));
  });

  it('rate-limits per user with 429 and Retry-After', async () => {
    const m = structuredClone(defaultManifest);
    m.routes!.api!.rate_limit = { limit: 2, period: 'minute', per: 'user' };
    const { h } = setup({ manifest: m });
    const token = await clerkToken(k1, { sub: `user_rl_${Date.now()}` });
    expect((await api(h, token)).status).toBe(200);
    expect((await api(h, token)).status).toBe(200);
    const limited = await api(h, token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('profile enrichment', () => {
  it('fetches the Clerk user once (then KV), forwards a profile field, and syncs a first-seen user once', async () => {
    const { fake, h } = setup();
    const sub = `user_p_${Date.now()}`;
    fake.on(/api\.clerk\.com\/v1\/users\//, (r) => {
      expect(r.headers.authorization).toBe('Bearer sk_test_profile');
      return Response.json({
        id: sub,
        first_name: 'Grace',
        last_name: 'Hopper',
        created_at: 1_700_000_000_000,
        email_addresses: [{ email_address: 'grace@example.com' }],
      });
    });
    const token = await clerkToken(k1, { sub });
    for (let i = 0; i < 2; i++)
      expect((await h.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(fake.to(/api\.clerk\.com/)).toHaveLength(1);
    expect(fake.to(/origin\.example\.com/).map((r) => r.headers['x-user-name'])).toEqual([
      'Grace Hopper',
      'Grace Hopper',
    ]);
    expect(await env.DB.prepare('SELECT email, name, created_at FROM users WHERE id = ?').bind(sub).first()).toEqual({
      email: 'grace@example.com',
      name: 'Grace Hopper',
      created_at: '2023-11-14T22:13:20.000Z',
    });
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM seen_users WHERE provider = 'clerk' AND sub = ?")
        .bind(sub)
        .first(),
    ).toEqual({ n: 1 });
  });

  it.each([
    ['a CRLF (a forged header)', 'Eve\r\nX-Admin: 1', undefined],
    ['a NUL', 'Eve\u0000', undefined],
    ['text beyond Latin-1 (sent as is)', '李雷', '李雷 X'],
  ])('forwards a profile value with %s without failing the request', async (_name, firstName, forwarded) => {
    const { fake, h } = setup();
    const sub = `user_crlf_${crypto.randomUUID()}`;
    fake.on(/api\.clerk\.com\/v1\/users\//, () =>
      Response.json({
        id: sub,
        first_name: firstName,
        last_name: 'X',
        created_at: 1_700_000_000_000,
        email_addresses: [],
      }),
    );
    const token = await clerkToken(k1, { sub });
    for (let i = 0; i < 2; i++)
      expect((await h.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const sent = fake.to(/origin\.example\.com/);
    expect(sent.map((r) => r.headers['x-user-name'])).toEqual([forwarded, forwarded]);
    expect(sent.every((r) => r.headers['x-admin'] === undefined && r.headers['x-user-id'] === sub)).toBe(true);
  });

  it('a route that forwards nothing from the user reads the profile only for a user it has not seen', async () => {
    const m = structuredClone(defaultManifest);
    delete m.routes!.api!.forward_user;
    const sub = `user_lazy_${crypto.randomUUID()}`;
    const clerkUser = () =>
      Response.json({
        id: sub,
        first_name: 'Ada',
        last_name: 'L',
        created_at: 1_700_000_000_000,
        email_addresses: [{ email_address: 'ada@example.com' }],
      });
    const token = await clerkToken(k1, { sub });
    const first = setup({ manifest: m });
    first.fake.on(/api\.clerk\.com\/v1\/users\//, clerkUser);
    for (let i = 0; i < 3; i++) expect((await api(first.h, token)).status).toBe(200);
    expect(first.fake.to(/api\.clerk\.com/)).toHaveLength(1);
    expect(await env.DB.prepare('SELECT email, name, created_at FROM users WHERE id = ?').bind(sub).first()).toEqual({
      email: 'ada@example.com',
      name: 'Ada L',
      created_at: '2023-11-14T22:13:20.000Z',
    });
    // Another isolate: the user is seen (D1), so no profile is read at all.
    const later = setup({ manifest: m });
    later.fake.on(/api\.clerk\.com\/v1\/users\//, clerkUser);
    expect((await api(later.h, token)).status).toBe(200);
    expect(later.fake.to(/api\.clerk\.com/)).toHaveLength(0);
  });

  it("caches Auth0's management token until 5 minutes before it expires", async () => {
    const m = structuredClone(defaultManifest);
    m.auth = {
      clerk: {
        type: 'auth0',
        domain: 'tenant.example.test',
        audience: 'https://api.example.com',
        profile: { client_id: 'AUTH0_CLIENT_ID', client_secret: 'AUTH0_CLIENT_SECRET', ttl: '1m' },
      },
    };
    const { fake, h, clock } = setup({ manifest: m });
    let issued = 0;
    fake.on(/tenant\.example\.test\/oauth\/token/, (r) => {
      expect(r.json).toMatchObject({
        grant_type: 'client_credentials',
        client_id: 'cid',
        client_secret: 'csecret',
        audience: 'https://tenant.example.test/api/v2/',
      });
      return Response.json({ access_token: `mgmt_${++issued}`, expires_in: 3600, token_type: 'Bearer' });
    });
    fake.on(/tenant\.example\.test\/api\/v2\/users\//, (r) =>
      Response.json({
        user_id: decodeURIComponent(r.url.split('/').pop()!),
        given_name: 'A',
        token: r.headers.authorization,
      }),
    );
    const env2 = { AUTH0_CLIENT_ID: 'cid', AUTH0_CLIENT_SECRET: 'csecret' };
    const call = async (sub: string) => {
      const token = await clerkToken(k1, { iss: 'https://tenant.example.test/', aud: 'https://api.example.com', sub });
      return h.runtime.app.request(
        'https://switchyard.test/api/me',
        { headers: { authorization: `Bearer ${token}` } },
        { ...h.env, ...env2 },
      );
    };
    const run = Date.now();
    expect((await call(`auth0|a${run}`)).status).toBe(200);
    expect((await call(`auth0|b${run}`)).status).toBe(200);
    expect(issued).toBe(1);
    clock.now += (3600 - 300 - 10) * 1000;
    expect((await call(`auth0|c${run}`)).status).toBe(200);
    expect(issued).toBe(1);
    clock.now += 20_000;
    expect((await call(`auth0|d${run}`)).status).toBe(200);
    expect(issued).toBe(2);
    expect(fake.to(/api\/v2\/users/).map((r) => r.headers.authorization)).toEqual([
      'Bearer mgmt_1',
      'Bearer mgmt_1',
      'Bearer mgmt_1',
      'Bearer mgmt_2',
    ]);
  });
});

describe('/v1/track', () => {
  const post = (h: ReturnType<typeof harness>, body: unknown, headers: Record<string, string>) =>
    h.request('/v1/track', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('queues a browser batch (publishable key, allowed origin) and the consumer sends it on with $insert_id', async () => {
    const { fake, h } = setup();
    const res = await post(
      h,
      {
        events: [
          { event: 'page_view', properties: { path: '/pricing' }, distinct_id: 'anon_1' },
          { event: 'signup_click' },
        ],
      },
      { 'x-switchyard-key': 'pk_dev_switchyard', origin: 'https://app.example.com' },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(await res.json()).toEqual({ accepted: 2 });
    // One message for the request, its two events inside.
    const messages = h.drain();
    expect(messages.map((m) => [(m.body as Envelope).integration, (m.body as Envelope).items?.length])).toEqual([
      ['track', 2],
    ]);
    await h.consume(messages);
    expect(messages.every((m) => m.acked)).toBe(true);
    const [ph] = fake.to(/posthog\.com\/batch\//);
    const batch = (ph!.json as { batch: { event: string; distinct_id: string; properties: Record<string, unknown> }[] })
      .batch;
    expect(batch.map((b) => [b.event, b.distinct_id])).toEqual([
      ['page_view', 'anon_1'],
      ['signup_click', 'anonymous'],
    ]);
    expect(batch[0]!.properties).toMatchObject({
      path: '/pricing',
      $insert_id: (messages[0]!.body as Envelope).items![0]!.id,
    });
    const [mp] = fake.to(/api\.mixpanel\.com\/track/);
    expect((mp!.json as { properties: Record<string, unknown> }[])[0]!.properties).toMatchObject({
      path: '/pricing',
      distinct_id: 'anon_1',
      token: 'mp_token',
    });
  });

  it('uses the verified user id when a token is sent, and refuses unknown origins and missing credentials', async () => {
    const { h } = setup();
    const ok = await post(h, [{ event: 'x' }], { authorization: `Bearer ${await clerkToken(k1)}` });
    expect(ok.status).toBe(202);
    expect((h.drain()[0]!.body as Envelope).items![0]!.payload).toMatchObject({
      distinct_id: 'user_123',
      properties: { user_id: 'user_123' },
    });
    expect(
      (await post(h, [{ event: 'x' }], { 'x-switchyard-key': 'pk_dev_switchyard', origin: 'https://evil.example.com' }))
        .status,
    ).toBe(403);
    expect((await post(h, [{ event: 'x' }], {})).status).toBe(401);
    expect((await post(h, { events: [] }, { 'x-switchyard-key': 'pk_dev_switchyard' })).status).toBe(400);
  });
});

describe('/v1/flags', () => {
  it('serves from KV on the second call, and a stale answer when PostHog is down', async () => {
    const { fake, h, clock } = setup();
    let posthogUp = true;
    fake.on(/posthog\.com\/decide\//, () =>
      posthogUp ? Response.json({ featureFlags: { 'new-billing': true } }) : new Response('down', { status: 502 }),
    );
    const token = await clerkToken(k1, { sub: `user_flags_${Date.now()}` });
    const get = () => h.request('/v1/flags', { headers: { authorization: `Bearer ${token}` } });
    const first = await get();
    expect(first.headers.get('x-switchyard-cache')).toBe('miss');
    expect(await first.json()).toEqual({ flags: { 'new-billing': true } });
    const second = await get();
    expect(second.headers.get('x-switchyard-cache')).toBe('hit');
    expect(fake.to(/decide/)).toHaveLength(1);
    posthogUp = false;
    clock.now += 6 * 60_000;
    const stale = await get();
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-switchyard-cache')).toBe('stale');
    expect(await stale.json()).toEqual({ flags: { 'new-billing': true }, stale: true });
    const nobody = await clerkToken(k1, { sub: `user_never_${Date.now()}` });
    expect((await h.request('/v1/flags', { headers: { authorization: `Bearer ${nobody}` } })).status).toBe(503);
  });
});

describe('/v1/uploads', () => {
  it('uploads to Cloudinary with a correct signature and keeps the original in R2; enforces type and size', async () => {
    const { fake, h, clock } = setup();
    fake.on(/api\.cloudinary\.com\/v1_1\/demo\/auto\/upload/, () =>
      Response.json({ public_id: 'uploads/user_123/x', secure_url: 'https://res.cloudinary.com/demo/x.png', bytes: 4 }),
    );
    const token = await clerkToken(k1);
    const form = new FormData();
    form.set('file', new File([new Uint8Array([137, 80, 78, 71])], 'logo.png', { type: 'image/png' }));
    const res = await h.request('/v1/uploads', {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { backup_key: string; url: string };
    expect(body.url).toBe('https://res.cloudinary.com/demo/x.png');
    const index = fake.requests.findIndex((r) => r.url.includes('cloudinary'));
    const sent = fake.forms.get(index)!;
    const params = {
      folder: sent.get('folder') as string,
      public_id: sent.get('public_id') as string,
      timestamp: sent.get('timestamp') as string,
    };
    expect(params.folder).toBe('uploads/user_123');
    expect(Number(params.timestamp)).toBe(Math.floor(clock.now / 1000));
    expect(sent.get('api_key')).toBe('cl_key');
    expect(sent.get('signature')).toBe(await cloudinarySignature(params, 'cl_secret', 'sha256'));
    const backup = await (env.UPLOADS as R2Bucket).get(body.backup_key);
    expect(new Uint8Array(await backup!.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect(backup!.customMetadata).toMatchObject({ user: 'user_123', original_name: 'logo.png' });
    expect(backup!.httpMetadata?.contentType).toBe('image/png');

    const text = new FormData();
    text.set('file', new File(['hello'], 'a.txt', { type: 'text/plain' }));
    expect(
      (await h.request('/v1/uploads', { method: 'POST', body: text, headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(415);
    const big = new FormData();
    big.set('file', new File([new Uint8Array(10 * 1024 * 1024 + 1)], 'big.png', { type: 'image/png' }));
    expect(
      (await h.request('/v1/uploads', { method: 'POST', body: big, headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(413);
    expect((await h.request('/v1/uploads', { method: 'POST', body: form })).status).toBe(401);
  });
});

describe('admin API auth', () => {
  it('refuses anonymous requests; takes a token with the admin role, or the admin token', async () => {
    const { h } = setup();
    const get = (authorization?: string) =>
      h.request('/admin/api/dead-letters', authorization ? { headers: { authorization } } : {});
    expect((await get()).status).toBe(401);
    expect((await get(`Bearer ${await clerkToken(k1)}`)).status).toBe(403);
    expect(
      (await get(`Bearer ${await clerkToken(k1, { org_id: env.ADMIN_ORG_ID, org_role: 'org:admin' })}`)).status,
    ).toBe(200);
    expect((await get('Bearer test-admin-token')).status).toBe(200);
    expect((await get('Bearer wrong')).status).toBe(401);
  });

  it('binds the admin role to the organisation named by ADMIN_ORG_ID: an admin of any other org is refused', async () => {
    const { h } = setup();
    const get = async (claims: Record<string, unknown>, env: Record<string, unknown> = {}) =>
      (
        await h.runtime.app.request(
          'https://switchyard.test/admin/api/events',
          { headers: { authorization: `Bearer ${await clerkToken(k1, claims)}` } },
          { ...h.env, ...env },
        )
      ).status;
    // Whoever creates a Clerk organisation is its org:admin.
    expect(await get({ org_id: 'org_attacker', org_role: 'org:admin' })).toBe(403);
    expect(await get({ org_role: 'org:admin' })).toBe(403);
    expect(await get({ org_id: env.ADMIN_ORG_ID, org_role: 'org:member' })).toBe(403);
    expect(await get({ org_id: env.ADMIN_ORG_ID, org_role: 'org:admin' })).toBe(200);
    // An unset or empty variable matches nothing (fail closed), not even a token without the claim.
    expect(await get({ org_id: env.ADMIN_ORG_ID, org_role: 'org:admin' }, { ADMIN_ORG_ID: '' })).toBe(403);
    expect(await get({ org_id: '', org_role: 'org:admin' }, { ADMIN_ORG_ID: '' })).toBe(403);
  });
});
