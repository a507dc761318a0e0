/**
 * The operator's side of handshakes that learn a secret (Asana's X-Hook-Secret, Notion's verification_token):
 * such a handshake is an unsigned request that sets the route's signing secret, so it is accepted only within a
 * window the operator opens here, right before registering the webhook. Mounted under the admin API, behind its
 * credential. Costs: arm is 1 KV write, forget 2 KV deletes, status 2 KV reads per integration.
 */
import { Hono } from 'hono';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { arm, ARM_DEFAULT_SECONDS, ARM_MAX_SECONDS, handshakeKey, isArmed } from '../edge/handshake.ts';
import { type HandshakeStore } from '../component/handshake.ts';
import { httpError } from '../lib/http.ts';
import { handshakeStore } from '../edge/ingest.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import type { Emit } from '../lib/telemetry.ts';

type Env = { Bindings: RuntimeEnv; Variables: { actor: string } };

/** The admin routes under /handshakes. */
export function handshakesApi(compiled: CompiledManifest, emit: Emit, now: () => number): Hono<Env> {
  const api = new Hono<Env>();
  const learning = (): string[] => [...compiled.integrations.values()].filter((i) => i.handshake?.secrets).map((i) => i.name);
  const target = (name: string, env: RuntimeEnv): HandshakeStore => {
    if (!learning().includes(name)) throw httpError(404, { error: 'not_found', message: `integration ${name} has no handshake that learns a secret` });
    const store = handshakeStore(env);
    if (!store) throw httpError(500, { error: 'misconfigured', message: 'handshakes keep their secret in KV, and the Worker has no KV binding' });
    return store;
  };

  /** Which integrations learn a secret from a handshake, whether they have one, and whether they are armed. */
  api.get('/', async (c) => {
    const store = handshakeStore(c.env);
    const at = now();
    const rows = await Promise.all(
      learning().map(async (integration) => ({
        integration,
        secret_set: store ? (await store.get(handshakeKey(integration, 'secret'))) !== null : false,
        armed: store ? await isArmed(store, integration, at) : false,
      })),
    );
    return c.json({ handshakes: rows });
  });

  /** Opens the window for one handshake (default 10 minutes, at most 1 hour); refused while a secret is set. */
  api.post('/:integration/arm', async (c) => {
    const integration = c.req.param('integration');
    const store = target(integration, c.env);
    const text = c.req.query('seconds');
    const seconds = text === undefined ? ARM_DEFAULT_SECONDS : /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(seconds >= 1 && seconds <= ARM_MAX_SECONDS)) throw httpError(400, { error: 'bad_request', message: `seconds is 1 to ${ARM_MAX_SECONDS}` });
    if ((await store.get(handshakeKey(integration, 'secret'))) !== null) throw httpError(409, { error: 'conflict', message: `integration ${integration} has a secret from an earlier handshake; forget it first` });
    const until = await arm(store, integration, now(), seconds);
    emit({ kind: 'handshake.armed', integration, until, actor: c.get('actor') ?? 'admin' });
    return c.json({ integration, armed_until: until });
  });

  /** Forgets the learnt secret (and any open window): deliveries are refused until a new handshake is armed and kept. */
  api.delete('/:integration/secret', async (c) => {
    const integration = c.req.param('integration');
    const store = target(integration, c.env);
    await store.delete(handshakeKey(integration, 'secret'));
    await store.delete(handshakeKey(integration, 'armed'));
    emit({ kind: 'handshake.forgotten', integration, actor: c.get('actor') ?? 'admin' });
    return c.json({ integration, forgotten: true });
  });

  return api;
}
