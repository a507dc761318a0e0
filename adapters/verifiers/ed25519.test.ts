import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519Verifier } from './ed25519.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build, optionsOf } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

/** Key pairs by public key (hex), so the suite's sign(secret) can find the private half. */
const pairs = new Map<string, ReturnType<typeof generateKeyPairSync>['privateKey']>();
function keyPair(): string {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const hex = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  pairs.set(hex, privateKey);
  return hex;
}
const one = keyPair();
const two = keyPair();
const body = JSON.stringify({ type: 2, id: '123', data: { name: 'ping' } });

verifierSuite('ed25519 (Discord style, node:crypto signs)', {
  adapter: ed25519Verifier,
  options: {
    public_key: 'TEST_SECRET',
    header: 'X-Signature-Ed25519',
    signed: '{timestamp}{body}',
    timestamp_header: 'X-Signature-Timestamp',
  },
  secret: one,
  otherSecret: two,
  body,
  signatureHeader: 'x-signature-ed25519',
  tolerance: 300,
  async sign(payload, publicKey, ts) {
    const signature = sign(null, Buffer.from(`${ts}${payload}`), pairs.get(publicKey)!).toString('hex');
    return { body: payload, headers: { 'x-signature-ed25519': signature, 'x-signature-timestamp': String(ts) } };
  },
  truncate: (v) => v.slice(0, -2),
});

describe('ed25519 specifics', () => {
  it('signs with a generated key pair as switchyard send and the conformance test do', async () => {
    const options = { public_key: 'K', header: 'X-Sig', encoding: 'base64' as const, key_encoding: 'base64' as const };
    const pair = await ed25519Verifier.keyPair!(optionsOf(ed25519Verifier, options));
    const headers = (
      await signRequest(ed25519Verifier, options, {
        url: 'https://x.test/',
        body,
        now: 1_750_000_000_000,
        secrets: [pair.privateKey],
      })
    ).headers;
    const verifier = build(ed25519Verifier, options, undefined);
    expect(await reason(verifier.verify(request({ body, headers }), { K: pair.publicKey }))).toBe('accepted');
    expect(await reason(verifier.verify(request({ body: `${body} `, headers }), { K: pair.publicKey }))).toBe(
      'signature_mismatch',
    );
  });

  it('fails closed on a public key that is not 32 bytes', async () => {
    const verifier = build(ed25519Verifier, { public_key: 'K', header: 'X-Sig' }, undefined);
    await expect(
      verifier.verify(request({ body, headers: { 'x-sig': '00'.repeat(64) } }), { K: 'abcd' }),
    ).rejects.toThrow('32 bytes');
  });
});
