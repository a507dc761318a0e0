/**
 * Learnt secrets and arming. A handshake that hands over a secret (Asana's X-Hook-Secret, Notion's
 * verification_token) is unsigned, so anyone who knows the route could send one: the secret is kept only while the
 * operator has armed the integration (`switchyard handshake arm <name>`, the admin API), once, and the window closes
 * behind it. It is kept in D1 (table handshake_secrets), where keeping it is one conditional write that exactly one
 * of two racing handshakes wins (KV, where it used to live, let both win); a kept one is never replaced (forget it
 * first), and a secret set in the environment always takes precedence. It is read per delivery (one D1 row read),
 * not cached in the isolate, so forgetting it takes effect at once everywhere.
 */
import { readSecrets, type SecretEnv } from '../component/context.ts';
import type { HandshakeAnswer, LearntSecrets } from '../component/handshake.ts';
import { adoptHandshakeSecret, handshakeRow, keepHandshakeSecret, type HandshakeRow } from '../store/index.ts';

/** How long `arm` opens the window by default, and at most: long enough to register a webhook, short for a race. */
export const ARM_DEFAULT_SECONDS = 10 * 60;

export const ARM_MAX_SECONDS = 60 * 60;

/** Where learnt secrets live: D1, and KV only to adopt a secret an earlier version kept there. */
export interface HandshakeBindings {
  db: D1Database;
  kv?: KVNamespace;
}

/** The KV key an earlier version kept a learnt secret under (adopted into D1 on its first read, deleted on forget). */
export const legacyKvKey = (integration: string) => `handshake:${integration}:secret`;

/** Whether the operator's arming window is open at `now`. */
export const isArmed = (row: HandshakeRow | null, now: number): boolean =>
  row?.armed_until != null && Date.parse(row.armed_until) > now;

/** The kept secret of an integration, adopting one an earlier version kept in KV when D1 has no row for it. */
export async function keptSecret(b: HandshakeBindings, integration: string, now: number): Promise<string | null> {
  const row = await handshakeRow(b.db, integration);
  if (row?.secret) return row.secret;
  if (row || !b.kv) return null;
  const legacy = await b.kv.get(legacyKvKey(integration));
  if (legacy === null) return null;
  await adoptHandshakeSecret(b.db, integration, legacy, new Date(now).toISOString()).run();
  return (await handshakeRow(b.db, integration))?.secret ?? null;
}

function envHas(env: SecretEnv, name: string): boolean {
  try {
    readSecrets(env, name);
    return true;
  } catch {
    return false;
  }
}

const refusal = (status: number, error: string, message: string): HandshakeAnswer => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify({ error, message }),
});

/** The learnt secrets of one integration, for one request at `now`: the only way a handshake keeps a secret. */
export function learntSecrets(
  integration: string,
  env: SecretEnv,
  bindings: HandshakeBindings,
  now: number,
): LearntSecrets {
  const read = async (name: string): Promise<Record<string, string>> => {
    if (envHas(env, name)) return {};
    const secret = await keptSecret(bindings, integration, now);
    return secret ? { [name]: secret } : {};
  };
  return {
    read,
    async keep(name, value, what) {
      const known = refusal(
        409,
        'conflict',
        `a ${what} is already set for this integration; to register a new webhook, forget it (switchyard handshake forget) and arm again`,
      );
      if (envHas(env, name)) return known;
      // One write decides: armed, no secret yet, and the window closes with it.
      if (await keepHandshakeSecret(bindings.db, integration, value, new Date(now).toISOString())) return undefined;
      if (await keptSecret(bindings, integration, now)) return known;
      return refusal(
        403,
        'forbidden',
        `this handshake sets the integration's signing secret, so it is accepted only while armed: run \`switchyard handshake arm ${integration}\`, then register the webhook`,
      );
    },
  };
}
