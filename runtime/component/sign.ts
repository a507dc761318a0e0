/** Signing a request as a provider would, from a manifest's verifier block (for `switchyard send`, tests, `capture`). */
import { optionsOf, type Component } from './define.ts';
import { secretNames } from './spec.ts';
import type { SignRequest } from './verifier.ts';

/** Signs with whichever signer the verifier has; the body comes back changed only for body-carried schemes. */
export async function signRequest(
  component: Component<'verifier'>,
  block: object,
  request: SignRequest,
): Promise<{ headers: Record<string, string>; body: string }> {
  const options = optionsOf(component, block);
  if (component.signBody) return component.signBody(options, request);
  if (!component.sign) throw new Error(`the ${component.name} scheme cannot sign`);
  return { headers: await component.sign(options, request), body: request.body };
}

/**
 * The secret names a verifier block gives, per secret option in spec order (`secret`, or `username` and `password`,
 * or `public_key`): what a signer needs, the first name of each, in `SignRequest.secrets` order.
 */
export const secretNamesOf = (component: Component<'verifier'>, block: object): string[][] =>
  secretNames(component.spec, block as Record<string, unknown>);
