import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError, type Verifier } from '../../runtime/component/verifier.ts';
import {
  anyMatch,
  checkTimestamp,
  concatBytes,
  DEFAULT_TOLERANCE,
  fromBase64,
  HmacSigner,
  toBase64,
  toHex,
} from './crypto.ts';

const SECRET_PREFIX = 'whsec_';
const PUBLIC_KEY_PREFIX = 'whpk_';

/**
 * Decodes a configured secret: `whsec_<base64>` (optionally written `v1,whsec_…`) is an HMAC key,
 * `whpk_<base64>` an Ed25519 public key for `v1a` signatures. Anything else is refused, so a typo in a
 * secret fails closed rather than verifying against a wrong key.
 */
function decodeSecret(value: string, variable: string): { kind: 'v1' | 'v1a'; key: Uint8Array } {
  const text = value.startsWith('v1,') ? value.slice(3) : value.startsWith('v1a,') ? value.slice(4) : value;
  const kind = text.startsWith(PUBLIC_KEY_PREFIX) ? 'v1a' : 'v1';
  const body = text.startsWith(SECRET_PREFIX)
    ? text.slice(SECRET_PREFIX.length)
    : text.startsWith(PUBLIC_KEY_PREFIX)
      ? text.slice(PUBLIC_KEY_PREFIX.length)
      : text;
  const key = fromBase64(body);
  if (!key || key.length === 0) throw new Error(`secret ${variable} is not a base64 whsec_/whpk_ key`);
  return { kind, key };
}

/**
 * The `webhook-signature` value for a Standard Webhooks message: `v1,` and the base64 HMAC-SHA256, under the
 * `whsec_` secret, of `${id}.${seconds}.${body}`. What the verifier below checks, and what a forward signs with.
 * @example await signStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1700000000, '{}')
 */
export async function signStandardWebhook(
  secret: string,
  id: string,
  seconds: number,
  body: string | Uint8Array,
): Promise<string> {
  const { kind, key } = decodeSecret(secret, 'secret');
  if (kind !== 'v1') throw new Error('a whpk_ public key cannot sign: signing needs the whsec_ secret');
  return `v1,${toBase64(await signer.sign(key, concatBytes(`${id}.${seconds}.`, body)))}`;
}

/** One signer for every send: it imports each secret's key once per isolate, not once per forwarded event. */
const signer = new HmacSigner('SHA-256');

/**
 * Builds a Standard Webhooks verifier for a header prefix: `webhook-` for the spec, `svix-` for Svix
 * (Clerk, Resend). Signed content is `${id}.${timestamp}.${body}`; the signature header is a
 * space-separated list of `v1,<base64>` (HMAC-SHA256) or `v1a,<base64>` (Ed25519) entries.
 */
export function standardWebhooksFamily(
  name: string,
  headerPrefix: string,
  title: string,
  description: string,
  exampleSecret: string,
) {
  return defineComponent({
    kind: 'verifier',
    name,
    title,
    description,
    spec: {
      secret: field.secrets().describe('Secret(s) `whsec_…` (HMAC) or `whpk_…` (Ed25519 public key).'),
      tolerance: field.duration().default(DEFAULT_TOLERANCE).describe('Accepted clock skew either way.'),
    },
    example: { type: name, secret: exampleSecret, tolerance: '5m' },
    signedHeaders: () => [`${headerPrefix}id`, `${headerPrefix}timestamp`],
    timestampTolerance: (options) => options.tolerance,
    async sign(_options, { body, now, secrets, id: messageId }) {
      const id = messageId ?? `msg_${crypto.randomUUID().replace(/-/g, '')}`;
      const ts = Math.floor(now / 1000);
      return {
        [`${headerPrefix}id`]: id,
        [`${headerPrefix}timestamp`]: String(ts),
        [`${headerPrefix}signature`]: await signStandardWebhook(secrets[0]!, id, ts, body),
      };
    },
    create(options): Verifier {
      const tolerance = options.tolerance / 1000;
      const signer = new HmacSigner('SHA-256');
      const publicKeys = new Map<string, Promise<CryptoKey>>();
      const names = options.secret;
      return {
        async verify(request, env) {
          const set = readSecretList(env, names);
          const keys = set.values.map((v, i) => decodeSecret(v, set.names[i]!));
          const id = request.headers.get(`${headerPrefix}id`);
          const header = request.headers.get(`${headerPrefix}signature`);
          if (!header) throw new VerificationError('missing_signature');
          if (!id) throw new VerificationError('malformed_signature', `missing ${headerPrefix}id`);
          const ts = checkTimestamp(request.headers.get(`${headerPrefix}timestamp`), request.now, tolerance);
          const signed = concatBytes(`${id}.${ts}.`, request.body);
          const entries = header
            .split(' ')
            .map((e) => e.split(','))
            .filter((e) => e.length === 2);
          const v1 = entries.filter(([v]) => v === 'v1').map(([, s]) => fromBase64(s!));
          const v1a = entries.filter(([v]) => v === 'v1a').map(([, s]) => fromBase64(s!));
          if (v1.length + v1a.length === 0) throw new VerificationError('no_supported_signature');
          const hmacKeys = keys.filter((k) => k.kind === 'v1');
          const expected = await Promise.all(hmacKeys.map((k) => signer.sign(k.key, signed)));
          if (anyMatch(expected, v1)) return;
          for (const k of keys.filter((k) => k.kind === 'v1a')) {
            const id = toHex(k.key);
            let cached = publicKeys.get(id);
            if (!cached) {
              cached = crypto.subtle.importKey('raw', k.key, { name: 'Ed25519' }, false, ['verify']);
              publicKeys.set(id, cached);
            }
            const key = await cached;
            for (const sig of v1a) {
              if (sig && sig.length === 64 && (await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, signed)))
                return;
            }
          }
          throw new VerificationError('signature_mismatch');
        },
      };
    },
  });
}

/** Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`): Supabase Auth Hooks and others. */
export const standardWebhooksVerifier = standardWebhooksFamily(
  'standard-webhooks',
  'webhook-',
  'StandardWebhooksVerifier',
  'Standard Webhooks signatures (webhook-id/-timestamp/-signature), v1 HMAC and v1a Ed25519.',
  'SUPABASE_WEBHOOK_SECRET',
);
