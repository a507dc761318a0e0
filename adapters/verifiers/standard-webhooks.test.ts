import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { standardWebhooksVerifier } from './standard-webhooks.ts';
import { toBase64 } from '../../runtime/lib/bytes.ts';
import { svixHeaders } from '../../test/support/sign.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';

const body = JSON.stringify({ type: 'INSERT', table: 'users', record: { id: 'u1', email: 'a@example.com' } });

verifierSuite('standard-webhooks', {
  adapter: standardWebhooksVerifier,
  options: { secret: 'TEST_SECRET' },
  secret: 'v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  otherSecret: 'whsec_dGhlLW90aGVyLXNlY3JldC0wMTIzNDU2Nzg5YWI=',
  body,
  signatureHeader: 'webhook-signature',
  tolerance: 300,
  async sign(payload, secret, ts) {
    const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
    const signature = new Webhook(secret.replace(/^v1,/, '')).sign(id, new Date(ts * 1000), payload);
    return {
      body: payload,
      headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
    };
  },
  unknownVersions: (v) => v.replace('v1,', 'v9,'),
  truncate: (v) => v.slice(0, -6),
  withDecoy: (v) => `v1,${'B'.repeat(43)}= ${v}`,
});

describe('standard-webhooks known answers and v1a', () => {
  it('matches the specification example', async () => {
    // From the Standard Webhooks specification's worked example.
    const verifier = build(standardWebhooksVerifier, { secret: 'S' }, undefined);
    const signed = {
      body: '{"test": 2432232314}',
      headers: {
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      },
    };
    expect(
      await reason(verifier.verify(request(signed, 1_614_265_330), { S: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })),
    ).toBe('accepted');
    expect(
      new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign(
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        new Date(1_614_265_330_000),
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('the standardwebhooks library verifies what our test signer produces', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = await svixHeaders('webhook-', secret, 'msg_1', body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('verifies asymmetric v1a (Ed25519) signatures with a whpk_ public key', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = `whpk_${toBase64(new Uint8Array((await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer))}`;
    const ts = 1_750_000_000;
    const content = new TextEncoder().encode(`msg_ed.${ts}.${body}`);
    const sig = toBase64(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, content)));
    const verifier = build(standardWebhooksVerifier, { secret: 'PK' }, undefined);
    const headers = { 'webhook-id': 'msg_ed', 'webhook-timestamp': String(ts), 'webhook-signature': `v1a,${sig}` };
    expect(await reason(verifier.verify(request({ body, headers }, ts), { PK: publicKey }))).toBe('accepted');
    expect(await reason(verifier.verify(request({ body: `${body} `, headers }, ts), { PK: publicKey }))).toBe(
      'signature_mismatch',
    );
  });
});
