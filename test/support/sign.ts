/**
 * Signing as the providers do, with WebCrypto so it runs in workerd too. The Node suite cross-checks each of
 * these against the provider's official SDK, so workerd tests can rely on them.
 */
import { fromBase64, toBase64, toHex } from '../../runtime/bytes.ts';

const enc = new TextEncoder();

export async function hmac(hash: 'SHA-1' | 'SHA-256' | 'SHA-512', key: string | Uint8Array, data: string | Uint8Array): Promise<Uint8Array> {
  const raw = typeof key === 'string' ? enc.encode(key) : key;
  const k = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, typeof data === 'string' ? enc.encode(data) : data));
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function stripeSignature(secret: string, body: string, t = nowSeconds()): Promise<string> {
  return `t=${t},v1=${toHex(await hmac('SHA-256', secret, `${t}.${body}`))}`;
}

/** Svix / Standard Webhooks: base64 HMAC-SHA256 of `${id}.${ts}.${body}` with the base64-decoded whsec_ key. */
export async function standardSignature(secret: string, id: string, body: string, ts = nowSeconds()): Promise<string> {
  const text = secret.replace(/^v1,/, '').replace(/^whsec_/, '');
  return `v1,${toBase64(await hmac('SHA-256', fromBase64(text)!, `${id}.${ts}.${body}`))}`;
}

export async function svixHeaders(prefix: 'svix-' | 'webhook-', secret: string, id: string, body: string, ts = nowSeconds()): Promise<Record<string, string>> {
  return { [`${prefix}id`]: id, [`${prefix}timestamp`]: String(ts), [`${prefix}signature`]: await standardSignature(secret, id, body, ts) };
}

export async function paddleSignature(secret: string, body: string, ts = nowSeconds()): Promise<string> {
  return `ts=${ts};h1=${toHex(await hmac('SHA-256', secret, `${ts}:${body}`))}`;
}

export async function twilioSignature(token: string, url: string, params: Record<string, string>): Promise<string> {
  const data = Object.keys(params).sort().reduce((acc, k) => acc + k + params[k], url);
  return toBase64(await hmac('SHA-1', token, data));
}

export async function githubSignature(secret: string, body: string): Promise<string> {
  return `sha256=${toHex(await hmac('SHA-256', secret, body))}`;
}
