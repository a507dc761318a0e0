/**
 * Arming: a handshake that learns a secret from an unsigned request (Asana, Notion) is accepted only while the
 * operator has armed its integration (`switchyard handshake arm`), so nobody else can set the secret first.
 */
import type { HandshakeStore } from '../component/handshake.ts';

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
