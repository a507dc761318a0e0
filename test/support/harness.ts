/** A real app on the default manifest with real D1 (from cloudflare:test) and queues that record or fail. */
import { env } from 'cloudflare:test';
import built from '../../.switchyard/manifests.json';
import { validators } from '../../.switchyard/manifests.validators.ts';
import { dashboard } from '../../.switchyard/dashboard.ts';
import { inputValidator, type BuiltValidators } from '../../runtime/manifest/commands/input.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import type { ConsumerMessage } from '../../runtime/consumer/consumer.ts';
import type { Envelope, RuntimeEnv } from '../../runtime/lib/envelope.ts';
import type { BudgetTable } from '../../runtime/lib/platform.ts';
import type { PostgresConnect } from '../../runtime/store/postgres.ts';
import { createRuntime, type Runtime } from '../../runtime/runtime.ts';
import { compileManifest, type CompiledManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import type { Tracer } from '../../runtime/lib/trace.ts';
import type { TelemetryEvent } from '../../runtime/lib/telemetry.ts';
import { FakeProviders } from './fake-providers.ts';

/**
 * The command input checks `switchyard build` generated for an environment of the default manifest (`validators`),
 * or another build's (`examples.validators.ts`), as compileManifest takes them.
 */
export const builtInputs = (environment = 'default', table: unknown = validators) => ({
  inputValidator: (command: string) => {
    const fn = (table as BuiltValidators)[environment]?.[command];
    return fn ? inputValidator(fn) : undefined;
  },
});

export const defaultManifest = (built as unknown as { environments: Record<string, { manifest: Manifest }> })
  .environments.default!.manifest;

/** A queue binding that records what is sent, and can be told to fail. */
export class RecordingQueue {
  messages: unknown[] = [];
  failures = 0;
  async send(body: unknown): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('Queue send failed: injected');
    }
    this.messages.push(structuredClone(body));
  }
  async sendBatch(batch: { body: unknown }[]): Promise<void> {
    for (const m of batch) await this.send(m.body);
  }
}

/** A queue message that records what the consumer did with it. */
export interface FakeMessage extends ConsumerMessage {
  acked: boolean;
  retried?: { delaySeconds?: number };
}

export function fakeMessage(body: unknown, attempts = 1): FakeMessage {
  return {
    id: crypto.randomUUID(),
    body: structuredClone(body),
    attempts,
    acked: false,
    ack() {
      this.acked = true;
    },
    retry(options) {
      this.retried = options ?? {};
    },
  };
}

/**
 * Wraps D1 so a batch fails, as D1 does when busy, whenever it carries a statement bound with `marker` whose SQL
 * matches `sql` (by default the consumer's commit: its applied-marker). Reads and other writes still work.
 */
export function faultyDb(
  db: D1Database,
  marker: () => string | undefined,
  sql: RegExp = /INSERT INTO events \(integration, id, type, received_at, attempts, steps, status/,
  message = 'D1_ERROR: database is locked: SQLITE_BUSY',
): D1Database {
  const bound = new WeakMap<object, unknown[]>();
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') {
        return (statementSql: string) => {
          const statement = target.prepare(statementSql);
          return new Proxy(statement, {
            get(t, p) {
              if (p === 'bind') {
                return (...params: unknown[]) => {
                  const result = t.bind(...params);
                  if (sql.test(statementSql)) bound.set(result, params);
                  return result;
                };
              }
              const value = Reflect.get(t, p, t);
              return typeof value === 'function' ? value.bind(t) : value;
            },
          });
        };
      }
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          const m = marker();
          if (m !== undefined && statements.some((st) => (bound.get(st) ?? []).includes(m))) throw new Error(message);
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface Harness {
  request(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  /** Runs the queue handler on these messages (as a batch from the events queue). */
  consume(messages: FakeMessage[], env?: Record<string, unknown>): Promise<void>;
  /** Takes every message the ingest queued so far, as fresh queue messages. */
  drain(): FakeMessage[];
  runtime: Runtime;
  /** The fake provider APIs outbound actions reach (unless a test passes its own fetch). */
  providers: FakeProviders;
  queue: RecordingQueue;
  /** The analytics queue (/v1/track); `drain()` takes its messages too. */
  analytics: RecordingQueue;
  fulfillment: RecordingQueue;
  events: TelemetryEvent[];
  env: RuntimeEnv;
  /**
   * Awaits the work requests handed to `ctx.waitUntil` (with `ctx: true`), as the platform runs it after the answer.
   * Without `ctx`, requests have no execution context and that work is awaited before the answer.
   */
  settle(): Promise<void>;
}

export const QUEUE_NAMES = {
  EVENTS_QUEUE: 'test-events',
  EVENTS_DLQ: 'test-events-dlq',
  FULFILLMENT_QUEUE: 'test-fulfillment',
  ANALYTICS_QUEUE: 'test-analytics',
  ANALYTICS_DLQ: 'test-analytics-dlq',
};

/** The manifest with every integration and command set to `apply: queue`: for tests of the queue path itself. */
export function queuedOnly(manifest: Manifest): Manifest {
  const m = structuredClone(manifest);
  for (const integration of Object.values(m.integrations)) integration.apply = 'queue';
  // A command that only counts (count:) is never queued: it has no steps.
  for (const command of Object.values(m.commands ?? {})) if (!command.count) command.apply = 'queue';
  return m;
}

export function harness(
  options: {
    compiled?: CompiledManifest;
    env?: Record<string, unknown>;
    now?: () => number;
    fetch?: typeof fetch;
    queued?: boolean;
    budget?: BudgetTable;
    connectPostgres?: PostgresConnect;
    ctx?: boolean;
    tracer?: Tracer;
  } = {},
): Harness {
  const compiled =
    options.compiled ??
    compileManifest(options.queued ? queuedOnly(defaultManifest) : defaultManifest, defaultRegistry, builtInputs());
  const events: TelemetryEvent[] = [];
  const queue = new RecordingQueue();
  const fulfillment = new RecordingQueue();
  const analytics = new RecordingQueue();
  const providers = new FakeProviders();
  const runtime = createRuntime({
    compiled,
    environment: 'test',
    hash: 'test',
    queueNames: QUEUE_NAMES,
    // The Worker entry's composition: the dashboard the build made (test/worker/admin-login.test.ts signs in to it).
    dashboard,
    emit: (e) => events.push(e),
    random: () => 0.5,
    ...(options.now ? { now: options.now } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.connectPostgres ? { connectPostgres: options.connectPostgres } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
    fetch: options.fetch ?? providers.fetch,
  });
  const testEnv = {
    ...env,
    EVENTS_QUEUE: queue,
    FULFILLMENT_QUEUE: fulfillment,
    ANALYTICS_QUEUE: analytics,
    ADMIN_TOKEN: 'test-admin-token',
    APP_URL: 'https://app.test',
    ADMIN_EMAIL: 'ops@test.example',
    RESEND_API_KEY: 're_test_key',
    SWITCHYARD_SERVICE_TOKEN: 'test-service-token',
    ...options.env,
  };
  // An execution context that keeps what is handed to waitUntil, for `settle()` (the platform runs it after the answer).
  const waits: Promise<unknown>[] = [];
  const ctx = options.ctx
    ? ({
        waitUntil: (p: Promise<unknown>) => void waits.push(p),
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext)
    : undefined;
  const request = (path: string, init?: RequestInit) =>
    Promise.resolve(runtime.app.request(`https://switchyard.test${path}`, init, testEnv, ctx));
  return {
    request,
    post: (path, body, headers = {}) =>
      request(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }),
    consume: (messages, overrides = {}) =>
      runtime.queue({ queue: QUEUE_NAMES.EVENTS_QUEUE, messages }, { ...testEnv, ...overrides }),
    drain: () => [...queue.messages.splice(0), ...analytics.messages.splice(0)].map((m) => fakeMessage(m as Envelope)),
    runtime,
    providers,
    queue,
    analytics,
    fulfillment,
    events,
    env: testEnv,
    settle: async () => {
      while (waits.length) await Promise.allSettled(waits.splice(0));
    },
  };
}

export const uid = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
