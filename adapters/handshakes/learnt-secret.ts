/**
 * A secret the provider hands over in its handshake (Asana's X-Hook-Secret, Notion's verification_token) and then
 * signs with. It is kept in KV per integration; the first one wins, so a forged handshake cannot replace it, and a
 * secret set in the environment always takes precedence. Values are cached for the isolate's life once read.
 */
import { readSecrets, secretRefSchema } from '../../runtime/adapter.ts';
import { handshakeKey, type HandshakeContext } from '../../runtime/handshake.ts';

export const learntSecretOptions = {
  secret: { ...secretRefSchema, description: 'The secret name the verifier reads; the handshake provides its value unless the environment sets it.' },
  secret_store: { const: 'kv', description: 'Where the learnt secret is kept: the Worker\'s KV binding (default kv).' },
} as const;

const cache = new Map<string, string>();

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
  const key = handshakeKey(ctx.integration, 'secret');
  const cached = cache.get(key);
  if (cached) return { [name]: cached };
  const stored = await ctx.store?.get(key);
  if (!stored) return {};
  cache.set(key, stored);
  return { [name]: stored };
}

/** Keeps a secret from a handshake; false when one is known already (from the environment or an earlier handshake). */
export async function keepSecret(ctx: HandshakeContext, name: string, value: string): Promise<'kept' | 'known' | 'no_store'> {
  if (!ctx.store) return 'no_store';
  if (Object.keys(await learntSecrets(ctx, name)).length || envHas(ctx, name)) return 'known';
  await ctx.store.put(handshakeKey(ctx.integration, 'secret'), value);
  cache.set(handshakeKey(ctx.integration, 'secret'), value);
  return 'kept';
}

export const conflict = (what: string) => ({
  status: 409,
  contentType: 'application/json' as const,
  body: JSON.stringify({ error: 'conflict', message: `a ${what} is already recorded for this integration; delete it from KV to register a new webhook` }),
});

export const noStore = {
  status: 500,
  contentType: 'application/json' as const,
  body: JSON.stringify({ error: 'misconfigured', message: 'this handshake keeps a secret in KV, and the Worker has no KV binding' }),
};
