import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import {
  commonAuth,
  commonAuthSpec,
  profileJson,
  userFields,
  userSegment,
  type AuthHooks,
  type ProfileSource,
} from '../../runtime/component/auth.ts';
import { profileTtl, ttlSeconds } from './profile.ts';

const profileSpec = {
  secret_key: field.secret().describe('Env var with the Clerk secret key (Backend API).'),
  ttl: profileTtl,
  api_url: field.string({ pattern: '^https?://' }).default('https://api.clerk.com').describe('The Clerk Backend API.'),
};

/**
 * Clerk session tokens: RS256, verified against the instance's JWKS (`<issuer>/.well-known/jwks.json`), with the
 * `azp` claim checked against the authorized parties, as Clerk's backend SDK does.
 */
export const clerkAuth = defineComponent({
  kind: 'auth',
  name: 'clerk',
  title: 'ClerkAuth',
  description: 'Clerk session tokens (RS256 via the instance JWKS; azp checked).',
  spec: {
    issuer: field
      .string({ pattern: '^https://' })
      .describe('Your Frontend API URL, e.g. https://example.clerk.accounts.dev.'),
    authorized_parties: field
      .list(field.string({ pattern: '^https?://' }))
      .optional()
      .describe('Origins your app runs on (the azp claim).'),
    jwks_url: field.string({ pattern: '^https?://' }).optional().describe('Default <issuer>/.well-known/jwks.json.'),
    ...commonAuthSpec,
    profile: field
      .object(profileSpec)
      .optional()
      .describe('Fetch the full user from the Clerk Backend API (GET /v1/users/{id}).'),
  },
  example: {
    type: 'clerk',
    issuer: 'https://example.clerk.accounts.dev',
    authorized_parties: ['https://app.example.com'],
  },
  reasons: ['azp_not_allowed'],
  create(options): AuthHooks {
    const issuer = options.issuer.replace(/\/+$/, '');
    const parties = options.authorized_parties ?? [];
    return {
      jwksUrl: options.jwks_url ?? `${issuer}/.well-known/jwks.json`,
      issuer,
      algorithms: ['RS256'],
      // A token minted for another origin of the same instance is refused, as Clerk's SDK does; no azp passes.
      ...(parties.length
        ? {
            check: (claims) =>
              typeof claims.azp === 'string' && !parties.includes(claims.azp) ? 'azp_not_allowed' : undefined,
          }
        : {}),
      ...commonAuth(options),
      ...(options.profile ? { profile: clerkProfile(options.profile) } : {}),
      user: clerkUser,
    };
  },
});

const { text, record, iso } = userFields;

/**
 * Clerk's user object (Backend API): the primary address among `email_addresses`, `first_name last_name`,
 * `public_metadata`, `created_at` in ms. Session tokens carry none of it unless customised: then the claims.
 */
export const clerkUser: NonNullable<AuthHooks['user']> = (claims, profile) => {
  if (!profile) return {};
  const emails = (Array.isArray(profile.email_addresses) ? profile.email_addresses : []) as {
    id?: unknown;
    email_address?: unknown;
  }[];
  const primary = emails.find((e) => e?.id !== undefined && e.id === profile.primary_email_address_id) ?? emails[0];
  const name = [text(profile.first_name), text(profile.last_name)].filter(Boolean).join(' ');
  return {
    email: text(primary?.email_address) ?? text(claims.email),
    name: name || text(claims.name),
    metadata: record(profile.public_metadata) ?? {},
    created_at: iso(profile.created_at),
  };
};

function clerkProfile(options: Options<typeof profileSpec>): ProfileSource {
  const api = options.api_url.replace(/\/+$/, '');
  return {
    ttlSeconds: ttlSeconds(options.ttl),
    async fetch(sub, io) {
      const [key] = readSecrets(io.env, options.secret_key);
      return profileJson(
        'clerk',
        await io.fetch(`${api}/v1/users/${userSegment(sub)}`, { headers: { authorization: `Bearer ${key}` } }),
      );
    },
  };
}
