import { readSecrets, secretRefSchema } from '../../runtime/component/context.ts';
import { commonAuthLegacy as commonAuth } from '../../runtime/component/legacy.ts';
import { commonAuthOptions, userFields, type AuthAdapter, type JwtConfig } from '../../runtime/component/auth.ts';
import { profileJson } from '../../runtime/edge/profiles.ts';
import { profileTtlSchema, profileTtlSeconds } from './profile.ts';
import type { ClerkAuth } from '../../runtime/manifest/types.gen.ts';

type ClerkOptions = Omit<ClerkAuth, 'type'>;

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
      profile: {
        type: 'object',
        additionalProperties: false,
        required: ['secret_key'],
        properties: { secret_key: { ...secretRefSchema, description: 'Env var with the Clerk secret key (Backend API).' }, ttl: profileTtlSchema, api_url: { type: 'string', pattern: '^https?://' } },
        description: 'Fetch the full user from the Clerk Backend API (GET /v1/users/{id}).',
      },
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
      ...(options.profile ? { profile: clerkProfile(options.profile) } : {}),
      user: clerkUser,
    };
  },
};

const { text, record, iso } = userFields;

/**
 * Clerk's user object (Backend API): the primary address among `email_addresses`, `first_name last_name`,
 * `public_metadata`, `created_at` in ms. Session tokens carry none of it unless customised: then the claims.
 */
export const clerkUser: NonNullable<JwtConfig['user']> = (claims, profile) => {
  if (!profile) return {};
  const emails = (Array.isArray(profile.email_addresses) ? profile.email_addresses : []) as { id?: unknown; email_address?: unknown }[];
  const primary = emails.find((e) => e?.id !== undefined && e.id === profile.primary_email_address_id) ?? emails[0];
  const name = [text(profile.first_name), text(profile.last_name)].filter(Boolean).join(' ');
  return { email: text(primary?.email_address) ?? text(claims.email), name: name || text(claims.name), metadata: record(profile.public_metadata) ?? {}, created_at: iso(profile.created_at) };
};

function clerkProfile(options: NonNullable<ClerkOptions['profile']>) {
  const api = (options.api_url ?? 'https://api.clerk.com').replace(/\/+$/, '');
  return {
    ttlSeconds: profileTtlSeconds(options.ttl),
    async fetch(sub: string, io: { env: Readonly<Record<string, unknown>>; fetch: typeof fetch }) {
      const [key] = readSecrets(io.env, options.secret_key);
      return profileJson('clerk', await io.fetch(`${api}/v1/users/${encodeURIComponent(sub)}`, { headers: { authorization: `Bearer ${key}` } }));
    },
  };
}
