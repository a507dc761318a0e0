/**
 * The consumer benchmark's Worker. Three consumers apply the same projections to the same kind of batch:
 *  - runtime: the generic runtime's queue handler (createRuntime: platform usage counting, telemetry serialized),
 *    over events rows that ingest recorded first (`/seed`), so its status writes and markers are real;
 *  - batched: what a careful engineer writes by hand with the same guarantees: one D1 batch (one transaction,
 *    one round trip) per queue batch holding, per message, a dedup marker (`INSERT INTO processed`, which fails
 *    on a duplicate) and the projection; if the batch fails, message by message, so a duplicate is skipped alone;
 *  - naive: the seed's consumer, one prepare().run() per statement, no transaction and no dedup.
 * Every response is the metered cost of the request (bench/meter.ts).
 */
import { defaultRegistry } from '../worker/registry.ts';
import type { ConsumerMessage } from '../runtime/consumer/consumer.ts';
import type { Envelope, RuntimeEnv } from '../runtime/lib/envelope.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { claimStatement } from '../runtime/store/index.ts';
import { meteredEnv, newMeter, serializingEmit } from './meter.ts';

const SUBSCRIPTION_SQL = `INSERT INTO subscriptions (id, customer_id, status, plan_id, version) VALUES (:id, :customer, :status, :plan, :version)
ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, plan_id = excluded.plan_id, version = excluded.version
WHERE subscriptions.version IS NULL OR excluded.version > subscriptions.version`;
const USER_SQL = `INSERT INTO users (id, email, name) VALUES (:id, :email, :name) ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name`;
const positional = (sql: string) => sql.replace(/:(\w+)/g, '?');
const SUBSCRIPTION_POSITIONAL = positional(SUBSCRIPTION_SQL);
const USER_POSITIONAL = positional(USER_SQL);

const subscriptionStep = {
  sql: SUBSCRIPTION_SQL,
  params: { id: 'data.id', customer: 'data.customer', status: 'data.status', plan: 'data.plan', version: '@version' },
};
const userStep = { sql: USER_SQL, params: { id: 'data.customer', email: 'data.email', name: 'data.name' } };

const manifest: Manifest = {
  version: 1,
  queues: { events: { binding: 'EVENTS_QUEUE' } },
  integrations: {
    bench: {
      route: '/webhooks/bench',
      verifier: { type: 'token', secret: 'BENCH_TOKEN' },
      event: { id: 'id', type: 'type' },
      queue: 'events',
      handlers: [
        { on: 'one', steps: [subscriptionStep] },
        { on: 'two', steps: [subscriptionStep, userStep] },
      ],
    },
  },
};
const emit = serializingEmit();
const runtime = createRuntime({
  compiled: compileManifest(manifest, defaultRegistry),
  environment: 'bench',
  hash: 'bench',
  emit,
});

function envelopes(run: string, n: number, type: 'one' | 'two'): Envelope[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${run}_${i}`;
    return {
      integration: 'bench',
      id,
      type,
      occurred_at: '2024-01-01T00:00:00.000Z',
      received_at: '2024-01-01T00:00:01.000Z',
      payload: {
        id,
        type,
        data: {
          id: `sub_${id}`,
          customer: `cus_${id}`,
          status: 'active',
          plan: 'price_1',
          email: `${id}@example.com`,
          name: 'Bench User',
        },
      },
    };
  });
}

const dataOf = (e: Envelope) => (e.payload as { data: Record<string, string> }).data;

/** The seed's consumer: a statement at a time, each its own round trip, then ack. */
async function naive(db: D1Database, batch: Envelope[]): Promise<number> {
  for (const e of batch) {
    const d = dataOf(e);
    await db
      .prepare(positional(SUBSCRIPTION_SQL))
      .bind(d.id, d.customer, d.status, d.plan, `${e.occurred_at}|${e.id}`)
      .run();
    if (e.type === 'two') await db.prepare(positional(USER_SQL)).bind(d.customer, d.email, d.name).run();
  }
  return batch.length;
}

/** The careful hand-written consumer (its `processed` table is created by bench/consumer.ts): marker and projection per message, the whole batch in one transaction. */
async function batched(db: D1Database, batch: Envelope[]): Promise<number> {
  const statements = (e: Envelope) => {
    const d = dataOf(e);
    const list = [
      db.prepare('INSERT INTO processed (id) VALUES (?1)').bind(`${e.integration}:${e.id}`),
      db.prepare(SUBSCRIPTION_POSITIONAL).bind(d.id, d.customer, d.status, d.plan, `${e.occurred_at}|${e.id}`),
    ];
    if (e.type === 'two') list.push(db.prepare(USER_POSITIONAL).bind(d.customer, d.email, d.name));
    return list;
  };
  let acked = 0;
  try {
    await db.batch(batch.flatMap(statements));
    acked = batch.length;
  } catch {
    for (const e of batch) {
      try {
        await db.batch(statements(e));
        acked++;
      } catch (error) {
        if (/UNIQUE constraint failed: processed/.test(String(error))) acked++; // a duplicate: applied already
      }
    }
  }
  return acked;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 100);
    const type = url.searchParams.get('steps') === '2' ? 'two' : 'one';
    const batch = envelopes(url.searchParams.get('run') ?? crypto.randomUUID(), n, type);
    if (url.pathname === '/seed') {
      // What ingest leaves for the consumer: each event's row, claimed and `queued`, with its raw body.
      const now = Date.now();
      await env.DB.batch(
        batch.map((e) => claimStatement(env.DB, e, JSON.stringify(e.payload), crypto.randomUUID(), now)),
      );
      return new Response('ok');
    }
    const meter = newMeter();
    if (url.searchParams.has('statements')) meter.statements = {};
    const metered = meteredEnv(env, meter);
    let acked = 0;
    if (url.pathname === '/naive') acked = await naive(metered.DB, batch);
    else if (url.pathname === '/batched') acked = await batched(metered.DB, batch);
    else {
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
} satisfies ExportedHandler<RuntimeEnv>;
