import { durationSchema, parseDuration } from '../../runtime/duration.ts';
import { readSecrets, secretRefsSchema, VerificationError, type VerifierAdapter } from '../../runtime/adapter.ts';
import { anyMatch, checkTimestamp, concatBytes, DEFAULT_TOLERANCE_SECONDS, fromBase64, fromHex, HmacSigner, toBase64, toHex, type HashName } from './crypto.ts';
import type { HmacVerifier } from '../../runtime/manifest/types.gen.ts';

type HmacOptions = Omit<HmacVerifier, 'type'>;

const HASHES: Record<string, HashName> = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };

type Piece = { literal: string } | { body: true } | { timestamp: true } | { url: true } | { header: string };

/** Compiles the `signed` template once: `{body}`, `{timestamp}`, `{url}` and `{header.<name>}` placeholders. */
function compileSigned(template: string, hasTimestamp: boolean): Piece[] {
  const pieces: Piece[] = [];
  const re = /\{([^{}]+)\}/g;
  let last = 0;
  let hasBody = false;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) pieces.push({ literal: template.slice(last, m.index) });
    const name = m[1]!;
    if (name === 'body') {
      pieces.push({ body: true });
      hasBody = true;
    } else if (name === 'timestamp') {
      if (!hasTimestamp) throw new Error('`signed` uses {timestamp} but `timestamp_header` is not set');
      pieces.push({ timestamp: true });
    } else if (name === 'url') pieces.push({ url: true });
    else if (name.startsWith('header.') && name.length > 7) pieces.push({ header: name.slice(7).toLowerCase() });
    else throw new Error(`unknown placeholder {${name}} in \`signed\`; use {body}, {timestamp}, {url} or {header.<name>}`);
    last = m.index + m[0].length;
  }
  if (last < template.length) pieces.push({ literal: template.slice(last) });
  if (!hasBody) throw new Error('`signed` must include {body}: a signature that does not cover the body proves nothing about it');
  return pieces;
}

/**
 * A generic HMAC verifier configured entirely in YAML (GitHub, Shopify and most home-grown schemes):
 * header, algorithm, encoding, prefix, what is signed, and an optional timestamp header with a tolerance.
 */
export const hmacVerifier: VerifierAdapter<HmacOptions> = {
  type: 'hmac',
  title: 'HmacVerifier',
  description: 'Generic HMAC signature in a header, configured in YAML only.',
  options: {
    properties: {
      secret: secretRefsSchema,
      header: { type: 'string', minLength: 1, description: 'Header carrying the signature, e.g. X-Hub-Signature-256.' },
      algorithm: { enum: ['sha1', 'sha256', 'sha512'], description: 'Hash (default sha256).' },
      encoding: { enum: ['hex', 'base64'], description: 'Signature encoding (default hex).' },
      prefix: { type: 'string', description: 'Text before the signature, e.g. `sha256=`.' },
      separator: { type: 'string', minLength: 1, description: 'Splits a header carrying several signatures.' },
      signed: { type: 'string', description: 'What is signed (default `{body}`); placeholders {body}, {timestamp}, {url}, {header.<name>}.' },
      timestamp_header: { type: 'string', minLength: 1, description: 'Header with a Unix-seconds timestamp, checked against `tolerance`.' },
      tolerance: { ...durationSchema, description: 'Accepted clock skew either way when a timestamp is used (default 5m).' },
      secret_encoding: { enum: ['utf8', 'base64', 'hex'], description: 'How the secret string encodes the key (default utf8).' },
    },
    required: ['secret', 'header'],
  },
  example: { type: 'hmac', secret: 'GITHUB_WEBHOOK_SECRET', header: 'X-Hub-Signature-256', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
  signedHeaders(options) {
    const timestampHeader = options.timestamp_header?.toLowerCase();
    return compileSigned(options.signed ?? '{body}', Boolean(timestampHeader)).flatMap((p) => ('header' in p ? [p.header] : 'timestamp' in p ? [timestampHeader!] : []));
  },
  async sign(options, { url, body, now, secrets }) {
    const headers: Record<string, string> = {};
    const timestampHeader = options.timestamp_header?.toLowerCase();
    if (timestampHeader) headers[timestampHeader] = String(Math.floor(now / 1000));
    const pieces = compileSigned(options.signed ?? '{body}', Boolean(timestampHeader));
    const signed = concatBytes(
      ...pieces.map((p) => ('literal' in p ? p.literal : 'body' in p ? body : 'timestamp' in p ? headers[timestampHeader!]! : 'url' in p ? url : (headers[p.header] ?? ''))),
    );
    const raw = options.secret_encoding === 'base64' ? fromBase64(secrets[0]!)! : options.secret_encoding === 'hex' ? fromHex(secrets[0]!)! : secrets[0]!;
    const mac = await new HmacSigner(HASHES[options.algorithm ?? 'sha256']!).sign(raw, signed);
    headers[options.header.toLowerCase()] = `${options.prefix ?? ''}${options.encoding === 'base64' ? toBase64(mac) : toHex(mac)}`;
    return headers;
  },
  create(options) {
    const header = options.header.toLowerCase();
    const signer = new HmacSigner(HASHES[options.algorithm ?? 'sha256']!);
    const decode = options.encoding === 'base64' ? fromBase64 : fromHex;
    const prefix = options.prefix ?? '';
    const timestampHeader = options.timestamp_header?.toLowerCase();
    const tolerance = options.tolerance ? parseDuration(options.tolerance) / 1000 : DEFAULT_TOLERANCE_SECONDS;
    const pieces = compileSigned(options.signed ?? '{body}', Boolean(timestampHeader));
    const keyOf = (secret: string, name: string): Uint8Array | string => {
      if (options.secret_encoding === 'base64' || options.secret_encoding === 'hex') {
        const key = (options.secret_encoding === 'base64' ? fromBase64 : fromHex)(secret);
        if (!key || key.length === 0) throw new Error(`secret ${name} is not ${options.secret_encoding}`);
        return key;
      }
      return secret;
    };
    const names = typeof options.secret === 'string' ? [options.secret] : options.secret;
    return {
      async verify(request, env) {
        const keys = readSecrets(env, names).map((s, i) => keyOf(s, names[i]!));
        const value = request.headers.get(header);
        if (!value) throw new VerificationError('missing_signature');
        const timestamp = timestampHeader ? String(checkTimestamp(request.headers.get(timestampHeader), request.now, tolerance)) : '';
        const raw = options.separator ? value.split(options.separator).map((s) => s.trim()) : [value.trim()];
        const prefixed = raw.filter((s) => s.startsWith(prefix));
        if (prefixed.length === 0) throw new VerificationError('no_supported_signature');
        const candidates = prefixed.map((s) => decode(s.slice(prefix.length)));
        if (candidates.every((c) => !c)) throw new VerificationError('malformed_signature');
        const signed = concatBytes(
          ...pieces.map((p) =>
            'literal' in p ? p.literal
            : 'body' in p ? request.body
            : 'timestamp' in p ? timestamp
            : 'url' in p ? request.url.href
            : (request.headers.get(p.header) ?? ''),
          ),
        );
        const expected = await Promise.all(keys.map((k) => signer.sign(k, signed)));
        if (!anyMatch(expected, candidates)) throw new VerificationError('signature_mismatch');
      },
    };
  },
};
