import { durationSchema, parseDuration } from '../../runtime/lib/duration.ts';
import { readSecrets, secretRefsSchema } from '../../runtime/component/context.ts';
import { type VerifierAdapter } from '../../runtime/component/verifier.ts';
import { DEFAULT_TOLERANCE_SECONDS, encoder, HmacSigner, pairHeaderVerifier, toHex } from './crypto.ts';
import type { StripeVerifier } from '../../runtime/manifest/types.gen.ts';

type StripeOptions = Omit<StripeVerifier, 'type'>;

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 over `${t}.${body}` keyed with the
 * whole secret string (`whsec_` included), as stripe-node's `webhooks.constructEvent` does.
 */
export const stripeVerifier: VerifierAdapter<StripeOptions> = {
  type: 'stripe',
  title: 'StripeVerifier',
  description: 'Stripe webhook signatures (Stripe-Signature header, v1 scheme).',
  options: {
    properties: {
      secret: secretRefsSchema,
      tolerance: { ...durationSchema, description: 'Accepted clock skew either way (default 5m).' },
    },
    required: ['secret'],
  },
  example: { type: 'stripe', secret: 'STRIPE_WEBHOOK_SECRET', tolerance: '5m' },
  async sign(_options, { body, now, secrets }) {
    const t = Math.floor(now / 1000);
    return { 'stripe-signature': `t=${t},v1=${toHex(await new HmacSigner('SHA-256').sign(secrets[0]!, encoder.encode(`${t}.${body}`)))}` };
  },
  create(options) {
    const verify = pairHeaderVerifier(
      { header: 'stripe-signature', separator: ',', timestampKey: 't', signatureKey: 'v1', joiner: '.' },
      options.tolerance ? parseDuration(options.tolerance) / 1000 : DEFAULT_TOLERANCE_SECONDS,
    );
    return { verify: async (request, env) => verify(request, readSecrets(env, options.secret)) };
  },
};
