/**
 * The consumer benchmark's Worker: the runtime's batched consumer and a naive consumer in the seed's style
 * (one prepare().run() per statement per message) apply the same projections to the same kind of batch.
 */
import { defaultRegistry } from '../adapters/registry.ts';
import { createConsumer, type ConsumerMessage } from '../runtime/consumer.ts';
import type { Envelope, RuntimeEnv } from '../runtime/envelope.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';

const SUBSCRIPTION_SQL = `INSERT INTO subscriptions (id, customer_id, status, plan_id, version) VALUES (:id, :customer, :status, :plan, :version)
ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, plan_id = excluded.plan_id, version = excluded.version
WHERE subscriptions.version IS NULL OR excluded.version > subscriptions.version`;
const USER_SQL = `INSERT INTO users (id, email, name) VALUES (:id, :email, :name) ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name`;

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
const consume = createConsumer({ compiled: compileManifest(manifest, defaultRegistry), emit: () => undefined });

function envelopes(run: string, n: number, type: 'one' | 'two'): Envelope[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${run}_${i}`;
    return {
      integration: 'bench',
      id,
      type,
      occurred_at: '2024-01-01T00:00:00.000Z',
      received_at: '2024-01-01T00:00:01.000Z',
      payload: { id, type, data: { id: `sub_${id}`, customer: `cus_${id}`, status: 'active', plan: 'price_1', email: `${id}@example.com`, name: 'Bench User' } },
    };
  });
}

/** The seed's consumer: a statement at a time, each its own round trip, then ack. */
async function naive(db: D1Database, batch: Envelope[]): Promise<void> {
  for (const e of batch) {
    const d = (e.payload as { data: Record<string, string> }).data;
    await db.prepare(SUBSCRIPTION_SQL.replace(/:(\w+)/g, '?')).bind(d.id, d.customer, d.status, d.plan, `${e.occurred_at}|${e.id}`).run();
    if (e.type === 'two') await db.prepare(USER_SQL.replace(/:(\w+)/g, '?')).bind(d.customer, d.email, d.name).run();
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 100);
    const type = url.searchParams.get('steps') === '2' ? 'two' : 'one';
    const batch = envelopes(url.searchParams.get('run') ?? crypto.randomUUID(), n, type);
    if (url.pathname === '/naive') {
      await naive(env.DB, batch);
      return new Response('ok');
    }
    let acked = 0;
    const messages: ConsumerMessage[] = batch.map((body) => ({ id: body.id, body, attempts: 1, ack: () => void acked++, retry: () => undefined }));
    await consume(messages, env);
    if (acked !== n) return new Response(`only ${acked} of ${n} acked`, { status: 500 });
    return new Response('ok');
  },
} satisfies ExportedHandler<RuntimeEnv>;
