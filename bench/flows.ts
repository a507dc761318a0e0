/**
 * Every flow of the default manifest that a realistic event reaches, as DATA (one entry per flow), and the code that
 * delivers one end to end the way production runs it, metered. Shared by the bench (bench/flows-worker.ts, printed
 * by bench/capacity.ts) and the agreement test against `plan --budget` (test/worker/budget-flows.test.ts), so the
 * table and the test measure the same thing.
 *
 * A delivery: the signed request through the runtime's fetch WITH an execution context, whose waitUntil promises
 * are awaited; then every message it queued on a queue this Worker consumes (a source's queue or a dead-letter
 * queue) is consumed, in batches of up to 10 as wrangler.toml configures, and the messages those produce, until the queues are empty. Messages
 * on other queues (fulfillment: the application's worker) are counted as sent and consumed, not run. Counted: D1
 * rows read and written (D1's meta, bench/meter.ts), queue operations (3 per message per 64 KB), HTTP requests,
 * consumer invocations, KV reads and writes, subrequests (calls to the provider fakes).
 */
import { FakeProviders } from '../cli/lib/fake-providers.ts';
import type { ConsumerMessage } from '../runtime/consumer/consumer.ts';
import type { RuntimeEnv } from '../runtime/lib/envelope.ts';
import { capacity, type Capacity, type HandlerCost } from '../runtime/lib/platform.ts';
import type { CompiledManifest } from '../runtime/manifest/compile.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { githubSignature, paddleSignature, stripeSignature, svixHeaders, twilioSignature } from '../test/support/sign.ts';
import type { Emit } from '../runtime/lib/telemetry.ts';
import { meteredEnv, newMeter, type Meter } from './meter.ts';

/** The origin requests are sent to (Twilio signs the full URL). */
export const FLOW_ORIGIN = 'https://switchyard.test';
const SERVICE_TOKEN = 'flows-service-token';
/** Messages per consumer invocation: wrangler.toml's max_batch_size (a browser batch's events arrive together). */
const MAX_BATCH = 10;

/** What a flow's request needs: the secrets it is signed with and fresh ids. */
export interface FlowContext {
  secrets: Record<string, string>;
  uid(prefix: string): string;
}

/** A request to send, and the rows it expects to find (statements run unmetered before it). */
export interface FlowRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
  seed?: { sql: string; params: unknown[] }[];
}

/** A capacity target from the issue, checked on the flow's free-plan figure per event. */
export interface FlowTarget {
  events_per_day: number;
  why: string;
}

export interface Flow {
  /** How the table names it. */
  name: string;
  /** The budget row that prices it (`plan --budget`'s integration and pattern). */
  source: string;
  on: string;
  /** Events one request carries (a /v1/track browser batch); figures are per event, and per request when > 1. */
  events?: number;
  /** Emails it sends per event: checked on every run (the fake provider receives them). */
  emails?: number;
  target?: FlowTarget;
  request(ctx: FlowContext): Promise<FlowRequest>;
}

const ONE_EMAIL: FlowTarget = { events_per_day: 10_000, why: 'a flow that sends one email' };
const NO_HANDLER_TARGET: FlowTarget = { events_per_day: 25_000, why: 'an event with no handler' };
const nowSeconds = () => Math.floor(Date.now() / 1000);
let visitors = 0;
/** A browser's address, new on each request: the route's per-IP rate-limit counter is a new row (its dearer case). */
const visitor = () => `198.18.${(++visitors >> 8) & 255}.${visitors & 255}`;

const stripe = (type: string, object: (ctx: FlowContext) => Record<string, unknown>, seed?: (ctx: FlowContext, object: Record<string, unknown>) => FlowRequest['seed']) => async (ctx: FlowContext): Promise<FlowRequest> => {
  const data = object(ctx);
  const body = JSON.stringify({ id: ctx.uid('evt'), object: 'event', type, created: nowSeconds(), data: { object: data } });
  return { path: '/webhooks/stripe', body, headers: { 'content-type': 'application/json', 'stripe-signature': await stripeSignature(ctx.secrets.STRIPE_WEBHOOK_SECRET!, body) }, ...(seed ? { seed: seed(ctx, data) } : {}) };
};
const svix = (path: string, secret: string, prefix: 'svix-' | 'webhook-', payload: (ctx: FlowContext) => unknown, seed?: (payload: any) => FlowRequest['seed']) => async (ctx: FlowContext): Promise<FlowRequest> => {
  const data = payload(ctx);
  const body = JSON.stringify(data);
  return { path, body, headers: { 'content-type': 'application/json', ...(await svixHeaders(prefix, ctx.secrets[secret]!, ctx.uid('msg'), body)) }, ...(seed ? { seed: seed(data) } : {}) };
};
const clerkUser = (type: string) => (ctx: FlowContext) => {
  const id = ctx.uid('user');
  const data = type === 'user.deleted' ? { id, deleted: true } : { id, first_name: 'Ada', last_name: 'Lovelace', created_at: Date.now(), email_addresses: [{ email_address: `${id}@example.com` }] };
  return { type, object: 'event', timestamp: Date.now(), data };
};
const command = (name: string, input: (ctx: FlowContext) => Record<string, unknown>) => async (ctx: FlowContext): Promise<FlowRequest> => ({
  path: `/v1/commands/${name}`,
  body: JSON.stringify(input(ctx)),
  headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}`, 'idempotency-key': ctx.uid('key') },
});
const subscription = (ctx: FlowContext) => ({ id: ctx.uid('sub'), customer: 'cus_flow', status: 'active', current_period_end: nowSeconds() + 30 * 86_400, items: { data: [{ price: { id: 'price_pro' } }] } });

/**
 * The flows of the default manifest (integrations.yaml): every handler pattern a realistic event reaches, each
 * command, an integration with no handler, and /v1/track with a browser batch. An upsert meets a new row (its dearer
 * case, as the budget prices it); an UPDATE finds the row it updates (seeded). Adding a flow is one entry.
 */
export const FLOWS: Flow[] = [
  { name: 'stripe customer.subscription.updated', source: 'stripe', on: 'customer.subscription.updated', request: stripe('customer.subscription.updated', subscription) },
  {
    name: 'stripe payment_intent.succeeded (order paid + fulfillment message)',
    source: 'stripe',
    on: 'payment_intent.succeeded',
    target: { events_per_day: 3_333, why: 'payment_intent.succeeded' },
    request: stripe('payment_intent.succeeded', (ctx) => ({ id: ctx.uid('pi'), customer: 'cus_flow', metadata: { order_id: ctx.uid('ord') } }), (_, o) => [{ sql: "INSERT INTO orders (id, status) VALUES (?, 'unpaid')", params: [(o.metadata as { order_id: string }).order_id] }]),
  },
  {
    name: 'stripe invoice.payment_failed (email)',
    source: 'stripe',
    on: 'invoice.payment_failed',
    emails: 1,
    target: ONE_EMAIL,
    request: stripe('invoice.payment_failed', (ctx) => ({ id: ctx.uid('in'), customer_email: `${ctx.uid('pay')}@example.com`, amount_due: 1900, currency: 'usd', hosted_invoice_url: 'https://invoice.stripe.com/i/in_1' })),
  },
  { name: 'stripe customer.subscription.deleted', source: 'stripe', on: 'customer.subscription.deleted', request: stripe('customer.subscription.deleted', (ctx) => ({ id: ctx.uid('sub'), customer: 'cus_flow', status: 'canceled' })) },
  { name: 'stripe charge.refunded, a type no handler matches', source: 'stripe', on: '(no handler)', target: NO_HANDLER_TARGET, request: stripe('charge.refunded', (ctx) => ({ id: ctx.uid('ch'), amount_refunded: 1900 })) },
  { name: 'clerk user.created (user row + welcome email)', source: 'clerk', on: 'user.created', emails: 1, target: ONE_EMAIL, request: svix('/webhooks/clerk', 'CLERK_WEBHOOK_SECRET', 'svix-', clerkUser('user.created')) },
  { name: 'clerk user.updated', source: 'clerk', on: 'user.updated', request: svix('/webhooks/clerk', 'CLERK_WEBHOOK_SECRET', 'svix-', clerkUser('user.updated')) },
  { name: 'clerk user.deleted', source: 'clerk', on: 'user.deleted', request: svix('/webhooks/clerk', 'CLERK_WEBHOOK_SECRET', 'svix-', clerkUser('user.deleted')) },
  {
    name: 'supabase users.insert',
    source: 'supabase',
    on: 'users.insert',
    request: svix('/webhooks/supabase', 'SUPABASE_WEBHOOK_SECRET', 'webhook-', () => ({ type: 'INSERT', table: 'users', schema: 'auth', record: { id: crypto.randomUUID(), email: 'sb@example.com', raw_user_meta_data: { plan: 'pro' }, created_at: new Date().toISOString() }, old_record: null })),
  },
  {
    name: 'paddle subscription.created',
    source: 'paddle',
    on: 'subscription.created',
    async request(ctx) {
      const body = JSON.stringify({ event_id: ctx.uid('evt'), event_type: 'subscription.created', occurred_at: new Date().toISOString(), data: { id: ctx.uid('sub'), customer_id: 'ctm_flow', status: 'active', current_billing_period: { ends_at: new Date(Date.now() + 30 * 86_400_000).toISOString() }, items: [{ price: { id: 'pri_1' } }] } });
      return { path: '/webhooks/paddle', body, headers: { 'content-type': 'application/json', 'paddle-signature': await paddleSignature(ctx.secrets.PADDLE_WEBHOOK_SECRET!, body) } };
    },
  },
  {
    name: 'twilio message status',
    source: 'twilio',
    on: 'message.*',
    async request(ctx) {
      const sid = ctx.uid('SM');
      const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+15550001111' };
      const signature = await twilioSignature(ctx.secrets.TWILIO_AUTH_TOKEN!, `${FLOW_ORIGIN}/webhooks/twilio`, params);
      return { path: '/webhooks/twilio', body: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, seed: [{ sql: "INSERT INTO sms_logs (sid, to_number, body, status) VALUES (?, '+15550001111', 'hi', 'accepted')", params: [sid] }] };
    },
  },
  {
    name: 'github, an integration with no handler',
    source: 'github',
    on: '(no handler)',
    target: NO_HANDLER_TARGET,
    async request(ctx) {
      const body = JSON.stringify({ action: 'opened', issue: { number: 1, title: ctx.uid('issue') }, repository: { full_name: 'octo/hello' }, sender: { login: 'octocat' } });
      return { path: '/webhooks/github', body, headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await githubSignature(ctx.secrets.GITHUB_WEBHOOK_SECRET!, body) } };
    },
  },
  {
    name: 'resend email.delivered',
    source: 'resend',
    on: 'email.*',
    request: svix('/webhooks/resend', 'RESEND_WEBHOOK_SECRET', 'svix-', () => ({ type: 'email.delivered', created_at: new Date().toISOString(), data: { email_id: crypto.randomUUID() } }), (p) => [{ sql: "INSERT INTO email_logs (id, to_email, subject, status) VALUES (?, 'a@example.com', 'Hi', 'submitted')", params: [p.data.email_id] }]),
  },
  { name: 'command send_password_reset (email)', source: 'command:send_password_reset', on: 'send_password_reset', emails: 1, target: ONE_EMAIL, request: command('send_password_reset', (ctx) => ({ email: `${ctx.uid('reset')}@example.com`, reset_url: 'https://app.example.com/reset?t=1' })) },
  { name: 'command order_confirmation (email)', source: 'command:order_confirmation', on: 'order_confirmation', emails: 1, target: ONE_EMAIL, request: command('order_confirmation', (ctx) => ({ order_id: ctx.uid('ord'), email: `${ctx.uid('buyer')}@example.com`, name: 'Ada' })) },
  { name: 'command sync_user', source: 'command:sync_user', on: 'sync_user', request: command('sync_user', (ctx) => ({ id: ctx.uid('user'), email: `${ctx.uid('sync')}@example.com`, name: 'Ada' })) },
  {
    name: '/v1/track, a browser batch of 10 events',
    source: 'track',
    on: '*',
    events: 10,
    target: { events_per_day: 30_000, why: '/v1/track tracked events' },
    async request(ctx) {
      const distinct = ctx.uid('anon');
      const events = Array.from({ length: 10 }, (_, i) => ({ event: i ? 'page_view' : 'signup_started', distinct_id: distinct, properties: { path: `/page/${i}`, referrer: 'https://example.com/' } }));
      return { path: '/v1/track', body: JSON.stringify({ events }), headers: { 'content-type': 'application/json', 'x-switchyard-key': 'pk_dev_switchyard', origin: 'https://app.example.com', 'cf-connecting-ip': visitor() } };
    },
  },
];

/** What one flow cost per event (and per request), averaged over its runs, in the units the plans bill. */
export interface FlowFigures {
  d1_rows_written: number;
  d1_rows_read: number;
  d1_queries: number;
  queue_operations: number;
  queue_messages: number;
  /** HTTP requests to the Worker. */
  worker_requests: number;
  /** Queue consumer invocations (batches of up to 10 messages, as wrangler.toml's max_batch_size). */
  consumer_invocations: number;
  kv_reads: number;
  kv_writes: number;
  subrequests: number;
}

export interface FlowMeasurement {
  flow: string;
  source: string;
  on: string;
  events: number;
  runs: number;
  /** Per event. */
  perEvent: FlowFigures;
  /** Per request (equal to perEvent when a request carries one event). */
  perRequest: FlowFigures;
  /** Whether every run cost the same (D1 rows and queue operations). */
  steady: boolean;
  /** What the runs answered and what went wrong (a non-2xx answer, a retried message, missing emails). */
  statuses: number[];
  problems: string[];
  /** Free and paid plan capacity per event, from the same function `plan --budget` uses. */
  capacity: Capacity[];
  /** The last run's cost per statement (its first 60 characters): [queries, rows read, rows written]. */
  statements?: Meter['statements'];
}

/** A queue binding that keeps what is sent (the meter wraps it and counts). */
class HeldQueue {
  readonly messages: { body: unknown; delaySeconds?: number }[] = [];
  async send(body: unknown, options?: QueueSendOptions): Promise<void> {
    this.messages.push({ body: structuredClone(body), ...(options?.delaySeconds ? { delaySeconds: options.delaySeconds } : {}) });
  }
  async sendBatch(batch: Iterable<MessageSendRequest>): Promise<void> {
    for (const m of batch) await this.send(m.body, m.delaySeconds ? { delaySeconds: m.delaySeconds } : undefined);
  }
}

/** A KV binding that counts reads and writes (Workers KV bills get/list as reads, put/delete as writes). */
function countingKv(kv: KVNamespace | undefined, counts: { reads: number; writes: number }): KVNamespace {
  const store = new Map<string, { value: string; metadata?: unknown }>();
  const read = async (key: string, type?: unknown) => {
    counts.reads++;
    if (kv) return kv.get(key, type as 'text');
    const v = store.get(key)?.value ?? null;
    return v !== null && (type === 'json' || (type as { type?: string })?.type === 'json') ? JSON.parse(v) : v;
  };
  return {
    get: read,
    async getWithMetadata(key: string, type?: unknown) {
      counts.reads++;
      if (kv) return kv.getWithMetadata(key, type as 'text');
      const v = store.get(key);
      return { value: v ? (type === 'json' ? JSON.parse(v.value) : v.value) : null, metadata: v?.metadata ?? null };
    },
    async put(key: string, value: string, options?: { metadata?: unknown }) {
      counts.writes++;
      if (kv) return kv.put(key, value, options as KVNamespacePutOptions);
      store.set(key, { value: typeof value === 'string' ? value : JSON.stringify(value), metadata: options?.metadata });
    },
    async delete(key: string) {
      counts.writes++;
      if (kv) return kv.delete(key);
      store.delete(key);
    },
    async list(options?: KVNamespaceListOptions) {
      counts.reads++;
      return kv ? kv.list(options) : { keys: [...store.keys()].map((name) => ({ name })), list_complete: true, cacheStatus: null };
    },
  } as unknown as KVNamespace;
}

const ZERO: FlowFigures = { d1_rows_written: 0, d1_rows_read: 0, d1_queries: 0, queue_operations: 0, queue_messages: 0, worker_requests: 0, consumer_invocations: 0, kv_reads: 0, kv_writes: 0, subrequests: 0 };
const scale = (f: FlowFigures, by: number): FlowFigures => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v / by])) as unknown as FlowFigures;

/** The resources `capacity()` weighs, from measured figures. */
export const costOf = (f: FlowFigures): Pick<HandlerCost, 'worker_requests' | 'd1_rows_written' | 'd1_rows_read' | 'queue_operations' | 'kv_reads' | 'kv_writes'> => ({
  worker_requests: f.worker_requests,
  d1_rows_written: f.d1_rows_written,
  d1_rows_read: f.d1_rows_read,
  queue_operations: f.queue_operations,
  kv_reads: f.kv_reads,
  kv_writes: f.kv_writes,
});

export interface FlowRunnerOptions {
  compiled: CompiledManifest;
  /** The Worker's env: D1 (`DB`), the secrets the flows sign with, KV if any. Queues are replaced by held ones. */
  env: RuntimeEnv & Record<string, unknown>;
  emit?: Emit;
}

/**
 * Delivers flows end to end against one runtime over the compiled manifest, metered. Each run gets fresh ids.
 * @example const runner = flowRunner({ compiled, env }); const m = await runner.measure(FLOWS[0]!, 3);
 */
export function flowRunner(options: FlowRunnerOptions) {
  const { compiled } = options;
  // Every manifest queue gets a held binding; the runtime knows each by a name, as wrangler.toml would give it.
  const bindings = new Set<string>();
  for (const q of compiled.queues.values()) {
    bindings.add(q.binding);
    if (q.deadLetter) bindings.add(q.deadLetter);
  }
  const queueNames = Object.fromEntries([...bindings].map((b) => [b, `flows-${b.toLowerCase()}`]));
  // This Worker consumes its sources' queues and the dead-letter queues; others (fulfillment) belong to the app.
  const consumed = new Set<string>();
  for (const source of compiled.sources.values()) consumed.add(source.queue.binding);
  for (const q of compiled.queues.values()) if (q.deadLetter) consumed.add(q.deadLetter);
  const providers = new FakeProviders();
  let subrequests = 0;
  const runtime = createRuntime({
    compiled,
    environment: 'flows',
    hash: 'flows',
    queueNames,
    emit: options.emit ?? (() => undefined),
    fetch: (input, init) => {
      subrequests++;
      return providers.fetch(input, init);
    },
  });
  const emailsTo = () => providers.to(/api\.resend\.com\/emails$/).length;

  /** One delivery of one request, and everything it queued, to the end. */
  async function deliverOnce(flow: Flow, ctx: FlowContext, detail = false): Promise<{ figures: FlowFigures; status: number; problems: string[]; statements?: Meter['statements'] }> {
    const request = await flow.request(ctx);
    for (const s of request.seed ?? []) await options.env.DB.prepare(s.sql).bind(...s.params).run();
    const meter: Meter = newMeter();
    if (detail) meter.statements = {};
    const kv = { reads: 0, writes: 0 };
    const held = Object.fromEntries([...bindings].map((b) => [b, new HeldQueue()]));
    const env = meteredEnv({ ...options.env, ...held, KV: countingKv(options.env.KV as KVNamespace | undefined, kv), SWITCHYARD_SERVICE_TOKEN: SERVICE_TOKEN, APP_URL: 'https://app.example.com', ADMIN_EMAIL: 'ops@example.com' } as RuntimeEnv & Record<string, unknown>, meter);
    const problems: string[] = [];
    const before = { subrequests, emails: emailsTo() };
    const pending: Promise<unknown>[] = [];
    const executionContext = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
    const settle = async () => {
      while (pending.length) for (const r of await Promise.allSettled(pending.splice(0))) if (r.status === 'rejected') problems.push(`waitUntil rejected: ${String(r.reason)}`);
    };
    const res = await runtime.fetch(new Request(`${FLOW_ORIGIN}${request.path}`, { method: 'POST', body: request.body, headers: request.headers }), env, executionContext);
    const answer = await res.text();
    if (res.status >= 300) problems.push(`answered ${res.status}: ${answer.slice(0, 200)}`);
    await settle();
    let invocations = 0;
    // Consume until every consumed queue is empty (a batch can queue more: effects retries, dead letters).
    for (let round = 0; round < 50; round++) {
      const next = [...consumed].find((b) => held[b]!.messages.length);
      if (!next) break;
      const taken = held[next]!.messages.splice(0);
      for (let i = 0; i < taken.length; i += MAX_BATCH) {
        const outcomes: ('acked' | 'retried' | undefined)[] = [];
        const messages: ConsumerMessage[] = taken.slice(i, i + MAX_BATCH).map((m, j) => ({ id: crypto.randomUUID(), body: m.body, attempts: 1, ack: () => void (outcomes[j] ??= 'acked'), retry: () => void (outcomes[j] ??= 'retried') }));
        invocations++;
        await runtime.queue({ queue: queueNames[next]!, messages }, env);
        messages.forEach((_, j) => outcomes[j] !== 'acked' && problems.push(`a message on ${next} was ${outcomes[j] ?? 'neither acked nor retried'}`));
      }
    }
    const left = [...consumed].filter((b) => held[b]!.messages.length);
    if (left.length) problems.push(`queues still hold messages after 50 rounds: ${left.join(', ')}`);
    const emails = emailsTo() - before.emails;
    if (flow.emails !== undefined && emails !== flow.emails) problems.push(`sent ${emails} emails, expected ${flow.emails}`);
    return {
      status: res.status,
      problems,
      ...(meter.statements ? { statements: meter.statements } : {}),
      figures: {
        d1_rows_written: meter.rows_written,
        d1_rows_read: meter.rows_read,
        d1_queries: meter.queries,
        queue_operations: 3 * meter.queue_units,
        queue_messages: meter.queue_messages,
        worker_requests: 1,
        consumer_invocations: invocations,
        kv_reads: kv.reads,
        kv_writes: kv.writes,
        subrequests: subrequests - before.subrequests,
      },
    };
  }

  return {
    runtime,
    providers,
    /**
     * Delivers a flow `runs` times with fresh ids and averages what each delivery cost. A first delivery is not
     * counted: what a period creates once (a limit's counter row for the month) exists for all its other events.
     * `detail` keeps the last run's cost per statement.
     */
    async measure(flow: Flow, runs = 3, { detail = false } = {}): Promise<FlowMeasurement> {
      const total = { ...ZERO };
      const statuses: number[] = [];
      const problems: string[] = [];
      const signatures = new Set<string>();
      let statements: Meter['statements'];
      const context = (): FlowContext => ({ secrets: options.env as unknown as Record<string, string>, uid: (prefix) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}` });
      problems.push(...(await deliverOnce(flow, context())).problems.map((p) => `warm-up: ${p}`));
      for (let run = 0; run < runs; run++) {
        const once = await deliverOnce(flow, context(), detail && run === runs - 1);
        statuses.push(once.status);
        problems.push(...once.problems);
        statements = once.statements ?? statements;
        signatures.add(`${once.figures.d1_rows_written}/${once.figures.queue_operations}`);
        for (const k of Object.keys(total) as (keyof FlowFigures)[]) total[k] += once.figures[k];
      }
      const events = flow.events ?? 1;
      const perRequest = scale(total, runs);
      const perEvent = scale(perRequest, events);
      return { flow: flow.name, source: flow.source, on: flow.on, events, runs, perEvent, perRequest, steady: signatures.size === 1, statuses, problems, capacity: capacity(costOf(perEvent)), ...(statements ? { statements } : {}) };
    },
  };
}
