/**
 * The dashboard's pages: /admin (only with a session), the login exchange at /admin/login and /admin/logout, and
 * the favicon.
 * Signing in trades an admin credential (ADMIN_TOKEN, or a JWT meeting admin.require) for a session cookie:
 * HttpOnly, Secure, SameSite=Strict, Path=/admin, one hour or until the token that opened it expires, ended by
 * /admin/logout for every copy of the cookie (runtime/operations/admin-session.ts). The page never holds the token. Browsers treat http://localhost as a secure context, so the Secure cookie works under `npm run dev` too.
 * The pages themselves come from the build (runtime/operations/dashboard.ts); a runtime given none serves none.
 */
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { adminCredential, type AdminDeps } from './admin.ts';
import { activeSession, crossSite, endSession, openSession, SESSION_COOKIE } from './admin-session.ts';
import { dashboardHtml, loginHtml, type DashboardPages } from './dashboard.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import type { Emit } from '../lib/telemetry.ts';

type Ctx = Context<{ Bindings: RuntimeEnv }>;

const COOKIE = { httpOnly: true, secure: true, sameSite: 'Strict', path: '/admin' } as const;
// same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the pages' own form POSTs,
// which the cross-site check (rightly) refuses.
const PAGE_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'same-origin', 'x-frame-options': 'DENY' };
// img-src 'self': the favicon (without it the browser refuses /favicon.ico on the login form).
const LOGIN_CSP =
  "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
// The page runs its one inline script, allowed by hash (computed by the build): no other inline script, no eval.
const dashboardCsp = (pages: DashboardPages) =>
  `default-src 'none'; script-src ${pages.scriptHashes.join(' ')}; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'`;

/** Registers /admin, /admin/login, /admin/logout and /favicon.ico on the app, serving the pages the build made. */
export function registerAdminPages(
  app: Hono<{ Bindings: RuntimeEnv }>,
  pages: DashboardPages,
  compiled: CompiledManifest,
  emit: Emit,
  deps: AdminDeps,
): void {
  const check = adminCredential(compiled, emit, deps);
  const DASHBOARD_CSP = dashboardCsp(pages);
  const loginPage = (c: Ctx, status: ContentfulStatusCode, message = '') =>
    c.html(loginHtml(pages, message), status, { ...PAGE_HEADERS, 'content-security-policy': LOGIN_CSP });

  app.get('/admin', async (c) => {
    const session = await activeSession(getCookie(c, SESSION_COOKIE), c.env, deps.now(), compiled.admin);
    if (!session) return c.redirect('/admin/login', 303);
    return c.html(dashboardHtml(pages, session.csrf), 200, {
      ...PAGE_HEADERS,
      'content-security-policy': DASHBOARD_CSP,
    });
  });

  app.get('/admin/login', (c) => loginPage(c, 200));

  // Browsers ask for it on every page; an inline SVG, cached for a day.
  app.get('/favicon.ico', (c) =>
    c.body(pages.favicon, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' }),
  );

  app.post('/admin/login', async (c) => {
    if (crossSite(c.req.raw)) return loginPage(c, 403, 'Sign in from this page.');
    const adminToken = c.env.ADMIN_TOKEN;
    if (typeof adminToken !== 'string' || adminToken === '')
      return loginPage(c, 403, 'Dashboard sessions are signed with ADMIN_TOKEN: set that secret to sign in here.');
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    let opener: Awaited<ReturnType<typeof check>>;
    try {
      opener = await check(token || undefined, c.env, 'admin.login');
    } catch (error) {
      if (!(error instanceof HTTPException)) throw error;
      emit({ kind: 'auth.rejected', where: 'admin.login', reason: String(error.status) });
      return loginPage(
        c,
        error.status as ContentfulStatusCode,
        error.status === 403 ? 'This token may not use the admin API.' : 'That token was not accepted.',
      );
    }
    const { value, maxAge } = await openSession(c.env, adminToken, deps.now(), opener, compiled.admin);
    setCookie(c, SESSION_COOKIE, value, { ...COOKIE, maxAge });
    return c.redirect('/admin', 303);
  });

  app.post('/admin/logout', async (c) => {
    if (crossSite(c.req.raw)) return loginPage(c, 403, 'Sign out from the dashboard.');
    await endSession(getCookie(c, SESSION_COOKIE), c.env);
    deleteCookie(c, SESSION_COOKIE, COOKIE);
    return c.redirect('/admin/login', 303);
  });
}
