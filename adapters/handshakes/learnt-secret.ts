/**
 * A secret the provider hands over in its handshake (Asana's X-Hook-Secret, Notion's verification_token) and then
 * signs with. Such a handshake is unsigned, so anyone who knows the route could send one: it is accepted only while
 * the operator has armed the integration (`switchyard handshake arm <name>`, the admin API), once, and the window
 * closes behind it. The secret is kept in KV per integration; a kept one is never replaced (forget it first), and a
 * secret set in the environment always takes precedence. It is read from KV per delivery (one KV read), not cached
 * in the isolate, so forgetting it takes effect everywhere within KV's propagation delay (about a minute).
 */
import { readSecrets } from '../../runtime/component/context.ts';
import { field } from '../../runtime/component/spec.ts';
import { handshakeKey, isArmed } from '../../runtime/edge/handshake.ts';
import { type HandshakeContext } from '../../runtime/component/handshake.ts';

/** The options of a handshake that learns the verifier's secret. */
export const learntSecretSpec = {
  secret: field.secret().describe('The secret name the verifier reads; the handshake provides its value unless the environment sets it.'),
  secret_store: field.schema<'kv'>({ const: 'kv' }).default('kv').describe("Where the learnt secret is kept: the Worker's KV binding."),
};

function envHas(ctx: HandshakeContext, name: string): boolean {
  try {
    readSecrets(ctx.env, name);
    return true;
  } catch {
    return false;
  }
}

/** The stored secret for an integration, when the environment does not set one. */
export async function learntSecrets(ctx: HandshakeContext, name: string): Promise<Record<string, string>> {
  if (envHas(ctx, name)) return {};
  const stored = await ctx.store?.get(handshakeKey(ctx.integration, 'secret'));
  return stored ? { [name]: stored } : {};
}

/**
 * Keeps a secret from a handshake: `known` when one is set already (environment or an earlier handshake),
 * `not_armed` when the operator has not armed the integration, `kept` (and disarmed) otherwise.
 */
export async function keepSecret(ctx: HandshakeContext, name: string, value: string): Promise<'kept' | 'known' | 'not_armed' | 'no_store'> {
  if (envHas(ctx, name)) return 'known';
  if (!ctx.store) return 'no_store';
  if (Object.keys(await learntSecrets(ctx, name)).length) return 'known';
  if (!(await isArmed(ctx.store, ctx.integration, ctx.now))) return 'not_armed';
  // Disarm first: a second handshake racing this one finds the window closed.
  await ctx.store.delete(handshakeKey(ctx.integration, 'armed'));
  await ctx.store.put(handshakeKey(ctx.integration, 'secret'), value);
  return 'kept';
}

export const conflict = (what: string) => ({
  status: 409,
  contentType: 'application/json' as const,
  body: JSON.stringify({ error: 'conflict', message: `a ${what} is already set for this integration; to register a new webhook, forget it (switchyard handshake forget) and arm again` }),
});

export const notArmed = (integration: string) => ({
  status: 403,
  contentType: 'application/json' as const,
  body: JSON.stringify({ error: 'forbidden', message: `this handshake sets the integration's signing secret, so it is accepted only while armed: run \`switchyard handshake arm ${integration}\`, then register the webhook` }),
});

export const noStore = {
  status: 500,
  contentType: 'application/json' as const,
  body: JSON.stringify({ error: 'misconfigured', message: 'this handshake keeps a secret in KV, and the Worker has no KV binding' }),
};

/** The answer for a refused keep, or undefined when the secret was kept. */
export function refusal(kept: Awaited<ReturnType<typeof keepSecret>>, ctx: HandshakeContext, what: string) {
  return kept === 'no_store' ? noStore : kept === 'known' ? conflict(what) : kept === 'not_armed' ? notArmed(ctx.integration) : undefined;
}
