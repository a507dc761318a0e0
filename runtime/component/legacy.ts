/** TEMPORARY (deleted before this work lands): the adapter shapes before defineComponent, while adapters move over. */
import type { OptionsSchema, SecretEnv } from './context.ts';
import type { Verifier, SignRequest } from './verifier.ts';
import type { CompiledStep, StepCompileContext } from './step.ts';
import type { ActionCompileContext, CompiledAction } from './action.ts';
import type { EndpointHandler } from './endpoint.ts';
import type { Handshake } from './handshake.ts';

interface Base<O> { type: string; title: string; description: string; options: OptionsSchema; example: O & { type: string } }
export interface VerifierAdapter<O = any> extends Base<O> {
  create(options: O): Verifier;
  signedHeaders?(options: O): string[];
  signsBody?: false;
  coversBody?(options: O): boolean;
  sign?(options: O, request: SignRequest): Promise<Record<string, string>>;
  signBody?(options: O, request: SignRequest): Promise<{ headers: Record<string, string>; body: string }>;
  keyPair?(options: O): Promise<{ publicKey: string; privateKey: string }>;
}
export interface StepAdapter<O = any, C extends CompiledStep = CompiledStep> { key: string; title: string; description: string; options: OptionsSchema; example: O; compile(options: O, ctx: StepCompileContext): C }
export interface ActionAdapter<O = any> { type: string; title: string; description: string; options: OptionsSchema; example: O & { action: string }; create(options: O, ctx: ActionCompileContext): CompiledAction }
export interface EndpointAdapter<O = any> extends Base<O> { auth: 'required' | 'optional'; queue?: boolean; create(options: O): EndpointHandler }
export interface HandshakeAdapter<O = any> extends Base<O> { create(options: O): Handshake }
export type { SecretEnv };
