/**
 * The Supabase auth adapter through a route: signing keys (JWKS, ES256) and the legacy HS256 secret, expiry,
 * audience, the `role` claim, and the first-seen user synced into `users` from Supabase's own claims.
 */
import { env } from 'cloudflare:test';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, harness } from '../support/harness.ts';

const PROJECT = 'https://abcd.supabase.co';
const ISSUER = `${PROJECT}/auth/v1`;
const JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
let es256: { privateKey: CryptoKey; jwk: Record<string, unknown> };
beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  es256 = {
    privateKey: privateKey as CryptoKey,
    jwk: { ...(await exportJWK(publicKey)), kid: 'sb1', alg: 'ES256', use: 'sig' },
  };
});

/** Claims as Supabase Auth issues them for a signed-in user. */
function claims(overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: `sb_${crypto.randomUUID()}`,
    aud: 'authenticated',
    role: 'authenticated',
    iat: now,
    exp: now + 3600,
    email: 'lin@example.com',
    user_metadata: { full_name: 'Lin Wei', plan: 'pro' },
    app_metadata: { provider: 'email' },
    ...overrides,
  };
}
const signedEs256 = (payload: JWTPayload) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'sb1', typ: 'JWT' }).sign(es256.privateKey);
const signedHs256 = (payload: JWTPayload, secret = JWT_SECRET) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));

/** The default manifest with `auth:` switched to Supabase (keeping the name the routes use), as the README shows. */
function supabaseManifest(provider: Record<string, unknown>, route: Record<string, unknown> = {}): Manifest {
  const m = structuredClone(defaultManifest);
  m.auth!.clerk = { type: 'supabase', project_url: PROJECT, ...provider };
  Object.assign(m.routes!.api!, route);
  return m;
}

function setup(manifest: Manifest, now?: () => number) {
  const fake = new FakeProviders();
  let jwksFetches = 0;
  fake.on(/abcd\.supabase\.co\/auth\/v1\/\.well-known\/jwks\.json$/, () => {
    jwksFetches++;
    return Response.json({ keys: [es256.jwk] });
  });
  const h = harness({
    compiled: compileManifest(manifest, defaultRegistry),
    fetch: fake.fetch,
    ...(now ? { now } : {}),
    env: { SUPABASE_JWT_SECRET: JWT_SECRET, SUPABASE_SERVICE_ROLE_KEY: 'service_role_test' },
  });
  const call = (token: string) => h.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
  return { fake, h, call, jwksFetches: () => jwksFetches };
}

const userRow = (id: unknown) =>
  env.DB.prepare('SELECT email, name, metadata, created_at FROM users WHERE id = ?').bind(id).first();

describe('supabase auth (signing keys, JWKS)', () => {
  it('accepts an ES256 token from the project JWKS and syncs email and user_metadata into users once', async () => {
    const { fake, call, jwksFetches } = setup(supabaseManifest({}));
    const payload = claims();
    const token = await signedEs256(payload);
    expect((await call(token)).status).toBe(200);
    expect((await call(token)).status).toBe(200);
    expect(jwksFetches()).toBe(1);
    expect(fake.to(/origin\.example\.com/).map((r) => [r.headers['x-user-id'], r.headers['x-user-email']])).toEqual([
      [payload.sub, 'lin@example.com'],
      [payload.sub, 'lin@example.com'],
    ]);
    const row = await userRow(payload.sub);
    expect(row).toEqual({
      email: 'lin@example.com',
      name: 'Lin Wei',
      metadata: JSON.stringify({ full_name: 'Lin Wei', plan: 'pro' }),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('takes created_at (and the stored metadata) from the admin API when profile is set', async () => {
    const { fake, call } = setup(
      supabaseManifest({ profile: { service_role_key: 'SUPABASE_SERVICE_ROLE_KEY' } }, { profile: true }),
    );
    fake.on(/abcd\.supabase\.co\/auth\/v1\/admin\/users\//, (r) => {
      expect(r.headers.apikey).toBe('service_role_test');
      return Response.json({
        id: 'x',
        email: 'lin@example.com',
        user_metadata: { full_name: 'Lin W.' },
        created_at: '2026-01-02T03:04:05.123456Z',
      });
    });
    const payload = claims();
    expect((await call(await signedEs256(payload))).status).toBe(200);
    expect(await userRow(payload.sub)).toEqual({
      email: 'lin@example.com',
      name: 'Lin W.',
      metadata: '{"full_name":"Lin W."}',
      created_at: '2026-01-02T03:04:05.123Z',
    });
  });

  it('writes an empty metadata object and no name for a user who signed up without metadata', async () => {
    const { call } = setup(supabaseManifest({}));
    const payload = claims({ user_metadata: undefined, email: 'bare@example.com' });
    expect((await call(await signedEs256(payload))).status).toBe(200);
    expect(await userRow(payload.sub)).toEqual({
      email: 'bare@example.com',
      name: null,
      metadata: '{}',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 60 }, 'token_expired'],
    ['for another audience', { aud: 'anon' }, 'claim_invalid:aud'],
    ['from another project', { iss: 'https://other.supabase.co/auth/v1' }, 'claim_invalid:iss'],
    ['without exp', { exp: undefined }, 'claim_invalid:exp'],
  ] as const)('refuses a token %s (401 %s)', async (_name, overrides, reason) => {
    const { fake, call } = setup(supabaseManifest({}));
    const res = await call(await signedEs256(claims(overrides as JWTPayload)));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe(reason);
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  });

  it('refuses an HS256 token when the project uses signing keys', async () => {
    const { call, jwksFetches } = setup(supabaseManifest({}));
    const res = await call(await signedHs256(claims()));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe('algorithm_not_allowed');
    expect(jwksFetches()).toBe(0);
  });

  it("checks Supabase's role claim with require (roles_claim: role)", async () => {
    const { call } = setup(supabaseManifest({}, { require: { roles: ['authenticated'], roles_claim: 'role' } }));
    expect((await call(await signedEs256(claims()))).status).toBe(200);
    expect((await call(await signedEs256(claims({ role: 'anon' })))).status).toBe(403);
  });
});

describe('supabase auth (legacy HS256 secret)', () => {
  const legacy = () => setup(supabaseManifest({ jwt_secret: 'SUPABASE_JWT_SECRET' }));

  it('accepts a token signed with the project secret, never fetching a JWKS, and syncs the user', async () => {
    const { call, jwksFetches } = legacy();
    const payload = claims();
    expect((await call(await signedHs256(payload))).status).toBe(200);
    expect(jwksFetches()).toBe(0);
    expect(await userRow(payload.sub)).toMatchObject({ email: 'lin@example.com', name: 'Lin Wei' });
  });

  it('refuses another secret, an asymmetric token, and an expired one', async () => {
    const { call } = legacy();
    const reasons = [];
    for (const token of [
      await signedHs256(claims(), 'x'.repeat(40)),
      await signedEs256(claims()),
      await signedHs256(claims({ exp: Math.floor(Date.now() / 1000) - 60 })),
    ]) {
      const res = await call(token);
      expect(res.status).toBe(401);
      reasons.push(((await res.json()) as { reason: string }).reason);
    }
    expect(reasons).toEqual(['signature_invalid', 'algorithm_not_allowed', 'token_expired']);
  });
});

describe('supabase auth: the first-seen sync (cookbook: insert the user with created_at = now)', () => {
  it('gives the first-seen row created_at = when the user first arrived, and never moves it', async () => {
    let now = Date.parse('2026-03-01T10:00:00.000Z');
    const manifest = supabaseManifest({});
    const first = setup(manifest, () => now);
    const payload = claims();
    const token = await signedEs256(payload);
    expect((await first.call(token)).status).toBe(200);
    expect(await userRow(payload.sub)).toEqual({
      email: 'lin@example.com',
      name: 'Lin Wei',
      metadata: JSON.stringify({ full_name: 'Lin Wei', plan: 'pro' }),
      created_at: '2026-03-01T10:00:00.000Z',
    });
    // A day later, in another isolate, even with the seen-marker gone (the sync runs again): the row keeps its date.
    now += 86_400_000;
    await env.DB.prepare("DELETE FROM seen_users WHERE provider = 'clerk' AND sub = ?").bind(payload.sub).run();
    const later = setup(manifest, () => now);
    expect((await later.call(token)).status).toBe(200);
    expect((await first.call(token)).status).toBe(200);
    expect(await userRow(payload.sub)).toMatchObject({ created_at: '2026-03-01T10:00:00.000Z' });
  });

  it('swapping auth: from Clerk to Supabase is a change of the auth block alone; the route is left as it is', async () => {
    const m = structuredClone(defaultManifest);
    m.auth!.clerk = { type: 'supabase', project_url: PROJECT };
    const { fake, call } = setup(m, () => Date.parse('2026-03-02T00:00:00.000Z'));
    const payload = claims();
    expect((await call(await signedEs256(payload))).status).toBe(200);
    const [sent] = fake.to(/origin\.example\.com/);
    expect([sent!.headers['x-user-id'], sent!.headers['x-user-email'], sent!.headers['x-user-name']]).toEqual([
      payload.sub,
      'lin@example.com',
      'Lin Wei',
    ]);
    expect(await userRow(payload.sub)).toEqual({
      email: 'lin@example.com',
      name: 'Lin Wei',
      metadata: JSON.stringify({ full_name: 'Lin Wei', plan: 'pro' }),
      created_at: '2026-03-02T00:00:00.000Z',
    });
  });
});
