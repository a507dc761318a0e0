/**
 * What ends a dashboard session: signing out (a cookie captured before it is refused after it), the end of the
 * token that opened it (never later than that token's exp), and the admin requirement it no longer meets. A session
 * costs one row written at sign-in and one row read per request, never a write per request.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeProviders } from '../support/fake-providers.ts';
import { harness } from '../support/harness.ts';
import { clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';
import { metered } from '../support/metered.ts';

const ORIGIN = 'https://switchyard.test';
let key: TestKey;
beforeAll(async () => {
  key = await testKey('session-k1');
});

function setup(options: { db?: D1Database } = {}) {
  const fake = new FakeProviders();
  fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  const clock = { now: Date.now() };
  const h = harness({ fetch: fake.fetch, now: () => clock.now, ...(options.db ? { env: { DB: options.db } } : {}) });
  /** Signs in with a credential and returns the cookie pair the browser would send back. */
  const signIn = async (token: string) => {
    const res = await h.request('/admin/login', {
      method: 'POST',
      body: new URLSearchParams({ token }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, setCookie: res.headers.get('set-cookie')! };
  };
  const read = (cookie: string, extraEnv: Record<string, unknown> = {}) =>
    h.runtime.app.request(`${ORIGIN}/admin/api/dead-letters`, { headers: { cookie } }, { ...h.env, ...extraEnv });
  return { h, clock, signIn, read };
}

const staffToken = (claims: Record<string, unknown> = {}) =>
  clerkToken(key, { org_id: env.ADMIN_ORG_ID, org_role: 'org:admin', ...claims });

describe('signing out ends the session', () => {
  it('refuses a cookie captured before POST /admin/logout, on the admin API and the dashboard page', async () => {
    const { h, signIn, read } = setup();
    const { cookie } = await signIn('test-admin-token');
    expect((await read(cookie)).status).toBe(200);
    const out = await h.request('/admin/logout', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN },
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    // The browser dropped the cookie; whoever copied it before still sends it.
    const after = await read(cookie);
    expect(after.status).toBe(401);
    expect((await h.request('/admin', { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
    const replay = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ seq: [1] }),
      headers: { 'content-type': 'application/json', cookie, origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
    });
    expect(replay.status).toBe(401);
    // Another session is untouched.
    const other = await signIn('test-admin-token');
    expect((await read(other.cookie)).status).toBe(200);
  });
});

describe('a session opened with a token', () => {
  it('lasts no longer than the token: one expiring in 2 minutes opens a 2-minute session', async () => {
    const { h, clock, signIn, read } = setup();
    const exp = Math.floor(clock.now / 1000) + 120;
    const { cookie, setCookie } = await signIn(await staffToken({ exp }));
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)![1]);
    expect(maxAge).toBeGreaterThan(110);
    expect(maxAge).toBeLessThanOrEqual(120);
    expect((await read(cookie)).status).toBe(200);
    clock.now = exp * 1000 - 1000;
    expect((await read(cookie)).status).toBe(200);
    clock.now = exp * 1000 + 1000;
    expect((await read(cookie)).status).toBe(401);
    // The cron trigger prunes the row of a session that ended by itself.
    const id = decodeURIComponent(cookie.split('=')[1]!).split('.')[0]!;
    const rows = () =>
      env.DB.prepare('SELECT count(*) AS n FROM admin_sessions WHERE id = ?1').bind(id).first<{ n: number }>();
    expect(await rows()).toEqual({ n: 1 });
    await h.runtime.scheduled(h.env);
    expect(await rows()).toEqual({ n: 0 });
  });

  it('ends when the token would no longer meet admin.require (the organisation changed)', async () => {
    const { signIn, read } = setup();
    const { cookie } = await signIn(await staffToken());
    expect((await read(cookie)).status).toBe(200);
    expect((await read(cookie, { ADMIN_ORG_ID: 'org_moved_on' })).status).toBe(401);
  });

  it('costs one row written at sign-in, one row read per request, and no write per request', async () => {
    const meter = metered(env.DB);
    const { signIn, read } = setup({ db: meter.db });
    const { cookie } = await signIn('test-admin-token');
    const signedIn = meter.written;
    meter.reset();
    expect((await read(cookie)).status).toBe(200);
    const session = meter.statements.filter((s) => /admin_sessions/.test(s.sql));
    expect({ signedIn, request: session.map((s) => ({ read: s.read, written: s.written })) }).toEqual({
      signedIn: 1,
      request: [{ read: 1, written: 0 }],
    });
  });
});
