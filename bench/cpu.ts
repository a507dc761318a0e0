/**
 * CPU per invocation, estimated on Node (workerd reports none): process.cpuUsage() around the same code the Worker
 * runs, with D1 and Queues replaced by in-memory fakes so only the isolate's own work is counted (a queue send is
 * charged one JSON.stringify of its body, as the platform serializes `contentType: 'json'`; a consumed message's
 * body one JSON.parse, as the platform deserializes it on first read).
 *  - a 1 MB Stripe-signed webhook through ingest (read, verify, decode, parse, envelope, claim, message);
 *  - a consumer batch of the configured size (wrangler.toml max_batch_size = 10) of 60 KB Stripe events (the largest
 *    that travel inline: a message is billed per 64 KB, so bigger bodies are read from the event log)
 *    through the runtime's consumer (deserialize, load, plan, commit, settle).
 * Both with the default manifest, platform usage counting and telemetry serialized.
 */
import { createHmac } from 'node:crypto';
import { defaultRegistry } from '../worker/registry.ts';
import { createConsumer, type ConsumerMessage } from '../runtime/consumer/consumer.ts';
import type { Envelope, RuntimeEnv } from '../runtime/lib/envelope.ts';
import { extractEnvelope, messageFor } from '../runtime/event/extract.ts';
import { ingest } from '../runtime/edge/ingest.ts';
import { compileManifest, type CompiledManifest } from '../runtime/manifest/compile.ts';
import { PlatformUsage } from '../runtime/lib/platform.ts';
import { EventStatus } from '../runtime/store/status.ts';
import { defaultManifest } from './fixtures.ts';
import { serializingEmit } from './meter.ts';
import { fmt, summarize } from './stats.ts';

export const TARGET_CPU_MS = 10;
const SECRET = 'whsec_bench_cpu';
const CONSUMER_BATCH = 10;

/** A Stripe subscription event of about `bytes` bytes: many small line items, the costly shape to parse. */
export function stripeEvent(id: string, bytes: number): string {
  const item = (i: number) => ({
    id: `si_${id}_${i}`,
    object: 'subscription_item',
    price: {
      id: `price_${i}`,
      object: 'price',
      unit_amount: 1200 + i,
      currency: 'usd',
      recurring: { interval: 'month', interval_count: 1 },
      active: true,
    },
    quantity: 1,
    metadata: { seat: `seat-${i}` },
  });
  const event = {
    id,
    object: 'event',
    type: 'customer.subscription.updated',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: `sub_${id}`,
        object: 'subscription',
        customer: 'cus_1',
        status: 'active',
        current_period_end: 1_900_000_000,
        items: { object: 'list', data: [] as unknown[] },
      },
    },
  };
  const size = JSON.stringify(item(0)).length + 1;
  const count = Math.max(1, Math.floor((bytes - JSON.stringify(event).length) / size));
  event.data.object.items.data = Array.from({ length: count }, (_, i) => item(i));
  return JSON.stringify(event);
}

/** A D1 stand-in: every statement answers at once; the ingest claim claims; stored bodies come from `bodies`. */
function fakeD1(bodies = new Map<string, string>()): D1Database {
  const answer = (sql: string, params: unknown[]) => {
    if (sql.startsWith('INSERT INTO events'))
      return [{ status: EventStatus.queued, deliveries: 1, claimed: 1, seq: 1 }];
    if (sql.startsWith('SELECT integration, id, body FROM events')) {
      const rows = [];
      for (let i = 0; i < params.length; i += 2)
        rows.push({
          integration: params[i],
          id: params[i + 1],
          body: bodies.get(`${params[i]}:${params[i + 1]}`) ?? null,
        });
      return rows;
    }
    return [];
  };
  const statement = (sql: string, params: unknown[] = []): D1PreparedStatement => {
    const result = () => ({
      results: answer(sql, params),
      success: true,
      meta: { rows_read: 0, rows_written: 0, changes: 0 },
    });
    return {
      bind: (...values: unknown[]) => statement(sql, values),
      run: async () => result(),
      all: async () => result(),
      first: async () => result().results[0] ?? null,
      raw: async () => [],
      result,
    } as unknown as D1PreparedStatement;
  };
  return {
    prepare: (sql: string) => statement(sql),
    batch: async (list: D1PreparedStatement[]) => list.map((s) => (s as unknown as { result: () => unknown }).result()),
  } as unknown as D1Database;
}

const fakeQueue = {
  send: async (body: unknown) => void JSON.stringify(body),
  sendBatch: async (list: { body: unknown }[]) => void JSON.stringify(list.map((m) => m.body)),
};

function cpuMs<T>(fn: () => Promise<T>): Promise<{ cpu: number; wall: number }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  return fn().then(() => {
    const used = process.cpuUsage(cpu);
    return { cpu: (used.user + used.system) / 1000, wall: performance.now() - wall };
  });
}

/** CPU of `run(input)` per sample; inputs are made by `prepare`, outside the measurement. */
async function sample<T>(runs: number, prepare: (i: number) => T, run: (input: T) => Promise<unknown>) {
  const warm = 5;
  const inputs = Array.from({ length: runs + warm }, (_, i) => prepare(i));
  const samples: number[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const { cpu } = await cpuMs(() => run(inputs[i]!));
    if (i >= warm) samples.push(cpu);
  }
  return summarize(samples);
}

/** ms of CPU for one 1 MB Stripe webhook through ingest, and its phases (each timed alone, wall clock). */
export async function ingestCpu(compiled: CompiledManifest, runs = 30) {
  const stripe = compiled.integrations.get('stripe')!;
  const env = { DB: fakeD1(), EVENTS_QUEUE: fakeQueue, STRIPE_WEBHOOK_SECRET: SECRET } as unknown as RuntimeEnv;
  const deps = { emit: serializingEmit(), usage: new PlatformUsage() };
  const body = stripeEvent('evt_cpu_00000', 1_000_000);
  const request = (i: number) => {
    const text = body.replace('evt_cpu_00000', `evt_cpu_${String(i + 50).padStart(5, '0')}`);
    const t = Math.floor(Date.now() / 1000);
    const signature = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${text}`).digest('hex')}`;
    return new Request('http://bench/webhooks/stripe', {
      method: 'POST',
      body: text,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    });
  };
  const total = await sample(runs, request, async (req) => {
    const res = await ingest(stripe, req, env, deps);
    if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
  });
  // Phases, for where the time goes.
  const bytes = new TextEncoder().encode(body);
  const t = Math.floor(Date.now() / 1000);
  const headers = new Headers({
    'stripe-signature': `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`,
  });
  const phase = async (fn: () => unknown) => {
    const s: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await fn();
      s.push(performance.now() - start);
    }
    return summarize(s).median;
  };
  const verify = await phase(() =>
    stripe.verifier.verify(
      { method: 'POST', url: new URL('http://bench/webhooks/stripe'), headers, body: bytes, now: Date.now() },
      env,
    ),
  );
  const decode = await phase(() => new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  const envelope = extractEnvelope(stripe, body, headers, new Date().toISOString());
  const parse = await phase(() => extractEnvelope(stripe, body, headers, new Date().toISOString()));
  const message = await phase(() => messageFor(envelope, body));
  return { total, phases: { verify, decode, parse, message } };
}

/** ms of CPU for one consumer batch of CONSUMER_BATCH 60 KB events (the largest that travel inline in their messages, below 64 KB). */
export async function consumerCpu(compiled: CompiledManifest, runs = 30) {
  const emit = serializingEmit();
  const consume = createConsumer({ compiled, emit, usage: new PlatformUsage() });
  const env = { DB: fakeD1(), EVENTS_QUEUE: fakeQueue, FULFILLMENT_QUEUE: fakeQueue } as unknown as RuntimeEnv;
  const stripe = compiled.integrations.get('stripe')!;
  const headers = new Headers();
  const texts = Array.from({ length: CONSUMER_BATCH }, (_, i) => {
    const text = stripeEvent(`evt_${i}`, 60 * 1024);
    const envelope = { ...extractEnvelope(stripe, text, headers, new Date().toISOString()), seq: i + 1 };
    const message = messageFor(envelope, text);
    if (message.payload === null) throw new Error('a 60 KB event should travel inline');
    return JSON.stringify(message);
  });
  let acked = 0;
  const batch = (round: number): ConsumerMessage[] =>
    texts.map((text, i) => {
      let body: Envelope | undefined;
      return {
        id: `m${i}`,
        // The platform deserializes a message body when it is first read.
        get body() {
          body ??= { ...(JSON.parse(text) as Envelope), id: `evt_${round}_${i}` };
          return body;
        },
        attempts: 1,
        ack: () => void acked++,
        retry: () => undefined,
      };
    });
  const total = await sample(runs, batch, async (messages) => {
    acked = 0;
    await consume(messages, env);
    if (acked !== CONSUMER_BATCH) throw new Error(`consumer acked ${acked} of ${CONSUMER_BATCH}`);
  });
  return total;
}

export async function runCpu(): Promise<boolean> {
  const compiled = compileManifest(defaultManifest(), defaultRegistry);
  const webhook = await ingestCpu(compiled);
  const batch = await consumerCpu(compiled);
  const p = webhook.phases;
  console.log('== CPU per invocation (Node estimate: process.cpuUsage around the Worker code, D1 and Queues faked)');
  console.log(
    `1 MB Stripe webhook, ingest: median ${fmt(webhook.total.median, 2)} ms CPU over ${webhook.total.n} (target < ${TARGET_CPU_MS} ms)${webhook.total.median < TARGET_CPU_MS ? '' : ' OUTSIDE TARGET'}`,
  );
  console.log(
    `  phases (wall, alone): verify ${fmt(p.verify, 2)} ms, decode ${fmt(p.decode, 2)} ms, parse + envelope ${fmt(p.parse, 2)} ms, messageFor ${fmt(p.message, 2)} ms`,
  );
  console.log(
    `consumer batch of ${CONSUMER_BATCH} x 60 KB events: median ${fmt(batch.median, 2)} ms CPU over ${batch.n} (target < ${TARGET_CPU_MS} ms)${batch.median < TARGET_CPU_MS ? '' : ' OUTSIDE TARGET'}`,
  );
  return webhook.total.median < TARGET_CPU_MS && batch.median < TARGET_CPU_MS;
}
