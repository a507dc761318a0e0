/**
 * The generic Worker's HTTP side: a Hono app built once per isolate from a compiled manifest. Routes come
 * from the manifest; one dispatcher looks the path up in the routing table (a Map, O(1)).
 */
import { Hono } from 'hono/tiny';
import { HTTPException } from 'hono/http-exception';
import type { RuntimeEnv } from './lib/envelope.ts';
import { errorResponse, httpError, waitUntilOf } from './lib/http.ts';
import { LazyMap } from './lib/lazy-map.ts';
import { refusingRedirects } from './lib/redirects.ts';
import { adminApi, type AdminDeps } from './operations/admin.ts';
import { health } from './operations/health.ts';
import { registerAdminPages } from './operations/admin-pages.ts';
import type { DashboardPages } from './operations/dashboard.ts';
import { createJwtVerifier, type JwtVerify } from './edge/auth.ts';
import { devAuthEnv, withDevIssuer } from './edge/dev-auth.ts';
import { registerRoutes } from './edge/routes.ts';
import { registerCommands } from './edge/commands/http.ts';
import type { CommandDeps } from './edge/commands/run.ts';
import { ingest } from './edge/ingest.ts';
import type { IngestDeps } from './event/admit.ts';
import { logRefusal, RefusalLog } from './edge/refusals.ts';
import type { CompiledManifest } from './manifest/compile.ts';
import type { BudgetTable, PlatformUsage } from './lib/platform.ts';
import type { PostgresConnect } from './store/postgres.ts';
import { logEmit, type Emit } from './lib/telemetry.ts';

export interface AppOptions {
  compiled: CompiledManifest;
  environment: string;
  hash: string;
  emit?: Emit;
  now?: () => number;
  usage?: PlatformUsage;
  /** Each handler's cost per event, computed by `switchyard build` (the admin usage report projects it). */
  budget?: BudgetTable;
  /** The fetch used for JWKS, upstream proxies and endpoint providers (tests point it at fakes). */
  fetch?: typeof fetch;
  /** The consumer's queue-free path, for webhooks whose handlers are SQL only. */
  applyInRequest?: IngestDeps['applyInRequest'];
  /** The consumer's in-request paths commands use (see runtime/edge/commands/run.ts). */
  commands?: Pick<CommandDeps, 'applyInRequest' | 'applySync' | 'retrySync'>;
  /** The consumer's retry now for effects (the admin API's POST /effects/retry). */
  retryEffects?: AdminDeps['retryEffects'];
  /** How rebuild (admin API) opens a Postgres store's client; the consumer gets the same from createRuntime. */
  connectPostgres?: PostgresConnect;
  /** The dashboard's pages (built by `switchyard build`); without them /admin and its login are not served. */
  dashboard?: DashboardPages;
}

/**
 * Builds the app for one compiled manifest.
 * @example const app = createApp({ compiled, environment: 'default', hash }); await app.request('/healthz')
 */
export function createApp(options: AppOptions): Hono<{ Bindings: RuntimeEnv }> {
  const { compiled, environment, hash } = options;
  const baseEmit = options.emit ?? logEmit;
  // Refusals are counted from the typed event itself, wherever it is raised.
  const emit: Emit = (event) => {
    if (event.kind === 'webhook.rejected') options.usage?.rejected(event.integration, event.reason);
    baseEmit(event);
  };
  const app = new Hono<{ Bindings: RuntimeEnv }>();
  // The secrets each integration's verifier lists are checked against this environment on every call (no I/O).
  app.on(['GET', 'HEAD'], '/healthz', (c) => c.json(health(compiled, environment, hash, c.env)));
  app.all('/healthz', () => {
    throw httpError(405, { error: 'method_not_allowed', message: 'use GET' }, { allow: 'GET, HEAD' });
  });

  const now = options.now ?? Date.now;
  const fetcher = refusingRedirects(
    options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
  );
  // Each provider's verifier is built on its first use (a webhook never needs one).
  const verifiers = new LazyMap<string, JwtVerify>(
    [...compiled.auth.keys()].map((name) => [
      name,
      () => {
        const config = compiled.auth.get(name)!;
        return withDevIssuer(name, config, createJwtVerifier(name, config, { fetch: fetcher, now }));
      },
    ]),
  );
  // The local dev issuer (runtime/edge/dev-auth.ts) counts only for requests that came to a loopback host. Marked on
  // the way in rather than by a `*` middleware: a webhook then matches one handler, which Hono calls without composing.
  const dispatch = app.fetch;
  app.fetch = (request, env, ctx) => dispatch(request, env ? devAuthEnv(env, request.url) : env, ctx);
  if (options.dashboard) registerAdminPages(app, options.dashboard, compiled, emit, { now, verifiers });
  app.route(
    '/admin/api',
    adminApi(compiled, emit, {
      ...(options.usage ? { usage: options.usage } : {}),
      ...(options.budget ? { budget: options.budget } : {}),
      ...(options.applyInRequest ? { applyInRequest: options.applyInRequest } : {}),
      ...(options.retryEffects ? { retryEffects: options.retryEffects } : {}),
      now,
      verifiers,
      ...(options.connectPostgres ? { connectPostgres: options.connectPostgres } : {}),
    }),
  );
  if (options.commands && compiled.commands.size)
    registerCommands(app, {
      compiled,
      emit,
      now,
      verifiers,
      fetch: fetcher,
      ...options.commands,
      ...(options.usage ? { usage: options.usage } : {}),
    });
  registerRoutes(app, compiled, {
    emit,
    fetch: fetcher,
    now,
    verifiers,
    ...(options.usage ? { usage: options.usage } : {}),
  });

  // What every webhook request hands the pipeline, built once; only the request's waitUntil is added per request.
  const ingestDeps: IngestDeps = {
    emit,
    ...(options.now ? { now: options.now } : {}),
    ...(options.usage ? { usage: options.usage } : {}),
    ...(options.applyInRequest ? { applyInRequest: options.applyInRequest } : {}),
  };
  const refusals = new RefusalLog(options.usage);
  app.all('*', async (c) => {
    const integration = compiled.webhookPaths.get(c.req.path);
    if (!integration) throw httpError(404, { error: 'not_found', message: `no route for ${c.req.path}` });
    const waitUntil = waitUntilOf(c);
    try {
      if (!integration.methods.has(c.req.method)) {
        const allow = [...integration.methods].join(', ');
        emit({
          kind: 'webhook.rejected',
          integration: integration.name,
          reason: 'method_not_allowed',
          detail: c.req.method,
        });
        throw httpError(405, { error: 'method_not_allowed', message: `use ${allow}` }, { allow });
      }
      return await ingest(integration, c.req.raw, c.env, waitUntil ? { ...ingestDeps, waitUntil } : ingestDeps);
    } catch (error) {
      // A refusal (not a 409: that event is in flight, not refused) is logged after the answer, or before it without one.
      if (error instanceof HTTPException && error.status >= 400 && error.status < 500 && error.status !== 409) {
        const logged = logRefusal(refusals, error, {
          integration: integration.name,
          request: c.req.raw,
          secrets: integration.secrets,
          env: c.env,
          nowMs: now(),
        });
        if (waitUntil) waitUntil(logged);
        else await logged;
      }
      throw error;
    }
  });

  app.onError((error) => {
    if (error instanceof HTTPException) return error.getResponse();
    emit({
      kind: 'runtime.error',
      where: 'http',
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return errorResponse(500, { error: 'internal', message: 'internal error' });
  });
  return app;
}
