/** TEMPORARY (deleted before this work lands): the adapter shapes before defineComponent, while adapters move over. */
import type { OptionsSchema, SecretEnv } from './context.ts';
import type { AuthHooks } from './auth.ts';
import { parseDuration } from '../lib/duration.ts';

interface Base<O> { type: string; title: string; description: string; options: OptionsSchema; example: O & { type: string } }
export interface JwtConfig extends Omit<AuthHooks, 'key' | 'check'> { hs256Secret?: string; authorizedParties?: string[] }
export interface AuthAdapter<O = any> extends Base<O> { create(options: O): JwtConfig }
export const commonAuthOptions = {
  clock_tolerance: { $ref: '#/definitions/Duration', description: 'Accepted clock skew for exp/nbf/iat (default 5s).' },
  required_claims: { type: 'array', items: { type: 'string' }, description: 'Claims a token must carry, besides exp (always required).' },
} as const;
export function commonAuthLegacy(options: { clock_tolerance?: string; required_claims?: string[] }) {
  return { clockToleranceSeconds: options.clock_tolerance ? parseDuration(options.clock_tolerance) / 1000 : 5, requiredClaims: options.required_claims ?? [] };
}
export type { SecretEnv };
