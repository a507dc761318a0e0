/**
 * The admin API under /admin/api: dead letters and replay. Protected by the ADMIN_TOKEN secret (Bearer); with
 * no token configured it is closed, never open.
 */
import { Hono } from 'hono';
import { secretsEqual } from './bytes.ts';
import type { RuntimeEnv } from './envelope.ts';
import { httpError } from './http.ts';
import type { CompiledManifest } from './manifest/compile.ts';
import { replayDeadLetters, replayEvents, type EventQuery, type ReplaySelection } from './replay.ts';
import { rebuildPage, type RebuildRequest } from './rebuild.ts';
import { satisfies, type JwtVerify } from './auth.ts';
import { authenticate, bearer } from './routes.ts';
import { periodBounds } from './limits.ts';
import { PLAN_LIMITS, type PlatformMetric, type PlatformUsage } from './platform.ts';
import type { Emit } from './telemetry.ts';


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
    } else if (!hasToken || !(await secretsEqual(given, expected as string))) {
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
    const invalid = invalidReplaySelection(selection);
    if (invalid) throw httpError(400, { error: 'bad_request', message: invalid });
    return c.json(await replayDeadLetters(c.env, compiled, selection, emit));
  });

  /** Replays events selected by a query (not yet applied ones), from their stored bodies. */
  api.post('/events/replay', async (c) => {
    const query = ((await c.req.json().catch(() => ({}))) ?? {}) as EventQuery;
    try {
      return c.json(await replayEvents(c.env, compiled, query, emit, now()));
    } catch (error) {
      throw httpError(400, { error: 'bad_request', message: error instanceof Error ? error.message : String(error) });
    }
  });

  /** One page of a rebuild: re-runs the projections for the next events in order (see runtime/rebuild.ts). */
  api.post('/rebuild', async (c) => {
    const request = (await c.req.json().catch(() => null)) as RebuildRequest | null;
    if (!request || typeof request.target !== 'string' || !request.target) throw httpError(400, { error: 'bad_request', message: 'send {"target": "<table or integration>", "cursor"?: "...", "limit"?: 200}' });
    return c.json(await rebuildPage(c.env, compiled, request));
  });

  /** The event log, newest first, filtered by integration, type, status and time, with cursor pagination. */
  api.get('/events', async (c) => {
    const q = (name: string) => c.req.query(name) ?? null;
    const limit = Math.min(200, Math.max(1, Number(q('limit') ?? 50) || 50));
    let cursor: [string, string, string] | null = null;
    if (q('cursor')) {
      try {
        cursor = JSON.parse(atob(q('cursor')!)) as [string, string, string];
      } catch {
        throw httpError(400, { error: 'bad_request', message: 'cursor is not one this API returned' });
      }
    }
    const rows = await c.env.DB.prepare(
      `SELECT integration, id, type, status, received_at, occurred_at, deliveries, attempts, updated_at FROM events
       WHERE (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR status = ?3)
         AND (?4 IS NULL OR received_at >= ?4) AND (?5 IS NULL OR received_at < ?5)
         AND (?6 IS NULL OR (received_at, integration, id) < (?6, ?7, ?8))
       ORDER BY received_at DESC, integration DESC, id DESC LIMIT ?9`,
    )
      .bind(q('integration'), q('type'), q('status'), q('since'), q('until'), cursor?.[0] ?? null, cursor?.[1] ?? null, cursor?.[2] ?? null, limit + 1)
      .all<{ integration: string; id: string; received_at: string }>();
    const events = rows.results.slice(0, limit);
    const last = events[events.length - 1];
    const next = rows.results.length > limit && last ? btoa(JSON.stringify([last.received_at, last.integration, last.id])) : null;
    return c.json({ events, next_cursor: next });
  });

  /** One event with its payload (admins only) and any dead letter it left. */
  api.get('/events/:integration/:id', async (c) => {
    const { integration, id } = c.req.param();
    const event = await c.env.DB.prepare('SELECT integration, id, type, status, received_at, occurred_at, deliveries, attempts, updated_at, body FROM events WHERE integration = ?1 AND id = ?2')
      .bind(integration, id)
      .first<Record<string, unknown> & { body: string | null }>();
    if (!event) throw httpError(404, { error: 'not_found', message: `no event ${integration}/${id}` });
    const letters = await c.env.DB.prepare('SELECT seq, stage, reason, error, attempts, first_failed_at, last_failed_at, replayed_at FROM dead_letters WHERE integration = ?1 AND event_id = ?2').bind(integration, id).all();
    const applied = await c.env.DB.prepare('SELECT applied_at, steps FROM applied_messages WHERE integration = ?1 AND event_id = ?2').bind(integration, id).first<{ applied_at: string; steps: string | null }>();
    const { body, ...rest } = event;
    let payload: unknown = body;
    try {
      payload = body === null ? null : JSON.parse(body);
    } catch {
      // a form body: shown as sent
    }
    return c.json({ event: { ...rest, payload }, steps: applied?.steps ? JSON.parse(applied.steps) : [], applied_at: applied?.applied_at ?? null, dead_letters: letters.results });
  });

  /** Per integration, over the last hour and day: accepted, rejected, failed, and p50/p99 processing lag. */
  api.get('/health', async (c) => {
    const at = now();
    await usage?.flush(c.env.DB, at, true);
    const windows = { hour: 3_600_000, day: 86_400_000 } as const;
    const names = [...compiled.sources.keys()];
    const result: Record<string, Record<string, unknown>> = Object.fromEntries(names.map((n) => [n, {}]));
    for (const [window, ms] of Object.entries(windows)) {
      const since = new Date(at - ms).toISOString();
      const counts = await c.env.DB.prepare(
        `SELECT integration, count(*) AS accepted, sum(status IN ('failed', 'dead_lettered')) AS failed FROM events WHERE received_at >= ?1 GROUP BY integration`,
      )
        .bind(since)
        .all<{ integration: string; accepted: number; failed: number }>();
      const rejected = await c.env.DB.prepare("SELECT substr(metric, 12) AS integration, sum(n) AS n FROM usage WHERE metric LIKE 'rejections.%' AND period_start >= ?1 GROUP BY metric")
        .bind(periodBounds('hour', at - ms).start)
        .all<{ integration: string; n: number }>();
      const lags = await c.env.DB.prepare(
        "SELECT integration, (julianday(updated_at) - julianday(received_at)) * 86400000 AS lag FROM events WHERE status = 'applied' AND received_at >= ?1 ORDER BY integration LIMIT 20000",
      )
        .bind(since)
        .all<{ integration: string; lag: number }>();
      for (const name of names) {
        const own = lags.results.filter((l) => l.integration === name).map((l) => l.lag).sort((a, b) => a - b);
        const pct = (p: number) => (own.length ? Math.round(own[Math.min(own.length - 1, Math.ceil((p / 100) * own.length) - 1)]!) : null);
        const count = counts.results.find((r) => r.integration === name);
        result[name]![window] = {
          accepted: count?.accepted ?? 0,
          failed: count?.failed ?? 0,
          rejected: rejected.results.find((r) => r.integration === name)?.n ?? 0,
          lag_ms: { p50: pct(50), p99: pct(99) },
        };
      }
    }
    // Accepted events per hour over the last 24 hours, oldest first, for the dashboard's charts.
    const hours = Array.from({ length: 24 }, (_, i) => periodBounds('hour', at - (23 - i) * 3_600_000).start.slice(0, 13));
    const perHour = await c.env.DB.prepare("SELECT integration, substr(received_at, 1, 13) AS hour, count(*) AS n FROM events WHERE received_at >= ?1 GROUP BY integration, hour")
      .bind(`${hours[0]}:00:00.000Z`)
      .all<{ integration: string; hour: string; n: number }>();
    for (const name of names) result[name]!.series = hours.map((h) => perHour.results.find((r) => r.integration === name && r.hour === h)?.n ?? 0);
    return c.json({ at: new Date(at).toISOString(), integrations: result });
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

/** At most this many dead letters by `seq` per replay call. */
export const MAX_REPLAY_SEQ = 100;

/** Why a replay selection is malformed (from JSON, so any shape), or undefined when it is usable. */
function invalidReplaySelection(selection: ReplaySelection): string | undefined {
  const { seq, integration, all } = selection as { seq?: unknown; integration?: unknown; all?: unknown };
  if (seq !== undefined && (!Array.isArray(seq) || !seq.every((n) => Number.isSafeInteger(n) && (n as number) > 0))) return 'seq must be an array of dead-letter numbers (positive integers)';
  if (Array.isArray(seq) && seq.length > MAX_REPLAY_SEQ) return `at most ${MAX_REPLAY_SEQ} dead letters by seq per call; got ${seq.length}`;
  if (integration !== undefined && typeof integration !== 'string') return 'integration must be a name (a string)';
  if (all !== undefined && typeof all !== 'boolean') return 'all must be true or false';
  return undefined;
}
