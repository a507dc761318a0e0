import { commonAuth, commonAuthOptions, type AuthAdapter } from '../../runtime/auth.ts';

interface Auth0Options {
  domain: string;
  audience: string | string[];
  algorithms?: ('RS256' | 'PS256')[];
  clock_tolerance?: string;
  required_claims?: string[];
}

/** Auth0 access tokens: issuer `https://<domain>/`, the tenant's JWKS, and the API's audience. */
export const auth0Auth: AuthAdapter<Auth0Options> = {
  type: 'auth0',
  title: 'Auth0Auth',
  description: 'Auth0 access tokens (RS256 via the tenant JWKS; issuer and audience checked).',
  options: {
    properties: {
      domain: { type: 'string', pattern: '^[a-z0-9.-]+$', description: 'Tenant domain, e.g. example.us.auth0.com.' },
      audience: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }], description: "The API identifier the tokens are for." },
      algorithms: { type: 'array', items: { enum: ['RS256', 'PS256'] }, minItems: 1, description: 'Default [RS256].' },
      ...commonAuthOptions,
    },
    required: ['domain', 'audience'],
  },
  example: { type: 'auth0', domain: 'example.us.auth0.com', audience: 'https://api.example.com' },
  create(options) {
    return {
      jwksUrl: `https://${options.domain}/.well-known/jwks.json`,
      issuer: `https://${options.domain}/`,
      audience: options.audience,
      algorithms: options.algorithms ?? ['RS256'],
      ...commonAuth(options),
    };
  },
};
