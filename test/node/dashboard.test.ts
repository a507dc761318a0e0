/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against the real Worker under
 * wrangler dev: /admin sends an anonymous visitor to the login form, signing in sets the session cookie (Secure,
 * over plain http to a local address), a signed webhook appears, a dead letter is replayed by clicking (a POST
 * with the session's CSRF token), signing out ends the session. Screenshots go to docs/ for the README only with
 * UPDATE_SCREENSHOTS=1 (test/support/screenshots.ts), so `npm test` leaves the tree clean.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardModule } from '../../cli/lib/dashboard-module.ts';
import type { DashboardPages } from '../../runtime/operations/dashboard.ts';
import { defaultManifest } from '../../bench/fixtures.ts';
import { defaultManifestText, projectWith, replaceOnce } from '../support/project.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { serveRuntime, type RuntimeServer } from '../support/runtime-server.ts';
import { screenshotPath } from '../support/screenshots.ts';
import { TEST_SECRETS } from '../support/secrets.ts';
import { stripeSignature } from '../support/sign.ts';
import { startDevWorker, type DevWorker } from '../support/wrangler-dev.ts';

const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run); a developer machine without it skips this file rather than fail for that.
const available = existsSync(CHROMIUM) || Boolean(process.env.CI);

describe.skipIf(!available)('dashboard in a real browser', () => {
  let worker: DevWorker;
  let browser: Browser;
  beforeAll(async () => {
    worker = await startDevWorker();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  const postStripe = async (payload: Record<string, unknown>) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${worker.url}/webhooks/stripe`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body),
      },
    });
    expect([200, 202]).toContain(res.status);
  };

  /** The page polls every 30 s (reads cost D1 rows); a person who waits for something clicks Refresh. */
  const until = async (page: import('playwright-core').Page, selector: string) => {
    for (let i = 0; i < 40; i++) {
      if (await page.locator(selector).count()) return;
      await page.click('#refresh');
      await page.waitForTimeout(500);
    }
    throw new Error(`${selector} never appeared`);
  };

  it('lists a command call like a webhook event, its source read as "command <name>"', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${worker.url}/admin/login`);
    await page.fill('#token', TEST_SECRETS.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');
    const key = `dash-${Date.now()}`;
    const res = await fetch(`${worker.url}/v1/commands/sync_user`, {
      method: 'POST',
      body: JSON.stringify({ id: `user_${key}`, email: `${key}@example.com` }),
      headers: {
        authorization: `Bearer ${TEST_SECRETS.SWITCHYARD_SERVICE_TOKEN}`,
        'idempotency-key': key,
        'content-type': 'application/json',
      },
    });
    expect(res.status).toBe(200);
    // Its id in the log is the key scoped to its caller: `<key>~<16 hex>`.
    await until(page, `tr.event[data-id^="${key}~"] .badge.applied`);
    expect(await page.locator(`tr.event[data-id^="${key}~"]`).textContent()).toContain('command sync_user');
    await page.close();
  });

  it('shows a backfilled event with its origin badge, in the list, the detail and the origin filter', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${worker.url}/admin/login`);
    await page.fill('#token', TEST_SECRETS.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');
    const sub = `sub_dash_${Date.now()}`;
    const created = Math.floor(Date.now() / 1000);
    const event = {
      body: {
        id: `backfill:${sub}`,
        object: 'event',
        type: 'customer.subscription.updated',
        created,
        data: {
          object: {
            id: sub,
            customer: 'cus_1',
            status: 'active',
            current_period_end: created + 86_400,
            items: { data: [{ price: { id: 'price_1' } }] },
          },
        },
      },
    };
    const res = await fetch(`${worker.url}/admin/api/backfill/stripe`, {
      method: 'POST',
      body: JSON.stringify({ events: [event] }),
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const row = `tr.event[data-id="backfill:${sub}"]`;
    await until(page, `${row} .badge.origin`);
    expect(await page.locator(`${row} .badge.origin`).textContent()).toBe('backfill');
    await page.selectOption('#f-origin', 'backfill');
    // The page's CSP refuses eval, so wait with selectors, not page.waitForFunction: no row left without the badge.
    await expect.poll(() => page.locator('tr.event:not(:has(.badge.origin))').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator(row).count()).toBe(1);
    await page.click(row);
    await page.locator('#detail h2 .badge.origin', { hasText: 'backfill' }).waitFor();
    await page.close();
  });

  it('signs in through the form, shows a new event, replays a dead letter by clicking, and is usable on a phone', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${worker.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await page.locator('#app').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('dashboard-login.png') });
    await page.fill('#token', 'not-the-token');
    await page.click('#login-form button');
    await page.locator('#login-error', { hasText: 'That token was not accepted.' }).waitFor();
    await page.fill('#token', TEST_SECRETS.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({
      name: 'switchyard_admin',
      path: '/admin',
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });
    // Nothing the page's script can read holds a credential.
    expect(
      await page.evaluate<string>(
        'JSON.stringify([document.cookie, Object.keys(localStorage), Object.keys(sessionStorage)])',
      ),
    ).toBe('["",[],[]]');

    const now = Math.floor(Date.now() / 1000);
    const applied = `evt_dash_${now}`;
    await postStripe({
      id: applied,
      type: 'customer.subscription.created',
      created: now,
      data: { object: { id: `sub_dash_${now}`, customer: 'cus_dash', status: 'active' } },
    });
    await until(page, `tr.event[data-id="${applied}"] .badge.applied`);

    // A refused delivery shows in the refusal log's panel: its reason and the secret tried, its signature redacted.
    expect(
      (
        await fetch(`${worker.url}/webhooks/github`, {
          method: 'POST',
          body: '{}',
          headers: { 'x-hub-signature-256': 'sha256=00' },
        })
      ).status,
    ).toBe(401);
    await until(page, '#refusals tr:has-text("signature_mismatch"):has-text("GITHUB_WEBHOOK_SECRET")');
    expect(await page.locator('#refusals pre').first().textContent()).toContain('x-hub-signature-256: [redacted]');

    // A payment without an order id cannot be applied: it becomes a dead letter, replayed from the page.
    const dead = `evt_dash_dead_${now}`;
    await postStripe({ id: dead, type: 'payment_intent.succeeded', created: now, data: { object: { id: 'pi_dash' } } });
    await until(page, `#dead tr:has-text("${dead}") button`);
    const replay = page.locator('#dead tr', { hasText: dead }).locator('button');
    await page.click(`tr.event[data-id="${applied}"]`);
    await page.waitForSelector('#detail #timeline');
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });
    await replay.click();
    await page
      .locator('#dead button', { hasText: /Replayed|Skipped/ })
      .first()
      .waitFor({ timeout: 10_000 });
    expect(await page.locator('#dead').textContent()).toContain('Replayed');
    expect(
      worker.query<{ n: number }>(
        'SELECT count(*) AS n FROM dead_letters WHERE event_id = ?1 AND replayed_at IS NOT NULL',
        dead,
      ),
    ).toEqual([{ n: 1 }]);

    await page.click('#logout');
    await page.waitForURL(`${worker.url}/admin/login`);
    expect(await page.context().cookies()).toEqual([]);
    await page.goto(`${worker.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    const phoneContext = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const phone = await phoneContext.newPage();
    await phone.goto(`${worker.url}/admin`);
    await phone.fill('#token', TEST_SECRETS.ADMIN_TOKEN!);
    await phone.click('#login-form button');
    await phone.waitForSelector(`tr.event[data-id="${applied}"]`, { timeout: 20_000 });
    await phone.locator('#updated', { hasText: 'updated' }).waitFor();
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    await phone.screenshot({ path: screenshotPath('dashboard-phone.png') });
    await phoneContext.close();
  });

  it('explains failures: a timeline per event, dead letters opened whole, dismissed, replayed with a reason, previewed, searched', async () => {
    expect((await fetch(`${worker.url}/favicon.ico`)).status).toBe(200);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${worker.url}/admin`);
    await page.fill('#token', TEST_SECRETS.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');

    const now = Math.floor(Date.now() / 1000);
    // An applied event whose email cannot be sent (no provider under wrangler dev): its effect is retrying.
    const failing = `evt_fail_${now}`;
    const email = `billing-${now}@example.test`;
    await postStripe({
      id: failing,
      type: 'invoice.payment_failed',
      created: now,
      data: {
        object: {
          id: `in_${now}`,
          customer: 'cus_fail',
          customer_email: email,
          amount_due: 1900,
          currency: 'usd',
          hosted_invoice_url: 'https://pay.example.test/in',
        },
      },
    });
    // A payment without an order id: a consumer dead letter. A body with no type: an ingest dead letter.
    const dead = `evt_fail_dead_${now}`;
    await postStripe({ id: dead, type: 'payment_intent.succeeded', created: now, data: { object: { id: 'pi_fail' } } });
    const notype = JSON.stringify({ id: `evt_notype_${now}`, created: now, data: {} });
    const refused = await fetch(`${worker.url}/webhooks/stripe`, {
      method: 'POST',
      body: notype,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, notype),
      },
    });
    expect(refused.status).toBe(400);
    const [ingest] = worker.query<{ seq: number }>(
      "SELECT seq FROM dead_letters WHERE stage = 'ingest' AND raw_body = ?1",
      notype,
    );
    const ingestRow = `#dead tr.letter[data-seq="${ingest!.seq}"]`;
    await until(page, `#dead tr:has-text("${dead}")`);
    await until(page, ingestRow);

    // Search by exact id, then open the event: its timeline shows the effect retrying, its error and the next retry.
    await page.fill('#search', failing);
    await page.click('#search-form button');
    await page.locator('#search-note', { hasText: `event id ${failing}: 1 found` }).waitFor();
    for (let i = 0; i < 40; i++) {
      await page.click(`tr.event[data-id="${failing}"]`);
      await page.waitForSelector('#timeline');
      if (await page.locator('#timeline li', { hasText: /steps\[\d+\] resend .*retrying/ }).count()) break;
      await page.waitForTimeout(500);
    }
    const timeline = page.locator('#timeline');
    await expect(timeline.locator('li', { hasText: 'Received' }).textContent()).resolves.toContain('1 delivery');
    await expect(timeline.locator('li', { hasText: 'Applied' }).textContent()).resolves.toMatch(
      /step 0 action .*1 effect/,
    );
    const effect = (await timeline.locator('li', { hasText: /steps\[\d+\] resend .*retrying/ }).textContent())!;
    expect(effect).toMatch(/attempt 1 of \d+ · next retry/);
    expect(await timeline.locator('li.warn', { hasText: /^Next retry/ }).count()).toBe(1);
    // Each failed attempt has its own line, with its duration and the provider's error.
    // Labelled by the manifest's step, not the effect's row key (`Effect 0:0`).
    expect(
      await timeline
        .locator('li.bad', { hasText: /^stripe\.handlers\[\d+\]\.steps\[0\] resend attempt 1 failed/ })
        .textContent(),
    ).toMatch(/\d+ ms.*could not reach api\.resend\.com/s);
    // The payload is folded until asked for.
    expect(await page.locator('#payload pre').isVisible()).toBe(false);
    await page.click('#payload summary');
    expect(await page.locator('#payload pre').textContent()).toContain(email);
    await page.click('#payload summary');

    // The consumer dead letter opened whole, next to it.
    await page.click(`#dead tr:has-text("${dead}") td.err`);
    await page.locator('#dl-detail h2', { hasText: 'consumer' }).waitFor();
    expect(await page.locator('#dl-error').textContent()).toMatch(/order_id|order/);
    await page.screenshot({ path: screenshotPath('dashboard-failure.png'), fullPage: true });

    // Replay is on the event itself (its open dead letter); the letter leaves the open list.
    await page.fill('#search', dead);
    await page.click('#search-form button');
    await page.click(`tr.event[data-id="${dead}"]`);
    await page.locator('#timeline li.bad', { hasText: 'Dead letter #' }).waitFor();
    await page.click('#event-replay');
    await page.locator('#event-replay-result', { hasText: /Replayed 1|Skipped: / }).waitFor();
    expect(await page.locator('#event-replay-result').textContent()).toBe('Replayed 1');

    // Search by a value in the payload: found, and the page says how far it looked.
    await page.fill('#search', email);
    await page.click('#search-form button');
    await page.locator('#search-note', { hasText: 'payloads holding it: 1 found in the whole log' }).waitFor();
    expect(await page.locator('tr.event').count()).toBe(1);

    // The ingest dead letter: its raw body and headers; replaying it says why it is skipped; dismiss keeps it in the log.
    await page.click(`${ingestRow} td.err`);
    await page.locator('#dl-detail h2', { hasText: `Dead letter #${ingest!.seq} ` }).waitFor();
    expect(await page.locator('#dl-body pre').textContent()).toContain(`evt_notype_${now}`);
    expect(await page.locator('#dl-headers').textContent()).toContain('content-type: application/json');
    await page.click('#dl-replay');
    await page.locator('#dl-result', { hasText: 'Skipped: ' }).waitFor();
    expect(await page.locator('#dl-result').textContent()).not.toBe('Skipped: ');
    await page.click('#dl-dismiss');
    await page.locator('#dl-result', { hasText: 'Dismissed' }).waitFor();
    await page.locator(ingestRow).waitFor({ state: 'detached' });
    await page.selectOption('#f-dead', 'dismissed');
    await page.locator(`${ingestRow} .badge`, { hasText: 'dismissed' }).waitFor();
    expect(
      worker
        .query<{ by: string }>('SELECT dismissed_by AS by FROM dead_letters WHERE dismissed_at IS NOT NULL')
        .map((r) => r.by),
    ).toContain('dashboard');

    // Bulk replay previews first: how many, which integrations and stages; cancel changes nothing.
    await page.selectOption('#f-dead', 'open');
    await postStripe({
      id: `evt_fail_dead2_${now}`,
      type: 'payment_intent.succeeded',
      created: now,
      data: { object: { id: 'pi_fail2' } },
    });
    await postStripe({
      id: `evt_fail_dead3_${now}`,
      type: 'payment_intent.succeeded',
      created: now,
      data: { object: { id: 'pi_fail3' } },
    });
    await until(page, '#replay-all:not([hidden])');
    const open = worker.query<{ n: number }>(
      'SELECT count(*) AS n FROM dead_letters WHERE replayed_at IS NULL AND dismissed_at IS NULL',
    )[0]!.n;
    await page.click('#replay-all');
    await page.waitForSelector('#preview');
    expect(await page.locator('#preview').textContent()).toMatch(
      new RegExp(`Replay ${open} dead letters\\?.*integrations: stripe ${open}.*stages: consumer ${open}`),
    );
    await page.click('#replay-cancel');
    expect(
      worker.query<{ n: number }>(
        'SELECT count(*) AS n FROM dead_letters WHERE replayed_at IS NULL AND dismissed_at IS NULL',
      )[0]!.n,
    ).toBe(open);
    await page.close();
  });
});

/**
 * A skipped event in the console: the real page and runtime served in this process (test/support/runtime-server.ts,
 * the offline target) with a manifest whose Stripe checkouts run only in payment mode, and one of its steps only
 * with a customer email. The list filters it by its status, and its timeline names the condition that decided.
 */
describe.skipIf(!available)('dashboard: skipped events say which condition decided', () => {
  let server: RuntimeServer;
  let browser: Browser;
  let vars: Record<string, string>;
  const handler = [
    '      - on: test.checkout.completed',
    '        if: { path: data.object.mode, eq: payment }',
    '        steps:',
    "          - sql: INSERT INTO orders (id, status) VALUES (:id, 'paid')",
    '            params: { id: data.object.id }',
    '          - sql: UPDATE orders SET payment_intent_id = :pi WHERE id = :id',
    '            if: { path: data.object.payment_intent, exists: true }',
    '            params: { id: data.object.id, pi: data.object.payment_intent }',
    '',
  ].join('\n');
  const n = defaultManifest().integrations.stripe!.handlers!.length;
  beforeAll(async () => {
    const manifest = projectWith(
      replaceOnce(
        defaultManifestText(),
        '\n  clerk:\n    provider: clerk\n',
        `\n${handler}\n  clerk:\n    provider: clerk\n`,
      ),
    );
    vars = Object.fromEntries(
      readFileSync(join(dirname(manifest), '.dev.vars.example'), 'utf8')
        .split('\n')
        .flatMap((l) => (/^\w+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])),
    );
    const { dashboard } = (await import(`data:text/javascript,${encodeURIComponent(dashboardModule())}`)) as {
      dashboard: DashboardPages;
    };
    server = await serveRuntime(manifest, { dashboard });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists it with its badge and filter; its timeline shows each step skipped with the condition, and a ran step by its kind', async () => {
    const now = Math.floor(Date.now() / 1000);
    const send = async (id: string, object: Record<string, unknown>) => {
      const body = JSON.stringify({
        id,
        object: 'event',
        type: 'test.checkout.completed',
        created: now,
        data: { object },
      });
      const res = await fetch(`${server.url}/webhooks/stripe`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'stripe-signature': await stripeSignature(vars.STRIPE_WEBHOOK_SECRET!, body),
        },
      });
      return ((await res.json()) as { status: string }).status;
    };
    const skipped = `evt_skip_${now}`;
    const partly = `evt_partly_${now}`;
    expect(await send(skipped, { id: `ord_s_${now}`, mode: 'subscription' })).toBe('skipped');
    expect(await send(partly, { id: `ord_p_${now}`, mode: 'payment' })).toBe('applied');

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/admin/login`);
    await page.fill('#token', vars.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');
    await page.selectOption('#f-status', 'skipped');
    await page.locator(`tr.event[data-id="${skipped}"] .badge.skipped`).waitFor();
    // The list re-renders once the filter's answer comes back: the applied event leaves it.
    await page.locator(`tr.event[data-id="${partly}"]`).waitFor({ state: 'detached' });
    expect(await page.locator(`tr.event[data-id="${partly}"]`).count()).toBe(0);

    await page.click(`tr.event[data-id="${skipped}"]`);
    const timeline = page.locator('#timeline');
    await timeline.waitFor();
    const settled = (await timeline.locator('li', { hasText: 'Skipped (condition)' }).first().textContent())!;
    expect(settled).not.toContain('no handler for this type');
    const condition = `integrations.stripe.handlers[${n}].if: data.object.mode eq payment`;
    expect(await timeline.locator('li.step').allTextContents()).toEqual([
      `step 0 sql skipped ${condition}`,
      `step 1 sql skipped ${condition}`,
    ]);
    await page.screenshot({ path: screenshotPath('dashboard-skipped.png'), fullPage: true });

    // Applied, one step skipped by its own if: the other step reads by its kind.
    await page.selectOption('#f-status', '');
    await page.click(`tr.event[data-id="${partly}"]`);
    await page.locator('#timeline li', { hasText: 'Applied' }).waitFor();
    expect(await page.locator('#timeline li.step').allTextContents()).toEqual([
      'step 0 sql 1 SQL statement',
      `step 1 sql skipped integrations.stripe.handlers[${n}].steps[1].if: data.object.payment_intent exists true`,
    ]);
    await page.close();
  });
});

/**
 * Failure first (issue 28): an email that fails (a fake Resend answering 500) shows in the event list as a badge,
 * under the failing-effects filter, in health and in the reasons panel; once the fake recovers it is retried from the
 * console and the fake has received it exactly once. A bulk retry by reason previews before it sends, and an effect's
 * dead letter shows the email and the provider's answer. The offline runtime in this process, as above.
 */
describe.skipIf(!available)('dashboard: failing effects, retried from the console', () => {
  let server: RuntimeServer;
  let browser: Browser;
  let vars: Record<string, string>;
  const providers = new FakeProviders({ deterministic: true });
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
    server = await serveRuntime(manifest, { dashboard, providers });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const now = Math.floor(Date.now() / 1000);
  /** A Stripe invoice.payment_failed for `email` (its handler emails the customer through Resend). */
  const paymentFailed = async (id: string, email: string) => {
    const body = JSON.stringify({
      id,
      object: 'event',
      type: 'invoice.payment_failed',
      created: now,
      data: {
        object: {
          id: `in_${id}`,
          customer: 'cus_console',
          customer_email: email,
          amount_due: 1900,
          currency: 'usd',
          hosted_invoice_url: 'https://pay.example.test/in',
        },
      },
    });
    const res = await fetch(`${server.url}/webhooks/stripe`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': await stripeSignature(vars.STRIPE_WEBHOOK_SECRET!, body),
      },
    });
    expect([200, 202]).toContain(res.status);
  };
  const sentTo = (email: string) => providers.emails.filter((e) => e.to[0] === email).length;
  const triedTo = (email: string) =>
    providers.to(/api\.resend\.com\/emails/).filter((r) => JSON.stringify(r.json).includes(email)).length;

  it('shows a failing email in the list, the filter, health and the reasons; retried from the console it is sent once', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await page.goto(`${server.url}/admin/login`);
    await page.fill('#token', vars.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');

    const id = `evt_console_${now}`;
    const email = `console-${now}@example.test`;
    providers.failNext(/api\.resend\.com/, 500, { times: 1, body: { message: 'mail relay down' } });
    await paymentFailed(id, email);
    const fine = `evt_console_ok_${now}`;
    await paymentFailed(fine, `ok-${now}@example.test`);
    expect(sentTo(email)).toBe(0);

    // The list: the event is applied, and its badge says the email is retrying, how far.
    await page.click('#refresh');
    const row = `tr.event[data-id="${id}"]`;
    await page.locator(`${row} .badge.effect.retrying`).waitFor();
    expect(await page.locator(`${row} .badge.effect`).textContent()).toBe('resend retrying, attempt 1 of 5 failed');
    expect(await page.locator(`${row} .badge.applied`).count()).toBe(1);
    expect(await page.locator(`tr.event[data-id="${fine}"] .badge.effect`).count()).toBe(0);
    // The filter keeps only events with a failing effect.
    await page.selectOption('#f-effects', 'failing');
    await page.locator(`tr.event[data-id="${fine}"]`).waitFor({ state: 'detached' });
    expect(await page.locator(row).count()).toBe(1);
    // Health counts it for stripe; the reasons panel groups it by what the provider answered.
    expect(await page.locator('#health tr', { hasText: 'stripe' }).locator('.effects-failing').textContent()).toBe(
      '1 retrying',
    );
    expect(await page.locator('#failing tr.reason').first().textContent()).toContain('resend answered 500');
    await page.screenshot({ path: screenshotPath('console-failing.png'), fullPage: true });

    // The timeline names the step as the manifest does, and offers Retry now; the fake has recovered.
    await page.click(row);
    const item = page.locator('#timeline li', { hasText: /stripe\.handlers\[\d+\]\.steps\[0\] resend retrying/ });
    await item.waitFor();
    await page.screenshot({ path: screenshotPath('console-effect.png'), fullPage: true });
    await item.locator('button.retry-effect').click();
    await page.locator('#detail .retry-result', { hasText: 'sent (attempt 2)' }).waitFor();
    expect(sentTo(email)).toBe(1);
    expect(triedTo(email)).toBe(2);
    // Retrying it again sends nothing: the API says it was sent.
    const again = await fetch(`${server.url}/admin/api/effects/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ integration: 'stripe', id, step: '0:0' }),
    });
    expect(again.status).toBe(409);
    expect(sentTo(email)).toBe(1);
    await page.click('#refresh');
    await page.locator(row).waitFor({ state: 'detached' });
    await page.close();
  });

  it('retries every effect that failed for one reason after a preview, and shows an effect dead letter as the email and the answer', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await page.goto(`${server.url}/admin/login`);
    await page.fill('#token', vars.ADMIN_TOKEN!);
    await page.click('#login-form button');
    await page.waitForSelector('#app');

    const emails = [`bulk-a-${now}@example.test`, `bulk-b-${now}@example.test`];
    providers.failNext(/api\.resend\.com/, 503, { times: 2, body: { message: 'try later' } });
    for (const [i, email] of emails.entries()) await paymentFailed(`evt_bulk_${i}_${now}`, email);
    const refused = `refused-${now}@example.test`;
    providers.failNext(/api\.resend\.com/, 422, {
      times: 1,
      body: { name: 'validation_error', message: 'The to address is on the suppression list' },
    });
    await paymentFailed(`evt_refused_${now}`, refused);

    const group = page.locator('#failing tr.reason', { hasText: 'resend answered 503' });
    // Refreshed until the group is listed (the page itself polls every 30 s), then its count is checked below.
    await expect
      .poll(async () => (await page.click('#refresh'), group.count()), { timeout: 20_000, interval: 500 })
      .toBe(1);
    await group.locator('button.bulk-retry').click();
    await page.locator('#bulk').waitFor();
    expect(await page.locator('#bulk').textContent()).toMatch(
      /Retry 2 effects that failed with “resend answered 503”\?/,
    );
    await page.screenshot({ path: screenshotPath('console-bulk-retry.png'), fullPage: true });
    expect(emails.map(sentTo)).toEqual([0, 0]);
    await page.click('#bulk-confirm');
    await page.locator('#bulk-result', { hasText: 'Retried 2: sent 2' }).waitFor();
    expect(emails.map(sentTo)).toEqual([1, 1]);

    // The refused email's dead letter: what was being sent, and what Resend answered.
    const letter = page.locator('#dead tr.letter', { hasText: `evt_refused_${now}` });
    await letter.waitFor();
    await letter.locator('td.err').click();
    await page.locator('#dl-request').waitFor();
    const request = (await page.locator('#dl-request').textContent())!;
    expect(request).toContain(`to${refused}`);
    expect(request).toContain('templatepayment_failed');
    expect(await page.locator('#dl-answer').textContent()).toMatch(/HTTP 422.*suppression list/s);
    expect(await page.locator('#dl-detail').textContent()).not.toContain(vars.RESEND_API_KEY!);
    await page.screenshot({ path: screenshotPath('console-dead-letter.png'), fullPage: true });
    expect(sentTo(refused)).toBe(0);
    await page.close();
  });
});
