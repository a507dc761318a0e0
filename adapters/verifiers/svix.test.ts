import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { svixVerifier } from './svix.ts';
import { svixHeaders } from '../../test/support/sign.ts';
import { verifierSuite } from '../../test/support/verifier-suite.ts';

const body = JSON.stringify({
  type: 'user.created',
  object: 'event',
  data: { id: 'user_29w83sxmDNGwOuEthce5gg56FcC' },
});

verifierSuite('svix', {
  adapter: svixVerifier,
  options: { secret: 'TEST_SECRET' },
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  otherSecret: 'whsec_dGhlLW90aGVyLXNlY3JldC0wMTIzNDU2Nzg5YWI=',
  body,
  signatureHeader: 'svix-signature',
  tolerance: 300,
  async sign(payload, secret, ts) {
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const signature = new SvixWebhook(secret).sign(id, new Date(ts * 1000), payload);
    return { body: payload, headers: { 'svix-id': id, 'svix-timestamp': String(ts), 'svix-signature': signature } };
  },
  unknownVersions: (v) => v.replace('v1,', 'v2,'),
  truncate: (v) => v.slice(0, -6),
  withDecoy: (v) => `v1,${'A'.repeat(43)}= v2,abc ${v}`,
});

describe('svix cross-checks', () => {
  it('the svix library verifies what our test signer produces', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = await svixHeaders('svix-', secret, 'msg_1', body);
    expect(new SvixWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });
});
