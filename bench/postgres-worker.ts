/**
 * The Postgres consumer benchmark's Worker: the same batch of subscription upserts applied three ways, in workerd,
 * Postgres reached through miniflare's Hyperdrive binding over TCP:
 *  - d1: the runtime projecting into D1 (the default store), as bench/consumer.ts measures it;
 *  - postgres: the runtime projecting into a `postgres` store (runtime/store/postgres.ts, the Worker's own module):
 *    one Postgres transaction per batch with the applied-markers, then the event log's record in D1;
 *  - hand: a hand-written consumer with the same guarantee in Postgres alone: one transaction per batch holding a
 *    marker per message (`processed`) and its projection; no event log.
 * Every response is the metered D1 cost of the request (bench/meter.ts).
 */
import { defaultRegistry } from '../worker/registry.ts';
import type { ConsumerMessage } from '../runtime/consumer/consumer.ts';
import type { Envelope, RuntimeEnv } from '../runtime/lib/envelope.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { claimStatement } from '../runtime/store/index.ts';
import { connectPg, openPg } from '../adapters/stores/pg.ts';
import type { PostgresBinding } from '../runtime/store/postgres.ts';
import { meteredEnv, newMeter, serializingEmit } from './meter.ts';

const SUBSCRIPTION_SQL = `INSERT INTO subscriptions (id, customer_id, status, plan_id, version) VALUES (:id, :customer, :status, :plan, :version)
ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, plan_id = excluded.plan_id, version = excluded.version
WHERE subscriptions.version IS NULL OR excluded.version > subscriptions.version`;
const step = {
  sql: SUBSCRIPTION_SQL,
  params: { id: 'data.id', customer: 'data.customer', status: 'data.status', plan: 'data.plan', version: '@version' },
};

const manifest = (store: 'd1' | 'app'): Manifest => ({
  version: 1,
  queues: { events: { binding: 'EVENTS_QUEUE' } },
  stores: { app: { type: 'postgres', binding: 'HYPERDRIVE', migrations: 'examples/postgres-migrations' } },
  integrations: {
    bench: {
      route: '/webhooks/bench',
      verifier: { type: 'token', secret: 'BENCH_TOKEN' },
      event: { id: 'id', type: 'type' },
      queue: 'events',
      handlers: [{ on: 'one', store, steps: [step] }],
    },
  },
});
const emit = serializingEmit();
const runtimes = {
  d1: createRuntime({
    compiled: compileManifest(manifest('d1'), defaultRegistry),
    environment: 'bench',
    hash: 'bench',
    emit,
  }),
  postgres: createRuntime({
    compiled: compileManifest(manifest('app'), defaultRegistry),
    environment: 'bench',
    hash: 'bench',
    emit,
    connectPostgres: connectPg,
  }),
};

function envelopes(run: string, n: number): Envelope[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${run}_${i}`;
    return {
      integration: 'bench',
      id,
      type: 'one',
      occurred_at: '2024-01-01T00:00:00.000Z',
      received_at: '2024-01-01T00:00:01.000Z',
      payload: { id, type: 'one', data: { id: `sub_${id}`, customer: `cus_${id}`, status: 'active', plan: 'price_1' } },
      seq: i + 1,
    };
  });
}

const HAND_SQL = SUBSCRIPTION_SQL.replace(':id', '$1')
  .replace(':customer', '$2')
  .replace(':status', '$3')
  .replace(':plan', '$4')
  .replace(':version', '$5');

/** The hand-written Postgres consumer: one transaction per batch, a marker per message, then its projection. */
async function hand(binding: PostgresBinding, batch: Envelope[]): Promise<number> {
  const client = await openPg(binding);
  try {
    await client.query('BEGIN');
    for (const e of batch) {
      const d = (e.payload as { data: Record<string, string> }).data;
      const fresh = await client.query('INSERT INTO processed (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id', [
        `${e.integration}:${e.id}`,
      ]);
      if (fresh.rowCount)
        await client.query(HAND_SQL, [d.id, d.customer, d.status, d.plan, `${e.occurred_at}#${e.seq}`]);
    }
    await client.query('COMMIT');
    return batch.length;
  } finally {
    await client.end();
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 100);
    const batch = envelopes(url.searchParams.get('run') ?? crypto.randomUUID(), n);
    if (url.pathname === '/seed') {
      const now = Date.now();
      await env.DB.batch(
        batch.map((e) => claimStatement(env.DB, e, JSON.stringify(e.payload), crypto.randomUUID(), now)),
      );
      return new Response('ok');
    }
    const meter = newMeter();
    const metered = meteredEnv(env, meter);
    let acked = 0;
    if (url.pathname === '/hand') acked = await hand(env.HYPERDRIVE as PostgresBinding, batch);
    else {
      const runtime = url.pathname === '/postgres' ? runtimes.postgres : runtimes.d1;
      const messages: ConsumerMessage[] = batch.map((body) => ({
        id: body.id,
        body,
        attempts: 1,
        ack: () => void acked++,
        retry: () => undefined,
      }));
      await runtime.queue({ queue: 'bench-events', messages }, metered);
    }
    if (acked !== n) return new Response(`only ${acked} of ${n} acked`, { status: 500 });
    return Response.json(meter);
  },
} satisfies ExportedHandler<RuntimeEnv & { HYPERDRIVE?: unknown }>;
