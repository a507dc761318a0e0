/**
 * The real runtime (runtime/runtime.ts) served over HTTP in this process, on the offline target `switchyard test`
 * uses (node:sqlite D1 with migrations/, KV and queues in memory, secrets from the project's .dev.vars.example): a
 * running switchyard for CLI commands that talk to one (`send`), without wrangler. Queued messages are consumed as
 * they are sent.
 */
import { createServer } from 'node:http';
import { createRuntime } from '../../runtime/runtime.ts';
import type { RuntimeEnv } from '../../runtime/lib/envelope.ts';
import type { ConsumerMessage } from '../../runtime/consumer/consumer.ts';
import { MemoryKV, OfflineQueue } from '../../cli/lib/manifest-tests/bindings.ts';
import { nodeTarget } from '../../cli/lib/manifest-tests/node.ts';
import { projectFor } from '../../cli/lib/project.ts';
import { FakeProviders } from '../../cli/lib/fake-providers.ts';
import type { DashboardPages } from '../../runtime/operations/dashboard.ts';

export interface RuntimeServer {
  url: string;
  /** Rows of the runtime's D1 (the event log, dead letters, projections). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** Runs the cron trigger once (writes the isolate's counters, sweeps, retries what is due). */
  scheduled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the manifest at `manifestPath` (its project's migrations and .dev.vars.example) on a free local port; with
 * `dashboard` (the build's pages, cli/lib/dashboard-module.ts) it serves /admin too, signed in with ADMIN_TOKEN.
 * `providers`: the fake provider APIs its effects reach, for a test that scripts their failures; `fetch`: what its
 * effects reach instead (a real receiver).
 */
export async function serveRuntime(
  manifestPath: string,
  options: { dashboard?: DashboardPages; now?: () => number; providers?: FakeProviders; fetch?: typeof fetch } = {},
): Promise<RuntimeServer> {
  const built = nodeTarget(projectFor(manifestPath), 'default');
  if (!built.ok)
    throw new Error(
      `the manifest does not build: ${built.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')}`,
    );
  const target = built.target;
  const storage = await target.storage();
  const now = options.now ?? (() => Date.now());
  const queues = new Map<string, OfflineQueue>();
  for (const q of target.compiled.queues.values())
    for (const b of [q.binding, q.deadLetter]) if (b) queues.set(b, new OfflineQueue(b, now));
  const env: RuntimeEnv = {
    ...target.vars,
    ...target.secrets,
    SWITCHYARD_ENV: target.environment,
    DB: storage.db,
    KV: new MemoryKV(now) as unknown as KVNamespace,
    ...Object.fromEntries(queues),
  };
  const runtime = createRuntime({
    compiled: target.compiled,
    environment: target.environment,
    hash: 'test',
    queueNames: target.queueNames,
    fetch: options.fetch ?? (options.providers ?? new FakeProviders({ deterministic: true })).fetch,
    ...(options.now ? { now: options.now } : {}),
    ...(options.dashboard ? { dashboard: options.dashboard } : {}),
  });
  const drain = async () => {
    for (const [binding, q] of queues) {
      const due = q.takeDue(Number.MAX_SAFE_INTEGER);
      if (!due.length) continue;
      const messages: ConsumerMessage[] = due.map((m) => ({
        id: m.id,
        body: m.body,
        attempts: m.attempts,
        ack() {},
        retry() {},
      }));
      await runtime.queue({ queue: target.queueNames[binding] ?? binding, messages }, env);
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const headers = new Headers(
          Object.entries(req.headers).flatMap(([k, v]) =>
            v === undefined ? [] : [[k, String(v)] as [string, string]],
          ),
        );
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, {
          method: req.method!,
          headers,
          ...(body && req.method !== 'GET' ? { body } : {}),
        });
        const waits: Promise<unknown>[] = [];
        const ctx = {
          waitUntil: (p: Promise<unknown>) => void waits.push(p),
          passThroughOnException() {},
          props: {},
        } as unknown as ExecutionContext;
        const response = await runtime.fetch(request, env, ctx);
        await Promise.all(waits);
        await drain();
        res
          .writeHead(response.status, Object.fromEntries(response.headers))
          .end(Buffer.from(await response.arrayBuffer()));
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    query: async <T>(sql: string, ...params: unknown[]) =>
      (
        await storage.db
          .prepare(sql)
          .bind(...params)
          .all<T>()
      ).results,
    scheduled: async () => {
      await runtime.scheduled(env);
      await drain();
    },
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await storage.close?.();
    },
  };
}
