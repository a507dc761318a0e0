/**
 * The operator's side of handshakes that learn a secret (Asana's X-Hook-Secret, Notion's verification_token):
 * such a handshake is an unsigned request that sets the route's signing secret, so it is accepted only within a
 * window the operator opens here, right before registering the webhook. Mounted under the admin API, behind its
 * credential. Kept in D1 (handshake_secrets): arm is one conditional upsert (refused while a secret is kept), forget
 * one delete, status one row read per integration.
 */
import { Hono } from 'hono/tiny';
import type { RuntimeEnv } from '../lib/envelope.ts';
import {
  ARM_DEFAULT_SECONDS,
  ARM_MAX_SECONDS,
  isArmed,
  keptSecret,
  legacyKvKey,
  type HandshakeBindings,
} from '../edge/handshake.ts';
import { httpError } from '../lib/http.ts';
import { handshakeBindings } from '../edge/ingest.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import type { Emit } from '../lib/telemetry.ts';
import { armHandshake, forgetHandshake, handshakeRow } from '../store/index.ts';

type Env = { Bindings: RuntimeEnv; Variables: { actor: string } };

/** The admin routes under /handshakes. */
export function handshakesApi(compiled: CompiledManifest, emit: Emit, now: () => number): Hono<Env> {
  const api = new Hono<Env>();
  const learning = (): string[] =>
    [...compiled.integrations.values()].filter((i) => i.handshake?.secrets).map((i) => i.name);
  const target = (name: string, env: RuntimeEnv): HandshakeBindings => {
    if (!learning().includes(name))
      throw httpError(404, {
        error: 'not_found',
        message: `integration ${name} has no handshake that learns a secret`,
      });
    return handshakeBindings(env);
  };

  /** Which integrations learn a secret from a handshake, whether they have one, and whether they are armed. */
  api.get('/', async (c) => {
    const bindings = handshakeBindings(c.env);
    const at = now();
    const rows = await Promise.all(
      learning().map(async (integration) => ({
        integration,
        secret_set: (await keptSecret(bindings, integration, at)) !== null,
        armed: isArmed(await handshakeRow(bindings.db, integration), at),
      })),
    );
    return c.json({ handshakes: rows });
  });

  /** Opens the window for one handshake (default 10 minutes, at most 1 hour); refused while a secret is set. */
  api.post('/:integration/arm', async (c) => {
    const integration = c.req.param('integration');
    const bindings = target(integration, c.env);
    const text = c.req.query('seconds');
    const seconds = text === undefined ? ARM_DEFAULT_SECONDS : /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(seconds >= 1 && seconds <= ARM_MAX_SECONDS))
      throw httpError(400, { error: 'bad_request', message: `seconds is 1 to ${ARM_MAX_SECONDS}` });
    const at = now();
    const conflict = () =>
      httpError(409, {
        error: 'conflict',
        message: `integration ${integration} has a secret from an earlier handshake; forget it first`,
      });
    if ((await keptSecret(bindings, integration, at)) !== null) throw conflict();
    const until = new Date(at + seconds * 1000).toISOString();
    if (!(await armHandshake(bindings.db, integration, until, new Date(at).toISOString()))) throw conflict();
    emit({ kind: 'handshake.armed', integration, until, actor: c.get('actor') ?? 'admin' });
    return c.json({ integration, armed_until: until });
  });

  /** Forgets the learnt secret (and any open window): deliveries are refused until a new handshake is armed and kept. */
  api.delete('/:integration/secret', async (c) => {
    const integration = c.req.param('integration');
    const bindings = target(integration, c.env);
    await forgetHandshake(bindings.db, integration).run();
    // A secret an earlier version kept in KV would otherwise be adopted again on the next read.
    await bindings.kv?.delete(legacyKvKey(integration));
    emit({ kind: 'handshake.forgotten', integration, actor: c.get('actor') ?? 'admin' });
    return c.json({ integration, forgotten: true });
  });

  return api;
}
