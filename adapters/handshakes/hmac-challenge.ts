import { readSecrets, secretRefSchema } from '../../runtime/adapter.ts';
import { encoder, toHex } from '../../runtime/bytes.ts';
import { fieldOf, jsonFieldEquals, verifySchema, whenFieldSchema, type HandshakeAdapter } from '../../runtime/handshake.ts';
import type { HmacChallengeHandshake } from '../../runtime/manifest/types.gen.ts';
import { HmacSigner } from '../verifiers/crypto.ts';

type Options = Omit<HmacChallengeHandshake, 'type'>;

/**
 * A POST carrying a token to hash (Zoom's `endpoint.url_validation`): answered `{ plainToken, encryptedToken }`,
 * the token and its hex HMAC-SHA256 under the secret, which proves the endpoint holds the secret.
 */
export const hmacChallengeHandshake: HandshakeAdapter<Options> = {
  type: 'hmac-challenge',
  title: 'HmacChallengeHandshake',
  description: 'A POST carrying a token; answered with the token and its hex HMAC-SHA256 under the secret.',
  options: {
    properties: {
      when: whenFieldSchema,
      token_field: { type: 'string', minLength: 1, description: 'Dotted path of the token (default payload.plainToken).' },
      secret: secretRefSchema,
      verify: verifySchema,
    },
    required: ['when', 'secret'],
  },
  example: { type: 'hmac-challenge', when: { field: 'event', equals: 'endpoint.url_validation' }, token_field: 'payload.plainToken', secret: 'ZOOM_WEBHOOK_SECRET' },
  create(options) {
    const tokenField = options.token_field ?? 'payload.plainToken';
    const answerKey = tokenField.split('.').pop()!;
    const signer = new HmacSigner('SHA-256');
    return {
      methods: [],
      verify: options.verify ?? true,
      matches: (request) => jsonFieldEquals(request, options.when).matched,
      async answer(request, ctx) {
        const [secret] = readSecrets(ctx.env, options.secret);
        const token = fieldOf(jsonFieldEquals(request, options.when).json, tokenField);
        if (typeof token !== 'string' || token === '') return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'bad_request', message: `the handshake has no ${tokenField}` }) };
        const encrypted = toHex(await signer.sign(secret!, encoder.encode(token)));
        return { status: 200, contentType: 'application/json', body: JSON.stringify({ [answerKey]: token, encryptedToken: encrypted }) };
      },
    };
  },
};
