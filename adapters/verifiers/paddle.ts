import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { encoder, HmacSigner, pairHeaderVerifier, toHex } from './crypto.ts';

/** Paddle's Node SDK refuses signatures older than 5 seconds; proxies and queues may need more. */
export const PADDLE_DEFAULT_TOLERANCE = '5s';

/**
 * Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=…]`, HMAC-SHA256 over `${ts}:${body}` keyed with
 * the endpoint's secret key. Every `h1` is checked.
 */
export const paddleVerifier = defineComponent({
  kind: 'verifier',
  name: 'paddle',
  title: 'PaddleVerifier',
  description: 'Paddle Billing webhook signatures (Paddle-Signature: ts=..;h1=..).',
  spec: {
    secret: field.secrets(),
    tolerance: field
      .duration()
      .default(PADDLE_DEFAULT_TOLERANCE)
      .describe('Accepted clock skew either way (as the Paddle SDK by default).'),
  },
  example: { type: 'paddle', secret: 'PADDLE_WEBHOOK_SECRET', tolerance: '30s' },
  timestampTolerance: (options) => options.tolerance,
  async sign(_options, { body, now, secrets }) {
    const ts = Math.floor(now / 1000);
    return {
      'paddle-signature': `ts=${ts};h1=${toHex(await new HmacSigner('SHA-256').sign(secrets[0]!, encoder.encode(`${ts}:${body}`)))}`,
    };
  },
  create(options) {
    const verify = pairHeaderVerifier(
      { header: 'paddle-signature', separator: ';', timestampKey: 'ts', signatureKey: 'h1', joiner: ':' },
      options.tolerance / 1000,
    );
    return { verify: async (request, env) => verify(request, readSecretList(env, options.secret).values) };
  },
});
