import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { bodyField, compileWhen, whenField } from '../../runtime/component/handshake.ts';
import { field } from '../../runtime/component/spec.ts';
import { encoder, toHex } from '../../runtime/lib/bytes.ts';
import { HmacSigner } from '../verifiers/crypto.ts';

/**
 * A POST carrying a token to hash (Zoom's `endpoint.url_validation`): answered `{ plainToken, encryptedToken }`,
 * the token and its hex HMAC-SHA256 under the secret, which proves the endpoint holds the secret.
 */
export const hmacChallengeHandshake = defineComponent({
  kind: 'handshake',
  name: 'hmac-challenge',
  title: 'HmacChallengeHandshake',
  description: 'A POST carrying a token; answered with the token and its hex HMAC-SHA256 under the secret.',
  spec: {
    when: whenField(),
    token_field: field.string({ minLength: 1 }).default('payload.plainToken').describe('Dotted path of the token.'),
    secret: field.secret(),
    // The schema allows only true; the check in create also guards a block that skipped the schema.
    verify: field
      .boolean()
      .with({ const: true })
      .optional()
      .describe('Always verified (default true): unverified, the answer would sign any text with the secret.'),
  },
  example: {
    type: 'hmac-challenge',
    when: { field: 'event', equals: 'endpoint.url_validation' },
    token_field: 'payload.plainToken',
    secret: 'ZOOM_WEBHOOK_SECRET',
  },
  create(options) {
    // It answers HMAC(secret, any token the request chooses): unverified, it would be a signing oracle for the very
    // secret the verifier checks (a token of `v0:<ts>:<body>` returns a valid signature for a forged event).
    if (options.verify === false)
      throw new Error(
        '`verify: false` would make this handshake a signing oracle for the secret: anyone could have any text signed with it; the handshake must be verified',
      );
    const tokenField = options.token_field;
    const answerKey = tokenField.split('.').pop()!;
    const signer = new HmacSigner('SHA-256');
    const handshakeBody = compileWhen(options.when);
    const token = bodyField(tokenField);
    return {
      methods: [],
      verify: true,
      matches: (request) => handshakeBody(request) !== undefined,
      async answer(request, ctx) {
        const [secret] = readSecrets(ctx.env, options.secret);
        const value = token(handshakeBody(request));
        if (typeof value !== 'string' || value === '')
          return {
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({ error: 'bad_request', message: `the handshake has no ${tokenField}` }),
          };
        const encrypted = toHex(await signer.sign(secret!, encoder.encode(value)));
        return {
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({ [answerKey]: value, encryptedToken: encrypted }),
        };
      },
    };
  },
});
