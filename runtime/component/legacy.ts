/** TEMPORARY (deleted before this work lands): the adapter shapes before defineComponent, while adapters move over. */
import type { OptionsSchema, SecretEnv } from './context.ts';
import type { CompiledStep, StepCompileContext } from './step.ts';
import type { ActionCompileContext, CompiledAction } from './action.ts';
import type { AuthHooks } from './auth.ts';
import type { EndpointHandler } from './endpoint.ts';
import { parseDuration } from '../lib/duration.ts';

interface Base<O> { type: string; title: string; description: string; options: OptionsSchema; example: O & { type: string } }
export interface StepAdapter<O = any, C extends CompiledStep = CompiledStep> { key: string; title: string; description: string; options: OptionsSchema; example: O; compile(options: O, ctx: StepCompileContext): C }
export interface ActionAdapter<O = any> { type: string; title: string; description: string; options: OptionsSchema; example: O & { action: string }; create(options: O, ctx: ActionCompileContext): CompiledAction }
export interface JwtConfig extends Omit<AuthHooks, 'key' | 'check'> { hs256Secret?: string; authorizedParties?: string[] }
export interface AuthAdapter<O = any> extends Base<O> { create(options: O): JwtConfig }
export interface EndpointAdapter<O = any> extends Base<O> { auth: 'required' | 'optional'; queue?: boolean; create(options: O): EndpointHandler }
export const commonAuthOptions = {
  clock_tolerance: { $ref: '#/definitions/Duration', description: 'Accepted clock skew for exp/nbf/iat (default 5s).' },
  required_claims: { type: 'array', items: { type: 'string' }, description: 'Claims a token must carry, besides exp (always required).' },
} as const;
export function commonAuthLegacy(options: { clock_tolerance?: string; required_claims?: string[] }) {
  return { clockToleranceSeconds: options.clock_tolerance ? parseDuration(options.clock_tolerance) / 1000 : 5, requiredClaims: options.required_claims ?? [] };
}
export type { SecretEnv };
