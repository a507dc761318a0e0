/**
 * Learnt secrets and arming. A handshake that hands over a secret (Asana's X-Hook-Secret, Notion's
 * verification_token) is unsigned, so anyone who knows the route could send one: the secret is kept only while the
 * operator has armed the integration (`switchyard handshake arm <name>`, the admin API), once, and the window closes
 * behind it. It is kept in KV per integration; a kept one is never replaced (forget it first), and a secret set in
 * the environment always takes precedence. It is read from KV per delivery (one KV read), not cached in the
 * isolate, so forgetting it takes effect everywhere within KV's propagation delay (about a minute).
 */
import { readSecrets, type SecretEnv } from '../component/context.ts';
import type { HandshakeAnswer, HandshakeStore, LearntSecrets } from '../component/handshake.ts';

export const handshakeKey = (integration: string, what: string) => `handshake:${integration}:${what}`;

/** How long `arm` opens the window by default, and at most: long enough to register a webhook, short for a race. */
export const ARM_DEFAULT_SECONDS = 10 * 60;

export const ARM_MAX_SECONDS = 60 * 60;

/** Arms an integration's secret-learning handshake until `now + seconds` (one handshake, then it closes). */
export async function arm(store: HandshakeStore, integration: string, now: number, seconds: number): Promise<string> {
  const until = new Date(now + seconds * 1000).toISOString();
  // KV expires keys lazily and no sooner than 60 s; the stored deadline is what counts.
  await store.put(handshakeKey(integration, 'armed'), until, { expirationTtl: Math.max(60, seconds) });
  return until;
}

/** Whether the operator's arming window is open for this integration. */
export async function isArmed(store: HandshakeStore, integration: string, now: number): Promise<boolean> {
  const until = await store.get(handshakeKey(integration, 'armed'));
  return until !== null && Date.parse(until) > now;
}

function envHas(env: SecretEnv, name: string): boolean {
  try {
    readSecrets(env, name);
    return true;
  } catch {
    return false;
  }
}

const refusal = (status: number, error: string, message: string): HandshakeAnswer => ({ status, contentType: 'application/json', body: JSON.stringify({ error, message }) });

/** The learnt secrets of one integration, for one request at `now`: the only way a handshake keeps a secret. */
export function learntSecrets(integration: string, env: SecretEnv, store: HandshakeStore | undefined, now: number): LearntSecrets {
  const read = async (name: string): Promise<Record<string, string>> => {
    if (envHas(env, name)) return {};
    const stored = await store?.get(handshakeKey(integration, 'secret'));
    return stored ? { [name]: stored } : {};
  };
  return {
    read,
    async keep(name, value, what) {
      const known = refusal(409, 'conflict', `a ${what} is already set for this integration; to register a new webhook, forget it (switchyard handshake forget) and arm again`);
      if (envHas(env, name)) return known;
      if (!store) return refusal(500, 'misconfigured', 'this handshake keeps a secret in KV, and the Worker has no KV binding');
      if (Object.keys(await read(name)).length) return known;
      if (!(await isArmed(store, integration, now))) {
        return refusal(403, 'forbidden', `this handshake sets the integration's signing secret, so it is accepted only while armed: run \`switchyard handshake arm ${integration}\`, then register the webhook`);
      }
      // Disarm first: a second handshake racing this one finds the window closed.
      await store.delete(handshakeKey(integration, 'armed'));
      await store.put(handshakeKey(integration, 'secret'), value);
      return undefined;
    },
  };
}
