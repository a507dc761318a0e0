import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { commonAuth, commonAuthSpec, sharedSecret, type AuthHooks } from '../../runtime/component/auth.ts';

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const oneOrMore = () =>
  field.schema<string | string[]>({
    anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
  });

/** Any OIDC-style issuer: a JWKS URL (asymmetric algorithms) or an HS256 secret, with issuer and audience. */
export const jwtAuth = defineComponent({
  kind: 'auth',
  name: 'jwt',
  title: 'JwtAuth',
  description: 'Generic JWTs: a JWKS URL with asymmetric algorithms, or an HS256 shared secret.',
  spec: {
    jwks_url: field.string({ pattern: '^https?://' }).optional(),
    hs256_secret: field.secret().optional().describe('Env var with a shared HS256 secret (instead of jwks_url).'),
    issuer: oneOrMore().optional(),
    audience: oneOrMore().optional(),
    algorithms: field.list(field.enum([...ASYMMETRIC, 'HS256']), { minItems: 1, uniqueItems: true }),
    ...commonAuthSpec,
  },
  example: {
    type: 'jwt',
    jwks_url: 'https://auth.example.com/.well-known/jwks.json',
    issuer: 'https://auth.example.com',
    audience: 'api',
    algorithms: ['RS256'],
  },
  create(options): AuthHooks {
    const secret = options.hs256_secret;
    if (!options.jwks_url === !secret) throw new Error('give exactly one of jwks_url or hs256_secret');
    // Mixing HS256 with asymmetric algorithms is how the public key gets used as an HMAC secret.
    if (options.jwks_url && options.algorithms.includes('HS256'))
      throw new Error('HS256 cannot be used with a JWKS: use hs256_secret');
    if (secret && options.algorithms.some((a) => a !== 'HS256'))
      throw new Error('with hs256_secret, algorithms must be [HS256]');
    if (options.issuer === undefined && options.audience === undefined)
      throw new Error('set issuer or audience (or both): a token from any issuer would do otherwise');
    return {
      ...(secret ? { key: sharedSecret(secret) } : { jwksUrl: options.jwks_url }),
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
      algorithms: options.algorithms,
      ...commonAuth(options),
    };
  },
});
