import { durationSchema, parseDuration } from '../../runtime/duration.ts';
import { readSecrets, secretRefsSchema, VerificationError, type VerifierAdapter } from '../../runtime/adapter.ts';
import { anyMatch, checkTimestamp, concatBytes, fromHex, HmacSigner, parsePairs } from './crypto.ts';
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
  create(options) {
    const tolerance = options.tolerance ? parseDuration(options.tolerance) / 1000 : PADDLE_DEFAULT_TOLERANCE_SECONDS;
    const signer = new HmacSigner('SHA-256');
    return {
      async verify(request, env) {
        const secrets = readSecrets(env, options.secret);
        const header = request.headers.get('paddle-signature');
        if (!header) throw new VerificationError('missing_signature');
        const pairs = parsePairs(header, ';');
        const timestamps = pairs.filter(([k]) => k === 'ts');
        if (timestamps.length !== 1) throw new VerificationError(timestamps.length ? 'malformed_signature' : 'missing_timestamp');
        const ts = checkTimestamp(timestamps[0]![1], request.now, tolerance);
        const candidates = pairs.filter(([k]) => k === 'h1').map(([, v]) => fromHex(v));
        if (candidates.length === 0) throw new VerificationError('no_supported_signature');
        const signed = concatBytes(`${ts}:`, request.body);
        const expected = await Promise.all(secrets.map((s) => signer.sign(s, signed)));
        if (!anyMatch(expected, candidates)) throw new VerificationError('signature_mismatch');
      },
    };
  },
};
