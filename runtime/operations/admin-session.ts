/**
 * Dashboard sessions: the cookie is `<id>.<exp>.<csrf>.<mac>`, an HMAC-SHA256 under a key derived from ADMIN_TOKEN
 * (so rotating ADMIN_TOKEN ends every session, and a forged cookie costs no read), and each session has a row in
 * D1 (store/admin-sessions.ts) that every request it makes reads: signing out deletes the row, so a cookie copied
 * before that is refused after it. A session ends at the latest an hour after sign-in, or when the token that opened
 * it expires if sooner, and a token-opened one ends as soon as what it showed no longer meets admin.require. The CSRF
 * token a session's state-changing requests must echo (X-Switchyard-CSRF) is bound to it by the same MAC.
 */
import type { AuthenticatedUser } from '../component/auth.ts';
import { satisfies } from '../edge/auth.ts';
import { encoder, fromBase64, timingSafeEqual, toBase64, toHex } from '../lib/bytes.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import type { Requirement } from '../manifest/types.gen.ts';
import { endSessionStatement, openSessionStatement, sessionRecord } from '../store/index.ts';

export const SESSION_COOKIE = 'switchyard_admin';
/** The longest a session lasts: a working hour (less when the token that opened it expires sooner). */
export const SESSION_TTL_SECONDS = 3600;
/** The header a cookie-authenticated POST/PUT/DELETE must carry, equal to the session's CSRF token. */
export const CSRF_HEADER = 'x-switchyard-csrf';
const KEY_LABEL = 'switchyard admin session v2';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AdminSession {
  /** The key of its row in admin_sessions. */
  id: string;
  /** Expiry, in Unix seconds. */
  exp: number;
  csrf: string;
}

/** What the admin API requires of a token (the manifest's `admin:`). */
export type AdminRequirement = { auth?: string; require?: Requirement } | undefined;

/** The session key: HMAC(ADMIN_TOKEN, label), so the token itself never signs anything a browser holds. */
async function sessionKey(adminToken: string): Promise<CryptoKey> {
  const root = await crypto.subtle.importKey(
    'raw',
    encoder.encode(adminToken),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const derived = await crypto.subtle.sign('HMAC', root, encoder.encode(KEY_LABEL));
  return crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** Of a token's claims, those admin.require reads: what each request of the session it opens checks again. */
function requiredClaims(user: AuthenticatedUser, require: Requirement | undefined): Record<string, unknown> {
  const names = [
    ...Object.keys(require?.claims ?? {}),
    ...(require?.roles?.length ? [require.roles_claim ?? 'roles'] : []),
  ];
  return Object.fromEntries(names.filter((n) => user.claims[n] !== undefined).map((n) => [n, user.claims[n]]));
}

/**
 * Opens a session for whoever signed in (`opener`: the user of an admin JWT; none for ADMIN_TOKEN): its row is
 * written (1 row), and the cookie value and how long it lasts (for Max-Age) are returned.
 */
export async function openSession(
  env: RuntimeEnv,
  adminToken: string,
  nowMs: number,
  opener: AuthenticatedUser | undefined,
  admin: AdminRequirement,
): Promise<{ value: string; session: AdminSession; maxAge: number }> {
  const now = Math.floor(nowMs / 1000);
  const tokenExp = typeof opener?.claims.exp === 'number' ? opener.claims.exp : undefined;
  const exp = Math.min(now + SESSION_TTL_SECONDS, tokenExp ?? Infinity);
  const session = {
    id: toHex(crypto.getRandomValues(new Uint8Array(16))),
    exp,
    csrf: toHex(crypto.getRandomValues(new Uint8Array(16))),
  };
  const record = {
    expires_at: exp,
    provider: opener?.provider ?? null,
    claims: opener ? JSON.stringify(requiredClaims(opener, admin?.require)) : null,
  };
  await openSessionStatement(env.DB, session.id, record, new Date(nowMs).toISOString()).run();
  const data = `${session.id}.${session.exp}.${session.csrf}`;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await sessionKey(adminToken), encoder.encode(data)));
  return { value: `${data}.${toBase64(mac)}`, session, maxAge: Math.max(0, exp - now) };
}

/** The session a cookie value carries when its MAC is good under the current ADMIN_TOKEN (expired or not). */
async function signedSession(value: string | undefined, adminToken: unknown): Promise<AdminSession | undefined> {
  if (!value || typeof adminToken !== 'string' || adminToken === '') return undefined;
  const [id, exp, csrf, mac, ...rest] = value.split('.');
  if (
    rest.length ||
    !id ||
    !exp ||
    !csrf ||
    !mac ||
    !/^[0-9a-f]{32}$/.test(id) ||
    !/^[0-9]{1,12}$/.test(exp) ||
    !/^[0-9a-f]{32}$/.test(csrf)
  )
    return undefined;
  const signature = fromBase64(mac);
  if (!signature) return undefined;
  if (
    !(await crypto.subtle.verify(
      'HMAC',
      await sessionKey(adminToken),
      signature,
      encoder.encode(`${id}.${exp}.${csrf}`),
    ))
  )
    return undefined;
  return { id, exp: Number(exp), csrf };
}

/**
 * The live session a cookie value carries: signed under the current ADMIN_TOKEN, not expired, its row still there
 * (1 row read; none for a cookie that fails the MAC), and, for one a token opened, the admin auth provider unchanged
 * and the claims it showed still meeting admin.require.
 */
export async function activeSession(
  value: string | undefined,
  env: RuntimeEnv,
  nowMs: number,
  admin: AdminRequirement,
): Promise<AdminSession | undefined> {
  const session = await signedSession(value, env.ADMIN_TOKEN);
  if (!session || session.exp * 1000 <= nowMs) return undefined;
  const record = await sessionRecord(env.DB, session.id);
  if (!record || record.expires_at * 1000 <= nowMs) return undefined;
  if (record.provider !== null) {
    if (admin?.auth !== record.provider) return undefined;
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(record.claims ?? '{}') as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (!satisfies({ provider: record.provider, sub: '', claims }, admin.require, env)) return undefined;
  }
  return session;
}

/** Ends the session a cookie value carries (sign-out): its row is deleted, so no copy of the cookie works after. */
export async function endSession(value: string | undefined, env: RuntimeEnv): Promise<void> {
  const session = await signedSession(value, env.ADMIN_TOKEN);
  if (session) await endSessionStatement(env.DB, session.id).run();
}

/** True when a request may come from another site: Sec-Fetch-Site says so, or Origin names another origin. */
export function crossSite(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin') return true;
  const origin = request.headers.get('origin');
  return origin !== null && origin !== new URL(request.url).origin;
}

/** A cookie-authenticated request is safe from CSRF when it only reads, or carries the session's token from this origin. */
export function csrfSafe(request: Request, session: AdminSession): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const given = request.headers.get(CSRF_HEADER) ?? '';
  return !crossSite(request) && timingSafeEqual(encoder.encode(given), encoder.encode(session.csrf));
}
