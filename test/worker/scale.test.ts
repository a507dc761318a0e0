/**
 * The bookkeeping at a million events, with effects, outbox and dead letters in proportion: every query the cron,
 * `/health`, the admin API and its filters, dedup, replay and the dashboard's API run reads through a key or an index
 * (EXPLAIN QUERY PLAN shows no SCAN of a table that grows with the log), and each operation stays within a fixed
 * budget of rows read and written (D1's exact meta counters). The cron reads fewer than 1,000 rows a run (of which
 * the counters rollup reads the events since the last run, once each).
 *
 * One fixture, built once with INSERT … SELECT over recursive CTEs, serves every case. It is a log as a steady-state
 * cron leaves it: 89 days of events (older ones pruned), bodies for the last 30 days, checkpoints at the head.
 *
 * To cover a new query: run it in an operation below (OPERATIONS: every statement an operation runs is explained),
 * or add one line to QUERIES for a store function no operation reaches.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import type { BudgetTable } from '../../runtime/lib/platform.ts';
import * as store from '../../runtime/store/index.ts';
import { countOpen, lastOpenError } from '../../runtime/store/dead-letters.ts';
import { activeUserPruneStatements, countStatement, rateLimitPruneStatements } from '../../runtime/consumer/limits.ts';
import { PlatformUsage, pruneUsageStatements } from '../../runtime/lib/platform.ts';
import { parseDuration } from '../../runtime/lib/duration.ts';
import { compileCondition } from '../../runtime/manifest/alerts.ts';
import { eventCounters, rollupCounters } from '../../runtime/operations/counters.ts';
import { pruneRefusalsStatement } from '../../runtime/store/refusals.ts';
import { harness, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { stripeSignature } from '../support/sign.ts';

const N = 1_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-06-15T12:00:00.000Z');
/** Events arrive evenly over 89 days (retention keeps 90), the newest a minute ago. */
const STEP = Math.floor((89 * DAY) / N);
const iso = (ms: number) => new Date(ms).toISOString();
const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const budgetTable = (built as unknown as { environments: Record<string, { budget?: BudgetTable }> }).environments
  .default!.budget!;

/**
 * Tables that grow with the log (or with recipients, users, sessions): a query may SEARCH them, never SCAN them.
 * A SCAN of what only holds work still waiting is allowed, with the reason it stays small:
 */
const GROWING = [
  'events',
  'effects',
  'dead_letters',
  'attempts',
  'email_logs',
  'sms_logs',
  'usage',
  'active_users',
  'seen_users',
  'limit_alerts',
  'alert_incidents',
  'users',
  'orders',
  'subscriptions',
];
const BOUNDED_SCANS: Record<string, string> = {
  outbox: 'holds only messages not yet sent: a row is deleted once its message is sent',
  effects_open: 'a partial index of the effects still open: sent ones leave it',
  events_attention: 'a partial index of the events retrying, dead-lettered or replayed: applied ones are not in it',
  admin_sessions: 'dashboard sessions last an hour at most, and the cron deletes the expired ones',
  refusals: 'the refusal log is capped (REFUSAL_CAPS: 60 rows an hour in all) and kept 7 days: 10,080 rows at most',
};

/** A D1 binding that remembers every statement prepared through it, with what was bound, to explain it after. */
function traced(db: D1Database) {
  const seen = new Map<string, unknown[]>();
  const inner = new WeakMap<object, D1PreparedStatement>();
  const wrap = (sql: string, statement: D1PreparedStatement, params: unknown[]): D1PreparedStatement => {
    seen.set(sql, params);
    const proxy = new Proxy(statement, {
      get(t, p) {
        if (p === 'bind') return (...values: unknown[]) => wrap(sql, t.bind(...values), values);
        const value = Reflect.get(t, p, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
    inner.set(proxy, statement);
    return proxy;
  };
  const binding = new Proxy(db, {
    get(t, p) {
      if (p === 'prepare') return (sql: string) => wrap(sql, t.prepare(sql), []);
      if (p === 'batch')
        return (statements: D1PreparedStatement[]) => t.batch(statements.map((s) => inner.get(s) ?? s));
      const value = Reflect.get(t, p, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
  return { db: binding, statements: seen };
}

/** What EXPLAIN QUERY PLAN says of a statement, and the scans in it no bound allows. */
async function plan(sql: string, params: unknown[]): Promise<{ details: string[]; scans: string[] }> {
  const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  const details = rows.results.map((r) => r.detail);
  const scans = details.filter((d) => {
    const m = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(d);
    if (!m || (!GROWING.includes(m[1]!) && !BOUNDED_SCANS[m[1]!])) return false;
    return !BOUNDED_SCANS[m[1]!] && !(m[2] && BOUNDED_SCANS[m[2]]);
  });
  return { details, scans };
}

/** Explains every statement a run prepared: none may scan a growing table. */
async function expectNoScans(name: string, statements: Map<string, unknown[]>) {
  for (const [sql, params] of statements) {
    const { details, scans } = await plan(sql, params);
    expect(scans, `${name}: ${sql.replace(/\s+/g, ' ').slice(0, 300)}\n  plan: ${details.join(' | ')}`).toEqual([]);
  }
}

interface Budget {
  read: number;
  written?: number;
}

interface Context {
  h: Harness;
  db: D1Database;
}

/** A request to the runtime's app on this D1 (the admin token, JSON). */
const call = async (c: Context, path: string, init: RequestInit = {}) => {
  const res = await c.h.runtime.app.request(
    `https://switchyard.test${path}`,
    { ...init, headers: { ...ADMIN, ...(init.headers as Record<string, string> | undefined) } },
    { ...c.h.env, DB: c.db },
  );
  expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res;
};
const get = (path: string) => (c: Context) => call(c, path);
const post = (path: string, body: unknown) => (c: Context) =>
  call(c, path, { method: 'POST', body: JSON.stringify(body) });

async function stripeDelivery(id: string) {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'customer.subscription.updated',
    created: Math.floor(NOW / 1000),
    data: { object: { id: `sub_${id}`, customer: 'cus_1', status: 'active' } },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'stripe-signature': await stripeSignature(env.TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body, Math.floor(NOW / 1000)),
    },
  };
}
const webhook = (id: string) => async (c: Context) => {
  const d = await stripeDelivery(id);
  const res = await c.h.runtime.app.request(
    'https://switchyard.test/webhooks/stripe',
    { method: 'POST', body: d.body, headers: d.headers },
    { ...c.h.env, DB: c.db },
  );
  expect(res.status).toBe(200);
  return res;
};

/** Event `i` of the fixture (see beforeAll). */
const eventId = (i: number) => `bulk_${i}`;
const integrationOf = (i: number) => ['stripe', 'clerk', 'paddle'][i % 3]!;

/**
 * Every operation that reads or writes the bookkeeping, with its budget (rows read, rows written). The budgets are
 * fixed: they hold at 10,000 events as at a million.
 */
const OPERATIONS: [name: string, budget: Budget, run: (c: Context) => Promise<unknown>][] = [
  // The cron, twice: the first run also opens the alert incident the fixture's open letters call for.
  ['cron: runtime.scheduled', { read: 999 }, (c) => c.h.runtime.scheduled({ ...c.h.env, DB: c.db })],
  ['cron: runtime.scheduled, again', { read: 999 }, (c) => c.h.runtime.scheduled({ ...c.h.env, DB: c.db })],
  ['GET /health', { read: 2_000, written: 0 }, get('/admin/api/health')],
  ['GET /usage (with the projection of today’s mix)', { read: 2_500, written: 0 }, get('/admin/api/usage')],
  // Counters (24 hours of them), and at most ATTENTION_SAMPLE events of each attention status through its index.
  ['GET /charts', { read: 2_700, written: 0 }, get('/admin/api/charts')],
  ['GET /events', { read: 200, written: 0 }, get('/admin/api/events?limit=50')],
  ['GET /events, a page deep in the log', { read: 200, written: 0 }, get(`/admin/api/events?limit=50&cursor=${N / 2}`)],
  ['GET /events?integration', { read: 300, written: 0 }, get('/admin/api/events?integration=paddle&limit=50')],
  [
    'GET /events?type',
    { read: 2_200, written: 0 },
    get('/admin/api/events?integration=stripe&type=invoice.payment_failed&limit=50'),
  ],
  // Each listed event's effects are read by their key too (the badge of its worst effect): about 2 rows an event.
  ['GET /events?status=applied', { read: 250, written: 0 }, get('/admin/api/events?status=applied&limit=50')],
  ['GET /events?status=retrying', { read: 200, written: 0 }, get('/admin/api/events?status=retrying&limit=50')],
  [
    'GET /events?status=dead_lettered&integration',
    { read: 300, written: 0 },
    get('/admin/api/events?status=dead_lettered&integration=paddle&limit=20'),
  ],
  ['GET /events?status=replayed', { read: 200, written: 0 }, get('/admin/api/events?status=replayed&limit=50')],
  [
    'GET /events?since&until',
    { read: 2_200, written: 0 },
    get(`/admin/api/events?since=${iso(NOW - 2 * DAY)}&until=${iso(NOW - DAY)}&limit=50`),
  ],
  ['GET /events?q (search)', { read: 2_200, written: 0 }, get('/admin/api/events?q=%22i%22%3A999990&limit=50')],
  ['GET /events?origin', { read: 2_200, written: 0 }, get('/admin/api/events?origin=backfill&limit=50')],
  ['GET /events?effects=failing', { read: 2_000, written: 0 }, get('/admin/api/events?effects=failing&limit=50')],
  [
    'GET /events?effects=failing&integration',
    { read: 2_000, written: 0 },
    get('/admin/api/events?effects=failing&integration=stripe&limit=50'),
  ],
  ['GET /effects/failing (reasons)', { read: 2_000, written: 0 }, get('/admin/api/effects/failing')],
  [
    'retry effects by reason, dry run',
    { read: 2_000, written: 0 },
    post('/admin/api/effects/retry', { reason: 'resend: HTTP #', dry_run: true }),
  ],
  ['GET /events?id (every integration)', { read: 50, written: 0 }, get(`/admin/api/events?id=${eventId(500_000)}`)],
  [
    'GET /events/:integration/:id',
    { read: 50, written: 0 },
    get(`/admin/api/events/${integrationOf(500_000)}/${eventId(500_000)}`),
  ],
  ['GET /dead-letters', { read: 600, written: 0 }, get('/admin/api/dead-letters')],
  ['GET /dead-letters?integration', { read: 600, written: 0 }, get('/admin/api/dead-letters?integration=stripe')],
  ['GET /dead-letters?view=dismissed', { read: 2_100, written: 0 }, get('/admin/api/dead-letters?view=dismissed')],
  ['GET /dead-letters?view=all', { read: 2_100, written: 0 }, get('/admin/api/dead-letters?view=all')],
  ['GET /dead-letters/:seq', { read: 10, written: 0 }, get('/admin/api/dead-letters/1')],
  [
    'replay dead letters by integration, dry run',
    { read: 600, written: 0 },
    post('/admin/api/dead-letters/replay', { integration: 'paddle', dry_run: true }),
  ],
  ['replay one dead letter', { read: 100, written: 30 }, post('/admin/api/dead-letters/replay', { seq: [2] })],
  [
    'replay events by query',
    { read: 800, written: 400 },
    post('/admin/api/events/replay', { integration: 'clerk', status: 'retrying' }),
  ],
  [
    'replay one event',
    { read: 20, written: 10 },
    post('/admin/api/events/replay', { integration: integrationOf(5_011), id: eventId(5_011) }),
  ],
  ['dismiss a dead letter', { read: 10, written: 5 }, post('/admin/api/dead-letters/3/dismiss', {})],
  ['GET /refusals', { read: 100, written: 0 }, get('/admin/api/refusals?limit=50')],
  // An integration with no refusal in the log: the page walks the whole log, which its cap bounds.
  [
    'GET /refusals?integration, of one never refused',
    { read: 10_200, written: 0 },
    get('/admin/api/refusals?integration=github&limit=50'),
  ],
  [
    'a refused webhook, logged with its counter',
    { read: 200, written: 2 },
    async (c) => {
      const res = await c.h.runtime.app.request(
        'https://switchyard.test/webhooks/stripe',
        { method: 'POST', body: '{}', headers: { 'stripe-signature': `t=${Math.floor(NOW / 1000)},v1=00` } },
        { ...c.h.env, DB: c.db },
      );
      expect(res.status).toBe(401);
    },
  ],
  ['dedup: a new delivery (claim and apply)', { read: 20, written: 6 }, webhook('evt_scale_new')],
  ['dedup: its duplicate (claim, then recorded)', { read: 20, written: 0 }, webhook('evt_scale_new')],
  // An email end to end, as it runs now: in the request (record, apply, effect and limit count in one commit), then
  // the send, its settlement and log row (awaited here: no execution context).
  [
    'an event with an email, applied in the request (effect, limit, log row)',
    { read: 60, written: 15 },
    async (c) => {
      const body = JSON.stringify({
        id: 'evt_scale_email',
        object: 'event',
        type: 'invoice.payment_failed',
        created: Math.floor(NOW / 1000),
        data: {
          object: {
            id: 'in_scale',
            customer_email: 'scale@example.com',
            amount_due: 1900,
            currency: 'usd',
            hosted_invoice_url: 'https://invoice.stripe.com/i/in_scale',
          },
        },
      });
      const headers = {
        'content-type': 'application/json',
        'stripe-signature': await stripeSignature(
          env.TEST_SECRETS.STRIPE_WEBHOOK_SECRET!,
          body,
          Math.floor(NOW / 1000),
        ),
      };
      const res = await c.h.runtime.app.request(
        'https://switchyard.test/webhooks/stripe',
        { method: 'POST', body, headers },
        { ...c.h.env, DB: c.db },
      );
      expect(res.status).toBe(200);
      expect(c.h.drain()).toEqual([]);
      expect(c.h.providers.to(/api\.resend\.com\/emails$/)).toHaveLength(1);
    },
  ],
];

/** Store functions no operation above reaches on this fixture, each explained with representative values. */
const QUERIES: [name: string, run: (db: D1Database) => Promise<unknown>][] = [
  ['overdueEvents', (db) => store.overdueEvents(db, iso(NOW - 15 * MINUTE), 100)],
  [
    'staleOutbox (the sweep: unsent outbox rows, the open letter of each found by key)',
    (db) => store.staleOutbox(db, iso(NOW - 15 * MINUTE), 100),
  ],
  ['staleEvents', (db) => store.staleEvents(db, [iso(NOW - 15 * MINUTE), iso(NOW - 30 * MINUTE)], 100)],
  ['oldestWaiting (one integration)', (db) => store.oldestWaiting(db, 'stripe')],
  ['recorded', (db) => store.recorded(db, 'stripe', eventId(3))],
  ['countOpen by reason', (db) => countOpen(db, undefined, 'stuck')],
  ['countOpen by integration and reason', (db) => countOpen(db, 'stripe', 'stuck')],
  ['countOpen of every letter', (db) => countOpen(db)],
  ['lastOpenError', (db) => lastOpenError(db, 'stripe')],
  ['openDeadLetters by seq', (db) => store.openDeadLetters(db, { seq: [1, 2, 3] }, 100)],
  [
    'eventsToReplay (queued, from the checkpoint)',
    (db) => store.eventsToReplay(db, { integration: 'stripe' }, ['queued'], 100),
  ],
  ['unsentOutbox', (db) => store.unsentOutbox(db, [['stripe', eventId(999_900)]])],
  [
    'claimDue',
    (db) => store.claimDue(db, [['stripe', eventId(20_004)]], 'lease', iso(NOW + MINUTE), iso(NOW - 2 * DAY)),
  ],
  ['nextDue', (db) => store.nextDue(db, [['stripe', eventId(20_004)]])],
  [
    'count a send against a limit',
    (db) => countStatement(db, 'resend.emails', '*', '2026-06-01T00:00:00.000Z', 3000).all(),
  ],
  [
    'usage prunes',
    (db) => db.batch(pruneUsageStatements(db, NOW, 500, [{ name: 'twilio.sms_per_number', period: 'hour' }])),
  ],
  [
    'rate-limit prune',
    (db) => db.batch(rateLimitPruneStatements(db, [{ name: 'api', rateLimit: { period: 'minute' } }], NOW, 500)),
  ],
  [
    'the rejections alert',
    (db) => compileCondition({ rejections: { above: 10 } }, parseDuration, () => undefined)(db, NOW),
  ],
  [
    'the limit_warned alert',
    (db) => compileCondition({ limit_warned: 'resend.emails' }, parseDuration, () => 'month')(db, NOW),
  ],
  ['a queue backlog', (db) => new PlatformUsage().backlog(db, 'test-events', NOW)],
  ['a command call and its effect', (db) => store.commandCall(db, ['stripe', eventId(20_004)], true)],
  ['readBodies', (db) => store.readBodies(db, [['stripe', eventId(3)]])],
  ['storedEvents', (db) => store.storedEvents(db, [['stripe', eventId(3)]])],
  ['closedDeadLetters', (db) => store.closedDeadLetters(db, [1, 2])],
  ['releaseClaim', (db) => store.releaseClaim(db, 'stripe', 'bulk_none', 'token')],
  [
    'an event retrying, dead-lettered',
    (db) =>
      db.batch([
        store.retryingStatement(
          db,
          { integration: 'stripe', id: 'bulk_none', attempts: 2, error: 'x', nextAt: iso(NOW) },
          iso(NOW),
        ),
        store.deadLetteredStatement(db, { integration: 'stripe', id: 'bulk_none', attempts: 2, error: 'x' }, iso(NOW)),
      ]),
  ],
  [
    'retry now: reopen, letters marked replayed, claims',
    (db) =>
      db.batch(
        store.retryNowStatements(
          db,
          [
            { integration: 'stripe', id: 'bulk_none', step: '0:0' },
            { integration: 'clerk', id: eventId(20_002), step: '0:0' },
          ],
          'lease',
          iso(NOW + MINUTE),
          iso(NOW),
        ).statements,
      ),
  ],
  ['effectStates', (db) => store.effectStates(db, [{ integration: 'stripe', id: 'bulk_none', step: '0:0' }])],
  [
    'an effect reopened',
    (db) => store.reopenStatement(db, { integration: 'stripe', id: 'bulk_none', step: '0:0' }, iso(NOW)).run(),
  ],
  ['the counters rollup (the events after its checkpoint)', (db) => rollupCounters(db, NOW)],
  ['the counters /health adds (the events after the checkpoint)', (db) => eventCounters(db)],
  ['refusal log prune', (db) => pruneRefusalsStatement(db, iso(NOW - 7 * DAY), 500).run()],
  [
    'active-user prune',
    (db) =>
      db.batch(
        activeUserPruneStatements(
          db,
          [{ name: 'clerk.active_users', period: 'month', counts: 'active_users' }],
          NOW,
          500,
        ),
      ),
  ],
];

beforeAll(async () => {
  const db = env.DB;
  for (const table of [
    'events',
    'effects',
    'dead_letters',
    'attempts',
    'outbox',
    'checkpoints',
    'usage',
    'alert_incidents',
    'email_logs',
    'limit_alerts',
    'active_users',
    'refusals',
  ])
    await db.prepare(`DELETE FROM ${table}`).run();
  const received = `strftime('%Y-%m-%dT%H:%M:%fZ', (?2 - (?1 - i) * ?3 - 60000) / 1000.0, 'unixepoch')`;
  // Events: most applied (a tenth ignored); a few hundred needing attention; the last 50 queued (not yet stale).
  // Half of them (even i) sent an email: one effect each.
  const status = `CASE WHEN i > ?1 - 50 THEN 'queued' WHEN i % 10000 = 7 THEN 'dead_lettered' WHEN i % 10000 = 11 THEN 'retrying' WHEN i % 20000 = 13 THEN 'replayed' WHEN i % 10 = 5 THEN 'ignored' ELSE 'applied' END`;
  for (let from = 1; from <= N; from += 250_000) {
    await db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT CAST(?4 AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < min(?4 + 249999, ?1)), e AS (SELECT i, ${status} AS status, ${received} AS at FROM n)
         INSERT INTO events (seq, integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, claim, claimed_at, updated_at, error, next_at, swept_at, steps)
         SELECT i, CASE i % 3 WHEN 0 THEN 'stripe' WHEN 1 THEN 'clerk' ELSE 'paddle' END, 'bulk_' || i,
                CASE i % 3 WHEN 0 THEN (CASE i % 2 WHEN 0 THEN 'invoice.payment_failed' ELSE 'customer.subscription.updated' END) WHEN 1 THEN 'user.created' ELSE 'subscription.updated' END,
                status, at, at, 1, CASE WHEN status IN ('retrying', 'dead_lettered') THEN 3 ELSE 1 END,
                CASE WHEN at >= ?5 OR status IN ('queued', 'retrying', 'replayed') THEN '{"bulk":true,"i":' || i || '}' END,
                CASE status WHEN 'queued' THEN 'token' END, CASE status WHEN 'queued' THEN at END,
                CASE status WHEN 'replayed' THEN strftime('%Y-%m-%dT%H:%M:%fZ', (?2 - 60000) / 1000.0, 'unixepoch') ELSE at END,
                CASE WHEN status IN ('retrying', 'dead_lettered') THEN 'HTTP 503' END,
                CASE status WHEN 'retrying' THEN strftime('%Y-%m-%dT%H:%M:%fZ', (?2 + 3600000) / 1000.0, 'unixepoch') END, NULL,
                CASE WHEN status IN ('applied', 'ignored') THEN '[]' END
         FROM e`,
      )
      .bind(N, NOW, STEP, from, iso(NOW - 30 * DAY))
      .run();
  }
  // Effects: one per applied even event, almost all sent; a few hundred open (retrying, deferred to the month's end,
  // a `sending` lease that lapsed an hour ago) or dead-lettered; the newest ones leased right now.
  await db
    .prepare(
      `INSERT INTO effects (integration, event_id, step, action, source, payload, status, attempts, next_at, lease, result, error, created_at, updated_at)
       SELECT integration, id, '0:0', 'resend', 'stripe/invoice.payment_failed/0', '{"to":"a@example.com"}',
              CASE WHEN seq > ?1 - 200 THEN 'sending' WHEN seq % 20000 = 2 THEN 'retrying' WHEN seq % 20000 = 4 THEN 'deferred' WHEN seq % 20000 = 6 THEN 'sending'
                   WHEN seq % 20000 = 8 THEN 'dead_lettered' WHEN seq % 20000 = 10 THEN 'dropped' ELSE 'sent' END,
              1,
              CASE WHEN seq > ?1 - 200 THEN ?3 WHEN seq % 20000 = 2 THEN ?3 WHEN seq % 20000 = 4 THEN ?4 WHEN seq % 20000 = 6 THEN ?2 END,
              CASE WHEN seq > ?1 - 200 OR seq % 20000 = 6 THEN 'lease' END,
              CASE WHEN seq % 20000 NOT IN (2, 4, 6, 8, 10) THEN '{"id":"re_1"}' END, NULL, received_at, received_at
       FROM events WHERE seq % 2 = 0 AND status = 'applied'`,
    )
    .bind(N, iso(NOW - HOUR), iso(NOW + 5 * MINUTE), '2026-07-01T00:00:00.000Z')
    .run();
  // The emails those effects logged.
  await db
    .prepare(
      `INSERT INTO email_logs (id, to_email, subject, status, sent_at) SELECT 're_' || event_id, 'a@example.com', 'Payment failed', 'delivered', created_at FROM effects WHERE status = 'sent'`,
    )
    .run();
  // Failed attempts of the events and effects that failed.
  await db
    .prepare(
      `INSERT INTO attempts (integration, event_id, target, n, at, duration_ms, error) SELECT integration, id, 'event', k.n, received_at, 120, 'HTTP 503' FROM events, (SELECT 1 AS n UNION ALL SELECT 2) k WHERE status IN ('retrying', 'dead_lettered')`,
    )
    .run();
  await db
    .prepare(
      `INSERT INTO attempts (integration, event_id, target, n, at, duration_ms, error) SELECT integration, event_id, step, 1, created_at, 300, 'HTTP 500' FROM effects WHERE status IN ('retrying', 'dead_lettered')`,
    )
    .run();
  // A few outbox messages left unsent.
  await db
    .prepare(
      `INSERT INTO outbox (key, integration, event_id, queue, body, created_at) SELECT integration || ':' || id || ':1', integration, id, 'fulfillment', '{}', received_at FROM events WHERE status = 'applied' AND seq % 50000 = 1`,
    )
    .run();
  // Dead letters: every dead-lettered event and effect, open; a few dozen replayed since the last cron run; and thousands
  // dismissed over the last 89 days (their events long applied, by a fix or by hand).
  await db
    .prepare(
      `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, attempts, first_failed_at, last_failed_at) SELECT integration, 'consumer', id, 'handler_error', 'HTTP 503', '{}', 3, received_at, received_at FROM events WHERE status = 'dead_lettered'`,
    )
    .run();
  await db
    .prepare(
      `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, attempts, first_failed_at, last_failed_at) SELECT integration, 'effect', event_id || '#' || step, 'provider_error', 'HTTP 500', '{}', 5, created_at, created_at FROM effects WHERE status = 'dead_lettered'`,
    )
    .run();
  await db
    .prepare(
      `INSERT INTO dead_letters (integration, stage, event_id, reason, error, envelope, attempts, first_failed_at, last_failed_at, replayed_at, dismissed_at, dismissed_by)
       SELECT integration, 'consumer', id, 'handler_error', 'HTTP 503', '{}', 3, received_at, received_at, CASE WHEN seq % 1000 = 1 THEN ?1 END, CASE WHEN seq % 1000 <> 1 THEN received_at END, CASE WHEN seq % 1000 <> 1 THEN 'admin' END
       FROM events WHERE status = 'applied' AND seq % 370 = 1`,
    )
    .bind(iso(NOW - 5 * MINUTE))
    .run();
  // Counters as the flushes leave them: 48 hours of hourly ones (events, lag buckets, rejections) per integration,
  // 35 days of daily ones (platform, queues), this month's limit counts.
  await db
    .prepare(
      `WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < 47), i(name) AS (VALUES ('stripe'), ('clerk'), ('paddle')),
       m(metric) AS (VALUES ('events.accepted'), ('lag.02'), ('lag.03'), ('lag.04'), ('lag.05'))
       INSERT INTO usage (metric, key, period_start, n) SELECT metric, name, strftime('%Y-%m-%dT%H:00:00.000Z', (?1 - k * 3600000) / 1000.0, 'unixepoch'), 40 FROM h, i, m`,
    )
    .bind(NOW)
    .run();
  await db
    .prepare(
      `WITH RECURSIVE d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < 34),
       m(metric, key) AS (VALUES ('platform.worker_requests', '*'), ('platform.d1_rows_written', '*'), ('platform.d1_rows_read', '*'), ('platform.queue_operations', '*'), ('platform.kv_reads', '*'), ('platform.kv_writes', '*'), ('queue.sent', 'test-events'), ('queue.consumed', 'test-events'))
       INSERT INTO usage (metric, key, period_start, n) SELECT metric, key, strftime('%Y-%m-%dT00:00:00.000Z', (?1 - k * 86400000) / 1000.0, 'unixepoch'), 1000 FROM d, m`,
    )
    .bind(NOW)
    .run();
  await db
    .prepare(
      `INSERT INTO usage (metric, key, period_start, n) VALUES ('resend.emails', '*', '2026-06-01T00:00:00.000Z', 2100)`,
    )
    .run();
  // The checkpoints a steady-state cron leaves: the sweep at the first event not yet past stuck_after, bodies pruned
  // up to the first event of the last 30 days.
  const firstFrom = async (ms: number) =>
    (await db
      .prepare('SELECT min(seq) AS seq FROM events WHERE received_at >= ?1')
      .bind(iso(ms))
      .first<{ seq: number }>())!.seq;
  // The counters rolled up to 10 minutes ago (the cron's interval).
  await db
    .prepare("INSERT INTO checkpoints (name, seq) VALUES ('sweep', ?1), ('payloads', ?2), ('counters', ?3)")
    .bind(await firstFrom(NOW - 15 * MINUTE), await firstFrom(NOW - 30 * DAY), (await firstFrom(NOW - 10 * MINUTE)) - 1)
    .run();
  // The refusal log full: its cap (60 an hour) for the 7 days it is kept, of the fixture's integrations.
  await db
    .prepare(
      `WITH RECURSIVE r(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM r WHERE k < 7 * 24 * 60 - 1)
       INSERT INTO refusals (at, integration, id, method, route, status, reason, secrets, headers, body_sha256, body_size)
       SELECT strftime('%Y-%m-%dT%H:%M:%fZ', (?1 - k * 60000) / 1000.0, 'unixepoch'), CASE k % 3 WHEN 0 THEN 'stripe' WHEN 1 THEN 'clerk' ELSE 'paddle' END, printf('%08x', k),
              'POST', '/webhooks/stripe', 401, 'signature_mismatch', '["STRIPE_WEBHOOK_SECRET"]', '{"content-type":"application/json","stripe-signature":"[redacted]"}', NULL, 2 FROM r`,
    )
    .bind(NOW - 30_000)
    .run();
}, 300_000);

describe(`the bookkeeping at ${N.toLocaleString('en')} events, with effects`, () => {
  it('the fixture is in proportion: effects for half the events, a few hundred open, thousands of dead letters', async () => {
    const count = async (sql: string) => (await env.DB.prepare(sql).first<{ n: number }>())!.n;
    expect(await count('SELECT count(*) AS n FROM events')).toBe(N);
    expect(await count('SELECT count(*) AS n FROM effects')).toBeGreaterThan(400_000);
    const open = await count(
      "SELECT count(*) AS n FROM effects WHERE status IN ('pending', 'sending', 'retrying', 'deferred')",
    );
    expect(open).toBeGreaterThan(200);
    expect(open).toBeLessThan(1_000);
    expect(await count('SELECT count(*) AS n FROM dead_letters')).toBeGreaterThan(2_000);
    expect(await count('SELECT count(*) AS n FROM outbox')).toBeGreaterThan(0);
  });

  for (const [name, budget, run] of OPERATIONS) {
    it(`${name}: no scan of a growing table, and within ${budget.read} rows read${budget.written === undefined ? '' : `, ${budget.written} written`}`, async () => {
      const h = harness({ now: () => NOW, budget: budgetTable });
      const m = metered(env.DB);
      const t = traced(m.db);
      await run({ h, db: t.db });
      const dearest = JSON.stringify([...m.statements].sort((a, b) => b.read - a.read).slice(0, 8));
      expect(m.read, `${name} read ${m.read} rows: ${dearest}`).toBeLessThanOrEqual(budget.read);
      if (budget.written !== undefined)
        expect(m.written, `${name} wrote ${m.written} rows: ${JSON.stringify(m.statements)}`).toBeLessThanOrEqual(
          budget.written,
        );
      await expectNoScans(name, t.statements);
    }, 60_000);
  }

  for (const [name, run] of QUERIES) {
    it(`${name}: no scan of a growing table`, async () => {
      const t = traced(env.DB);
      await run(t.db);
      await expectNoScans(name, t.statements);
    });
  }
});
