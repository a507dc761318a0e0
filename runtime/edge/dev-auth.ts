/**
 * The local dev issuer: under `switchyard dev`, with no network, a provider's JWKS cannot be fetched, so every
 * JWT-protected route would answer 503. With the Worker variable SWITCHYARD_DEV_AUTH=1 (set by `switchyard dev`
 * or in .dev.vars, never in wrangler.toml: `validate` refuses it there), each configured auth provider ALSO accepts
 * tokens that the CLI signs with a local key (`switchyard token`), issued by `switchyard-dev`.
 *
 * It is provider-agnostic: a dev token names the provider it stands in for in one claim, and the provider's own
 * audience, required claims and algorithms-before-keys rules still apply; only the issuer and the keys change.
 * It can never be used outside local dev: a dev token is refused (401) unless the variable is set AND the request
 * came to localhost, 127.0.0.1 or [::1]; a deployed Worker is never reached under those names.
 */
import { decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify, type JWK } from 'jose';
import { AuthError, type JwtVerify } from './auth.ts';
import type { AuthHooks } from '../component/auth.ts';
import type { SecretEnv } from '../component/context.ts';
import { CONTROL_CHARACTER } from '../lib/http.ts';

/** The issuer of every dev token: clearly not a real provider. */
export const DEV_ISSUER = 'switchyard-dev';
/** The Worker variable that turns the dev issuer on (local dev only). */
export const DEV_AUTH_VAR = 'SWITCHYARD_DEV_AUTH';
/** The Worker variable carrying the dev issuer's public JWK (JSON). */
export const DEV_JWK_VAR = 'SWITCHYARD_DEV_JWK';
/** The claim naming the auth provider (its name in the manifest) a dev token stands in for. */
export const DEV_PROVIDER_CLAIM = 'switchyard_dev_provider';
export const DEV_ALGORITHM = 'ES256';

/** Marks a request's env as one that came to a loopback host (set by the app, never by a variable). */
export const LOCAL_REQUEST = Symbol('switchyard.localRequest');

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True when the dev issuer is switched on by the Worker's variables. */
export const devAuthEnabled = (env: Readonly<Record<PropertyKey, unknown>> | undefined) =>
  env?.[DEV_AUTH_VAR] === '1' || env?.[DEV_AUTH_VAR] === 1;

/** True when a request was addressed to this machine's loopback (what `wrangler dev` serves on). */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return LOOPBACK.has(host) || host.endsWith('.localhost');
}

/**
 * The env a request's handlers see: unchanged unless the dev issuer is on, then marked when the request came to a
 * loopback host. The mark is a symbol, so no variable or binding can set it.
 */
export function devAuthEnv<E extends object>(env: E, url: string): E {
  if (!devAuthEnabled(env as Record<PropertyKey, unknown>) || !isLoopbackUrl(url)) return env;
  return { ...env, [LOCAL_REQUEST]: true };
}

function unverifiedIssuer(token: string): unknown {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

/**
 * Wraps one provider's verifier: a token issued by `switchyard-dev` is checked against the dev key (and refused
 * unless dev auth is on for this request); any other token goes to the provider's verifier, unchanged.
 */
export function withDevIssuer(name: string, config: AuthHooks, verify: JwtVerify): JwtVerify {
  let key: { jwk: string; key: Promise<CryptoKey | Uint8Array> } | undefined;
  return async function verifyOrDev(token, env: SecretEnv) {
    if (unverifiedIssuer(token) !== DEV_ISSUER) return verify(token, env);
    const vars = env as Record<PropertyKey, unknown>;
    if (!devAuthEnabled(vars)) throw new AuthError(401, 'dev_issuer_disabled');
    if (vars[LOCAL_REQUEST] !== true) throw new AuthError(401, 'dev_issuer_not_local');
    const jwk = vars[DEV_JWK_VAR];
    if (typeof jwk !== 'string' || jwk === '') throw new AuthError(401, 'dev_issuer_no_key');
    try {
      if (decodeProtectedHeader(token).alg !== DEV_ALGORITHM) throw new AuthError(401, 'algorithm_not_allowed');
      if (key?.jwk !== jwk) key = { jwk, key: importJWK(JSON.parse(jwk) as JWK, DEV_ALGORITHM) };
      const { payload } = await jwtVerify(token, await key.key, {
        issuer: DEV_ISSUER,
        algorithms: [DEV_ALGORITHM],
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: [...new Set(['exp', 'sub', DEV_PROVIDER_CLAIM, ...config.requiredClaims])],
        ...(config.audience !== undefined ? { audience: config.audience } : {}),
      });
      if (payload[DEV_PROVIDER_CLAIM] !== name) throw new AuthError(401, 'dev_issuer_other_provider');
      if (typeof payload.sub !== 'string' || payload.sub === '' || CONTROL_CHARACTER.test(payload.sub))
        throw new AuthError(401, 'claim_invalid:sub');
      return { provider: name, sub: payload.sub, claims: payload };
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError(401, error instanceof errors.JWTExpired ? 'token_expired' : 'dev_issuer_invalid_token');
    }
  };
}
