/**
 * Stateless JWT verification at the edge, for any provider that an auth adapter maps to a JwtConfig.
 *
 * - The token's header `alg` is checked against the provider's algorithms first, before any key is fetched; jose's
 *   jwtVerify then checks it again with explicit `algorithms` (so `alg: none` and HS256-signed-with-the-public-key
 *   fail), `exp` always required (jose accepts a token without it otherwise) and a clock tolerance.
 * - The JWKS is cached per isolate as DATA, never as a shared fetch promise: on Workers a promise created in one
 *   request cannot be awaited from another (panva/jose#509), so each request that needs keys fetches them itself
 *   and concurrent requests never hang on each other. A `kid` the cached set lacks triggers one refetch per
 *   cooldown; an unreachable JWKS answers 503 and never lets a token through.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { MissingSecretError, readSecrets, type SecretEnv } from '../component/adapter.ts';
import { parseDuration } from '../lib/duration.ts';
import { CONTROL_CHARACTER } from '../lib/http.ts';
import type { Requirement } from '../manifest/types.gen.ts';

export const JWKS_MAX_AGE_MS = 10 * 60_000;
export const JWKS_COOLDOWN_MS = 30_000;

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
  profile?: import('./profiles.ts').ProfileSource;
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

/** The user as its provider's adapter maps it, over the standard OIDC claims (`email`, `name`). */
export function providerUser(config: JwtConfig | undefined, user: AuthenticatedUser, profile?: Record<string, unknown>): ProviderUser {
  const mapped = config?.user?.(user.claims, profile) ?? {};
  return {
    id: user.sub,
    email: mapped.email !== undefined ? mapped.email : text(user.claims.email),
    name: mapped.name !== undefined ? mapped.name : text(user.claims.name),
    metadata: mapped.metadata ?? {},
    created_at: mapped.created_at ?? null,
  };
}

/** A date as ISO-8601 (from ISO text or epoch ms), or null. */
const iso = (v: unknown): string | null => {
  const d = typeof v === 'number' ? new Date(v) : typeof v === 'string' && v !== '' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
};

/** Helpers for adapters' `user` mappings: a non-empty string, an object, a date. */
export const userFields = { text, record, iso };

/** A refused or unverifiable token: 401 (the token) or 503 (the keys could not be had). */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly status: 401 | 503;
  readonly reason: string;
  constructor(status: 401 | 503, reason: string) {
    super(reason);
    this.status = status;
    this.reason = reason;
  }
}

export interface AuthenticatedUser {
  provider: string;
  sub: string;
  claims: JWTPayload;
}

export interface JwtVerifierDeps {
  fetch: typeof fetch;
  now: () => number;
}

function reasonFor(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError(401, 'token_expired');
  if (error instanceof errors.JWTClaimValidationFailed) return new AuthError(401, `claim_invalid:${error.claim}`);
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthError(401, 'algorithm_not_allowed');
  if (error instanceof errors.JWKSNoMatchingKey) return new AuthError(401, 'unknown_key');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthError(401, 'signature_invalid');
  return new AuthError(401, 'invalid_token');
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Builds a verifier for one provider. The JWKS cache lives as long as the verifier (one per isolate). */
export function createJwtVerifier(name: string, config: JwtConfig, deps: JwtVerifierDeps) {
  const requiredClaims = [...new Set(['exp', ...config.requiredClaims])];
  const options = {
    algorithms: config.algorithms,
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims,
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
  };
  let cached: { jwks: JSONWebKeySet; fetchedAt: number } | undefined;
  let lastFetch = -Infinity;

  async function fetchKeys(): Promise<JSONWebKeySet> {
    lastFetch = deps.now();
    let res: Response;
    try {
      res = await deps.fetch(config.jwksUrl!, { headers: { accept: 'application/json' } });
    } catch {
      throw new AuthError(503, 'jwks_unreachable');
    }
    if (!res.ok) throw new AuthError(503, 'jwks_unreachable');
    const jwks = (await res.json().catch(() => undefined)) as JSONWebKeySet | undefined;
    if (!jwks || !Array.isArray(jwks.keys)) throw new AuthError(503, 'jwks_malformed');
    cached = { jwks, fetchedAt: deps.now() };
    return jwks;
  }

  async function keysFor(kid: string | undefined): Promise<JSONWebKeySet> {
    if (!cached) return fetchKeys();
    let jwks = cached.jwks;
    if (deps.now() - cached.fetchedAt > JWKS_MAX_AGE_MS) {
      // Stale: refresh, but a stale set beats a 503 when the provider is briefly down.
      const stale = jwks;
      jwks = await fetchKeys().catch((error: unknown) => (error instanceof AuthError && error.status === 503 ? stale : Promise.reject(error)));
    }
    if (kid !== undefined && !jwks.keys.some((k) => k.kid === kid) && deps.now() - lastFetch >= JWKS_COOLDOWN_MS) jwks = await fetchKeys();
    return jwks;
  }

  const allowed = new Set(config.hs256Secret ? ['HS256'] : config.algorithms);

  return async function verify(token: string, env: SecretEnv): Promise<AuthenticatedUser> {
    try {
      // The header is checked before any key is read or fetched: a token naming an algorithm the provider does
      // not use (`none`, HS256 against a JWKS, anything unknown) is a 401, never a JWKS fetch nor a 503.
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw new AuthError(401, 'invalid_token');
      }
      if (typeof header.alg !== 'string' || !allowed.has(header.alg)) throw new AuthError(401, 'algorithm_not_allowed');
      let payload: JWTPayload;
      if (config.hs256Secret) {
        const [secret] = readSecrets(env, config.hs256Secret);
        payload = (await jwtVerify(token, new TextEncoder().encode(secret), { ...options, algorithms: ['HS256'] })).payload;
      } else {
        payload = (await jwtVerify(token, createLocalJWKSet(await keysFor(header.kid)), options)).payload;
      }
      const parties = config.authorizedParties;
      if (parties?.length && typeof payload.azp === 'string' && !parties.includes(payload.azp)) throw new AuthError(401, 'azp_not_allowed');
      // The subject becomes the X-User-Id header: one that could not be a header value is not a subject.
      if (typeof payload.sub !== 'string' || payload.sub === '' || CONTROL_CHARACTER.test(payload.sub)) throw new AuthError(401, 'claim_invalid:sub');
      return { provider: name, sub: payload.sub, claims: payload };
    } catch (error) {
      if (error instanceof MissingSecretError) throw error;
      throw reasonFor(error);
    }
  };
}

export type JwtVerify = ReturnType<typeof createJwtVerifier>;

/** An auth adapter maps one provider's options to the generic JWT settings. */
export interface AuthAdapter<O = any> {
  type: string;
  title: string;
  description: string;
  options: import('../component/adapter.ts').OptionsSchema;
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

/**
 * True when the user's claims satisfy a `require:` (of a route or the admin API): every claim equal to its value
 * (a constant, or a Worker variable that is set and non-empty), and any one of the roles, in a string or array
 * claim.
 */
export function satisfies(user: AuthenticatedUser, requirement: Requirement | undefined, env: Readonly<Record<string, unknown>>): boolean {
  if (!requirement) return true;
  for (const [claim, spec] of Object.entries(requirement.claims ?? {})) {
    const expected = typeof spec === 'object' ? env[spec.env] : spec;
    if (expected === undefined || expected === '' || user.claims[claim] !== expected) return false;
  }
  if (requirement.roles?.length) {
    const held = user.claims[requirement.roles_claim ?? 'roles'];
    const roles = asList(held as string | string[] | undefined);
    if (!requirement.roles.some((r) => roles.includes(r))) return false;
  }
  return true;
}
