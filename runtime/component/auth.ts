import { readSecrets, type SecretEnv } from './context.ts';
import type { JWTPayload } from 'jose';
import { field } from './spec.ts';
import { pathSegment } from '../lib/url-paths.ts';

/**
 * What an auth provider builds: the settings of the generic JWT verifier, and hooks for what is its own. The core
 * checks the header's algorithm, the signature, `exp`, issuer, audience and required claims; the hooks say where
 * the key comes from when it is not a JWKS, and what else a provider refuses (Clerk's `azp`).
 */
export interface AuthHooks {
  /** Where the JSON Web Key Set is; absent when `key` gives the key. */
  jwksUrl?: string;
  /** A shared key instead of a JWKS (Supabase's legacy HS256 secret), read from the environment per request. */
  key?(env: SecretEnv): Uint8Array;
  issuer?: string | string[];
  audience?: string | string[];
  /** The algorithms a token may be signed with; the header's `alg` is checked against them before any key is read. */
  algorithms: string[];
  clockToleranceSeconds: number;
  requiredClaims: string[];
  /** A provider's own check of verified claims: the reason to refuse (401), or undefined to accept. */
  check?(claims: JWTPayload): string | undefined;
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

const record = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

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

/** The `key` hook for a shared HS* secret held in the env var `name` (read per request, failing closed when unset). */
export const sharedSecret =
  (name: string) =>
  (env: SecretEnv): Uint8Array =>
    new TextEncoder().encode(readSecrets(env, name)[0]);

/** Options every auth provider takes (spread into its spec). */
export const commonAuthSpec = {
  clock_tolerance: field.duration().default('5s').describe('Accepted clock skew for exp/nbf/iat.'),
  required_claims: field
    .list(field.string())
    .default([])
    .describe('Claims a token must carry, besides exp (always required).'),
};

/** The common options as the verifier takes them. */
export function commonAuth(options: {
  clock_tolerance: number;
  required_claims: string[];
}): Pick<AuthHooks, 'clockToleranceSeconds' | 'requiredClaims'> {
  return { clockToleranceSeconds: options.clock_tolerance / 1000, requiredClaims: options.required_claims };
}

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

/** Reads a provider API's JSON answer, or throws with its status. */
export async function profileJson(provider: string, res: Response): Promise<Record<string, unknown>> {
  if (!res.ok) throw new Error(`${provider} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * The user id as one URL path segment of a profile request. A `sub` that is (or decodes to) `.` or `..` would send
 * the provider key to another endpoint of its API: no profile is fetched for it.
 */
export function userSegment(sub: string): string {
  const segment = pathSegment(sub);
  if (segment === undefined) throw new Error('the user id is a dot segment (. or ..): its profile is not fetched');
  return segment;
}
