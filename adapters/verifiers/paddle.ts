import { durationSchema, parseDuration } from '../../runtime/lib/duration.ts';
import { readSecrets, secretRefsSchema } from '../../runtime/component/context.ts';
import { type VerifierAdapter } from '../../runtime/component/verifier.ts';
import { encoder, HmacSigner, pairHeaderVerifier, toHex } from './crypto.ts';
import type { PaddleVerifier } from '../../runtime/manifest/types.gen.ts';

type PaddleOptions = Omit<PaddleVerifier, 'type'>;

/** Paddle's Node SDK refuses signatures older than 5 seconds; proxies and queues may need more. */
export const PADDLE_DEFAULT_TOLERANCE_SECONDS = 5;

/**
 * Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=…]`, HMAC-SHA256 over `${ts}:${body}` keyed with
 * the endpoint's secret key. Every `h1` is checked.
 */
export const paddleVerifier: VerifierAdapter<PaddleOptions> = {
  type: 'paddle',
  title: 'PaddleVerifier',
  description: 'Paddle Billing webhook signatures (Paddle-Signature: ts=..;h1=..).',
  options: {
    properties: {
      secret: secretRefsSchema,
      tolerance: { ...durationSchema, description: 'Accepted clock skew either way (default 5s, as the Paddle SDK).' },
    },
    required: ['secret'],
  },
  example: { type: 'paddle', secret: 'PADDLE_WEBHOOK_SECRET', tolerance: '30s' },
  async sign(_options, { body, now, secrets }) {
    const ts = Math.floor(now / 1000);
    return { 'paddle-signature': `ts=${ts};h1=${toHex(await new HmacSigner('SHA-256').sign(secrets[0]!, encoder.encode(`${ts}:${body}`)))}` };
  },
  create(options) {
    const verify = pairHeaderVerifier(
      { header: 'paddle-signature', separator: ';', timestampKey: 'ts', signatureKey: 'h1', joiner: ':' },
      options.tolerance ? parseDuration(options.tolerance) / 1000 : PADDLE_DEFAULT_TOLERANCE_SECONDS,
    );
    return { verify: async (request, env) => verify(request, readSecrets(env, options.secret)) };
  },
};
