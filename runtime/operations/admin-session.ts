/**
 * Dashboard sessions, stateless: the cookie is `<exp>.<csrf>.<mac>`, an HMAC-SHA256 under a key derived from
 * ADMIN_TOKEN. No table is needed, rotating ADMIN_TOKEN revokes every session, and the CSRF token a session's
 * state-changing requests must echo (X-Switchyard-CSRF) is bound to it by the same MAC.
 */
import { encoder, fromBase64, timingSafeEqual, toBase64, toHex } from '../lib/bytes.ts';

export const SESSION_COOKIE = 'switchyard_admin';
/** Short-lived: a session outlives neither a working hour nor the role its holder had when signing in. */
export const SESSION_TTL_SECONDS = 3600;
/** The header a cookie-authenticated POST/PUT/DELETE must carry, equal to the session's CSRF token. */
export const CSRF_HEADER = 'x-switchyard-csrf';
const KEY_LABEL = 'switchyard admin session v1';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AdminSession {
  /** Expiry, in Unix seconds. */
  exp: number;
  csrf: string;
}

/** The session key: HMAC(ADMIN_TOKEN, label), so the token itself never signs anything a browser holds. */
async function sessionKey(adminToken: string): Promise<CryptoKey> {
  const root = await crypto.subtle.importKey('raw', encoder.encode(adminToken), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const derived = await crypto.subtle.sign('HMAC', root, encoder.encode(KEY_LABEL));
  return crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** A new session and its cookie value. */
export async function issueSession(adminToken: string, nowMs: number): Promise<{ value: string; session: AdminSession }> {
  const session = { exp: Math.floor(nowMs / 1000) + SESSION_TTL_SECONDS, csrf: toHex(crypto.getRandomValues(new Uint8Array(16))) };
  const data = `${session.exp}.${session.csrf}`;
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await sessionKey(adminToken), encoder.encode(data)));
  return { value: `${data}.${toBase64(mac)}`, session };
}

/** The session a cookie value carries, if its MAC is good under the current ADMIN_TOKEN and it has not expired. */
export async function readSession(value: string | undefined, adminToken: unknown, nowMs: number): Promise<AdminSession | undefined> {
  if (!value || typeof adminToken !== 'string' || adminToken === '') return undefined;
  const [exp, csrf, mac, ...rest] = value.split('.');
  if (rest.length || !exp || !csrf || !mac || !/^[0-9]{1,12}$/.test(exp) || !/^[0-9a-f]{32}$/.test(csrf)) return undefined;
  const signature = fromBase64(mac);
  if (!signature) return undefined;
  if (!(await crypto.subtle.verify('HMAC', await sessionKey(adminToken), signature, encoder.encode(`${exp}.${csrf}`)))) return undefined;
  return Number(exp) * 1000 > nowMs ? { exp: Number(exp), csrf } : undefined;
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
