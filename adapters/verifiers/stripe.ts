import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { DEFAULT_TOLERANCE, encoder, HmacSigner, pairHeaderVerifier, toHex } from './crypto.ts';

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 over `${t}.${body}` keyed with the
 * whole secret string (`whsec_` included), as stripe-node's `webhooks.constructEvent` does.
 */
export const stripeVerifier = defineComponent({
  kind: 'verifier',
  name: 'stripe',
  title: 'StripeVerifier',
  description: 'Stripe webhook signatures (Stripe-Signature header, v1 scheme).',
  spec: {
    secret: field.secrets(),
    tolerance: field.duration().default(DEFAULT_TOLERANCE).describe('Accepted clock skew either way.'),
  },
  example: { type: 'stripe', secret: 'STRIPE_WEBHOOK_SECRET', tolerance: '5m' },
  timestampTolerance: (options) => options.tolerance,
  async sign(_options, { body, now, secrets }) {
    const t = Math.floor(now / 1000);
    return {
      'stripe-signature': `t=${t},v1=${toHex(await new HmacSigner('SHA-256').sign(secrets[0]!, encoder.encode(`${t}.${body}`)))}`,
    };
  },
  create(options) {
    const verify = pairHeaderVerifier(
      { header: 'stripe-signature', separator: ',', timestampKey: 't', signatureKey: 'v1', joiner: '.' },
      options.tolerance / 1000,
    );
    return { verify: async (request, env) => verify(request, readSecretList(env, options.secret).values) };
  },
});
