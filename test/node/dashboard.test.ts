/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against the real Worker under
 * wrangler dev: /admin sends an anonymous visitor to the login form, signing in sets the session cookie (Secure,
 * over plain http to a local address), a signed webhook appears, a dead letter is replayed by clicking (a POST
 * with the session's CSRF token), signing out ends the session. Screenshots go to docs/ for the README only with
 * UPDATE_SCREENSHOTS=1 (test/support/screenshots.ts), so `npm test` leaves the tree clean.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  const postStripe = async (payload: Record<string, unknown>) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${worker.url}/webhooks/stripe`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, body) } });
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
    expect(cookie).toMatchObject({ name: 'switchyard_admin', path: '/admin', httpOnly: true, secure: true, sameSite: 'Strict' });
    // Nothing the page's script can read holds a credential.
    expect(await page.evaluate<string>('JSON.stringify([document.cookie, Object.keys(localStorage), Object.keys(sessionStorage)])')).toBe('["",[],[]]');

    const now = Math.floor(Date.now() / 1000);
    const applied = `evt_dash_${now}`;
    await postStripe({ id: applied, type: 'customer.subscription.created', created: now, data: { object: { id: `sub_dash_${now}`, customer: 'cus_dash', status: 'active' } } });
    await until(page, `tr.event[data-id="${applied}"] .badge.applied`);

    // A payment without an order id cannot be applied: it becomes a dead letter, replayed from the page.
    const dead = `evt_dash_dead_${now}`;
    await postStripe({ id: dead, type: 'payment_intent.succeeded', created: now, data: { object: { id: 'pi_dash' } } });
    await until(page, `#dead tr:has-text("${dead}") button`);
    const replay = page.locator('#dead tr', { hasText: dead }).locator('button');
    await page.click(`tr.event[data-id="${applied}"]`);
    await page.waitForSelector('#detail pre');
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });
    await replay.click();
    await page.locator('#dead button', { hasText: /Replayed|Skipped/ }).first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#dead').textContent()).toContain('Replayed');
    expect(worker.query<{ n: number }>('SELECT count(*) AS n FROM dead_letters WHERE event_id = ?1 AND replayed_at IS NOT NULL', dead)).toEqual([{ n: 1 }]);

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
});
