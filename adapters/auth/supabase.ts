import { readSecrets, secretRefSchema } from '../../runtime/component/context.ts';
import { commonAuthLegacy as commonAuth } from '../../runtime/component/legacy.ts';
import { commonAuthOptions, userFields, type AuthAdapter, type JwtConfig } from '../../runtime/component/auth.ts';
import { profileJson } from '../../runtime/edge/profiles.ts';
import { profileTtlSchema, profileTtlSeconds } from './profile.ts';
import type { SupabaseAuth } from '../../runtime/manifest/types.gen.ts';

type SupabaseOptions = Omit<SupabaseAuth, 'type'>;

/**
 * Supabase Auth tokens: asymmetric signing keys via `<project>/auth/v1/.well-known/jwks.json` (ES256/RS256), or,
 * for legacy projects, the shared JWT secret with the algorithm pinned to HS256.
 */
export const supabaseAuth: AuthAdapter<SupabaseOptions> = {
  type: 'supabase',
  title: 'SupabaseAuth',
  description: 'Supabase Auth tokens (JWKS signing keys, or the legacy HS256 secret).',
  options: {
    properties: {
      project_url: { type: 'string', pattern: '^https?://', description: 'e.g. https://abcd.supabase.co.' },
      jwt_secret: { ...secretRefSchema, description: 'Legacy projects: env var with the JWT secret (HS256 only).' },
      audience: { type: 'string', description: 'Default authenticated.' },
      ...commonAuthOptions,
      profile: {
        type: 'object',
        additionalProperties: false,
        required: ['service_role_key'],
        properties: { service_role_key: { ...secretRefSchema, description: 'Env var with the service role key (admin API).' }, ttl: profileTtlSchema },
        description: 'Fetch the full user from the Auth admin API (GET /auth/v1/admin/users/{id}).',
      },
    },
    required: ['project_url'],
  },
  example: { type: 'supabase', project_url: 'https://abcd.supabase.co' },
  create(options) {
    const base = `${options.project_url.replace(/\/+$/, '')}/auth/v1`;
    return {
      ...(options.jwt_secret ? { hs256Secret: options.jwt_secret } : { jwksUrl: `${base}/.well-known/jwks.json` }),
      issuer: base,
      audience: options.audience ?? 'authenticated',
      algorithms: options.jwt_secret ? ['HS256'] : ['ES256', 'RS256'],
      ...commonAuth(options),
      ...(options.profile ? { profile: supabaseProfile(base, options.profile) } : {}),
      user: supabaseUser,
    };
  },
};

const { text, record, iso } = userFields;

/**
 * Supabase puts the user in the access token itself: `email` and `user_metadata` (what sign-up stored, e.g.
 * `full_name`). The admin API's user, when `profile` is set, adds `created_at`.
 */
export const supabaseUser: NonNullable<JwtConfig['user']> = (claims, profile) => {
  const metadata = record(profile?.user_metadata) ?? record(claims.user_metadata) ?? {};
  return { email: text(profile?.email) ?? text(claims.email), name: text(metadata.full_name) ?? text(metadata.name), metadata, created_at: iso(profile?.created_at) };
};

function supabaseProfile(base: string, options: NonNullable<SupabaseOptions['profile']>) {
  return {
    ttlSeconds: profileTtlSeconds(options.ttl),
    async fetch(sub: string, io: { env: Readonly<Record<string, unknown>>; fetch: typeof fetch }) {
      const [key] = readSecrets(io.env, options.service_role_key);
      return profileJson('supabase', await io.fetch(`${base}/admin/users/${encodeURIComponent(sub)}`, { headers: { apikey: key!, authorization: `Bearer ${key}` } }));
    },
  };
}
