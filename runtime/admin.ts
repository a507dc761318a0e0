/**
 * The admin API under /admin/api: dead letters and replay. Protected by the ADMIN_TOKEN secret (Bearer); with
 * no token configured it is closed, never open.
 */
import { Hono } from 'hono';
import { encoder, timingSafeEqual } from './bytes.ts';
import type { RuntimeEnv } from './envelope.ts';
import { httpError } from './http.ts';
import type { CompiledManifest } from './manifest/compile.ts';
import { replayDeadLetters, type ReplaySelection } from './replay.ts';
import { satisfies, type JwtVerify } from './auth.ts';
import { authenticate, bearer } from './routes.ts';
import { periodBounds } from './limits.ts';
import { PLAN_LIMITS, type PlatformMetric, type PlatformUsage } from './platform.ts';
import type { Emit } from './telemetry.ts';

const digest = async (text: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));

export interface AdminDeps {
  usage?: PlatformUsage;
  now: () => number;
  verifiers: ReadonlyMap<string, JwtVerify>;
}

/** A JWT has three dot-separated parts; the admin token is an opaque secret. */
const looksLikeJwt = (token: string) => token.split('.').length === 3;

export function adminApi(compiled: CompiledManifest, emit: Emit, deps: AdminDeps): Hono<{ Bindings: RuntimeEnv }> {
  const { usage, now } = deps;
  const api = new Hono<{ Bindings: RuntimeEnv }>();
  const jwt = compiled.admin?.auth ? deps.verifiers.get(compiled.admin.auth) : undefined;

  // Either a token from the admin auth provider that meets `admin.require`, or the ADMIN_TOKEN secret. With
  // neither configured the admin API is closed.
  api.use('*', async (c, next) => {
    const expected = c.env.ADMIN_TOKEN;
    const hasToken = typeof expected === 'string' && expected !== '';
    if (!hasToken && !jwt) throw httpError(403, { error: 'forbidden', message: 'the admin API is disabled: set the ADMIN_TOKEN secret or admin.auth' });
    const given = bearer(c.req.raw);
    const challenge = { 'www-authenticate': 'Bearer realm="switchyard-admin"' };
    if (!given) throw httpError(401, { error: 'unauthorized', message: 'admin credentials required', reason: 'missing_token' }, challenge);
    if (jwt && looksLikeJwt(given)) {
      const user = await authenticate(jwt, given, c.env, emit, 'admin');
      if (!satisfies(user, compiled.admin?.require)) throw httpError(403, { error: 'forbidden', message: 'this token lacks the admin role' });
    } else if (!hasToken || !timingSafeEqual(await digest(given), await digest(expected as string))) {
      throw httpError(401, { error: 'unauthorized', message: 'admin credentials required', reason: 'bad_token' }, challenge);
    }
    await next();
  });

  api.get('/dead-letters', async (c) => {
    const integration = c.req.query('integration');
    const open = c.req.query('replayed') !== 'true';
    const rows = await c.env.DB.prepare(
      `SELECT seq, integration, stage, event_id, reason, error, attempts, first_failed_at, last_failed_at, replayed_at
       FROM dead_letters WHERE (?1 IS NULL OR integration = ?1) AND ((?2 = 1 AND replayed_at IS NULL) OR ?2 = 0) ORDER BY seq DESC LIMIT 200`,
    )
      .bind(integration ?? null, open ? 1 : 0)
      .all();
    return c.json({ dead_letters: rows.results });
  });

  api.post('/dead-letters/replay', async (c) => {
    let selection: ReplaySelection;
    try {
      selection = (await c.req.json()) as ReplaySelection;
    } catch {
      throw httpError(400, { error: 'bad_request', message: 'send JSON: {"seq": [..]} or {"integration": ".."} or {"all": true}' });
    }
    if (!selection || (!selection.seq?.length && !selection.integration && selection.all !== true)) {
      throw httpError(400, { error: 'bad_request', message: 'select dead letters: {"seq": [..]}, {"integration": ".."} or {"all": true}' });
    }
    return c.json(await replayDeadLetters(c.env, compiled, selection, emit));
  });

  /** Usage against the manifest's limits (current period, busiest keys first) and the platform's daily allowances. */
  api.get('/usage', async (c) => {
    const at = now();
    await usage?.flush(c.env.DB, at, true);
    const limits = await Promise.all(
      [...compiled.limits.values()].map(async (l) => {
        const period = periodBounds(l.period, at);
        const rows = await c.env.DB.prepare('SELECT key, n FROM usage WHERE metric = ?1 AND period_start = ?2 ORDER BY n DESC LIMIT 20').bind(l.name, period.start).all<{ key: string; n: number }>();
        return { name: l.name, period: l.period, period_start: period.start, resets_at: period.end, limit: l.limit, warn_at: l.warnAt, on_exceed: l.onExceed, usage: rows.results };
      }),
    );
    const day = periodBounds('day', at).start;
    const rows = await c.env.DB.prepare("SELECT metric, n FROM usage WHERE metric LIKE 'platform.%' AND period_start = ?1").bind(day).all<{ metric: string; n: number }>();
    const used = new Map(rows.results.map((r) => [r.metric.slice('platform.'.length), r.n]));
    const allowances = PLAN_LIMITS[compiled.plan];
    const platform = (Object.keys(allowances) as PlatformMetric[]).map((metric) => ({ metric, used: used.get(metric) ?? 0, allowance: Math.floor(allowances[metric]), fraction: (used.get(metric) ?? 0) / allowances[metric] }));
    return c.json({ limits, platform: { plan: compiled.plan, day, estimated: true, metrics: platform } });
  });

  return api;
}
