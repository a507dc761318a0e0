/**
 * The ingest benchmark's Worker: the runtime's config-driven Stripe route and a hand-written Hono handler
 * doing the same work (verify, dedup in D1, enqueue), served side by side in one workerd. The runtime runs as
 * deployed (createRuntime: platform usage counted and flushed, telemetry serialized to a no-op sink). What each
 * side costs in D1 rows and queue messages is metered (bench/meter.ts) and read at `/meter/<target>`.
 */
import { Hono } from 'hono';
import built from '../.switchyard/manifests.json';
import { defaultRegistry } from '../worker/registry.ts';
import type { RuntimeEnv } from '../runtime/lib/envelope.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import type { Manifest } from '../runtime/manifest/types.gen.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { EventStatus } from '../runtime/store/status.ts';
import { meteredEnv, newMeter, serializingEmit, type Meter } from './meter.ts';

const manifest = (built as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
/** The default manifest: a Stripe subscription event (SQL only) is applied in the request. */
const direct = createRuntime({
  compiled: compileManifest(manifest, defaultRegistry),
  environment: 'bench',
  hash: 'bench',
  emit: serializingEmit(),
});
/** The same with `apply: queue`: verify, record, enqueue, the work the queued baseline does. */
const queuedManifest = structuredClone(manifest);
queuedManifest.integrations.stripe!.apply = 'queue';
const runtime = createRuntime({
  compiled: compileManifest(queuedManifest, defaultRegistry),
  environment: 'bench',
  hash: 'bench',
  emit: serializingEmit(),
});
const meters: Record<string, Meter> = {
  runtime: newMeter(),
  baseline: newMeter(),
  direct: newMeter(),
  'baseline-direct': newMeter(),
};

/** The baseline, written the way careful hand-written cookbook code would be (key imported once, raw bytes). */
const baseline = new Hono<{ Bindings: RuntimeEnv & { STRIPE_WEBHOOK_SECRET: string; EVENTS_QUEUE: Queue } }>();
let key: Promise<CryptoKey> | undefined;
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
/** Stripe's signature checked by hand on the raw body, as careful hand-written code does it. */
async function verified(body: string, header: string, secret: string): Promise<boolean> {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!parts.t || !parts.v1 || Math.abs(Date.now() / 1000 - t) > 300) return false;
  key ??= crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const expected = hex(await crypto.subtle.sign('HMAC', await key, new TextEncoder().encode(`${t}.${body}`)));
  const given = new TextEncoder().encode(parts.v1);
  const want = new TextEncoder().encode(expected);
  return given.length === want.length && crypto.subtle.timingSafeEqual(given, want);
}

baseline.post('/webhooks/stripe', async (c) => {
  const body = await c.req.text();
  if (!(await verified(body, c.req.header('stripe-signature') ?? '', c.env.STRIPE_WEBHOOK_SECRET)))
    return c.json({ error: 'invalid signature' }, 401);
  const event = JSON.parse(body) as { id: string; type: string; created: number };
  const now = new Date().toISOString();
  const inserted = await c.env.DB.prepare(
    "INSERT INTO events (integration, id, type, status, received_at, updated_at) VALUES ('baseline', ?1, ?2, 'accepted', ?3, ?3) ON CONFLICT DO NOTHING",
  )
    .bind(event.id, event.type, now)
    .run();
  if (inserted.meta.changes === 0) return c.json({ received: true, duplicate: true });
  await c.env.EVENTS_QUEUE.send({ id: event.id, type: event.type, created: event.created, data: event });
  return c.json({ received: true }, 202);
});

/**
 * The hand-written direct handler: verify, then the event record and the subscription upsert (with its ordering
 * guard) in one D1 batch; a duplicate's record fails the batch, so it applies once.
 */
const baselineDirect = new Hono<{ Bindings: RuntimeEnv & { STRIPE_WEBHOOK_SECRET: string; EVENTS_QUEUE: Queue } }>();
baselineDirect.post('/webhooks/stripe', async (c) => {
  const body = await c.req.text();
  if (!(await verified(body, c.req.header('stripe-signature') ?? '', c.env.STRIPE_WEBHOOK_SECRET)))
    return c.json({ error: 'invalid signature' }, 401);
  const event = JSON.parse(body) as {
    id: string;
    type: string;
    created: number;
    data: { object: { id: string; customer: string; status: string } };
  };
  const now = new Date().toISOString();
  const version = `${new Date(event.created * 1000).toISOString()}|${event.id}`;
  try {
    await c.env.DB.batch([
      c.env.DB.prepare(
        "INSERT INTO events (integration, id, type, status, received_at, updated_at) VALUES ('baseline-direct', ?1, ?2, ?4, ?3, ?3)",
      ).bind(event.id, event.type, now, EventStatus.applied),
      c.env.DB.prepare(
        `INSERT INTO subscriptions (id, customer_id, status, version) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, version = excluded.version
         WHERE subscriptions.version IS NULL OR excluded.version > subscriptions.version`,
      ).bind(`bd_${event.data.object.id}`, event.data.object.customer, event.data.object.status, version),
    ]);
  } catch {
    return c.json({ received: true, duplicate: true });
  }
  return c.json({ received: true, applied: true });
});

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/noop') return new Response('ok');
    const [, target, ...rest] = url.pathname.split('/');
    if (target === 'meter') {
      const meter = meters[rest[0]!]!;
      meters[rest[0]!] = newMeter();
      return Response.json(meter);
    }
    url.pathname = `/${rest.join('/')}`;
    const metered = meteredEnv(env, meters[target!] ?? meters.baseline!);
    if (target === 'runtime') return runtime.fetch(new Request(url, request), metered, ctx);
    if (target === 'direct') return direct.fetch(new Request(url, request), metered, ctx);
    if (target === 'baseline-direct') return baselineDirect.fetch(new Request(url, request), metered, ctx);
    return baseline.fetch(new Request(url, request), metered, ctx);
  },
} satisfies ExportedHandler<RuntimeEnv & { STRIPE_WEBHOOK_SECRET: string; EVENTS_QUEUE: Queue }>;
