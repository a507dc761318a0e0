/**
 * The console's charts, from the admin API (`GET /admin/api/charts`): events per hour by status, effect failures per
 * provider, and the free plan's daily allowances against today's usage with the day's projection. Traffic is sent
 * through the real webhook route at three past hours (a clock the test moves), one email fails at its provider, and
 * the charts read what a person would see: the counts per hour and the SVG bars drawn from them.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { harness, uid } from '../support/harness.ts';
import { effectFailureStatement } from '../../runtime/store/index.ts';
import { stripeSignature } from '../support/sign.ts';

const HOUR = 3_600_000;
// 05:30 UTC: the charts' window is the 24 hours ending in this hour; the day's projection multiplies by 24 / 5.5.
const NOW = Date.parse('2031-03-04T05:30:00.000Z');
const admin = { authorization: 'Bearer test-admin-token' };
const S = env.TEST_SECRETS;

interface Charts {
  at: string;
  hours: string[];
  events: {
    received: number[];
    retrying: number[];
    dead_lettered: number[];
    replayed: number[];
    other: number[];
    sampled: boolean;
  };
  effect_failures: { provider: string; retrying: number; dead_lettered: number; by_hour: number[] }[];
  usage: {
    plan: string;
    day: string;
    elapsed: number;
    metrics: { metric: string; used: number; allowance: number; projected: number | null }[];
  };
  svg: { events: string; effects: string; usage: string };
}

describe('GET /admin/api/charts', () => {
  it('counts events per hour by status, effect failures per provider, and projects the day', async () => {
    let clock = NOW - 3 * HOUR;
    const h = harness({ now: () => clock });
    const stripe = async (type: string, object: Record<string, unknown>) => {
      const body = JSON.stringify({
        id: uid('evt'),
        object: 'event',
        type,
        created: Math.floor(clock / 1000),
        data: { object },
      });
      const res = await h.post('/webhooks/stripe', body, {
        'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, Math.floor(clock / 1000)),
      });
      expect(res.status).toBeLessThan(300);
      return (await res.json()) as { status: string };
    };
    // 02:30: three subscriptions, applied.
    for (let i = 0; i < 3; i++)
      expect(
        await stripe('customer.subscription.updated', { id: uid('sub'), customer: 'cus_1', status: 'active' }),
      ).toMatchObject({ status: 'applied' });
    // The cron writes each isolate's counts (a count is kept for the hour it is written in).
    await h.runtime.scheduled(h.env);
    // 03:30: two payments with no order to update: dead-lettered by the consumer.
    clock = NOW - 2 * HOUR;
    for (let i = 0; i < 2; i++) await stripe('payment_intent.succeeded', { id: uid('pi') });
    await h.consume(h.drain());
    await h.runtime.scheduled(h.env);
    // 04:30: an invoice whose email Resend refuses (503): the event is applied, its effect retries.
    clock = NOW - HOUR;
    h.providers.failNext(/api\.resend\.com/, 503);
    expect(
      await stripe('invoice.payment_failed', {
        id: uid('in'),
        customer_email: 'late@example.com',
        amount_due: 1900,
        currency: 'usd',
        hosted_invoice_url: 'https://pay.example.test/in',
      }),
    ).toMatchObject({ status: 'applied' });

    await h.runtime.scheduled(h.env);
    clock = NOW;
    const res = await h.request('/admin/api/charts', { headers: admin });
    expect(res.status).toBe(200);
    const charts = (await res.json()) as Charts;
    expect(charts.hours).toHaveLength(24);
    expect(charts.hours[23]).toBe('2031-03-04T05:00:00.000Z');
    expect(charts.hours[0]).toBe('2031-03-03T06:00:00.000Z');
    const at = (hour: string) => charts.hours.indexOf(hour);
    const [h2, h3, h4] = ['2031-03-04T02:00:00.000Z', '2031-03-04T03:00:00.000Z', '2031-03-04T04:00:00.000Z'].map(at);
    expect(charts.events.received[h2!]).toBe(3);
    expect(charts.events.other[h2!]).toBe(3);
    expect(charts.events.received[h3!]).toBe(2);
    expect(charts.events.dead_lettered[h3!]).toBe(2);
    expect(charts.events.other[h3!]).toBe(0);
    expect(charts.events.received[h4!]).toBe(1);
    expect(charts.events.other[h4!]).toBe(1);
    expect(charts.events.received.reduce((a, b) => a + b, 0)).toBe(6);
    expect(charts.events.sampled).toBe(false);

    expect(charts.effect_failures).toEqual([
      { provider: 'resend', retrying: 1, dead_lettered: 0, by_hour: charts.hours.map((_, i) => (i === h4 ? 1 : 0)) },
    ]);

    expect(charts.usage).toMatchObject({ plan: 'free', day: '2031-03-04T00:00:00.000Z', elapsed: 5.5 / 24 });
    // The same counts the usage report reads, each projected to 24:00 at today's pace (5.5 of 24 hours gone by).
    const report = (await (await h.request('/admin/api/usage', { headers: admin })).json()) as {
      platform: { metrics: { metric: string; used: number }[] };
    };
    expect(charts.usage.metrics).toEqual(
      report.platform.metrics.map((m) => ({
        metric: m.metric,
        used: m.used,
        allowance: expect.any(Number),
        projected: Math.round((m.used * 24) / 5.5),
      })),
    );
    const rows = charts.usage.metrics.find((m) => m.metric === 'd1_rows_written')!;
    expect(rows.used).toBeGreaterThan(0);
    expect(rows.allowance).toBe(100_000);
    expect(charts.usage.metrics.map((m) => m.metric)).toEqual([
      'worker_requests',
      'queue_operations',
      'd1_rows_written',
      'kv_writes',
    ]);

    // The SVG draws the same numbers: one bar per hour and status, its height in proportion.
    const bar = (svg: string, attrs: string) => new RegExp(`<rect [^>]*${attrs}[^>]*>`).exec(svg)?.[0];
    expect(
      bar(charts.svg.events, 'data-hour="2031-03-04T03:00:00.000Z" data-series="dead_lettered" data-n="2"'),
    ).toBeDefined();
    expect(bar(charts.svg.events, 'data-hour="2031-03-04T02:00:00.000Z" data-series="other" data-n="3"')).toBeDefined();
    expect(bar(charts.svg.effects, 'data-provider="resend" data-series="retrying" data-n="1"')).toBeDefined();
    expect(
      bar(charts.svg.usage, `data-metric="d1_rows_written" data-series="used" data-n="${rows.used}"`),
    ).toBeDefined();
    expect(
      bar(charts.svg.usage, `data-metric="d1_rows_written" data-series="projected" data-n="${rows.projected}"`),
    ).toBeDefined();

    // Another isolate over the same D1, with nothing of its own unwritten, draws the same events and failures.
    const fresh = (await (
      await harness({ now: () => NOW }).request('/admin/api/charts', { headers: admin })
    ).json()) as Charts;
    expect(fresh.events).toEqual(charts.events);
    expect(fresh.effect_failures).toEqual(charts.effect_failures);
  });

  it('a failed send is counted in the batch that settles it, 1 row written (new or incremented); a sent one is not', async () => {
    const h = harness({ now: () => NOW + 7 * HOUR });
    const invoice = async () => {
      const body = JSON.stringify({
        id: uid('evt'),
        object: 'event',
        type: 'invoice.payment_failed',
        created: Math.floor(NOW / 1000),
        data: {
          object: {
            id: uid('in'),
            customer_email: 'cost@example.com',
            amount_due: 100,
            currency: 'usd',
            hosted_invoice_url: 'https://pay.example.test/in',
          },
        },
      });
      expect(
        (
          await h.post('/webhooks/stripe', body, {
            'stripe-signature': await stripeSignature(
              S.STRIPE_WEBHOOK_SECRET!,
              body,
              Math.floor((NOW + 7 * HOUR) / 1000),
            ),
          })
        ).status,
      ).toBe(200);
    };
    const count = () =>
      env.DB.prepare(
        "SELECT metric, n FROM usage WHERE metric LIKE 'effects.%' AND key = 'resend' AND period_start = '2031-03-04T12:00:00.000Z'",
      ).all();
    await invoice();
    expect((await count()).results).toEqual([]);
    h.providers.failNext(/api\.resend\.com/, 503, { times: 2 });
    await invoice();
    await invoice();
    expect((await count()).results).toEqual([{ metric: 'effects.retrying', n: 2 }]);
    // Its cost, from D1's own counter: one row, whether it creates the hour's counter or adds to it.
    for (const action of [uid('provider'), uid('provider')]) {
      for (let i = 0; i < 2; i++)
        expect(
          (await effectFailureStatement(env.DB, action, 'dead_lettered', new Date(NOW).toISOString()).run()).meta
            .rows_written,
        ).toBe(1);
    }
  });

  it('is closed without admin credentials', async () => {
    const h = harness({ now: () => NOW });
    expect((await h.request('/admin/api/charts')).status).toBe(401);
  });
});
