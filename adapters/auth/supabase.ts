import { secretRefSchema } from '../../runtime/adapter.ts';
import { commonAuth, commonAuthOptions, type AuthAdapter } from '../../runtime/auth.ts';

interface SupabaseOptions {
  project_url: string;
  jwt_secret?: string;
  audience?: string;
  clock_tolerance?: string;
  required_claims?: string[];
}

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
    };
  },
};
