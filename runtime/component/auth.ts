import type { SecretEnv } from './context.ts';
import type { JWTPayload } from 'jose';
import { parseDuration } from '../lib/duration.ts';

/** What every auth adapter produces: one provider's verification settings. */
export interface JwtConfig {
  jwksUrl?: string;
  /** Env var of an HS256 shared secret (Supabase legacy projects); the algorithm is then pinned to HS256. */
  hs256Secret?: string;
  issuer?: string | string[];
  audience?: string | string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  requiredClaims: string[];
  /** Clerk's `azp`: the origins a session token may come from. */
  authorizedParties?: string[];
  /** Where the full user profile comes from, when the provider's `profile` options are set. */
  profile?: ProfileSource;
  /** How this provider describes a user (its claims and profile shape): what `user.*` reads. Default: standard claims. */
  user?(claims: JWTPayload, profile: Record<string, unknown> | undefined): Partial<Omit<ProviderUser, 'id'>>;
}

/**
 * A signed-in user in one shape whichever provider signed the token: `user.*` in a route's `on_first_seen`, so a
 * projection into `users` survives switching `auth:` from Clerk to Supabase or Auth0. `metadata` is an object
 * (write it with `transform: json`); what the provider does not tell is null.
 */
export interface ProviderUser {
  id: string;
  email: string | null;
  name: string | null;
  metadata: Record<string, unknown>;
  created_at: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

const record = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** A date as ISO-8601 (from ISO text or epoch ms), or null. */
const iso = (v: unknown): string | null => {
  const d = typeof v === 'number' ? new Date(v) : typeof v === 'string' && v !== '' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
};

/** Helpers for adapters' `user` mappings: a non-empty string, an object, a date. */
export const userFields = { text, record, iso };

export interface AuthenticatedUser {
  provider: string;
  sub: string;
  claims: JWTPayload;
}

/** An auth adapter maps one provider's options to the generic JWT settings. */
export interface AuthAdapter<O = any> {
  type: string;
  title: string;
  description: string;
  options: import('../component/context.ts').OptionsSchema;
  example: O & { type: string };
  create(options: O): JwtConfig;
}

/** Options every auth adapter takes. */
export const commonAuthOptions = {
  clock_tolerance: { $ref: '#/definitions/Duration', description: 'Accepted clock skew for exp/nbf/iat (default 5s).' },
  required_claims: { type: 'array', items: { type: 'string' }, description: 'Claims a token must carry, besides exp (always required).' },
} as const;

/** The common options, parsed. */
export function commonAuth(options: { clock_tolerance?: string; required_claims?: string[] }): Pick<JwtConfig, 'clockToleranceSeconds' | 'requiredClaims'> {
  return { clockToleranceSeconds: options.clock_tolerance ? parseDuration(options.clock_tolerance) / 1000 : DEFAULT_CLOCK_TOLERANCE_SECONDS, requiredClaims: options.required_claims ?? [] };
}

/** jose defaults to no tolerance at all; a few seconds absorbs ordinary clock drift. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

export interface ProfileIO {
  env: SecretEnv;
  fetch: typeof fetch;
  kv?: KVNamespace;
  now: number;
}

/** What an auth adapter provides when its `profile` options are set. */
export interface ProfileSource {
  ttlSeconds: number;
  fetch(sub: string, io: ProfileIO): Promise<Record<string, unknown>>;
}
