import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripeVerifier } from './stripe.ts';
import { stripeSignature } from '../../test/support/sign.ts';
import { reason, request, verifierSuite } from '../../test/support/verifier-suite.ts';
import { build } from '../../runtime/component/define.ts';

const stripe = new Stripe('sk_test_switchyard');
const body = JSON.stringify({
  id: 'evt_1',
  object: 'event',
  type: 'payment_intent.succeeded',
  data: { object: { id: 'pi_1' } },
});

verifierSuite('stripe', {
  adapter: stripeVerifier,
  options: { secret: 'TEST_SECRET' },
  secret: 'whsec_test_secret_one',
  otherSecret: 'whsec_test_secret_two',
  body,
  signatureHeader: 'stripe-signature',
  tolerance: 300,
  async sign(payload, secret, timestamp) {
    return {
      body: payload,
      headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) },
    };
  },
  unknownVersions: (v) => v.replace(/v1=/g, 'v0='),
  truncate: (v) => v.slice(0, -8),
  withDecoy: (v) => `${v.replace(/(t=\d+),/, `$1,v1=${'0'.repeat(64)},`)},v1=${'f'.repeat(64)}`,
});

describe('stripe cross-checks', () => {
  it("our test signer matches stripe-node's, and stripe-node accepts what the runtime accepts", async () => {
    const header = await stripeSignature('whsec_x', body, 1_750_000_000);
    expect(header).toBe(
      stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_x', timestamp: 1_750_000_000 }),
    );
    const now = Math.floor(Date.now() / 1000);
    const live = await stripeSignature('whsec_x', body, now);
    expect(stripe.webhooks.constructEvent(body, live, 'whsec_x').id).toBe('evt_1');
  });

  it('refuses a timestamp with trailing garbage (strict parsing)', async () => {
    const verifier = build(stripeVerifier, { secret: 'S' }, undefined);
    const header = stripe.webhooks
      .generateTestHeaderString({ payload: body, secret: 'whsec_x', timestamp: 1_750_000_000 })
      .replace('t=1750000000', 't=1750000000abc');
    expect(
      await reason(verifier.verify(request({ body, headers: { 'stripe-signature': header } }), { S: 'whsec_x' })),
    ).toBe('invalid_timestamp');
  });
});
