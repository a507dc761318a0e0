/**
 * Delivers the flows of bench/flows.ts end to end the way production runs them, metered. A delivery: the signed
 * request through the runtime's fetch WITH an execution context, whose waitUntil promises are awaited; then every
 * message it queued on a queue this Worker consumes (a source's queue or a dead-letter queue) is consumed, in batches
 * of up to 10 as wrangler.toml configures, and the messages those produce, until the queues are empty. Messages on
 * other queues (fulfillment: the application's worker) are counted as sent and consumed, not run. Counted: D1 rows
 * read and written (D1's meta, bench/meter.ts), queue operations (3 per message per 64 KB), HTTP requests, consumer
 * invocations, KV reads and writes, subrequests (calls to the provider fakes).
 */
import { FakeProviders } from '../cli/lib/fake-providers.ts';
import type { ConsumerMessage } from '../runtime/consumer/consumer.ts';
import type { RuntimeEnv } from '../runtime/lib/envelope.ts';
import { capacity, type Capacity, type HandlerCost } from '../runtime/lib/platform.ts';
import type { Emit } from '../runtime/lib/telemetry.ts';
import type { CompiledManifest } from '../runtime/manifest/compile.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { FLOW_ORIGIN, FLOW_SERVICE_TOKEN, type Flow, type FlowContext } from './flows.ts';
import { meteredEnv, newMeter, type Meter } from './meter.ts';

/** Messages per consumer invocation: wrangler.toml's max_batch_size (a browser batch's events arrive together). */
const MAX_BATCH = 10;

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
    this.messages.push({
      body: structuredClone(body),
      ...(options?.delaySeconds ? { delaySeconds: options.delaySeconds } : {}),
    });
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
      return kv
        ? kv.list(options)
        : { keys: [...store.keys()].map((name) => ({ name })), list_complete: true, cacheStatus: null };
    },
  } as unknown as KVNamespace;
}

const ZERO: FlowFigures = {
  d1_rows_written: 0,
  d1_rows_read: 0,
  d1_queries: 0,
  queue_operations: 0,
  queue_messages: 0,
  worker_requests: 0,
  consumer_invocations: 0,
  kv_reads: 0,
  kv_writes: 0,
  subrequests: 0,
};
const scale = (f: FlowFigures, by: number): FlowFigures =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v / by])) as unknown as FlowFigures;

/** The resources `capacity()` weighs, from measured figures. */
export const costOf = (
  f: Pick<
    HandlerCost,
    'worker_requests' | 'd1_rows_written' | 'd1_rows_read' | 'queue_operations' | 'kv_reads' | 'kv_writes'
  >,
): Pick<
  HandlerCost,
  'worker_requests' | 'd1_rows_written' | 'd1_rows_read' | 'queue_operations' | 'kv_reads' | 'kv_writes'
> => ({
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
  async function deliverOnce(
    flow: Flow,
    ctx: FlowContext,
    detail = false,
  ): Promise<{ figures: FlowFigures; status: number; problems: string[]; statements?: Meter['statements'] }> {
    const request = await flow.request(ctx);
    for (const s of request.seed ?? [])
      await options.env.DB.prepare(s.sql)
        .bind(...s.params)
        .run();
    const meter: Meter = newMeter();
    if (detail) meter.statements = {};
    const kv = { reads: 0, writes: 0 };
    const held = Object.fromEntries([...bindings].map((b) => [b, new HeldQueue()]));
    const env = meteredEnv(
      {
        ...options.env,
        ...held,
        KV: countingKv(options.env.KV as KVNamespace | undefined, kv),
        SWITCHYARD_SERVICE_TOKEN: FLOW_SERVICE_TOKEN,
        APP_URL: 'https://app.example.com',
        ADMIN_EMAIL: 'ops@example.com',
      } as RuntimeEnv & Record<string, unknown>,
      meter,
    );
    const problems: string[] = [];
    const before = { subrequests, emails: emailsTo() };
    const pending: Promise<unknown>[] = [];
    const executionContext = {
      waitUntil: (p: Promise<unknown>) => void pending.push(p),
      passThroughOnException: () => undefined,
      props: {},
    } as unknown as ExecutionContext;
    const settle = async () => {
      while (pending.length)
        for (const r of await Promise.allSettled(pending.splice(0)))
          if (r.status === 'rejected') problems.push(`waitUntil rejected: ${String(r.reason)}`);
    };
    const res = await runtime.fetch(
      new Request(`${FLOW_ORIGIN}${request.path}`, { method: 'POST', body: request.body, headers: request.headers }),
      env,
      executionContext,
    );
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
        const messages: ConsumerMessage[] = taken.slice(i, i + MAX_BATCH).map((m, j) => ({
          id: crypto.randomUUID(),
          body: m.body,
          attempts: 1,
          ack: () => void (outcomes[j] ??= 'acked'),
          retry: () => void (outcomes[j] ??= 'retried'),
        }));
        invocations++;
        await runtime.queue({ queue: queueNames[next]!, messages }, env);
        messages.forEach(
          (_, j) =>
            outcomes[j] !== 'acked' &&
            problems.push(`a message on ${next} was ${outcomes[j] ?? 'neither acked nor retried'}`),
        );
      }
    }
    const left = [...consumed].filter((b) => held[b]!.messages.length);
    if (left.length) problems.push(`queues still hold messages after 50 rounds: ${left.join(', ')}`);
    const emails = emailsTo() - before.emails;
    if (flow.emails !== undefined && emails !== flow.emails)
      problems.push(`sent ${emails} emails, expected ${flow.emails}`);
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
      const context = (): FlowContext => ({
        secrets: options.env as unknown as Record<string, string>,
        uid: (prefix) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`,
      });
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
      return {
        flow: flow.name,
        source: flow.source,
        on: flow.on,
        events,
        runs,
        perEvent,
        perRequest,
        steady: signatures.size === 1,
        statuses,
        problems,
        capacity: capacity(costOf(perEvent)),
        ...(statements ? { statements } : {}),
      };
    },
  };
}
