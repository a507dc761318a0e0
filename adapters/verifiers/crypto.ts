/** Small WebCrypto helpers shared by verifiers. Workers have no Buffer, so encodings are done here. */
import { VerificationError } from '../../runtime/component/verifier.ts';
import {
  concatBytes,
  encoder,
  fromBase64,
  fromBase64Url,
  fromHex,
  timingSafeEqual,
  toBase64,
  toBase64Url,
  toHex,
} from '../../runtime/lib/bytes.ts';

export {
  concatBytes,
  encoder,
  fromBase64,
  fromBase64Url,
  fromHex,
  timingSafeEqual,
  toBase64,
  toBase64Url,
  toHex,
} from '../../runtime/lib/bytes.ts';

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-512';

/**
 * HMAC with keys imported once per secret and kept for the isolate's life: importKey is the costly part,
 * and secrets do not change within an isolate.
 */
export class HmacSigner {
  private readonly keys = new Map<string, Promise<CryptoKey>>();
  private readonly hash: HashName;
  constructor(hash: HashName) {
    this.hash = hash;
  }

  sign(key: Uint8Array | string, data: Uint8Array): Promise<Uint8Array> {
    const id = typeof key === 'string' ? key : toHex(key);
    let cached = this.keys.get(id);
    if (!cached) {
      const raw = typeof key === 'string' ? encoder.encode(key) : key;
      cached = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: this.hash }, false, ['sign']);
      this.keys.set(id, cached);
    }
    return cached.then(async (k) => new Uint8Array(await crypto.subtle.sign('HMAC', k, data)));
  }
}

/** True when any candidate signature equals any expected MAC, each compared in constant time. */
export function anyMatch(expected: Uint8Array[], candidates: (Uint8Array | undefined)[]): boolean {
  let matched = false;
  for (const e of expected) for (const c of candidates) if (c && timingSafeEqual(e, c)) matched = true;
  return matched;
}

/** Named tolerance (a spec default) when an adapter's options do not set one: 5 minutes, as Stripe and Svix use. */
export const DEFAULT_TOLERANCE = '5m';

/**
 * Parses a Unix-seconds timestamp strictly (digits only, `123abc` is refused) and checks it against
 * the tolerance in both directions.
 */
export function checkTimestamp(text: string | null | undefined, nowMs: number, toleranceSeconds: number): number {
  if (text === null || text === undefined || text === '') throw new VerificationError('missing_timestamp');
  if (!/^[0-9]{1,12}$/.test(text)) throw new VerificationError('invalid_timestamp');
  const ts = Number(text);
  const now = Math.floor(nowMs / 1000);
  if (now - ts > toleranceSeconds) throw new VerificationError('timestamp_too_old');
  if (ts - now > toleranceSeconds) throw new VerificationError('timestamp_in_future');
  return ts;
}

export type TimestampFormat = 'unix' | 'unix_ms' | 'iso8601';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses a timestamp in a provider's format strictly (Unix seconds, Unix milliseconds or ISO-8601) and checks it
 * against the tolerance both ways, as `checkTimestamp` does. Returns it in seconds.
 */
export function checkTimestampAs(
  text: string | null | undefined,
  format: TimestampFormat,
  nowMs: number,
  toleranceSeconds: number,
): number {
  if (format === 'unix') return checkTimestamp(text, nowMs, toleranceSeconds);
  if (text === null || text === undefined || text === '') throw new VerificationError('missing_timestamp');
  let ms: number;
  if (format === 'unix_ms') {
    if (!/^[0-9]{1,15}$/.test(text)) throw new VerificationError('invalid_timestamp');
    ms = Number(text);
  } else {
    ms = ISO_8601.test(text) ? Date.parse(text) : NaN;
    if (!Number.isFinite(ms)) throw new VerificationError('invalid_timestamp');
  }
  if (nowMs - ms > toleranceSeconds * 1000) throw new VerificationError('timestamp_too_old');
  if (ms - nowMs > toleranceSeconds * 1000) throw new VerificationError('timestamp_in_future');
  return Math.floor(ms / 1000);
}

/** The timestamp a provider would send at `nowMs`, in its format (for signers). */
export function formatTimestamp(nowMs: number, format: TimestampFormat = 'unix'): string {
  return format === 'unix_ms'
    ? String(nowMs)
    : format === 'iso8601'
      ? new Date(nowMs).toISOString()
      : String(Math.floor(nowMs / 1000));
}

/** Decodes a signature in the named encoding; undefined when it is not that encoding. */
export function decodeAs(encoding: 'hex' | 'base64' | 'base64url' | undefined, text: string): Uint8Array | undefined {
  return encoding === 'base64' ? fromBase64(text) : encoding === 'base64url' ? fromBase64Url(text) : fromHex(text);
}

/** Encodes a signature in the named encoding (default hex). */
export function encodeAs(encoding: 'hex' | 'base64' | 'base64url' | undefined, bytes: Uint8Array): string {
  return encoding === 'base64' ? toBase64(bytes) : encoding === 'base64url' ? toBase64Url(bytes) : toHex(bytes);
}

/** Splits a `k=v<sep>k=v` signature header into pairs, keeping repeated keys. */
export function parsePairs(header: string, separator: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const item of header.split(separator)) {
    const at = item.indexOf('=');
    if (at <= 0) continue;
    pairs.push([item.slice(0, at).trim(), item.slice(at + 1).trim()]);
  }
  return pairs;
}

/** Decodes PEM or bare base64 key material into DER bytes. */
export function pemToDer(text: string): Uint8Array | undefined {
  const body = text
    .replace(/-----(BEGIN|END)[^-]+-----/g, '')
    .replace(/\\n/g, '')
    .replace(/\s+/g, '');
  return fromBase64(body);
}

/**
 * The scheme Stripe and Paddle share: a header of `k=v` pairs holding one timestamp and one or more hex
 * HMAC-SHA256 signatures over `${timestamp}${joiner}${body}`. Any signature matching any secret is enough.
 */
export interface PairHeaderScheme {
  header: string;
  separator: string;
  timestampKey: string;
  signatureKey: string;
  joiner: string;
}

export function pairHeaderVerifier(scheme: PairHeaderScheme, toleranceSeconds: number) {
  const signer = new HmacSigner('SHA-256');
  // The check itself is a module-level function: compiling a manifest (a new isolate's first request) parses only this.
  return (request: PairHeaderRequest, secrets: string[]): Promise<void> =>
    verifyPairs(scheme, toleranceSeconds, signer, request, secrets);
}

type PairHeaderRequest = { headers: Headers; body: Uint8Array; now: number };

/** Verifies a `k=v` pair header (Stripe, Paddle): one timestamp within the tolerance, and a matching signature. */
async function verifyPairs(
  scheme: PairHeaderScheme,
  toleranceSeconds: number,
  signer: HmacSigner,
  request: PairHeaderRequest,
  secrets: string[],
): Promise<void> {
  const header = request.headers.get(scheme.header);
  if (!header) throw new VerificationError('missing_signature');
  // One pass over the pairs (this runs on every request): the timestamps, and each signature decoded.
  let timestamp: string | undefined;
  let timestamps = 0;
  const candidates: (Uint8Array | undefined)[] = [];
  for (const [key, value] of parsePairs(header, scheme.separator)) {
    if (key === scheme.timestampKey) {
      timestamp = value;
      timestamps++;
    } else if (key === scheme.signatureKey) candidates.push(fromHex(value));
  }
  if (timestamps !== 1) throw new VerificationError(timestamps ? 'malformed_signature' : 'missing_timestamp');
  const ts = checkTimestamp(timestamp, request.now, toleranceSeconds);
  if (candidates.length === 0) throw new VerificationError('no_supported_signature');
  const signed = concatBytes(`${ts}${scheme.joiner}`, request.body);
  const expected = await Promise.all(secrets.map((s) => signer.sign(s, signed)));
  if (!anyMatch(expected, candidates)) throw new VerificationError('signature_mismatch');
}

/** Imports public keys (PEM or base64 SPKI) named by env vars, once per key value for the isolate's life. */
export function publicKeyImporter(algorithm: Parameters<SubtleCrypto['importKey']>[2]) {
  const keys = new Map<string, Promise<CryptoKey>>();
  return (text: string, variable: string): Promise<CryptoKey> => {
    let key = keys.get(text);
    if (!key) {
      const der = pemToDer(text);
      if (!der) throw new Error(`${variable} is not a PEM or base64 public key`);
      key = crypto.subtle.importKey('spki', der, algorithm, false, ['verify']);
      keys.set(text, key);
    }
    return key;
  };
}

/** A fresh key pair as env vars hold it: base64 SPKI public key, base64 PKCS#8 private key (for tests and dev). */
export async function spkiKeyPair(
  algorithm: Parameters<SubtleCrypto['generateKey']>[0],
): Promise<{ publicKey: string; privateKey: string }> {
  const pair = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey('spki', pair.publicKey)) as ArrayBuffer);
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
  return { publicKey: toBase64(spki), privateKey: toBase64(pkcs8) };
}

/** Imports a base64 (or PEM) PKCS#8 private key for signing. */
export function importPrivateKey(
  text: string,
  algorithm: Parameters<SubtleCrypto['importKey']>[2],
): Promise<CryptoKey> {
  const der = pemToDer(text);
  if (!der) throw new Error('the private key is not PEM or base64 PKCS#8');
  return crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
}
