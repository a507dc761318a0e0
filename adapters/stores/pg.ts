/**
 * The Postgres driver: node-postgres (`pg`) for the `postgres` store (runtime/store/postgres.ts). The runtime core
 * never imports it; whoever composes a runtime hands it in as `connectPostgres`. The Worker gets it from the module
 * `switchyard build` generates (`.switchyard/manifests.drivers.ts`), only when a built manifest has a postgres store,
 * so a D1-only Worker bundles none of pg. Node callers (`switchyard test`, benches, tests) import it directly.
 */
import type pg from 'pg';
import type { PostgresBinding, PostgresConnect } from '../../runtime/store/postgres.ts';

/**
 * Opens a pg client through the binding (a Hyperdrive binding in the Worker). The caller ends it. `transport`
 * replaces the socket: `switchyard test` passes PGlite's pg connection, so its cases run this same driver and settings.
 * @example const client = await openPg(env.HYPERDRIVE); try { await client.query('SELECT 1') } finally { await client.end() }
 */
export async function openPg(binding: PostgresBinding, transport: { connection?: unknown } = {}): Promise<pg.Client> {
  // Imported on first use: an isolate that serves no postgres store never initializes the driver.
  const [{ default: driver }, cloudflare] = await Promise.all([import('pg'), import('pg-cloudflare')]);
  // In workerd pg opens its socket through pg-cloudflare (cloudflare:sockets). Bundlers pick it by the `workerd`
  // export condition, but vitest's workers pool resolves pg's own require() without it, so the socket is passed
  // explicitly; in Node the module is empty and pg uses net.Socket.
  const Socket = (cloudflare as { CloudflareSocket?: new (ssl: unknown) => unknown }).CloudflareSocket;
  const client = new driver.Client({
    connectionString: binding.connectionString,
    pipeline: true,
    // pg calls the factory with its config (lib/connection.js); @types/pg declares it without the argument.
    ...(Socket
      ? {
          stream: ((config: { ssl?: unknown }) =>
            new Socket(config.ssl ?? false)) as unknown as pg.ClientConfig['stream'],
        }
      : {}),
    ...(transport as pg.ClientConfig),
  });
  // A socket closed by end() reports once more, after the client is done with it: nothing to handle.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** {@link openPg} as the runtime's `connectPostgres`. */
export const connectPg: PostgresConnect = (binding) => openPg(binding);
