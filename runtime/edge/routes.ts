/**
 * Application routes on the Hono app: verify the bearer token with the route's provider, check `require`, count
 * the rate limit atomically in D1, then proxy upstream or run the endpoint adapter. Failures are the one JSON
 * error shape; 401s carry WWW-Authenticate and never detail more than a reason code, nor log the token.
 */
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { stepContext } from '../component/context.ts';
import { AuthError, providerUser, satisfies, type JwtVerify } from './auth.ts';
import type { AuthenticatedUser, AuthHooks } from '../component/auth.ts';
import type { EndpointEvent } from '../component/endpoint.ts';
import { batchEnvelopes, type Envelope, type RuntimeEnv } from '../lib/envelope.ts';
import { CONTROL_CHARACTER, httpError } from '../lib/http.ts';
import { countStatement, MemoryRateLimit } from '../consumer/limits.ts';
import type { CompiledLimit } from '../component/step.ts';
import { periodBounds } from '../lib/periods.ts';
import type { CompiledManifest, CompiledRoute } from '../manifest/compile.ts';
import type { PlatformUsage } from '../lib/platform.ts';
import { loadProfile } from './profiles.ts';
import { trackRequest } from '../manifest/request-analytics.ts';
import { countActiveUser, countTrackedEvents, type RouteCountContext } from './route-limits.ts';
import type { Emit } from '../lib/telemetry.ts';
import { readPath } from '../language/values.ts';

export interface RouteDeps {
  emit: Emit;
  fetch: typeof fetch;
  now: () => number;
  verifiers: ReadonlyMap<string, JwtVerify>;
  /** Counts what endpoints queue, for their queue's backlog. */
  usage?: PlatformUsage;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
];

/** The bearer token of a request, if it sent one. */
export function bearer(request: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
}

/** Verifies a token, turning failures into the edge's 401/503 responses. */
export async function authenticate(
  verify: JwtVerify,
  token: string,
  env: RuntimeEnv,
  emit: Emit,
  where: string,
): Promise<AuthenticatedUser> {
  try {
    return await verify(token, env);
  } catch (error) {
    if (error instanceof AuthError) {
      emit({ kind: 'auth.rejected', where, reason: error.reason });
      if (error.status === 503)
        throw httpError(
          503,
          { error: 'unavailable', message: 'tokens cannot be verified right now', reason: error.reason },
          { 'retry-after': '30' },
        );
      throw httpError(
        401,
        { error: 'unauthorized', message: 'a valid bearer token is required', reason: error.reason },
        { 'www-authenticate': 'Bearer realm="switchyard", error="invalid_token"' },
      );
    }
    throw error;
  }
}

/**
 * Runs a route's on_first_seen steps the first time a user reaches it: the seen-marker and the steps' statements
 * commit together, so a failure leaves the user unseen and the next request tries again. A concurrent first
 * request loses on the marker's primary key and changes nothing.
 */
async function firstSeen(
  route: CompiledRoute,
  config: AuthHooks | undefined,
  user: AuthenticatedUser,
  readProfile: () => Promise<Record<string, unknown> | undefined>,
  env: RuntimeEnv,
  deps: RouteDeps,
  seen: Set<string>,
): Promise<void> {
  const key = `${user.provider}\u0000${user.sub}`;
  if (seen.has(key)) return;
  const db = env.DB;
  if (
    await db
      .prepare('SELECT 1 AS seen FROM seen_users WHERE provider = ?1 AND sub = ?2')
      .bind(user.provider, user.sub)
      .first()
  ) {
    seen.add(key);
    return;
  }
  const at = new Date(deps.now()).toISOString();
  // Read only for a user not seen yet: a route that forwards nothing from the profile never reads it otherwise.
  const profile = await readProfile();
  const described = providerUser(config, user, profile);
  // A provider that does not date its users (Supabase's token, no profile read) has them dated by their first request.
  const userValues = { ...described, created_at: described.created_at ?? at };
  const envelope = {
    integration: route.name,
    id: user.sub,
    type: 'user.first_seen',
    occurred_at: at,
    received_at: at,
    payload: { sub: user.sub, claims: user.claims, profile: profile ?? {}, user: userValues },
  };
  const statements: D1PreparedStatement[] = [
    db
      .prepare('INSERT INTO seen_users (provider, sub, first_seen_at) VALUES (?1, ?2, ?3)')
      .bind(user.provider, user.sub, at),
  ];
  const ctx = stepContext(envelope, env);
  for (const step of route.onFirstSeen!) {
    const output = await step.run(ctx);
    if (output.actions?.length || output.outbox?.length) throw new Error('on_first_seen runs SQL steps only');
    for (const s of output.statements ?? []) statements.push(db.prepare(s.sql).bind(...s.params));
  }
  try {
    await db.batch(statements);
  } catch (error) {
    if (!/UNIQUE constraint failed: seen_users/.test(String(error))) throw error;
  }
  seen.add(key);
}

const PERCENT_ESCAPE = /%([0-9A-Fa-f]{2})/g;
/** How many rounds of percent-decoding a path segment is followed through (an origin may decode more than once). */
const MAX_DECODE_ROUNDS = 4;

/**
 * True when a path carries something an origin could decode into a different path: an encoded `/` or `\`
 * (`%2f`, `%5c`, any case) or a dot segment (`.`, `..`, `%2e%2e`), also when encoded twice or more. The URL
 * parser has already resolved literal dot segments; what is left is hidden in escapes.
 */
export function hidesPathSeparator(pathname: string): boolean {
  for (const raw of pathname.split('/')) {
    let segment = raw;
    for (let round = 0; ; round++) {
      if (segment === '.' || segment === '..' || segment.includes('/') || segment.includes('\\')) return true;
      const decoded = segment.replace(PERCENT_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      if (decoded === segment) break;
      if (round === MAX_DECODE_ROUNDS) return true;
      segment = decoded;
    }
  }
  return false;
}

/**
 * Sets an identity header from a claim or profile value. A value with a control character (a CRLF in a user's
 * first name) is dropped, not cleaned: the origin gets no header rather than an altered identity, and the request
 * still goes through. Non-string values are sent as JSON.
 */
function forwardValue(headers: Headers, header: string, value: unknown): void {
  if (value === undefined || value === null) return;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (!CONTROL_CHARACTER.test(text)) headers.set(header, text);
}

async function proxy(
  route: CompiledRoute,
  request: Request,
  user: AuthenticatedUser | undefined,
  profile: Record<string, unknown> | undefined,
  config: AuthHooks | undefined,
  deps: RouteDeps,
): Promise<Response> {
  const upstream = route.upstream!;
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  for (const h of HOP_BY_HOP) headers.delete(h);
  // Identity headers come from the verified token only; a client's own copies are dropped.
  for (const name of [...headers.keys()]) if (name.startsWith('x-user-')) headers.delete(name);
  for (const [header] of [...upstream.forwardClaims, ...upstream.forwardProfile, ...upstream.forwardUser])
    headers.delete(header);
  if (!upstream.keepAuthorization) headers.delete('authorization');
  if (user) {
    headers.set('x-user-id', user.sub);
    for (const [header, claim] of upstream.forwardClaims) forwardValue(headers, header, user.claims[claim]);
    for (const [header, path] of upstream.forwardProfile)
      forwardValue(headers, header, profile ? readPath(path, { payload: profile }) : undefined);
    if (upstream.forwardUser.length) {
      const described = providerUser(config, user, profile);
      for (const [header, path] of upstream.forwardUser)
        forwardValue(headers, header, readPath(path, { payload: described }));
    }
  }
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : request.body;
  try {
    return await deps.fetch(`${upstream.origin}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      ...(body ? { body } : {}),
      redirect: 'manual',
    });
  } catch (error) {
    // An origin that cannot be reached (offline under `npm run dev`, DNS, a refused connection) is the gateway's
    // 502, not the Worker's own 500.
    deps.emit({
      kind: 'runtime.error',
      where: `routes.${route.name}.upstream`,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw httpError(502, {
      error: 'bad_gateway',
      message: 'the upstream could not be reached',
      reason: 'upstream_unreachable',
    });
  }
}

/** Runs work after the answer (`ctx.waitUntil`); without an execution context (app.request in tests) on its own. */
function background(c: Context, work: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context: the promise runs on; callers pass promises that never reject.
  }
}

export function registerRoutes(app: Hono<{ Bindings: RuntimeEnv }>, compiled: CompiledManifest, deps: RouteDeps): void {
  const seen = new Set<string>();
  const counted = new Set<string>();
  const countContext = (env: RuntimeEnv): RouteCountContext => ({
    db: env.DB,
    io: { env, fetch: deps.fetch, now: deps.now() },
    emit: deps.emit,
    compiled,
  });
  /** A count that must not fail the request it counts: logged instead. */
  const quietly = (where: string, work: Promise<unknown>): Promise<void> =>
    work.then(
      () => undefined,
      (error: unknown) =>
        deps.emit({ kind: 'runtime.error', where, error: error instanceof Error ? error.message : String(error) }),
    );
  for (const route of compiled.routes) {
    const early = new MemoryRateLimit();
    // Only the path and methods are read to register a route: the rest (compiled lazily) on its first request.
    let prepared:
      | { verify: JwtVerify | undefined; userLimits: CompiledLimit[]; analyticsLimits: CompiledLimit[] | undefined }
      | undefined;
    const prepare = () =>
      (prepared ??= {
        verify: route.auth ? deps.verifiers.get(route.auth) : undefined,
        userLimits: route.limits?.filter((l) => l.counts === 'active_users') ?? [],
        analyticsLimits: route.analytics
          ? compiled.routes.find((r) => r.name === route.analytics!.to)?.limits
          : undefined,
      });
    app.on(route.methods, route.path, async (c) => {
      const { verify, userLimits, analyticsLimits } = prepare();
      const request = c.req.raw;
      const startedMs = deps.now();
      if (route.upstream && hidesPathSeparator(new URL(request.url).pathname)) {
        throw httpError(400, {
          error: 'bad_request',
          message: 'encoded path separators and dot segments are not forwarded',
          reason: 'path_not_allowed',
        });
      }
      let user: AuthenticatedUser | undefined;
      const token = bearer(request);
      if (verify && request.method !== 'OPTIONS') {
        if (token) user = await authenticate(verify, token, c.env, deps.emit, `routes.${route.name}`);
        else if (route.authMode === 'required') {
          throw httpError(
            401,
            { error: 'unauthorized', message: 'a bearer token is required', reason: 'missing_token' },
            { 'www-authenticate': 'Bearer realm="switchyard"' },
          );
        }
      }
      if (route.require && (!user || !satisfies(user, route.require, c.env)))
        throw httpError(403, { error: 'forbidden', message: 'this token lacks a required claim or role' });
      // Active users only warn, so the count never holds up the request (nor fails it).
      if (user && userLimits.length)
        background(
          c,
          quietly(
            `routes.${route.name}.active_users`,
            countActiveUser(userLimits, user.sub, countContext(c.env), counted),
          ),
        );
      const rateKey =
        route.rateLimit?.per === 'user'
          ? (user?.sub ?? 'anonymous')
          : (request.headers.get('cf-connecting-ip') ?? 'unknown');
      // What an endpoint answers without D1 (no credentials, preflight) is counted in memory, never in D1.
      const answered = route.endpoint?.precheck?.(request, user);
      if (answered) {
        if (route.rateLimit && !early.take(rateKey, route.rateLimit.period, route.rateLimit.limit, deps.now())) {
          throw httpError(
            429,
            {
              error: 'rate_limited',
              message: `at most ${route.rateLimit.limit} requests per ${route.rateLimit.period}`,
            },
            { 'retry-after': '60' },
          );
        }
        return answered;
      }
      if (route.rateLimit) {
        const period = periodBounds(route.rateLimit.period, deps.now());
        const counted = await countStatement(
          c.env.DB,
          `route.${route.name}`,
          rateKey,
          period.start,
          route.rateLimit.limit,
        ).first<{ n: number }>();
        if (!counted) {
          const retryAfter = Math.max(1, Math.ceil((period.endMs - deps.now()) / 1000));
          throw httpError(
            429,
            {
              error: 'rate_limited',
              message: `at most ${route.rateLimit.limit} requests per ${route.rateLimit.period}`,
            },
            { 'retry-after': String(retryAfter) },
          );
        }
      }
      const profileSource = route.profile;
      const readProfile = async () =>
        user && profileSource
          ? loadProfile(
              profileSource,
              user,
              { env: c.env, fetch: deps.fetch, now: deps.now(), ...(c.env.KV ? { kv: c.env.KV as KVNamespace } : {}) },
              deps.emit,
            )
          : undefined;
      // Per request only when a forwarded header reads it; on_first_seen reads it for a new user alone.
      const forwardsProfile =
        !!route.upstream && (route.upstream.forwardProfile.length > 0 || route.upstream.forwardUser.length > 0);
      const profile = forwardsProfile ? await readProfile() : undefined;
      const authConfig = route.auth ? compiled.auth.get(route.auth) : undefined;
      if (user && route.onFirstSeen)
        await firstSeen(
          route,
          authConfig,
          user,
          forwardsProfile ? async () => profile : readProfile,
          c.env,
          deps,
          seen,
        );
      if (route.upstream) {
        const analytics = route.analytics;
        if (!analytics) return proxy(route, request, user, profile, authConfig, deps);
        // Tracked after the answer, whatever it is (a 502 included), and never awaited by it.
        const track = (status: number) => {
          const facts = { route, request, status, startedMs, endedMs: deps.now(), ...(user ? { user } : {}) };
          const fits = analyticsLimits
            ? countTrackedEvents(analyticsLimits, 1, countContext(c.env))
            : Promise.resolve(true);
          background(
            c,
            fits.then((allowed) =>
              allowed
                ? trackRequest(analytics, compiled.sources.get(analytics.to), facts, c.env, deps)
                : deps.emit({
                    kind: 'analytics.dropped',
                    route: route.name,
                    to: analytics.to,
                    reason: 'limit_reached',
                  }),
            ),
          );
        };
        try {
          const response = await proxy(route, request, user, profile, authConfig, deps);
          track(response.status);
          return response;
        } catch (error) {
          track(error instanceof HTTPException ? error.status : 500);
          throw error;
        }
      }
      const source = route.source;
      return route.endpoint!({
        request,
        env: c.env,
        ...(user ? { user } : {}),
        route: route.name,
        now: deps.now(),
        fetch: deps.fetch,
        emit: deps.emit,
        async enqueue(events: EndpointEvent[]) {
          if (!source) throw new Error(`route ${route.name} has no queue`);
          const queue = c.env[source.queue.binding] as Queue | undefined;
          if (!queue)
            throw httpError(500, { error: 'misconfigured', message: `queue ${source.queue.name} is not bound` });
          // One message (one event in the log) for the whole request; more only where 128 KB forces them.
          let batches: Envelope[];
          try {
            batches = batchEnvelopes(route.name, events, new Date(deps.now()).toISOString());
          } catch (error) {
            if (error instanceof RangeError)
              throw httpError(413, { error: 'payload_too_large', message: error.message });
            throw error;
          }
          if (!(await countTrackedEvents(route.limits, events.length, countContext(c.env)))) return 0;
          for (const batch of batches) {
            await queue.send(batch, { contentType: 'json' });
            // The backlog counts events, as the consumer does when it takes the message.
            deps.usage?.queued('sent', source.queue.name, batch.items!.length);
          }
          return events.length;
        },
        queueDepth: async () =>
          source && deps.usage ? deps.usage.backlog(c.env.DB, source.queue.name, deps.now()) : 0,
      });
    });
  }
}
