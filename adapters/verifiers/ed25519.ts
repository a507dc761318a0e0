import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import {
  checkTimestampAs,
  decodeAs,
  DEFAULT_TOLERANCE,
  encodeAs,
  formatTimestamp,
  fromBase64,
  toBase64,
} from './crypto.ts';
import { compileSigned, fillSigned, parseBodyJson } from './template.ts';

const ED25519 = { name: 'Ed25519' } as const;
const SIGNATURE_BYTES = 64;
const PUBLIC_KEY_BYTES = 32;

/**
 * A generic Ed25519 signature over a template of the raw request (Discord: hex signature of `{timestamp}{body}`
 * with a hex public key). Public keys are imported once per value for the isolate's life.
 */
export const ed25519Verifier = defineComponent({
  kind: 'verifier',
  name: 'ed25519',
  title: 'Ed25519Verifier',
  description: 'Ed25519 signature in a header over a template of the request, checked with a public key.',
  spec: {
    public_key: field
      .secrets()
      .describe(
        'Name(s) of environment variables holding the raw 32-byte public key (hex or base64, see key_encoding).',
      ),
    key_encoding: field.enum(['hex', 'base64']).default('hex').describe('How the public key is written.'),
    header: field.string({ minLength: 1 }).describe('Header carrying the signature, e.g. X-Signature-Ed25519.'),
    encoding: field.enum(['hex', 'base64', 'base64url']).default('hex').describe('Signature encoding.'),
    signed: field.string().default('{body}').describe("What is signed; the hmac scheme's placeholders."),
    timestamp_header: field
      .string({ minLength: 1 })
      .optional()
      .describe('Header with the timestamp, checked against `tolerance`.'),
    timestamp_format: field
      .enum(['unix', 'unix_ms', 'iso8601'])
      .default('unix')
      .describe('How the timestamp is written (unix: seconds).'),
    tolerance: field
      .duration()
      .default(DEFAULT_TOLERANCE)
      .describe('Accepted clock skew either way when a timestamp is used.'),
  },
  example: {
    type: 'ed25519',
    public_key: 'DISCORD_PUBLIC_KEY',
    header: 'X-Signature-Ed25519',
    signed: '{timestamp}{body}',
    timestamp_header: 'X-Signature-Timestamp',
  },
  signedHeaders(options) {
    const template = compileSigned(options.signed, { hasTimestamp: Boolean(options.timestamp_header) });
    return [
      ...template.headers,
      ...(options.timestamp_header && template.pieces.some((p) => 'timestamp' in p)
        ? [options.timestamp_header.toLowerCase()]
        : []),
    ];
  },
  timestampTolerance: (options) =>
    options.timestamp_header &&
    compileSigned(options.signed, { hasTimestamp: true }).pieces.some((p) => 'timestamp' in p)
      ? options.tolerance
      : undefined,
  async keyPair(options) {
    const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
    const raw = new Uint8Array((await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer);
    const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
    return { publicKey: encodeAs(options.key_encoding, raw), privateKey: toBase64(pkcs8) };
  },
  async sign(options, request) {
    const headers: Record<string, string> = {};
    const ts = formatTimestamp(request.now, options.timestamp_format);
    const timestampHeader = options.timestamp_header?.toLowerCase();
    if (timestampHeader) headers[timestampHeader] = ts;
    const template = compileSigned(options.signed, { hasTimestamp: Boolean(timestampHeader) });
    const extra = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const signed = fillSigned(template, {
      body: request.body,
      timestamp: ts,
      url: new URL(request.url),
      method: request.method ?? 'POST',
      header: (n) => headers[n] ?? extra[n] ?? '',
      json: template.usesFields ? JSON.parse(request.body) : undefined,
    });
    const der = fromBase64(request.secrets[0]!);
    if (!der) throw new Error('ed25519 signs with a base64 PKCS#8 private key (see keyPair)');
    const key = await crypto.subtle.importKey('pkcs8', der, ED25519, false, ['sign']);
    headers[options.header.toLowerCase()] = encodeAs(
      options.encoding,
      new Uint8Array(await crypto.subtle.sign(ED25519, key, signed)),
    );
    return headers;
  },
  create(options) {
    const header = options.header.toLowerCase();
    const timestampHeader = options.timestamp_header?.toLowerCase();
    const tolerance = options.tolerance / 1000;
    const template = compileSigned(options.signed, { hasTimestamp: Boolean(timestampHeader) });
    const names = options.public_key;
    const keys = new Map<string, Promise<CryptoKey>>();
    const importKey = (text: string, name: string): Promise<CryptoKey> => {
      let key = keys.get(text);
      if (!key) {
        const raw = decodeAs(options.key_encoding, text);
        if (!raw || raw.length !== PUBLIC_KEY_BYTES)
          throw new Error(`${name} is not a ${options.key_encoding} Ed25519 public key (32 bytes)`);
        key = crypto.subtle.importKey('raw', raw, ED25519, false, ['verify']);
        keys.set(text, key);
      }
      return key;
    };
    return {
      async verify(request, env) {
        const set = readSecretList(env, names);
        const publicKeys = await Promise.all(set.values.map((k, i) => importKey(k, set.names[i]!)));
        const value = request.headers.get(header);
        if (!value) throw new VerificationError('missing_signature');
        const timestamp = timestampHeader ? request.headers.get(timestampHeader) : '';
        if (timestampHeader) checkTimestampAs(timestamp, options.timestamp_format, request.now, tolerance);
        const signature = decodeAs(options.encoding, value.trim());
        if (!signature || signature.length !== SIGNATURE_BYTES) throw new VerificationError('malformed_signature');
        const signed = fillSigned(template, {
          body: request.body,
          timestamp: timestamp ?? '',
          url: request.url,
          method: request.method,
          header: (n) => request.headers.get(n) ?? '',
          json: template.usesFields ? parseBodyJson(request.body) : undefined,
        });
        for (const key of publicKeys) if (await crypto.subtle.verify(ED25519, key, signature, signed)) return;
        throw new VerificationError('signature_mismatch');
      },
    };
  },
});
