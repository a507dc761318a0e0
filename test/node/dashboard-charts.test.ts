/**
 * The console's charts in a real browser (Debian's Chromium, playwright-core), over the real page and runtime served
 * in this process (test/support/runtime-server.ts) with a clock the test moves: six hours of Stripe traffic, some
 * payments dead-lettered, some emails refused by the provider. The charts show those numbers, bar by bar. Its
 * screenshots (the list, an event's timeline, the charts) go to docs/ with UPDATE_SCREENSHOTS=1 (`npm run screenshots`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardModule } from '../../cli/lib/dashboard-module.ts';
import { FakeProviders } from '../../cli/lib/fake-providers.ts';
import type { DashboardPages } from '../../runtime/operations/dashboard.ts';
import { defaultManifestText, projectWith } from '../support/project.ts';
import { serveRuntime, type RuntimeServer } from '../support/runtime-server.ts';
import { screenshotPath } from '../support/screenshots.ts';
import { stripeSignature } from '../support/sign.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM) || Boolean(process.env.CI);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The seeded traffic, per hour back from now: subscriptions applied, payments dead-lettered, emails refused. */
const TRAFFIC = [
  { back: 6, subscriptions: 5, deadPayments: 0, invoices: 1, refused: 0 },
  { back: 5, subscriptions: 8, deadPayments: 0, invoices: 2, refused: 1 },
  { back: 4, subscriptions: 6, deadPayments: 1, invoices: 1, refused: 0 },
  { back: 3, subscriptions: 11, deadPayments: 0, invoices: 3, refused: 2 },
  { back: 2, subscriptions: 7, deadPayments: 2, invoices: 1, refused: 0 },
  { back: 1, subscriptions: 9, deadPayments: 0, invoices: 2, refused: 1 },
];

describe.skipIf(!available)('the charts in a real browser, over six hours of traffic', () => {
  let server: RuntimeServer;
  let browser: Browser;
  let vars: Record<string, string>;
  let offset = 0;
  const providers = new FakeProviders({ deterministic: true });
  // The runtime's clock starts at 12:30 UTC of today, whatever the wall clock says: six hours back stay in today (so
  // the plan has rows written today) and no hour ends while the test runs. Run just after midnight, a wall clock put
  // all the traffic in yesterday and the plan's bar at 0.
  const started = Date.now();
  const base = Math.floor(started / DAY) * DAY + 12 * HOUR + 30 * 60_000;
  const clock = () => base + (Date.now() - started) - offset;

  beforeAll(async () => {
    const manifest = projectWith(defaultManifestText());
    vars = Object.fromEntries(
      readFileSync(join(dirname(manifest), '.dev.vars.example'), 'utf8')
        .split('\n')
        .flatMap((l) => (/^\w+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])),
    );
    const { dashboard } = (await import(`data:text/javascript,${encodeURIComponent(dashboardModule())}`)) as {
      dashboard: DashboardPages;
    };
    server = await serveRuntime(manifest, { dashboard, now: clock, providers });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });

    let n = 0;
    const stripe = async (type: string, object: Record<string, unknown>) => {
      const at = Math.floor(clock() / 1000);
      const body = JSON.stringify({
        id: `evt_chart_${++n}_${at}`,
        object: 'event',
        type,
        created: at,
        data: { object },
      });
      const res = await fetch(`${server.url}/webhooks/stripe`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'stripe-signature': await stripeSignature(vars.STRIPE_WEBHOOK_SECRET!, body, at),
        },
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    };
    for (const hour of TRAFFIC) {
      offset = hour.back * HOUR;
      for (let i = 0; i < hour.subscriptions; i++)
        await stripe('customer.subscription.updated', {
          id: `sub_${n}`,
          customer: `cus_${i}`,
          status: i % 4 ? 'active' : 'past_due',
        });
      for (let i = 0; i < hour.deadPayments; i++) await stripe('payment_intent.succeeded', { id: `pi_${n}` });
      if (hour.refused)
        providers.failNext(/api\.resend\.com/, 503, {
          times: hour.refused,
          body: { name: 'application_error', message: 'Service unavailable' },
        });
      for (let i = 0; i < hour.invoices; i++)
        await stripe('invoice.payment_failed', {
          id: `in_${n}`,
          customer_email: `billing-${n}@example.test`,
          amount_due: 1900 + n,
          currency: 'usd',
          hosted_invoice_url: 'https://pay.example.test/in',
        });
      // The cron writes the isolate's counters for this hour and retries what is due.
      await server.scheduled();
    }
    offset = 0;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const signIn = async (page: Page) => {
    await page.goto(`${server.url}/admin/login`);
    await page.fill('#token', vars.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');
  };
  /** The bar drawn for this hour (hours back from now) and series, with its count and height. */
  const hourStart = (back: number) => new Date(Math.floor((clock() - back * HOUR) / HOUR) * HOUR).toISOString();

  it('draws events per hour by status, failures per provider and the plan, from the seeded numbers', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await signIn(page);
    await page.locator('#chart-events svg rect[data-series]').first().waitFor();
    const bar = async (chart: string, attrs: string) => {
      const rect = page.locator(`#chart-${chart} svg rect${attrs}`);
      expect(await rect.count(), `${chart} ${attrs}`).toBe(1);
      return {
        n: Number(await rect.getAttribute('data-n')),
        height: Number(await rect.getAttribute('height')),
        width: Number(await rect.getAttribute('width')),
      };
    };
    for (const hour of TRAFFIC) {
      const applied = await bar('events', `[data-hour="${hourStart(hour.back)}"][data-series="other"]`);
      expect(applied.n, `${hour.back} h ago`).toBe(hour.subscriptions + hour.invoices);
      if (hour.deadPayments)
        expect((await bar('events', `[data-hour="${hourStart(hour.back)}"][data-series="dead_lettered"]`)).n).toBe(
          hour.deadPayments,
        );
    }
    // Heights in proportion: 3 hours ago 14 applied, 2 hours ago 2 dead-lettered.
    const tall = await bar('events', `[data-hour="${hourStart(3)}"][data-series="other"]`);
    const red = await bar('events', `[data-hour="${hourStart(2)}"][data-series="dead_lettered"]`);
    expect(tall.height / red.height).toBeCloseTo(14 / 2, 1);
    // Every refused email is one failed attempt of Resend, retried (the retries, later, went through).
    const refused = TRAFFIC.reduce((n, h) => n + h.refused, 0);
    expect((await bar('effects', '[data-provider="resend"][data-series="retrying"]')).n).toBe(refused);
    expect(
      await page.locator('#chart-effects svg text', { hasText: `${refused} retried · 0 dead-lettered` }).count(),
    ).toBe(1);
    // The plan: today's rows written so far, and a projection drawn beside them (or none in the day's first hour).
    const rows = await bar('usage', '[data-metric="d1_rows_written"][data-series="used"]');
    expect(rows.n).toBeGreaterThan(0);
    expect(await page.locator('#chart-usage svg text', { hasText: /rows written|d1 rows written/ }).count()).toBe(1);
    await page.locator('#charts').screenshot({ path: screenshotPath('console-charts.png') });
    await page.close();
  });

  it('shows the list and an event whose email failed and was retried, for the docs', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page);
    await page.locator('tr.event').nth(10).waitFor();
    await page.screenshot({ path: screenshotPath('console-list.png') });
    const [failed] = await server.query<{ event_id: string }>(
      "SELECT event_id FROM attempts WHERE target != 'event' ORDER BY at LIMIT 1",
    );
    await page.fill('#search', failed!.event_id);
    await page.click('#search-form button');
    await page.click(`tr.event[data-id="${failed!.event_id}"]`);
    await page.locator('#timeline li.bad', { hasText: /attempt 1 failed/ }).waitFor();
    await page.locator('#detail').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('console-timeline.png'), fullPage: true });
    await page.close();
  });
});
