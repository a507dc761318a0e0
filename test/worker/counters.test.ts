/**
 * The counters /health and the usage report read survive the isolate that counted them: a new runtime over the
 * same D1 (what a restart, a deploy or an evicted isolate leaves) answers the same figures, and the cron's rollup
 * of them into hourly rows neither loses nor doubles a count.
 */
import { env } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import type { BudgetTable } from '../../runtime/lib/platform.ts';
import { harness, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { rollupCounters } from '../../runtime/operations/counters.ts';
import { stripeSignature } from '../support/sign.ts';

const NOW = Date.parse('2026-06-15T12:30:00.000Z');
const ADMIN = { authorization: 'Bearer test-admin-token' };
const budget = (built as unknown as { environments: Record<string, { budget?: BudgetTable }> }).environments.default!
  .budget!;

type HourFigures = {
  accepted: number;
  failed: number;
  rejected: number;
  lag_ms: { p50: number | null; p99: number | null };
};
const health = async (h: Harness) =>
  (await (await h.request('/admin/api/health', { headers: ADMIN })).json()) as {
    integrations: Record<string, { hour: HourFigures; day: HourFigures; series: number[] }>;
  };
const eventsToday = async (h: Harness) =>
  ((await (await h.request('/admin/api/usage', { headers: ADMIN })).json()) as { projection: { events_today: number } })
    .projection.events_today;

async function deliver(h: Harness, id: string) {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'customer.subscription.updated',
    created: Math.floor(NOW / 1000),
    data: { object: { id: `sub_${id}`, customer: 'cus_1', status: 'active' } },
  });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(env.TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body, Math.floor(NOW / 1000)),
  });
  expect(res.status).toBe(200);
}

describe('counters that survive a restart', () => {
  beforeEach(async () => {
    await env.DB.batch(
      [
        'DELETE FROM events',
        'DELETE FROM usage',
        'DELETE FROM refusals',
        "DELETE FROM checkpoints WHERE name = 'counters'",
      ].map((sql) => env.DB.prepare(sql)),
    );
  });

  it('integration health and today’s event count keep their values in a new runtime over the same D1', async () => {
    // The first isolate: 25 events applied and 3 refused, answered with an execution context as in production.
    const first = harness({ now: () => NOW, ctx: true, budget });
    for (let i = 0; i < 25; i++) await deliver(first, `evt_restart_${i}`);
    for (let i = 0; i < 3; i++)
      expect((await first.post('/webhooks/github', '{}', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    await first.settle();

    // The isolate goes away (nothing of it is kept); a new one serves the next request.
    const second = harness({ now: () => NOW, budget });
    const after = await health(second);
    expect(after.integrations.stripe!.hour).toMatchObject({ accepted: 25, failed: 0, lag_ms: { p50: 100, p99: 100 } });
    expect(after.integrations.github!.hour).toMatchObject({ rejected: 3 });
    expect(after.integrations.stripe!.series.at(-1)).toBe(25);
    expect(await eventsToday(second)).toBe(25);
  });

  it('the cron rolls the events into hourly counters once: a third runtime reads the same figures, not twice them', async () => {
    const first = harness({ now: () => NOW, ctx: true, budget });
    for (let i = 0; i < 4; i++) await deliver(first, `evt_rollup_${i}`);
    await first.settle();
    const second = harness({ now: () => NOW, budget });
    await second.runtime.scheduled(second.env);
    await second.runtime.scheduled(second.env);
    const rolled = await env.DB.prepare(
      "SELECT coalesce(sum(n), 0) AS n FROM usage WHERE metric = 'events.accepted' AND key = 'stripe'",
    ).first<{ n: number }>();
    expect(rolled!.n).toBe(4);
    const third = harness({ now: () => NOW, budget });
    expect((await health(third)).integrations.stripe!.hour).toMatchObject({ accepted: 4, lag_ms: { p50: 100 } });
    expect(await eventsToday(third)).toBe(4);
  });

  it('costs no row written per event: the event path writes what it wrote before, and /health writes nothing', async () => {
    const h = harness({ now: () => NOW, ctx: true, budget });
    await deliver(h, 'evt_rows_warm');
    await h.settle();
    const m = metered(env.DB);
    const counted = harness({ now: () => NOW, ctx: true, budget, env: { DB: m.db } });
    await deliver(counted, 'evt_rows_1');
    await counted.settle();
    // The event row and its dedup key, the subscription row and its key: the event's own rows, no counter.
    expect(m.statements.filter((s) => /usage/.test(s.sql))).toEqual([]);
    m.reset();
    await counted.request('/admin/api/health', { headers: ADMIN });
    expect(m.written).toBe(0);
  });

  it('a rollup writes one row per counter it touches (metric, integration, hour) and its checkpoint: 10 events of one hour, 3 rows', async () => {
    const h = harness({ now: () => NOW, ctx: true, budget });
    for (let i = 0; i < 10; i++) await deliver(h, `evt_rollup_rows_${i}`);
    await h.settle();
    const m = metered(env.DB);
    expect(await rollupCounters(m.db, NOW + 60_000)).toBe(10);
    // events.accepted and lag.00 of stripe in that hour, and the checkpoint.
    expect(m.written, JSON.stringify(m.statements)).toBe(3);
    expect(m.read).toBeLessThanOrEqual(10 + 5);
  });
});
