import { secretRefSchema } from '../../runtime/component/context.ts';
import { commonAuthLegacy as commonAuth } from '../../runtime/component/legacy.ts';
import { commonAuthOptions, type AuthAdapter } from '../../runtime/component/auth.ts';
import type { JwtAuth } from '../../runtime/manifest/types.gen.ts';

type JwtOptions = Omit<JwtAuth, 'type'>;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Any OIDC-style issuer: a JWKS URL (asymmetric algorithms) or an HS256 secret, with issuer and audience. */
export const jwtAuth: AuthAdapter<JwtOptions> = {
  type: 'jwt',
  title: 'JwtAuth',
  description: 'Generic JWTs: a JWKS URL with asymmetric algorithms, or an HS256 shared secret.',
  options: {
    properties: {
      jwks_url: { type: 'string', pattern: '^https?://' },
      hs256_secret: { ...secretRefSchema, description: 'Env var with a shared HS256 secret (instead of jwks_url).' },
      issuer: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
      audience: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
      algorithms: { type: 'array', items: { enum: [...ASYMMETRIC, 'HS256'] }, minItems: 1, uniqueItems: true },
      ...commonAuthOptions,
    },
    required: ['algorithms'],
  },
  example: { type: 'jwt', jwks_url: 'https://auth.example.com/.well-known/jwks.json', issuer: 'https://auth.example.com', audience: 'api', algorithms: ['RS256'] },
  create(options) {
    if (!options.jwks_url === !options.hs256_secret) throw new Error('give exactly one of jwks_url or hs256_secret');
    // Mixing HS256 with asymmetric algorithms is how the public key gets used as an HMAC secret.
    if (options.jwks_url && options.algorithms.includes('HS256')) throw new Error('HS256 cannot be used with a JWKS: use hs256_secret');
    if (options.hs256_secret && options.algorithms.some((a) => a !== 'HS256')) throw new Error('with hs256_secret, algorithms must be [HS256]');
    if (options.issuer === undefined && options.audience === undefined) throw new Error('set issuer or audience (or both): a token from any issuer would do otherwise');
    return {
      ...(options.jwks_url ? { jwksUrl: options.jwks_url } : { hs256Secret: options.hs256_secret! }),
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
      algorithms: options.algorithms,
      ...commonAuth(options),
    };
  },
};
