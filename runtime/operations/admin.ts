/**
 * The admin API under /admin/api: the event log, dead letters, replay, usage and health. Protected by the
 * ADMIN_TOKEN secret or an admin JWT (Bearer, for the CLI) or the dashboard's session cookie; with neither
 * configured it is closed, never open.
 */
import { Hono } from 'hono/tiny';
import { handshakesApi } from './admin-handshakes.ts';
import { getCookie } from 'hono/cookie';
import { activeSession, CSRF_HEADER, csrfSafe, SESSION_COOKIE } from './admin-session.ts';
import { secretsEqual } from '../lib/bytes.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import { httpError } from '../lib/http.ts';
import type { CompiledManifest } from '../manifest/compile.ts';
import {
  previewDeadLetters,
  replayDeadLetters,
  replayEvents,
  type EventQuery,
  type ReplaySelection,
} from './replay.ts';
import * as store from '../store/index.ts';
import { rebuildPage, type RebuildRequest } from './rebuild.ts';
import { satisfies, type JwtVerify } from '../edge/auth.ts';
import type { AuthenticatedUser } from '../component/auth.ts';
import { authenticate, bearer } from '../edge/routes.ts';
import { periodBounds } from '../lib/periods.ts';
import {
  capacity,
  LAG_BUCKETS_MS,
  PLAN_LIMITS,
  type BudgetTable,
  type PlatformMetric,
  type PlatformUsage,
} from '../lib/platform.ts';
import { EventStatus } from '../store/index.ts';
import type { PostgresConnect } from '../store/postgres.ts';
import { compilePattern } from '../manifest/compile.ts';
import type { Emit } from '../lib/telemetry.ts';
import { registerBackfill } from './backfill.ts';
import { eventCounters } from './counters.ts';
import { refusalsApi } from './admin-refusals.ts';
import { registerCharts } from './charts.ts';
import {
  effectLabel,
  effectLetterDetail,
  redactStored,
  registerEffects,
  withEffects,
  type RetryEffects,
} from './admin-effects.ts';
import type { IngestDeps } from '../event/admit.ts';

export interface AdminDeps {
  usage?: PlatformUsage;
  /** Each handler's cost per event, from the build: the usage report projects today's mix with it. */
  budget?: BudgetTable;
  now: () => number;
  verifiers: ReadonlyMap<string, JwtVerify>;
  /** How rebuild opens a Postgres store's client (the runtime's `connectPostgres`). */
  connectPostgres?: PostgresConnect;
  /** The consumer's queue-free path: backfilled events take it exactly as webhooks do. */
  applyInRequest?: IngestDeps['applyInRequest'];
  /** The consumer's retry now for effects (POST /effects/retry). */
  retryEffects?: RetryEffects;
}

/** A JWT has three dot-separated parts; the admin token is an opaque secret. */
const looksLikeJwt = (token: string) => token.split('.').length === 3;

/** An events cursor is base64 JSON of [received_at, integration, id]; anything else is a 400, never a bind error. */
function parseCursor(text: string): number {
  const seq = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seq))
    throw httpError(400, { error: 'bad_request', message: 'cursor is not one this API returned' });
  return seq;
}

/**
 * Checks an admin credential: a token from the admin auth provider that meets `admin.require` (its user is
 * returned), or the ADMIN_TOKEN secret (nothing is). Throws the edge's 401/403; with neither configured the admin
 * API is closed.
 */
export function adminCredential(compiled: CompiledManifest, emit: Emit, deps: AdminDeps) {
  const challenge = { 'www-authenticate': 'Bearer realm="switchyard-admin"' };
  return async function check(
    given: string | undefined,
    env: RuntimeEnv,
    where = 'admin',
  ): Promise<AuthenticatedUser | undefined> {
    const jwt = compiled.admin?.auth ? deps.verifiers.get(compiled.admin.auth) : undefined;
    const expected = env.ADMIN_TOKEN;
    const hasToken = typeof expected === 'string' && expected !== '';
    if (!hasToken && !jwt)
      throw httpError(403, {
        error: 'forbidden',
        message: 'the admin API is disabled: set the ADMIN_TOKEN secret or admin.auth',
      });
    if (!given)
      throw httpError(
        401,
        { error: 'unauthorized', message: 'admin credentials required', reason: 'missing_token' },
        challenge,
      );
    if (jwt && looksLikeJwt(given)) {
      const user = await authenticate(jwt, given, env, emit, where);
      if (!satisfies(user, compiled.admin?.require, env))
        throw httpError(403, { error: 'forbidden', message: 'this token does not meet admin.require' });
      return user;
    } else if (!hasToken || !(await secretsEqual(given, expected as string))) {
      throw httpError(
        401,
        { error: 'unauthorized', message: 'admin credentials required', reason: 'bad_token' },
        challenge,
      );
    }
    return undefined;
  };
}

/** Who made an admin change, as the log keeps it (dismissed_by). */
type AdminEnv = { Bindings: RuntimeEnv; Variables: { actor: string } };

/** A dead letter's number from the path; anything else is a 400. */
function parseSeq(text: string): number {
  const seq = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw httpError(400, { error: 'bad_request', message: 'a dead letter is named by its number (seq)' });
  return seq;
}

export function adminApi(compiled: CompiledManifest, emit: Emit, deps: AdminDeps): Hono<AdminEnv> {
  const { usage, now } = deps;
  const api = new Hono<AdminEnv>();
  const check = adminCredential(compiled, emit, deps);

  // The Bearer credential (the CLI), or the dashboard's session cookie; a state-changing request by cookie must
  // also carry the session's CSRF token, from this origin.
  api.use('*', async (c, next) => {
    const given = bearer(c.req.raw);
    const session = given ? undefined : await activeSession(getCookie(c, SESSION_COOKIE), c.env, now(), compiled.admin);
    if (!session) {
      await check(given, c.env);
      c.set('actor', given && compiled.admin?.auth && looksLikeJwt(given) ? 'admin JWT' : 'ADMIN_TOKEN');
    } else if (!csrfSafe(c.req.raw, session)) {
      throw httpError(403, {
        error: 'forbidden',
        message: `a change made with the dashboard session needs the ${CSRF_HEADER} header, sent from this origin`,
        reason: 'csrf',
      });
    }
    if (session) c.set('actor', 'dashboard');
    await next();
  });

  /** Open letters by default; `view=dismissed` or `view=all` (also `replayed=true`) for the rest of the log. */
  api.get('/dead-letters', async (c) => {
    const view = c.req.query('view') ?? (c.req.query('replayed') === 'true' ? 'all' : 'open');
    if (view !== 'open' && view !== 'dismissed' && view !== 'all')
      throw httpError(400, { error: 'bad_request', message: 'view is open, dismissed or all' });
    const rows = await store.listDeadLetters(c.env.DB, c.req.query('integration') ?? null, view);
    return c.json({ dead_letters: rows });
  });

  /** One dead letter whole: the full error, and the stored envelope or raw body and headers. */
  api.get('/dead-letters/:seq{[0-9]+}', async (c) => {
    const seq = parseSeq(c.req.param('seq'));
    const letter = await store.deadLetter(c.env.DB, seq);
    if (!letter) throw httpError(404, { error: 'not_found', message: `no dead letter ${seq}` });
    const json = (text: unknown) => {
      try {
        return typeof text === 'string' ? JSON.parse(text) : null;
      } catch {
        return text;
      }
    };
    // An effect's letter says what was being sent and what the provider answered, not only the webhook's body.
    const effect =
      letter.stage === store.Stage.effect ? await effectLetterDetail(c.env.DB, compiled, c.env, letter) : undefined;
    return c.json({
      dead_letter: {
        ...letter,
        envelope: effect ? redactStored(json(letter.envelope), c.env) : json(letter.envelope),
        headers: json(letter.headers),
        ...(effect ? { effect } : {}),
      },
    });
  });

  /** Dismisses a letter that can never succeed: it leaves the open list and alerts' count, and stays in the log. */
  api.post('/dead-letters/:seq{[0-9]+}/dismiss', async (c) => {
    const seq = parseSeq(c.req.param('seq'));
    const at = new Date(now()).toISOString();
    const changed = await store.dismissStatement(c.env.DB, seq, c.get('actor') ?? 'admin', at).run();
    if (!changed.meta.changes) {
      const why = (await store.closedDeadLetters(c.env.DB, [seq])).get(seq)!.reason;
      throw httpError(why.startsWith('no ') ? 404 : 409, {
        error: why.startsWith('no ') ? 'not_found' : 'conflict',
        message: why,
      });
    }
    return c.json({ seq, dismissed_at: at });
  });

  registerBackfill(api, compiled, {
    emit,
    now,
    ...(usage ? { usage } : {}),
    ...(deps.applyInRequest ? { applyInRequest: deps.applyInRequest } : {}),
  });

  api.post('/dead-letters/replay', async (c) => {
    let selection: ReplaySelection;
    try {
      selection = (await c.req.json()) as ReplaySelection;
    } catch {
      throw httpError(400, {
        error: 'bad_request',
        message: 'send JSON: {"seq": [..]} or {"integration": ".."} or {"all": true}',
      });
    }
    if (!selection || (!selection.seq?.length && !selection.integration && selection.all !== true)) {
      throw httpError(400, {
        error: 'bad_request',
        message: 'select dead letters: {"seq": [..]}, {"integration": ".."} or {"all": true}',
      });
    }
    const invalid = invalidReplaySelection(selection);
    if (invalid) throw httpError(400, { error: 'bad_request', message: invalid });
    if (selection.dry_run) return c.json(await previewDeadLetters(c.env, selection));
    return c.json(await replayDeadLetters(c.env, compiled, selection, emit));
  });

  /** Replays events selected by a query (not yet applied ones), or one by {integration, id}, from their stored bodies. */
  api.post('/events/replay', async (c) => {
    const query = ((await c.req.json().catch(() => ({}))) ?? {}) as EventQuery;
    try {
      return c.json(await replayEvents(c.env, compiled, query, emit, now()));
    } catch (error) {
      throw httpError(400, { error: 'bad_request', message: error instanceof Error ? error.message : String(error) });
    }
  });

  /** One page of a rebuild: re-runs the projections for the next events in order (see runtime/operations/rebuild.ts). */
  api.post('/rebuild', async (c) => {
    const request = (await c.req.json().catch(() => null)) as RebuildRequest | null;
    if (!request || typeof request.target !== 'string' || !request.target)
      throw httpError(400, {
        error: 'bad_request',
        message: 'send {"target": "<table or integration>", "cursor"?: "...", "limit"?: 200}',
      });
    return c.json(await rebuildPage(c.env, compiled, request, deps.connectPostgres));
  });

  /**
   * The event log, newest first, filtered by integration, type, status, origin (backfill, repair) and time, with
   * cursor pagination (an origin filter reads no more rows than any other). Search:
   * `id` finds an event by its exact id (through the dedup key, in one integration or all); `q` finds events whose
   * body holds a value, scanning at most `scan_limit` rows per call (the cursor goes on from there).
   */
  api.get('/events', async (c) => {
    const q = (name: string) => c.req.query(name) ?? null;
    const id = q('id');
    if (id) {
      const integrations = q('integration')
        ? [q('integration')!]
        : [...new Set([...compiled.sources.keys(), ...compiled.integrations.keys()])];
      return c.json({
        events: await withEffects(c.env.DB, compiled, await store.eventsById(c.env.DB, integrations, id)),
        next_cursor: null,
      });
    }
    const origin = q('origin');
    if (origin !== null && !(Object.values(store.EventOrigin) as string[]).includes(origin))
      throw httpError(400, {
        error: 'bad_request',
        message: `origin is ${Object.values(store.EventOrigin).join(' or ')}`,
      });
    const effects = q('effects');
    if (effects !== null && effects !== 'failing')
      throw httpError(400, {
        error: 'bad_request',
        message: 'effects is failing (events with an effect retrying or dead-lettered now)',
      });
    const limit = Math.min(200, Math.max(1, Number(q('limit') ?? 50) || 50));
    const cursor = q('cursor') ? parseCursor(q('cursor')!) : null;
    const { events, next } = await store.listEvents(
      c.env.DB,
      {
        integration: q('integration'),
        type: q('type'),
        status: q('status'),
        since: q('since'),
        until: q('until'),
        contains: q('q'),
        origin: origin as store.EventOrigin | null,
        failingEffects: effects === 'failing',
      },
      cursor,
      limit,
    );
    // A search says how far one call looks, for the page to tell its user.
    return c.json({
      events: await withEffects(c.env.DB, compiled, events),
      next_cursor: next === null ? null : String(next),
      ...(q('q') ? { scan_limit: store.LIST_SCAN } : {}),
    });
  });

  /** One event with its payload (admins only) and any dead letter it left. */
  api.get('/events/:integration/:id', async (c) => {
    const { integration, id } = c.req.param();
    const event = await store.eventDetail(c.env.DB, integration, id);
    if (!event) throw httpError(404, { error: 'not_found', message: `no event ${integration}/${id}` });
    const [effects, letters, attempts] = await Promise.all([
      store.effectsOf(c.env.DB, integration, id),
      store.deadLettersOf(c.env.DB, integration, id),
      store.attemptsOf(c.env.DB, integration, id),
    ]);
    const { body, steps, ...rest } = event;
    let payload: unknown = body;
    try {
      payload = body === null ? null : JSON.parse(body);
    } catch {
      // a form body: shown as sent
    }
    const source = compiled.sources.get(integration);
    return c.json({
      // `?raw=1`: the body as received too, byte for byte (what `switchyard forward` sends on).
      event: {
        ...rest,
        max_attempts: source?.retry.maxAttempts ?? null,
        payload,
        ...(c.req.query('raw') ? { body } : {}),
      },
      steps: steps ? JSON.parse(steps) : [],
      applied_at: rest.status === EventStatus.applied ? rest.updated_at : null,
      effects: effects.map((e) => ({
        ...e,
        label: effectLabel(e.source, String(e.action)),
        max_attempts: compiled.effects.byId.get(e.source)?.retry.maxAttempts ?? null,
      })),
      dead_letters: letters,
      attempts,
    });
  });

  /**
   * Per integration, over the last hour and day: accepted, rejected, failed (attempts), and p50/p99 processing lag,
   * from hourly counters: the ones the cron rolled up from the event log, the events since (runtime/operations/
   * counters.ts), and this isolate's refusals not yet written. It reads about 24 rows per metric and the log's tail.
   */
  api.get('/health', async (c) => {
    const at = now();
    const hours = Array.from({ length: 24 }, (_, i) => periodBounds('hour', at - (23 - i) * 3_600_000).start);
    const tail = await eventCounters(c.env.DB);
    const counters = await hourlyCounters(c.env.DB, hours[0]!, [...tail.rows, ...(usage?.unflushed(at) ?? [])]);
    // Effects failing now, per integration: retrying, and dead-lettered with the letter open (read from what is open).
    const failing = await store.failingCounts(c.env.DB);
    const failingOf = (name: string, status: string) =>
      failing.find((f) => f.integration === name && f.status === status)?.n ?? 0;
    const names = [...compiled.sources.keys()];
    const result: Record<string, Record<string, unknown>> = {};
    for (const name of names) {
      const own = counters.filter((r) => r.key === name || r.metric === `rejections.${name}`);
      const window = (from: string) => {
        const inWindow = own.filter((r) => r.period_start >= from);
        const sum = (metric: string) => inWindow.filter((r) => r.metric === metric).reduce((n, r) => n + r.n, 0);
        const lags = LAG_BUCKETS_MS.map((_, i) => sum(`lag.${String(i).padStart(2, '0')}`));
        lags.push(sum(`lag.${String(LAG_BUCKETS_MS.length).padStart(2, '0')}`));
        return {
          accepted: sum('events.accepted'),
          failed: sum('events.failed'),
          rejected: sum(`rejections.${name}`),
          lag_ms: { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99) },
        };
      };
      result[name] = {
        hour: window(periodBounds('hour', at - 3_600_000).start),
        effects: {
          retrying: failingOf(name, store.EffectStatus.retrying),
          dead_lettered: failingOf(name, store.EffectStatus.dead_lettered),
        },
        day: window(hours[0]!),
        // Accepted events per hour over the last 24 hours, oldest first, for the dashboard's charts.
        series: hours.map((h) =>
          own.filter((r) => r.metric === 'events.accepted' && r.period_start === h).reduce((n, r) => n + r.n, 0),
        ),
      };
    }
    // `partial`: more events wait to be rolled up than one answer reads (the cron has not run for a while).
    return c.json({ at: new Date(at).toISOString(), integrations: result, ...(tail.partial ? { partial: true } : {}) });
  });

  /** Usage against the manifest's limits (current period, busiest keys first) and the platform's daily allowances. */
  api.get('/usage', async (c) => {
    const at = now();
    // Reading the report writes nothing: this isolate's unwritten counts are added to what D1 has.
    const unflushed = [...(usage?.unflushed(at) ?? []), ...(await eventCounters(c.env.DB)).rows];
    const limits = await Promise.all(
      [...compiled.limits.values()].map(async (l) => {
        const period = periodBounds(l.period, at);
        const rows = await c.env.DB.prepare(
          'SELECT key, n FROM usage WHERE metric = ?1 AND period_start = ?2 ORDER BY n DESC LIMIT 20',
        )
          .bind(l.name, period.start)
          .all<{ key: string; n: number }>();
        return {
          name: l.name,
          period: l.period,
          period_start: period.start,
          resets_at: period.end,
          limit: l.limit,
          warn_at: l.warnAt,
          on_exceed: l.onExceed,
          usage: rows.results,
        };
      }),
    );
    const day = periodBounds('day', at).start;
    const rows = await c.env.DB.prepare(
      "SELECT metric, n FROM usage WHERE metric >= 'platform.' AND metric < 'platform/' AND key = '*' AND period_start = ?1",
    )
      .bind(day)
      .all<{ metric: string; n: number }>();
    const used = new Map<string, number>();
    for (const r of [
      ...rows.results,
      ...unflushed.filter((u) => u.metric.startsWith('platform.') && u.period_start === day),
    ]) {
      const metric = r.metric.slice('platform.'.length);
      used.set(metric, (used.get(metric) ?? 0) + r.n);
    }
    const allowances = PLAN_LIMITS[compiled.plan];
    const platform = (Object.keys(allowances) as PlatformMetric[]).map((metric) => ({
      metric,
      used: used.get(metric) ?? 0,
      allowance: Math.floor(allowances[metric]),
      fraction: (used.get(metric) ?? 0) / allowances[metric],
    }));
    return c.json({
      limits,
      platform: { plan: compiled.plan, day, estimated: true, metrics: platform },
      projection: await projection(c.env.DB, deps.budget, compiled.plan, day, unflushed),
    });
  });

  registerEffects(api, compiled, deps.retryEffects);

  api.route('/handshakes', handshakesApi(compiled, emit, now));
  api.route('/refusals', refusalsApi());
  registerCharts(api, compiled, { now, ...(usage ? { usage } : {}) });

  return api;
}

/** Today's newest events the projection prices the mix from, at most: a busy day is sampled, never read whole. */
export const PROJECTION_SAMPLE = 1000;

/**
 * Today's events by handler, priced with the build's per-handler costs: the events a day that would fit the plan
 * at this mix, and the resource that would run out first. Null without a budget or before the first event. The mix
 * is today's newest PROJECTION_SAMPLE events (a range of the sequence: the log has no time index); how many
 * arrived today comes from the hourly `events.accepted` counters and the events not rolled up yet.
 */
async function projection(
  db: D1Database,
  budget: BudgetTable | undefined,
  plan: 'free' | 'paid',
  day: string,
  unflushed: { metric: string; period_start: string; n: number }[],
) {
  if (!budget?.handlers.length) return null;
  const rows = await db
    .prepare(
      'SELECT integration, type, status, count(*) AS n FROM events WHERE seq > (SELECT max(seq) FROM events) - ?2 AND received_at >= ?1 GROUP BY integration, type, status',
    )
    .bind(day, PROJECTION_SAMPLE)
    .all<{ integration: string; type: string; status: string; n: number }>();
  const counted = await db
    .prepare("SELECT coalesce(sum(n), 0) AS n FROM usage WHERE metric = 'events.accepted' AND period_start >= ?1")
    .bind(day)
    .first<{ n: number }>();
  const accepted =
    (counted?.n ?? 0) +
    unflushed.filter((u) => u.metric === 'events.accepted' && u.period_start >= day).reduce((n, u) => n + u.n, 0);
  const matchers = budget.handlers.map((h) => ({ h, re: compilePattern(h.on) }));
  const mix = {
    worker_requests: 0,
    d1_rows_written: 0,
    d1_rows_read: 0,
    queue_operations: 0,
    kv_reads: 0,
    kv_writes: 0,
  };
  let events = 0;
  // A type with conditions has a row per branch: a skipped event costs its skipped row, any other its dearest branch.
  const costOf = (r: { integration: string; type: string; status: string }) => {
    const priced = matchers.filter((m) => m.h.source === r.integration && m.re.test(r.type)).map((m) => m.h);
    const skipped = r.status === EventStatus.skipped ? priced.find((h) => h.status === EventStatus.skipped) : undefined;
    return (
      skipped ??
      priced
        .filter((h) => h.status !== EventStatus.skipped)
        .sort((a, b) => b.d1_rows_written - a.d1_rows_written || b.queue_operations - a.queue_operations)[0] ??
      priced[0]
    );
  };
  for (const r of rows.results) {
    const cost = costOf(r);
    if (!cost) continue;
    events += r.n;
    for (const k of Object.keys(mix) as (keyof typeof mix)[]) mix[k] += cost[k] * r.n;
  }
  if (!events)
    return {
      events_today: accepted,
      per_event: null,
      fits: budget.headline
        ? {
            ...budget.headline.capacity.find((c) => c.plan === plan)!,
            mix: `${budget.headline.source} ${budget.headline.on}`,
          }
        : null,
    };
  const perEvent = Object.fromEntries(Object.entries(mix).map(([k, v]) => [k, v / events])) as typeof mix;
  return {
    events_today: Math.max(events, accepted),
    per_event: perEvent,
    fits: { ...capacity(perEvent).find((c) => c.plan === plan)!, mix: "today's" },
  };
}

/** At most this many dead letters by `seq` per replay call. */
export const MAX_REPLAY_SEQ = 100;

/** Why a replay selection is malformed (from JSON, so any shape), or undefined when it is usable. */
function invalidReplaySelection(selection: ReplaySelection): string | undefined {
  const { seq, integration, all } = selection as { seq?: unknown; integration?: unknown; all?: unknown };
  if (seq !== undefined && (!Array.isArray(seq) || !seq.every((n) => Number.isSafeInteger(n) && (n as number) > 0)))
    return 'seq must be an array of dead-letter numbers (positive integers)';
  if (Array.isArray(seq) && seq.length > MAX_REPLAY_SEQ)
    return `at most ${MAX_REPLAY_SEQ} dead letters by seq per call; got ${seq.length}`;
  if (integration !== undefined && typeof integration !== 'string') return 'integration must be a name (a string)';
  if (all !== undefined && typeof all !== 'boolean') return 'all must be true or false';
  if (
    (selection as { dry_run?: unknown }).dry_run !== undefined &&
    typeof (selection as { dry_run?: unknown }).dry_run !== 'boolean'
  )
    return 'dry_run must be true or false';
  return undefined;
}

/** Hourly counters since an hour (events, lag buckets, rejections), with ones not in `usage` yet added. */
async function hourlyCounters(
  db: D1Database,
  since: string,
  unflushed: { metric: string; key: string; period_start: string; n: number }[],
) {
  const rows = await db
    .prepare(
      `SELECT metric, key, period_start, n FROM usage WHERE ((metric >= 'events.' AND metric < 'events/') OR (metric >= 'lag.' AND metric < 'lag/') OR (metric >= 'rejections.' AND metric < 'rejections/')) AND period_start >= ?1`,
    )
    .bind(since)
    .all<{ metric: string; key: string; period_start: string; n: number }>();
  return [
    ...rows.results,
    ...unflushed.filter((u) => /^(events|lag|rejections)\./.test(u.metric) && u.period_start >= since),
  ];
}

/** The upper bound (ms) of the histogram bucket holding the p-th fraction of the counts, or null with no counts. */
function percentile(buckets: number[], p: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (!total) return null;
  let seen = 0;
  for (const [i, n] of buckets.entries()) {
    seen += n;
    if (seen >= Math.ceil(p * total)) return LAG_BUCKETS_MS[i] ?? LAG_BUCKETS_MS[LAG_BUCKETS_MS.length - 1]! * 2;
  }
  return null;
}
