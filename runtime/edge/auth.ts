/**
 * Stateless JWT verification at the edge, for any provider: its auth component gives the settings and hooks (AuthHooks).
 *
 * - The token's header `alg` is checked against the provider's algorithms first, before any key is fetched; jose's
 *   jwtVerify then checks it again with explicit `algorithms` (so `alg: none` and HS256-signed-with-the-public-key
 *   fail), `exp` always required (jose accepts a token without it otherwise) and a clock tolerance.
 * - The JWKS is cached per isolate as DATA, never as a shared fetch promise: on Workers a promise created in one
 *   request cannot be awaited from another (panva/jose#509), so each request that needs keys fetches them itself
 *   and concurrent requests never hang on each other. A `kid` the cached set lacks triggers one refetch per
 *   cooldown; an unreachable JWKS answers 503 and never lets a token through.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { MissingSecretError, type SecretEnv } from '../component/context.ts';
import { CONTROL_CHARACTER } from '../lib/http.ts';
import type { Requirement } from '../manifest/types.gen.ts';
import { userFields, type AuthenticatedUser, type AuthHooks, type ProviderUser } from '../component/auth.ts';

const { text } = userFields;

export const JWKS_MAX_AGE_MS = 10 * 60_000;

export const JWKS_COOLDOWN_MS = 30_000;

/** The user as its provider's adapter maps it, over the standard OIDC claims (`email`, `name`). */
export function providerUser(
  config: AuthHooks | undefined,
  user: AuthenticatedUser,
  profile?: Record<string, unknown>,
): ProviderUser {
  const mapped = config?.user?.(user.claims, profile) ?? {};
  return {
    id: user.sub,
    email: mapped.email !== undefined ? mapped.email : text(user.claims.email),
    name: mapped.name !== undefined ? mapped.name : text(user.claims.name),
    metadata: mapped.metadata ?? {},
    created_at: mapped.created_at ?? null,
  };
}

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
export function createJwtVerifier(name: string, config: AuthHooks, deps: JwtVerifierDeps) {
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
      jwks = await fetchKeys().catch((error: unknown) =>
        error instanceof AuthError && error.status === 503 ? stale : Promise.reject(error),
      );
    }
    if (kid !== undefined && !jwks.keys.some((k) => k.kid === kid) && deps.now() - lastFetch >= JWKS_COOLDOWN_MS)
      jwks = await fetchKeys();
    return jwks;
  }

  const allowed = new Set(config.algorithms);

  // A shared key is imported once per value and algorithm, not by jose on every verify. The key itself is kept,
  // never a promise: on Workers a promise from one request cannot be awaited in another.
  let shared: { alg: string; bytes: Uint8Array; key: CryptoKey } | undefined;
  async function sharedKey(bytes: Uint8Array, alg: string): Promise<CryptoKey> {
    if (shared && shared.alg === alg && sameBytes(shared.bytes, bytes)) return shared.key;
    const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, [
      'verify',
    ]);
    shared = { alg, bytes, key };
    return key;
  }

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
      const payload = config.key
        ? (await jwtVerify(token, await sharedKey(config.key(env), header.alg), options)).payload
        : (await jwtVerify(token, createLocalJWKSet(await keysFor(header.kid)), options)).payload;
      const refused = config.check?.(payload);
      if (refused) throw new AuthError(401, refused);
      // The subject becomes the X-User-Id header: one that could not be a header value is not a subject.
      if (typeof payload.sub !== 'string' || payload.sub === '' || CONTROL_CHARACTER.test(payload.sub))
        throw new AuthError(401, 'claim_invalid:sub');
      return { provider: name, sub: payload.sub, claims: payload };
    } catch (error) {
      if (error instanceof MissingSecretError) throw error;
      throw reasonFor(error);
    }
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

export type JwtVerify = ReturnType<typeof createJwtVerifier>;

/**
 * True when the user's claims satisfy a `require:` (of a route or the admin API): every claim equal to its value
 * (a constant, or a Worker variable that is set and non-empty), and any one of the roles, in a string or array
 * claim.
 */
export function satisfies(
  user: AuthenticatedUser,
  requirement: Requirement | undefined,
  env: Readonly<Record<string, unknown>>,
): boolean {
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
