/**
 * The local dev issuer (runtime/edge/dev-auth.ts): accepted only with SWITCHYARD_DEV_AUTH=1 and on a loopback host, for
 * the provider it was minted for, without any JWKS fetch; refused everywhere else. And an unreachable upstream is
 * a 502.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeProviders } from '../support/fake-providers.ts';
import { harness } from '../support/harness.ts';
import { clerkToken, testKey } from '../support/jwt.ts';

let devKey: CryptoKey;
let devJwk: string;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  devKey = pair.privateKey as CryptoKey;
  devJwk = JSON.stringify(await exportJWK(pair.publicKey));
});

const devToken = (claims: Record<string, unknown> = {}, key = devKey) => {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: 'switchyard-dev',
    sub: 'user_dev',
    switchyard_dev_provider: 'clerk',
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(key);
};

function setup(
  env: Record<string, unknown> = { SWITCHYARD_DEV_AUTH: '1' },
  upstream: () => Response | Promise<Response> = () => Response.json({ ok: true }),
) {
  const fake = new FakeProviders();
  let jwksFetches = 0;
  fake.on(/\/\.well-known\/jwks\.json$/, () => {
    jwksFetches++;
    return new Response('offline', { status: 503 });
  });
  fake.on(/origin\.example\.com/, upstream);
  const h = harness({
    fetch: fake.fetch,
    env: {
      CLERK_SECRET_KEY: 'sk_test',
      ...env,
      ...(env.SWITCHYARD_DEV_JWK === undefined ? { SWITCHYARD_DEV_JWK: devJwk } : {}),
    },
  });
  /** A request addressed to `origin` (the harness itself always uses https://switchyard.test). */
  const at = (origin: string, path: string, token: string) =>
    Promise.resolve(
      h.runtime.app.request(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } }, h.env),
    );
  return { h, fake, at, jwksFetches: () => jwksFetches };
}

describe('the local dev issuer', () => {
  it.each(['http://localhost:8787', 'http://127.0.0.1:8801', 'http://[::1]:8787'])(
    'accepts a dev token on %s without fetching any JWKS',
    async (origin) => {
      const { at, fake, jwksFetches } = setup();
      const res = await at(origin, '/api/things', await devToken());
      expect(res.status).toBe(200);
      expect(fake.to(/origin\.example\.com/)[0]!.headers['x-user-id']).toBe('user_dev');
      expect(jwksFetches()).toBe(0);
    },
  );

  it('opens the admin API to an org-bound admin dev token, as admin.require says', async () => {
    const { at } = setup();
    expect(
      (
        await at(
          'http://localhost:8787',
          '/admin/api/dead-letters',
          await devToken({ org_role: 'org:admin', org_id: 'org_dev_switchyard' }),
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await at(
          'http://localhost:8787',
          '/admin/api/dead-letters',
          await devToken({ org_role: 'org:member', org_id: 'org_dev_switchyard' }),
        )
      ).status,
    ).toBe(403);
  });

  it('refuses a dev token on any other host, even with the variable set and a Host header saying localhost', async () => {
    const { h, at, fake } = setup();
    const res = await h.request('/api/things', {
      headers: { authorization: `Bearer ${await devToken()}`, host: 'localhost' },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason: 'dev_issuer_not_local' });
    expect((await at('https://localhost.example.com', '/api/things', await devToken())).status).toBe(401);
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
    expect(h.events).toContainEqual({ kind: 'auth.rejected', where: 'routes.api', reason: 'dev_issuer_not_local' });
  });

  it.each([
    ['the variable unset', {}, 'dev_issuer_disabled'],
    ['the variable not exactly 1', { SWITCHYARD_DEV_AUTH: 'true' }, 'dev_issuer_disabled'],
    ['no public key', { SWITCHYARD_DEV_AUTH: '1', SWITCHYARD_DEV_JWK: '' }, 'dev_issuer_no_key'],
  ])('refuses a dev token with %s, on localhost too', async (_name, env, reason) => {
    const { at, jwksFetches } = setup(env);
    const res = await at('http://localhost:8787', '/api/things', await devToken());
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason });
    expect(jwksFetches()).toBe(0);
  });

  it('refuses a token signed by another key, minted for another provider, expired, or naming another algorithm', async () => {
    const { at } = setup();
    const other = (await generateKeyPair('ES256')).privateKey as CryptoKey;
    const reasons = async (token: string) =>
      ((await (await at('http://localhost:8787', '/api/things', token)).json()) as { reason: string }).reason;
    expect(await reasons(await devToken({}, other))).toBe('dev_issuer_invalid_token');
    expect(await reasons(await devToken({ switchyard_dev_provider: 'auth0' }))).toBe('dev_issuer_other_provider');
    expect(await reasons(await devToken({ exp: Math.floor(Date.now() / 1000) - 60 }))).toBe('token_expired');
    const hs = await new SignJWT({
      iss: 'switchyard-dev',
      sub: 'u',
      switchyard_dev_provider: 'clerk',
      exp: Math.floor(Date.now() / 1000) + 60,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(devJwk));
    expect(await reasons(hs)).toBe('algorithm_not_allowed');
  });

  it('leaves real provider tokens to the provider: offline, those still answer 503', async () => {
    const { at, jwksFetches } = setup();
    const res = await at('http://localhost:8787', '/api/things', await clerkToken(await testKey('k1')));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reason: 'jwks_unreachable' });
    expect(jwksFetches()).toBe(1);
  });
});

describe('an unreachable upstream', () => {
  it('is a 502 with a reason, logged as a runtime error, not the Worker’s own 500', async () => {
    const { at, h } = setup({ SWITCHYARD_DEV_AUTH: '1' }, () => {
      throw new TypeError('fetch failed');
    });
    const res = await at('http://localhost:8787', '/api/things', await devToken());
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      error: 'bad_gateway',
      message: 'the upstream could not be reached',
      reason: 'upstream_unreachable',
    });
    expect(h.events).toContainEqual({
      kind: 'runtime.error',
      where: 'routes.api.upstream',
      error: 'TypeError: fetch failed',
    });
  });
});
