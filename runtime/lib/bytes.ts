/** Byte and encoding helpers that work in Workers (no Buffer) and in Node. */
export const encoder = new TextEncoder();
/** UTF-8 text, with U+FFFD for bytes that are not (built once: decoding holds no state between calls). */
export const utf8 = new TextDecoder();
/** UTF-8 text, or a TypeError for bytes that are not (request bodies that must be text). */
export const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Each byte's two hex digits, built on first use (verifiers and body hashes call toHex on every request). */
let HEX_BYTES: string[] | undefined;

export function toHex(bytes: Uint8Array): string {
  const digits = (HEX_BYTES ??= Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0')));
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += digits[bytes[i]!];
  return out;
}

/** Decodes hex; undefined when the text is not hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = hexDigit(text.charCodeAt(2 * i));
    const low = hexDigit(text.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return undefined;
    out[i] = (high << 4) | low;
  }
  return out;
}

/** A hex digit's value (either case), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * Decodes padded standard base64 strictly; undefined for anything else. Signatures are compared as bytes,
 * so a lenient decoder would accept texts (unpadded, truncated) that the provider's own library refuses.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Unpadded base64url (RFC 4648 section 5), as JWS and several providers print signatures. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url strictly (padding optional, no standard-alphabet characters); undefined otherwise. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  const bare = text.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  const padded = bare.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (bare.length % 4)) % 4);
  return fromBase64(padded);
}

/** Constant-time comparison; unequal lengths return false without comparing contents. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: Uint8Array, b: Uint8Array) => boolean };
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** SHA-256 of bytes or UTF-8 text. */
export async function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  // A view of a SharedArrayBuffer is no BufferSource to the DOM's types (the dashboard's check reads this file): ours never are.
  return new Uint8Array(
    await crypto.subtle.digest('SHA-256', (typeof data === 'string' ? encoder.encode(data) : data) as BufferSource),
  );
}

/** Compares two secrets in constant time: hashed first, so neither their content nor their length leaks. */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  return timingSafeEqual(await sha256(given), await sha256(expected));
}
