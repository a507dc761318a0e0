import { errors, jwtVerify, SignJWT } from 'jose';
import { readSecretList } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import { encoder, fromHex, sha256, timingSafeEqual, toHex } from '../../runtime/lib/bytes.ts';

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/**
 * A JWS (compact JWT) in a header, signed with a shared secret, whose claim carries the hex SHA-256 of the raw
 * body (Netlify: `X-Webhook-Signature`, HS256, `iss: netlify`, claim `sha256`). jose checks the signature in
 * constant time; the body hash is compared as bytes in constant time too.
 */
export const jwsVerifier = defineComponent({
  kind: 'verifier',
  name: 'jws',
  title: 'JwsVerifier',
  description: 'A JWS/JWT in a header, HMAC-signed with a shared secret, carrying a hash of the raw body.',
  spec: {
    secret: field.secrets(),
    header: field.string({ minLength: 1 }).describe('Header carrying the token, e.g. X-Webhook-Signature.'),
    algorithms: field
      .list(field.enum(HMAC_ALGORITHMS), { minItems: 1, uniqueItems: true })
      .default(['HS256'])
      .describe('Accepted algorithms.'),
    body_hash_claim: field
      .string({ minLength: 1 })
      .describe(
        'Claim holding the hex SHA-256 of the raw body (e.g. sha256). Without it the token proves nothing about the body, so it is required.',
      ),
    issuer: field.string({ minLength: 1 }).optional().describe('Required `iss` claim, e.g. netlify.'),
  },
  example: {
    type: 'jws',
    secret: 'NETLIFY_WEBHOOK_SECRET',
    header: 'X-Webhook-Signature',
    algorithms: ['HS256'],
    body_hash_claim: 'sha256',
    issuer: 'netlify',
  },
  signedHeaders: () => [],
  async sign(options, { body, now, secrets }) {
    const jwt = new SignJWT({ [options.body_hash_claim]: toHex(await sha256(body)) })
      .setProtectedHeader({ alg: options.algorithms[0]!, typ: 'JWT' })
      .setIssuedAt(Math.floor(now / 1000));
    if (options.issuer) jwt.setIssuer(options.issuer);
    return { [options.header.toLowerCase()]: await jwt.sign(encoder.encode(secrets[0]!)) };
  },
  create(options) {
    const header = options.header.toLowerCase();
    const algorithms = [...options.algorithms];
    const names = options.secret;
    return {
      async verify(request, env) {
        const secrets = readSecretList(env, names).values;
        const token = request.headers.get(header);
        if (!token) throw new VerificationError('missing_signature');
        if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token.trim()))
          throw new VerificationError('malformed_signature');
        let claims: Record<string, unknown> | undefined;
        for (const secret of secrets) {
          try {
            ({ payload: claims } = await jwtVerify(token.trim(), encoder.encode(secret), {
              algorithms,
              ...(options.issuer ? { issuer: options.issuer } : {}),
              currentDate: new Date(request.now),
            }));
            break;
          } catch (error) {
            if (error instanceof errors.JWSSignatureVerificationFailed) continue;
            if (error instanceof errors.JOSEError)
              throw new VerificationError(
                error instanceof errors.JWTExpired ? 'timestamp_too_old' : 'malformed_signature',
                error.code,
              );
            throw error;
          }
        }
        if (!claims) throw new VerificationError('signature_mismatch');
        const claimed = claims[options.body_hash_claim];
        const expected = await sha256(request.body);
        const given = typeof claimed === 'string' ? fromHex(claimed.toLowerCase()) : undefined;
        if (!given || !timingSafeEqual(given, expected)) throw new VerificationError('body_hash_mismatch');
      },
    };
  },
});
