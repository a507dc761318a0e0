import { commonAuth, commonAuthOptions, type AuthAdapter } from '../../runtime/auth.ts';

interface ClerkOptions {
  issuer: string;
  authorized_parties?: string[];
  jwks_url?: string;
  clock_tolerance?: string;
  required_claims?: string[];
}

/**
 * Clerk session tokens: RS256, verified against the instance's JWKS (`<issuer>/.well-known/jwks.json`), with the
 * `azp` claim checked against the authorized parties, as Clerk's backend SDK does.
 */
export const clerkAuth: AuthAdapter<ClerkOptions> = {
  type: 'clerk',
  title: 'ClerkAuth',
  description: 'Clerk session tokens (RS256 via the instance JWKS; azp checked).',
  options: {
    properties: {
      issuer: { type: 'string', pattern: '^https://', description: 'Your Frontend API URL, e.g. https://example.clerk.accounts.dev.' },
      authorized_parties: { type: 'array', items: { type: 'string', pattern: '^https?://' }, description: 'Origins your app runs on (the azp claim).' },
      jwks_url: { type: 'string', pattern: '^https?://', description: 'Default <issuer>/.well-known/jwks.json.' },
      ...commonAuthOptions,
    },
    required: ['issuer'],
  },
  example: { type: 'clerk', issuer: 'https://example.clerk.accounts.dev', authorized_parties: ['https://app.example.com'] },
  create(options) {
    const issuer = options.issuer.replace(/\/+$/, '');
    return {
      jwksUrl: options.jwks_url ?? `${issuer}/.well-known/jwks.json`,
      issuer,
      algorithms: ['RS256'],
      ...(options.authorized_parties ? { authorizedParties: options.authorized_parties } : {}),
      ...commonAuth(options),
    };
  },
};
