import { readSecrets } from '../../runtime/component/context.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import {
  commonAuth,
  commonAuthSpec,
  profileJson,
  sharedSecret,
  userFields,
  userSegment,
  type AuthHooks,
  type ProfileSource,
} from '../../runtime/component/auth.ts';
import { profileTtl, ttlSeconds } from './profile.ts';

const profileSpec = {
  service_role_key: field.secret().describe('Env var with the service role key (admin API).'),
  ttl: profileTtl,
};

/**
 * Supabase Auth tokens: asymmetric signing keys via `<project>/auth/v1/.well-known/jwks.json` (ES256/RS256), or,
 * for legacy projects, the shared JWT secret with the algorithm pinned to HS256.
 */
export const supabaseAuth = defineComponent({
  kind: 'auth',
  name: 'supabase',
  title: 'SupabaseAuth',
  description: 'Supabase Auth tokens (JWKS signing keys, or the legacy HS256 secret).',
  spec: {
    project_url: field.string({ pattern: '^https?://' }).describe('e.g. https://abcd.supabase.co.'),
    jwt_secret: field.secret().optional().describe('Legacy projects: env var with the JWT secret (HS256 only).'),
    audience: field.string().default('authenticated').describe('The audience tokens are for.'),
    ...commonAuthSpec,
    profile: field
      .object(profileSpec)
      .optional()
      .describe('Fetch the full user from the Auth admin API (GET /auth/v1/admin/users/{id}).'),
  },
  example: { type: 'supabase', project_url: 'https://abcd.supabase.co' },
  create(options): AuthHooks {
    const base = `${options.project_url.replace(/\/+$/, '')}/auth/v1`;
    const secret = options.jwt_secret;
    return {
      // The legacy secret is read per request (a missing one fails closed, 500) and only HS256 may use it.
      ...(secret
        ? { key: sharedSecret(secret), algorithms: ['HS256'] }
        : { jwksUrl: `${base}/.well-known/jwks.json`, algorithms: ['ES256', 'RS256'] }),
      issuer: base,
      audience: options.audience,
      ...commonAuth(options),
      ...(options.profile ? { profile: supabaseProfile(base, options.profile) } : {}),
      user: supabaseUser,
    };
  },
});

const { text, record, iso } = userFields;

/**
 * Supabase puts the user in the access token itself: `email` and `user_metadata` (what sign-up stored, e.g.
 * `full_name`). The admin API's user, when `profile` is set, adds `created_at`.
 */
export const supabaseUser: NonNullable<AuthHooks['user']> = (claims, profile) => {
  const metadata = record(profile?.user_metadata) ?? record(claims.user_metadata) ?? {};
  return {
    email: text(profile?.email) ?? text(claims.email),
    name: text(metadata.full_name) ?? text(metadata.name),
    metadata,
    created_at: iso(profile?.created_at),
  };
};

function supabaseProfile(base: string, options: Options<typeof profileSpec>): ProfileSource {
  return {
    ttlSeconds: ttlSeconds(options.ttl),
    async fetch(sub, io) {
      const [key] = readSecrets(io.env, options.service_role_key);
      return profileJson(
        'supabase',
        await io.fetch(`${base}/admin/users/${userSegment(sub)}`, {
          headers: { apikey: key!, authorization: `Bearer ${key}` },
        }),
      );
    },
  };
}
