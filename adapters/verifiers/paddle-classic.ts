import { VerificationError } from '../../runtime/component/verifier.ts';
import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { encoder, fromBase64, importPrivateKey, publicKeyImporter, spkiKeyPair, toBase64 } from './crypto.ts';
import { byCodeUnit, parseFormPairs } from './form.ts';

/** PHP `serialize()` of a string: `s:<UTF-8 byte length>:"<value>";`. */
function phpString(value: string): string {
  return `s:${encoder.encode(value).length}:"${value}";`;
}

/** PHP `serialize()` of the fields sorted by key, as Paddle Classic signs them. */
export function paddleClassicSignedData(fields: [string, string][]): string {
  const sorted = [...fields].sort(([a], [b]) => byCodeUnit(a, b));
  return `a:${sorted.length}:{${sorted.map(([k, v]) => phpString(k) + phpString(v)).join('')}}`;
}

const RSA_SHA1 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1' } as const;

/**
 * Paddle Classic: a form body whose `p_signature` field is an RSA-SHA1 (PKCS#1 v1.5) signature, made with
 * the vendor key, of the PHP-serialized array of every other field sorted by key.
 */
export const paddleClassicVerifier = defineComponent({
  kind: 'verifier',
  name: 'paddle-classic',
  title: 'PaddleClassicVerifier',
  description: 'Paddle Classic alerts (form body with p_signature, RSA-SHA1 over PHP-serialized fields).',
  spec: {
    public_key: field
      .secrets()
      .describe('Env var(s) holding the vendor public key (PEM or base64 SPKI); several during a key rollover.'),
  },
  example: { type: 'paddle-classic', public_key: 'PADDLE_CLASSIC_PUBLIC_KEY' },
  keyPair: () => spkiKeyPair({ ...RSA_SHA1, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }),
  async signBody(_options, { body, secrets }) {
    const pairs = parseFormPairs(encoder.encode(body)).filter(([k]) => k !== 'p_signature');
    const key = await importPrivateKey(secrets[0]!, RSA_SHA1);
    const signature = new Uint8Array(
      await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, encoder.encode(paddleClassicSignedData(pairs))),
    );
    const form = new URLSearchParams(pairs);
    form.append('p_signature', toBase64(signature));
    return { headers: {}, body: form.toString() };
  },
  create(options) {
    const keyFor = publicKeyImporter(RSA_SHA1);
    const names = options.public_key;
    return {
      async verify(request, env) {
        const set = readSecretList(env, names);
        const publicKeys = await Promise.all(set.values.map((pem, i) => keyFor(pem, set.names[i]!)));
        const pairs = parseFormPairs(request.body);
        const signatures = pairs.filter(([k]) => k === 'p_signature');
        if (signatures.length === 0) throw new VerificationError('missing_signature');
        if (signatures.length > 1) throw new VerificationError('malformed_signature');
        const signature = fromBase64(signatures[0]![1]);
        if (!signature) throw new VerificationError('malformed_signature');
        const data = encoder.encode(paddleClassicSignedData(pairs.filter(([k]) => k !== 'p_signature')));
        for (const key of publicKeys) {
          if (await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, data)) return;
        }
        throw new VerificationError('signature_mismatch');
      },
    };
  },
});
