/**
 * One environment's runtime: the HTTP app and the queue handler over one compiled manifest. Batches from a
 * manifest queue are consumed; batches from a dead-letter queue (messages Queues gave up on) are recorded in
 * dead_letters, so nothing the platform drops is lost.
 */
import { createApp } from './app.ts';
import { runCommand, type CommandAnswer } from './edge/commands/run.ts';
import { createConsumer, platformDeadLetter, type ConsumerMessage } from './consumer/consumer.ts';
import { isEffectsMessage, type Envelope, type RuntimeEnv } from './lib/envelope.ts';
import type { CompiledManifest } from './manifest/compile.ts';
import { activeUserPruneStatements, operationPruneStatements, rateLimitPruneStatements } from './consumer/limits.ts';
import { PlatformUsage, pruneUsageStatements, type BudgetTable } from './lib/platform.ts';
import { evaluateAlerts } from './operations/alerts.ts';
import { prune } from './operations/prune.ts';
import { rollupCounters } from './operations/counters.ts';
import { sweep } from './operations/sweep.ts';
import { logEmit, type Emit } from './lib/telemetry.ts';
import { annotate, annotatingEmit, inSpan, type Tracer } from './lib/trace.ts';
import { refusingRedirects } from './lib/redirects.ts';
import type { PostgresConnect } from './store/postgres.ts';
import { Stage } from './store/status.ts';
import { pruneSessionsStatement } from './store/admin-sessions.ts';
import type { DashboardPages } from './operations/dashboard.ts';

export interface RuntimeOptions {
  compiled: CompiledManifest;
  environment: string;
  hash: string;
  /** Queue names by producer binding (from wrangler.toml, recorded by the build). */
  queueNames?: Record<string, string>;
  emit?: Emit;
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
  /**
   * How a Postgres store's client is opened: the driver, handed in by the composition root (the Worker: the module
   * `switchyard build` generates, pg only when a manifest has a postgres store; Node: adapters/stores/pg.ts). Without
   * it a postgres projection fails retryably, then dead-letters, saying the build has no driver.
   */
  connectPostgres?: PostgresConnect;
  /** Each handler's cost per event, from the build (for the admin usage report). */
  budget?: BudgetTable;
  /** The dashboard's pages, handed in by the composition root from the build; the offline engine serves none. */
  dashboard?: DashboardPages;
  /**
   * Workers' tracing API (`tracing` of cloudflare:workers), handed in by the Worker entry: spans for a queue batch,
   * each provider call and the cron's sweep, and a webhook request's attributes on its root span. None: no spans.
   */
  tracer?: Tracer;
}

export interface Runtime {
  app: ReturnType<typeof createApp>;
  fetch(request: Request, env: RuntimeEnv, ctx?: ExecutionContext): Response | Promise<Response>;
  queue(batch: { queue: string; messages: readonly ConsumerMessage[] }, env: RuntimeEnv): Promise<void>;
  /**
   * A command called over a Service Binding (RPC): the binding is the authorisation, so only `rpc: false` refuses.
   * Answers what HTTP would, as a plain object. The caller its keys belong to is `rpc`, or `rpc/<binding>` when the
   * binding names itself (its `props.caller`, set in the calling Worker's wrangler config, never by the call).
   */
  command(
    name: string,
    input: unknown,
    options: { idempotencyKey?: string } | undefined,
    env: RuntimeEnv,
    ctx?: ExecutionContext,
    binding?: string,
  ): Promise<CommandAnswer>;
  /** The cron trigger: flush usage, roll up counters, sweep what waits with no outcome, prune by retention, evaluate alerts. */
  scheduled(env: RuntimeEnv): Promise<void>;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const emit = options.tracer ? annotatingEmit(options.emit ?? logEmit, options.tracer) : (options.emit ?? logEmit);
  const { tracer } = options;
  const usage = new PlatformUsage();
  const now = options.now ?? Date.now;
  // Redirects are never followed on their own (lib/redirects.ts): a credential goes only where the manifest says.
  const fetcher = refusingRedirects(
    options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
  );
  const consume = createConsumer({ ...options, emit, usage, fetch: fetcher });
  const commandPaths = {
    applyInRequest: consume.applyInRequest,
    applySync: consume.applySync,
    retrySync: consume.retrySync,
  };
  const app = createApp({
    ...options,
    emit,
    usage,
    fetch: fetcher,
    applyInRequest: consume.applyInRequest,
    commands: commandPaths,
    retryEffects: consume.retryEffects,
  });
  const deadLetterQueues = new Set<string>();
  for (const queue of options.compiled.queues.values()) {
    const name = queue.deadLetter ? options.queueNames?.[queue.deadLetter] : undefined;
    if (name) deadLetterQueues.add(name);
  }
  // Queues that endpoints fill (track): first deliveries are counted, so the endpoint can see the backlog.
  // Known on the first batch: a webhook request does not compile the routes.
  let endpointQueues: Map<string, string> | undefined;
  const endpointQueue = (queue: string) => {
    if (!endpointQueues) {
      endpointQueues = new Map();
      for (const route of options.compiled.routes) {
        const name = route.source ? options.queueNames?.[route.source.queue.binding] : undefined;
        if (name && route.source) endpointQueues.set(name, route.source.queue.name);
      }
    }
    return endpointQueues.get(queue);
  };

  /** Writes the usage counts when they are due: after the answer under `ctx.waitUntil`, else before it. */
  const flushUsage = (env: RuntimeEnv, ctx: ExecutionContext | undefined): Promise<void> | undefined => {
    const at = now();
    if (!usage.due(at)) return undefined;
    const flushed = usage.flush(env.DB, at);
    if (!ctx) return flushed;
    ctx.waitUntil(flushed);
    return undefined;
  };

  return {
    app,
    async fetch(request, env, ctx) {
      usage.count('worker_requests');
      try {
        return await app.fetch(request, env, ctx);
      } finally {
        await flushUsage(env, ctx);
      }
    },
    async command(name, input, commandOptions, env, ctx, binding) {
      usage.count('worker_requests');
      try {
        const command = options.compiled.commands.get(name);
        if (!command) return { status: 404, body: { error: 'not_found', message: `no command ${name}` } };
        if (!command.rpc) {
          emit({ kind: 'command.rejected', command: name, via: 'rpc', reason: 'rpc_disabled' });
          return { status: 403, body: { error: 'forbidden', message: `command ${name} is HTTP only (rpc: false)` } };
        }
        return await runCommand(
          command,
          input,
          commandOptions?.idempotencyKey,
          env,
          'rpc',
          binding ? `rpc/${binding}` : 'rpc',
          {
            compiled: options.compiled,
            emit,
            now,
            usage,
            fetch: fetcher,
            ...commandPaths,
            ...(ctx ? { waitUntil: (work: Promise<unknown>) => ctx.waitUntil(work) } : {}),
          },
        );
      } finally {
        await flushUsage(env, ctx);
      }
    },
    async scheduled(env) {
      usage.count('worker_requests');
      const at = now();
      await usage.flush(env.DB, at, true);
      // What /health counts, from the event log into hourly rows (a few minutes of the log per run).
      await rollupCounters(env.DB, at);
      const started = Date.now();
      await inSpan(
        tracer,
        'switchyard.sweep',
        () => ({ stage: 'sweep' }),
        async (span) => {
          const swept = await sweep(env, options.compiled, emit, at);
          const done = { ...swept, duration_ms: Date.now() - started };
          emit({ kind: 'sweep.done', ...done });
          annotate(span, { outcome: 'swept', ...done });
        },
      );
      const pruned = await prune(env.DB, options.compiled.retention, at);
      // Rate-limit counters of periods that are over (one bounded statement per limited route).
      const limits = [
        ...rateLimitPruneStatements(env.DB, options.compiled.routes, at, options.compiled.retention.batch),
        ...activeUserPruneStatements(
          env.DB,
          [...options.compiled.limits.values()],
          at,
          options.compiled.retention.batch,
        ),
        ...operationPruneStatements(
          env.DB,
          [...options.compiled.limits.values()],
          at,
          options.compiled.retention.batch,
        ),
      ];
      // Dashboard sessions that ended by themselves (a sign-out deletes its own row).
      const sessions = pruneSessionsStatement(env.DB, Math.floor(at / 1000), options.compiled.retention.batch);
      await env.DB.batch([
        ...limits,
        sessions,
        ...pruneUsageStatements(env.DB, at, options.compiled.retention.batch, [...options.compiled.limits.values()]),
      ]);
      emit({ kind: 'retention.pruned', ...pruned });
      await evaluateAlerts(options.compiled.alerts, env.DB, { env, fetch: fetcher, now: at }, emit);
    },
    async queue(batch, env) {
      usage.count('worker_requests');
      usage.count('queue_operations', batch.messages.length * 2);
      const fromEndpoint = endpointQueue(batch.queue);
      // Effects messages (retries of an applied event's sends) were never counted as queued events.
      // A batch message carries several: the backlog counts events on both sides.
      if (fromEndpoint)
        usage.queued(
          'consumed',
          fromEndpoint,
          batch.messages
            .filter((m) => m.attempts <= 1 && !isEffectsMessage(m.body))
            .reduce((n, m) => n + eventsIn(m), 0),
        );
      try {
        await inSpan(
          tracer,
          'switchyard.consume',
          () => batchAttributes(batch),
          () => handleBatch(batch, env),
        );
      } finally {
        await usage.flush(env.DB, now());
      }
    },
  };

  /** A batch from a manifest queue is consumed; one from a dead-letter queue is recorded. */
  async function handleBatch(
    batch: { queue: string; messages: readonly ConsumerMessage[] },
    env: RuntimeEnv,
  ): Promise<void> {
    if (!deadLetterQueues.has(batch.queue)) {
      await consume(batch.messages, env);
      return;
    }
    const at = new Date(options.now ? options.now() : Date.now()).toISOString();
    // An effects message Queues gave up on leaves its effects open in D1: the sweep sends another.
    const letters = batch.messages.filter((m) => !isEffectsMessage(m.body));
    if (letters.length) await env.DB.batch(letters.flatMap((m) => platformDeadLetter(env.DB, m, at)));
    for (const m of batch.messages) {
      const envelope = m.body as Partial<Envelope>;
      if (letters.includes(m))
        emit({
          kind: 'webhook.dead_lettered',
          integration: envelope.integration ?? 'unknown',
          id: envelope.id ?? m.id,
          stage: Stage.consumer,
          reason: 'platform_retries_exhausted',
        });
      m.ack();
    }
  }
}

/** A queue batch's span attributes: the queue and its size, and the event when it holds one (the usual batch when traffic is light). */
function batchAttributes(batch: {
  queue: string;
  messages: readonly ConsumerMessage[];
}): Record<string, string | number | undefined> {
  const only = batch.messages.length === 1 ? (batch.messages[0]!.body as Partial<Envelope> | null) : undefined;
  return {
    stage: Stage.consumer,
    queue: batch.queue,
    messages: batch.messages.length,
    integration: only?.integration,
    event_id: only?.id,
    type: only?.type,
    attempt: only ? batch.messages[0]!.attempts : undefined,
  };
}

/** How many events a queued message carries: a batch its items, any other one. */
function eventsIn(message: ConsumerMessage): number {
  const items = (message.body as Envelope | null)?.items;
  return Array.isArray(items) ? items.length : 1;
}
