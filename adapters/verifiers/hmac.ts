import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import { VerificationError, type SignRequest } from '../../runtime/component/verifier.ts';
import { BODY_PATH_PATTERN, compileBodyPath, type CompiledPath } from '../../runtime/language/values.ts';
import {
  anyMatch,
  checkTimestampAs,
  decodeAs,
  DEFAULT_TOLERANCE,
  encodeAs,
  formatTimestamp,
  fromBase64,
  fromHex,
  HmacSigner,
  type HashName,
  type TimestampFormat,
} from './crypto.ts';
import { compileSigned, fieldText, fillSigned, parseBodyJson, type SignedTemplate } from './template.ts';
const HASHES: Record<string, HashName> = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };

type TimestampSource =
  | { header: string }
  | { key: string }
  | { positional: true }
  | { field: CompiledPath }
  | undefined;

const hmacSpec = {
  secret: field.secrets(),
  header: field
    .string({ minLength: 1 })
    .optional()
    .describe('Header carrying the signature, e.g. X-Hub-Signature-256.'),
  signature_field: field
    .string({ pattern: BODY_PATH_PATTERN })
    .optional()
    .describe(
      'Dotted path of a JSON body field carrying the signature, instead of `header` (e.g. signature.signature).',
    ),
  algorithm: field.enum(['sha1', 'sha256', 'sha512']).default('sha256').describe('Hash.'),
  encoding: field.enum(['hex', 'base64', 'base64url']).default('hex').describe('Signature encoding.'),
  prefix: field.string().default('').describe('Text before each signature, e.g. `sha256=` or `v0=`.'),
  separator: field
    .string({ minLength: 1 })
    .optional()
    .describe('Splits a header carrying several signatures (positional: default `,`).'),
  signature_format: field
    .enum(['plain', 'keyed', 'positional'])
    .default('plain')
    .describe('plain: the value itself; keyed: `t=123,v1=abc`; positional: `<timestamp>,<sig>,<sig>`.'),
  signature_key: field.string({ minLength: 1 }).optional().describe('keyed: the key of the signatures, e.g. v1 or h1.'),
  timestamp_key: field.string({ minLength: 1 }).optional().describe('keyed: the key of the timestamp, e.g. t or ts.'),
  pair_separator: field.string({ minLength: 1 }).optional().describe('keyed: between pairs (default `,`).'),
  assign: field.string({ minLength: 1 }).optional().describe('keyed: between a key and its value (default `=`).'),
  signed: field
    .string()
    .default('{body}')
    .describe(
      'What is signed; placeholders {body}, {timestamp}, {url}, {method}, {path}, {header.<name>}, {field.<path>}; `\\n` is a newline.',
    ),
  timestamp_header: field
    .string({ minLength: 1 })
    .optional()
    .describe('Header with the timestamp, checked against `tolerance`.'),
  timestamp_field: field
    .string({ pattern: BODY_PATH_PATTERN })
    .optional()
    .describe('Dotted path of a JSON body field with the timestamp.'),
  timestamp_format: field
    .enum(['unix', 'unix_ms', 'iso8601'])
    .default('unix')
    .describe('How the timestamp is written (unix: seconds).'),
  tolerance: field
    .duration()
    .default(DEFAULT_TOLERANCE)
    .describe('Accepted clock skew either way when a timestamp is used.'),
  secret_encoding: field
    .enum(['utf8', 'base64', 'hex'])
    .default('utf8')
    .describe('How the secret string encodes the key.'),
  secret_prefix: field
    .string({ minLength: 1 })
    .optional()
    .describe('Stripped from the secret before decoding, e.g. `whsec_`.'),
};

type HmacOptions = Options<typeof hmacSpec>;

/** Everything the options say, checked and compiled once (at manifest load), shared by verify and sign. */
interface Plan {
  header?: string;
  signatureField?: CompiledPath;
  format: 'plain' | 'keyed' | 'positional';
  prefix: string;
  separator?: string;
  signatureKey: string;
  timestampKey?: string;
  pairSeparator: string;
  assign: string;
  timestamp: TimestampSource;
  timestampFormat: TimestampFormat;
  tolerance: number;
  template: SignedTemplate;
  signer: HmacSigner;
  key(secret: string, name: string): Uint8Array | string;
}

function plan(options: HmacOptions): Plan {
  const format = options.signature_format;
  if (Boolean(options.header) === Boolean(options.signature_field))
    throw new Error(
      'set exactly one of `header` (signature in a header) and `signature_field` (signature in the JSON body)',
    );
  if (options.signature_field && format !== 'plain')
    throw new Error('`signature_field` carries one plain signature; `signature_format` must be plain');
  if (
    format !== 'keyed' &&
    (options.signature_key || options.timestamp_key || options.pair_separator || options.assign)
  )
    throw new Error(
      '`signature_key`, `timestamp_key`, `pair_separator` and `assign` apply to signature_format keyed only',
    );
  if (format === 'keyed' && !options.signature_key)
    throw new Error('signature_format keyed needs `signature_key` (e.g. v1)');
  const sources = [
    options.timestamp_header,
    options.timestamp_field,
    format === 'keyed' ? options.timestamp_key : undefined,
    format === 'positional' ? 'positional' : undefined,
  ].filter(Boolean);
  if (sources.length > 1)
    throw new Error(
      'the timestamp comes from one place: `timestamp_header`, `timestamp_field`, `timestamp_key` or the positional signature',
    );
  const timestamp: TimestampSource = options.timestamp_header
    ? { header: options.timestamp_header.toLowerCase() }
    : options.timestamp_field
      ? { field: compileBodyPath(options.timestamp_field) }
      : format === 'keyed' && options.timestamp_key
        ? { key: options.timestamp_key }
        : format === 'positional'
          ? { positional: true }
          : undefined;
  const template = compileSigned(options.signed, {
    hasTimestamp: Boolean(timestamp),
    allowNoBody: Boolean(options.signature_field),
  });
  const secretEncoding = options.secret_encoding;
  return {
    ...(options.header ? { header: options.header.toLowerCase() } : {}),
    ...(options.signature_field ? { signatureField: compileBodyPath(options.signature_field) } : {}),
    format,
    prefix: options.prefix,
    ...(options.separator !== undefined || format === 'positional' ? { separator: options.separator ?? ',' } : {}),
    signatureKey: options.signature_key ?? '',
    ...(options.timestamp_key ? { timestampKey: options.timestamp_key } : {}),
    pairSeparator: options.pair_separator ?? ',',
    assign: options.assign ?? '=',
    timestamp,
    timestampFormat: options.timestamp_format,
    tolerance: options.tolerance / 1000,
    template,
    signer: new HmacSigner(HASHES[options.algorithm]!),
    key(secret, name) {
      const bare =
        options.secret_prefix && secret.startsWith(options.secret_prefix)
          ? secret.slice(options.secret_prefix.length)
          : secret;
      if (secretEncoding === 'utf8') return bare;
      const key = (secretEncoding === 'base64' ? fromBase64 : fromHex)(bare);
      if (!key || key.length === 0) throw new Error(`secret ${name} is not ${secretEncoding}`);
      return key;
    },
  };
}

/** The signatures and the timestamp a request presents, read the way the options say. */
function presented(p: Plan, text: string): { signatures: string[]; timestamp?: string } {
  if (p.format === 'keyed') {
    const pairs = text.split(p.pairSeparator).flatMap((item) => {
      const at = item.indexOf(p.assign);
      return at > 0 ? [[item.slice(0, at).trim(), item.slice(at + p.assign.length).trim()] as const] : [];
    });
    const stamps = pairs.filter(([k]) => k === p.timestampKey);
    if (p.timestampKey && stamps.length > 1) throw new VerificationError('malformed_signature');
    return {
      signatures: pairs.filter(([k]) => k === p.signatureKey).map(([, v]) => v),
      ...(stamps[0] ? { timestamp: stamps[0][1] } : {}),
    };
  }
  const items = p.separator ? text.split(p.separator).map((s) => s.trim()) : [text.trim()];
  if (p.format === 'positional') return { timestamp: items[0] ?? '', signatures: items.slice(1) };
  return { signatures: items };
}

/**
 * A generic HMAC verifier configured entirely in YAML (GitHub, Shopify, Slack and most home-grown schemes): where
 * the signature is (a header, plain or as keyed/positional parts, or a JSON body field), algorithm, encoding, prefix,
 * what is signed (a template over the raw bytes) and an optional timestamp with a tolerance.
 */
export const hmacVerifier = defineComponent({
  kind: 'verifier',
  name: 'hmac',
  title: 'HmacVerifier',
  description: 'Generic HMAC signature in a header or a JSON body field, configured in YAML only.',
  spec: hmacSpec,
  example: {
    type: 'hmac',
    secret: 'GITHUB_WEBHOOK_SECRET',
    header: 'X-Hub-Signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  },
  signedHeaders(options) {
    const p = plan(options);
    return [
      ...p.template.headers,
      ...(p.timestamp && 'header' in p.timestamp && p.template.pieces.some((x) => 'timestamp' in x)
        ? [p.timestamp.header]
        : []),
    ];
  },
  async sign(options, request) {
    const p = plan(options);
    if (p.signatureField || (p.timestamp && 'field' in p.timestamp))
      throw new Error('this scheme changes the body to sign it: use signBody');
    return (await signWith(p, request, options)).headers;
  },
  timestampTolerance(options) {
    const p = plan(options);
    const ts = p.timestamp;
    // Signed when the template names it, or it is a body field the signature covers (the whole body, or that field).
    const signed =
      ts &&
      (p.template.pieces.some((x) => 'timestamp' in x) ||
        ('field' in ts &&
          (p.template.coversBody || p.template.pieces.some((x) => 'field' in x && x.field.text === ts.field.text))));
    return signed ? options.tolerance : undefined;
  },
  // Mailgun-style: a body-carried signature over some fields only, not the body.
  authenticates: (options) => (plan(options).template.coversBody ? 'body' : 'fields'),
  signBody(options, request) {
    return signWith(plan(options), request, options);
  },
  create(options) {
    const p = plan(options);
    const names = options.secret;
    const needsJson =
      p.template.usesFields || Boolean(p.signatureField) || Boolean(p.timestamp && 'field' in p.timestamp);
    return {
      async verify(request, env) {
        const set = readSecretList(env, names);
        const keys = set.values.map((s, i) => p.key(s, set.names[i]!));
        const json = needsJson ? parseBodyJson(request.body) : undefined;
        const value = p.header ? request.headers.get(p.header) : fieldText(json, p.signatureField!);
        if (!value) throw new VerificationError('missing_signature');
        const found = presented(p, value);
        const timestampText = !p.timestamp
          ? undefined
          : 'header' in p.timestamp
            ? request.headers.get(p.timestamp.header)
            : 'field' in p.timestamp
              ? fieldText(json, p.timestamp.field)
              : found.timestamp;
        if (p.timestamp) checkTimestampAs(timestampText, p.timestampFormat, request.now, p.tolerance);
        const prefixed = found.signatures.filter((s) => s.startsWith(p.prefix));
        if (prefixed.length === 0) throw new VerificationError('no_supported_signature');
        const candidates = prefixed.map((s) => decodeAs(options.encoding, s.slice(p.prefix.length)));
        if (candidates.every((c) => !c)) throw new VerificationError('malformed_signature');
        const signed = fillSigned(p.template, {
          body: request.body,
          timestamp: timestampText ?? '',
          url: request.url,
          method: request.method,
          header: (name) => request.headers.get(name) ?? '',
          json,
        });
        const expected = await Promise.all(keys.map((k) => p.signer.sign(k, signed)));
        if (!anyMatch(expected, candidates)) throw new VerificationError('signature_mismatch');
      },
    };
  },
});

/** Signs as the provider would: the timestamp where the options read it, the signature where they look for it. */
async function signWith(
  p: Plan,
  request: SignRequest,
  options: HmacOptions,
): Promise<{ headers: Record<string, string>; body: string }> {
  const ts = formatTimestamp(request.now, p.timestampFormat);
  const headers: Record<string, string> = {};
  let body = request.body;
  let json: Record<string, unknown> | undefined;
  if (p.signatureField || (p.timestamp && 'field' in p.timestamp) || p.template.usesFields)
    json = JSON.parse(body) as Record<string, unknown>;
  if (p.timestamp && 'header' in p.timestamp) headers[p.timestamp.header] = ts;
  if (json && p.timestamp && 'field' in p.timestamp) {
    setField(json, p.timestamp.field, ts);
    // The signature covers the body as sent, so the timestamp goes in before anything is signed.
    body = JSON.stringify(json);
  }
  const extra = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const signed = fillSigned(p.template, {
    body,
    timestamp: ts,
    url: new URL(request.url),
    method: request.method ?? 'POST',
    header: (name) => headers[name] ?? extra[name] ?? '',
    json,
  });
  const mac = encodeAs(options.encoding, await p.signer.sign(p.key(request.secrets[0]!, 'secret'), signed));
  const signature = `${p.prefix}${mac}`;
  if (p.signatureField && json) setField(json, p.signatureField, signature);
  if (json && p.signatureField) body = JSON.stringify(json);
  if (p.header) {
    headers[p.header] =
      p.format === 'keyed'
        ? `${p.timestampKey ? `${p.timestampKey}${p.assign}${ts}${p.pairSeparator}` : ''}${p.signatureKey}${p.assign}${signature}`
        : p.format === 'positional'
          ? `${ts}${p.separator}${signature}`
          : signature;
  }
  return { headers, body };
}

/** Sets a dotted path in a JSON object, keeping a number a number when the sample had one there. */
function setField(json: Record<string, unknown>, at: CompiledPath, value: string): void {
  let node = json;
  for (const key of at.segments.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = at.segments[at.segments.length - 1]!;
  node[last] = typeof node[last] === 'number' && /^[0-9]+$/.test(value) ? Number(value) : value;
}
