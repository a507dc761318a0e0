/**
 * The dashboard's login exchange: /admin is never served without a session; the login form trades the
 * ADMIN_TOKEN (or an admin JWT) for a short-lived signed HttpOnly cookie; the admin API takes that cookie, with a
 * CSRF header for anything that changes state; logout clears it; rotating ADMIN_TOKEN revokes every session.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeProviders } from '../support/fake-providers.ts';
import { harness } from '../support/harness.ts';
import { clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';

const ORIGIN = 'https://switchyard.test';
let key: TestKey;
beforeAll(async () => {
  key = await testKey('k1');
});

function setup(env2: Record<string, unknown> = {}) {
  const fake = new FakeProviders();
  fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  const clock = { now: Date.now() };
  const h = harness({ fetch: fake.fetch, now: () => clock.now, env: env2 });
  const login = (token: string, headers: Record<string, string> = {}) =>
    h.request('/admin/login', {
      method: 'POST',
      body: new URLSearchParams({ token }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: ORIGIN,
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
      redirect: 'manual',
    });
  /** Logs in with the admin token and returns the cookie pair to send back, and the CSRF token of the session. */
  const session = async (token = 'test-admin-token') => {
    const res = await login(token);
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await h.request('/admin', { headers: { cookie } })).text();
    const csrf = /<meta name="switchyard-csrf" content="([^"]+)">/.exec(page)![1]!;
    return { cookie, csrf };
  };
  return { h, clock, login, session };
}

describe('dashboard login', () => {
  it('redirects an anonymous GET /admin to the login form, never serving the app', async () => {
    const { h } = setup();
    const res = await h.request('/admin', { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login');
    expect(await res.text()).not.toContain('Recent events');
    const form = await h.request('/admin/login');
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('<form method="post" action="/admin/login"');
    expect(html).not.toContain('<script');
    expect(form.headers.get('content-security-policy')).toContain("script-src 'none'");
  });

  it('trades the admin token for a short-lived HttpOnly, Secure, SameSite=Strict cookie on /admin', async () => {
    const { h, login } = setup();
    const res = await login('test-admin-token');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^switchyard_admin=[^;]+; Max-Age=3600; Path=\/admin; HttpOnly; Secure; SameSite=Strict$/);
    const pair = cookie.split(';')[0]!;
    const page = await h.request('/admin', { headers: { cookie: pair } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Recent events');
    // The page keeps no credential of its own.
    expect(html).not.toMatch(/localStorage|sessionStorage|test-admin-token/);
    expect((await h.request('/admin/api/dead-letters', { headers: { cookie: pair } })).status).toBe(200);
  });

  it('refuses a wrong token with 401 and the form again, and sets no cookie', async () => {
    const { login } = setup();
    const res = await login('wrong');
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('not accepted');
  });

  it('takes a JWT that meets admin.require, and refuses one that does not', async () => {
    const { login } = setup();
    const good = await login(await clerkToken(key, { org_id: env.ADMIN_ORG_ID, org_role: 'org:admin' }));
    expect(good.status).toBe(303);
    expect(good.headers.get('set-cookie')).toContain('switchyard_admin=');
    const other = await login(await clerkToken(key, { org_id: 'org_attacker', org_role: 'org:admin' }));
    expect(other.status).toBe(403);
    expect(other.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a login posted from another site', async () => {
    const { login } = setup();
    expect(
      (await login('test-admin-token', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status,
    ).toBe(403);
    expect((await login('test-admin-token', { origin: 'https://evil.example', 'sec-fetch-site': '' })).status).toBe(
      403,
    );
    // A form posted under Referrer-Policy: no-referrer, or from a sandboxed frame, says Origin: null.
    expect((await login('test-admin-token', { origin: 'null', 'sec-fetch-site': '' })).status).toBe(403);
  });

  it('without ADMIN_TOKEN there are no sessions: the login form says so', async () => {
    const { login } = setup({ ADMIN_TOKEN: '' });
    const res = await login('anything');
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('dashboard session', () => {
  it('requires the CSRF header (bound to the session) for a state-changing request by cookie', async () => {
    const { h, session } = setup();
    const { cookie, csrf } = await session();
    const replay = (headers: Record<string, string>) =>
      h.request('/admin/api/dead-letters/replay', {
        method: 'POST',
        body: JSON.stringify({ seq: [999999999] }),
        headers: { 'content-type': 'application/json', cookie, ...headers },
      });
    expect((await replay({})).status).toBe(403);
    expect((await replay({ 'x-switchyard-csrf': 'guessed' })).status).toBe(403);
    const other = await session();
    expect(other.csrf).not.toBe(csrf);
    expect((await replay({ 'x-switchyard-csrf': other.csrf })).status).toBe(403);
    expect((await replay({ 'x-switchyard-csrf': csrf, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await replay({ 'x-switchyard-csrf': csrf, origin: 'https://evil.example' })).status).toBe(403);
    expect((await replay({ 'x-switchyard-csrf': csrf, 'sec-fetch-site': 'same-origin', origin: ORIGIN })).status).toBe(
      200,
    );
    // Retry now (one effect, or by reason) is a change like replay: refused by cookie without the session's token.
    const retry = (headers: Record<string, string>) =>
      h.request('/admin/api/effects/retry', {
        method: 'POST',
        body: JSON.stringify({ reason: 'resend answered 500', dry_run: true }),
        headers: { 'content-type': 'application/json', cookie, ...headers },
      });
    expect((await retry({})).status).toBe(403);
    expect((await retry({ 'x-switchyard-csrf': other.csrf })).status).toBe(403);
    expect((await retry({ 'x-switchyard-csrf': csrf, 'sec-fetch-site': 'same-origin', origin: ORIGIN })).status).toBe(
      200,
    );
    // The CLI's Bearer credential needs no CSRF token.
    expect(
      (
        await h.request('/admin/api/dead-letters/replay', {
          method: 'POST',
          body: JSON.stringify({ seq: [999999999] }),
          headers: { authorization: 'Bearer test-admin-token' },
        })
      ).status,
    ).toBe(200);
  });

  it('expires after an hour', async () => {
    const { h, clock, session } = setup();
    const { cookie } = await session();
    clock.now += 3599_000;
    expect((await h.request('/admin/api/dead-letters', { headers: { cookie } })).status).toBe(200);
    clock.now += 2_000;
    expect((await h.request('/admin/api/dead-letters', { headers: { cookie } })).status).toBe(401);
    expect((await h.request('/admin', { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
  });

  it('is revoked by rotating ADMIN_TOKEN, and refuses a tampered cookie', async () => {
    const { h, session } = setup();
    const { cookie } = await session();
    const rotated = await h.runtime.app.request(
      `${ORIGIN}/admin/api/dead-letters`,
      { headers: { cookie } },
      { ...h.env, ADMIN_TOKEN: 'rotated-admin-token' },
    );
    expect(rotated.status).toBe(401);
    const [name, value] = cookie.split('=') as [string, string];
    const [exp, ...rest] = decodeURIComponent(value).split('.');
    const tampered = `${name}=${encodeURIComponent([String(Number(exp) + 86_400), ...rest].join('.'))}`;
    expect((await h.request('/admin/api/dead-letters', { headers: { cookie: tampered } })).status).toBe(401);
    expect((await h.request('/admin/api/dead-letters', { headers: { cookie: `${name}=garbage` } })).status).toBe(401);
  });

  it('logs out: the cookie is cleared, and a logout from another site is refused', async () => {
    const { h, session } = setup();
    const { cookie } = await session();
    const evil = await h.request('/admin/logout', {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example' },
      redirect: 'manual',
    });
    expect(evil.status).toBe(403);
    const res = await h.request('/admin/logout', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login');
    expect(res.headers.get('set-cookie')).toMatch(
      /^switchyard_admin=; Max-Age=0; Path=\/admin; HttpOnly; Secure; SameSite=Strict/,
    );
  });
});
