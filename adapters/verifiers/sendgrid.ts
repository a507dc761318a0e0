import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import {
  checkTimestamp,
  concatBytes,
  DEFAULT_TOLERANCE,
  fromBase64,
  importPrivateKey,
  publicKeyImporter,
  spkiKeyPair,
  toBase64,
} from './crypto.ts';

/**
 * Converts a DER ECDSA signature (SEQUENCE of two INTEGERs) to the raw r||s form WebCrypto verifies.
 * Returns undefined for anything that is not a well-formed P-256 signature.
 */
export function derToP1363(der: Uint8Array, size = 32): Uint8Array | undefined {
  if (der.length < 8 || der[0] !== 0x30) return undefined;
  let offset = 2;
  if (der[1]! & 0x80) offset = 2 + (der[1]! & 0x7f);
  const out = new Uint8Array(size * 2);
  for (let part = 0; part < 2; part++) {
    if (der[offset] !== 0x02) return undefined;
    const length = der[offset + 1]!;
    let start = offset + 2;
    let n = length;
    while (n > size && der[start] === 0) {
      start++;
      n--;
    }
    if (n > size || start + n > der.length) return undefined;
    out.set(der.subarray(start, start + n), part * size + (size - n));
    offset = offset + 2 + length;
  }
  return offset === der.length ? out : undefined;
}

/** The DER SEQUENCE of two INTEGERs for a raw r||s signature, as SendGrid sends it. */
export function p1363ToDer(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body = trimmed[0]! & 0x80 ? [0, ...trimmed] : [...trimmed];
    return [0x02, body.length, ...body];
  };
  const half = raw.length / 2;
  const content = [...integer(raw.subarray(0, half)), ...integer(raw.subarray(half))];
  return new Uint8Array([0x30, content.length, ...content]);
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/**
 * SendGrid signed event webhook: `X-Twilio-Email-Event-Webhook-Signature` is a base64 DER ECDSA P-256/SHA-256
 * signature over `timestamp + body`, the timestamp in `X-Twilio-Email-Event-Webhook-Timestamp`.
 */
export const sendgridVerifier = defineComponent({
  kind: 'verifier',
  name: 'sendgrid',
  title: 'SendgridVerifier',
  description: 'SendGrid signed event webhook (ECDSA P-256 over timestamp + body).',
  spec: {
    public_key: field
      .secrets()
      .describe('Env var(s) holding the verification key (base64 SPKI, as SendGrid shows it).'),
    tolerance: field.duration().default(DEFAULT_TOLERANCE).describe('Accepted clock skew either way.'),
  },
  example: { type: 'sendgrid', public_key: 'SENDGRID_WEBHOOK_PUBLIC_KEY', tolerance: '5m' },
  signedHeaders: () => ['x-twilio-email-event-webhook-timestamp'],
  timestampTolerance: (options) => options.tolerance,
  keyPair: () => spkiKeyPair(ECDSA_P256),
  async sign(_options, { body, now, secrets }) {
    const timestamp = String(Math.floor(now / 1000));
    const key = await importPrivateKey(secrets[0]!, ECDSA_P256);
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, concatBytes(timestamp, body)),
    );
    return {
      'x-twilio-email-event-webhook-signature': toBase64(p1363ToDer(raw)),
      'x-twilio-email-event-webhook-timestamp': timestamp,
    };
  },
  create(options) {
    const tolerance = options.tolerance / 1000;
    const keyFor = publicKeyImporter({ name: 'ECDSA', namedCurve: 'P-256' });
    const names = options.public_key;
    return {
      async verify(request, env) {
        const set = readSecretList(env, names);
        const publicKeys = await Promise.all(set.values.map((text, i) => keyFor(text, set.names[i]!)));
        const header = request.headers.get('x-twilio-email-event-webhook-signature');
        if (!header) throw new VerificationError('missing_signature');
        const timestamp = request.headers.get('x-twilio-email-event-webhook-timestamp');
        checkTimestamp(timestamp, request.now, tolerance);
        const der = fromBase64(header);
        const raw = der && derToP1363(der);
        if (!raw) throw new VerificationError('malformed_signature');
        const signed = concatBytes(timestamp!, request.body);
        for (const key of publicKeys) {
          if (await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, signed)) return;
        }
        throw new VerificationError('signature_mismatch');
      },
    };
  },
});
