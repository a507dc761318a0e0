import { durationSchema, parseDuration } from '../../runtime/duration.ts';
import { readSecrets, secretRefsSchema, VerificationError, type VerifierAdapter } from '../../runtime/adapter.ts';
import { anyMatch, checkTimestamp, concatBytes, DEFAULT_TOLERANCE_SECONDS, fromHex, HmacSigner, parsePairs } from './crypto.ts';
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
  create(options) {
    const tolerance = options.tolerance ? parseDuration(options.tolerance) / 1000 : DEFAULT_TOLERANCE_SECONDS;
    const signer = new HmacSigner('SHA-256');
    return {
      async verify(request, env) {
        const secrets = readSecrets(env, options.secret);
        const header = request.headers.get('stripe-signature');
        if (!header) throw new VerificationError('missing_signature');
        const pairs = parsePairs(header, ',');
        const timestamps = pairs.filter(([k]) => k === 't');
        if (timestamps.length !== 1) throw new VerificationError(timestamps.length ? 'malformed_signature' : 'missing_timestamp');
        const t = checkTimestamp(timestamps[0]![1], request.now, tolerance);
        const candidates = pairs.filter(([k]) => k === 'v1').map(([, v]) => fromHex(v));
        if (candidates.length === 0) throw new VerificationError('no_supported_signature');
        const signed = concatBytes(`${t}.`, request.body);
        const expected = await Promise.all(secrets.map((s) => signer.sign(s, signed)));
        if (!anyMatch(expected, candidates)) throw new VerificationError('signature_mismatch');
      },
    };
  },
};
