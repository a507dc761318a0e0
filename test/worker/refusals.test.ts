/**
 * The refusal log: a refused webhook (401, 405, 413, 400) can be inspected in the admin API and the console (time,
 * integration, route, reason, the secrets tried by name, headers with secrets and signatures redacted, the body's
 * hash and size, never the body), at a cost in rows measured here, capped so a flood cannot spend the free plan,
 * and pruned by retention.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { REFUSAL_CAPS, REFUSAL_ROWS_PER_DAY, REFUSAL_ROWS_WRITTEN } from '../../runtime/edge/refusals.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { builtInputs, defaultManifest, harness, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { githubSignature } from '../support/sign.ts';
import type { Refusal } from '../../runtime/store/refusals.ts';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const ADMIN = { authorization: 'Bearer test-admin-token' };

const refusals = async (h: Harness, query = '') => {
  const res = await h.request(`/admin/api/refusals${query}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as { refusals: Refusal[]; caps: typeof REFUSAL_CAPS };
};
const sha256 = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
/**
 * Rows the log's own statements wrote (its rows, and the counters written with them): the usage flush every 10
 * minutes is the isolate's, as before the log, and counts every refusal past the cap in one row per reason.
 */
const logWritten = (m: ReturnType<typeof metered>) =>
  m.statements
    .filter((s) => /refusals/.test(s.sql) || /^INSERT INTO usage \(metric, key, period_start, n\) SELECT/.test(s.sql))
    .reduce((n, s) => n + s.written, 0);
const clear = () =>
  env.DB.batch([
    env.DB.prepare('DELETE FROM refusals'),
    env.DB.prepare("DELETE FROM usage WHERE metric LIKE 'rejections.%'"),
  ]);

describe('the refusal log', () => {
  it('keeps what a refused request was: time, route, reason, the secrets tried by name, redacted headers, body hash and size, never the body', async () => {
    await clear();
    const h = harness({ now: () => NOW });
    const body = JSON.stringify({ action: 'opened', secret_in_body: 'do-not-keep' });
    // Signed with the wrong secret: a signature of the right shape that does not match.
    const signature = await githubSignature('not-the-secret', body);
    const res = await h.post('/webhooks/github', body, {
      'x-hub-signature-256': signature,
      'x-github-event': 'issues',
      'x-github-delivery': 'd-1',
      authorization: 'Bearer leaked-token',
      'user-agent': 'GitHub-Hookshot/abc',
    });
    expect(res.status).toBe(401);

    const {
      refusals: [refusal, ...rest],
    } = await refusals(h);
    expect(rest).toEqual([]);
    expect(refusal).toEqual({
      at: new Date(NOW).toISOString(),
      integration: 'github',
      method: 'POST',
      route: '/webhooks/github',
      status: 401,
      reason: 'signature_mismatch',
      secrets: ['GITHUB_WEBHOOK_SECRET'],
      headers: expect.objectContaining({
        'x-hub-signature-256': '[redacted]',
        authorization: '[redacted]',
        'x-github-event': 'issues',
        'x-github-delivery': 'd-1',
        'user-agent': 'GitHub-Hookshot/abc',
      }),
      body_sha256: await sha256(body),
      body_size: body.length,
    });
    const text = JSON.stringify(await refusals(h));
    for (const kept of ['do-not-keep', signature, 'leaked-token', env.TEST_SECRETS.GITHUB_WEBHOOK_SECRET!])
      expect(text).not.toContain(kept);
    // Filtered by integration, and closed to a caller without the admin credential.
    expect((await refusals(h, '?integration=stripe')).refusals).toEqual([]);
    expect((await h.request('/admin/api/refusals')).status).toBe(401);
  });

  it('logs a wrong method and a body over the limit too, each with its status', async () => {
    await clear();
    const h = harness({ now: () => NOW });
    expect((await h.request('/webhooks/github', { method: 'GET' })).status).toBe(405);
    expect((await h.post('/webhooks/github', 'x'.repeat(2_000_000))).status).toBe(413);
    const logged = (await refusals(h)).refusals.map((r) => [r.status, r.reason, r.body_sha256 === null]);
    expect(logged).toEqual(
      expect.arrayContaining([
        [405, 'method_not_allowed', true],
        [413, 'payload_too_large', true],
      ]),
    );
  });

  it(`costs ${REFUSAL_ROWS_WRITTEN} rows written per refusal logged (its row and its counter), measured`, async () => {
    await clear();
    const warm = harness({ now: () => NOW });
    expect((await warm.post('/webhooks/github', '{}', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    const m = metered(env.DB);
    const h = harness({ now: () => NOW + 60_000, env: { DB: m.db } });
    expect((await h.post('/webhooks/github', '{}', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    expect(m.written, JSON.stringify(m.statements)).toBe(REFUSAL_ROWS_WRITTEN);
  });

  it(`1,000 refusals in an hour stay within the cap: at most ${REFUSAL_CAPS.per_hour} logged, each integration sampled ${REFUSAL_CAPS.per_integration_per_minute} a minute, and every one counted`, async () => {
    await clear();
    let now = NOW;
    const m = metered(env.DB);
    const h = harness({ now: () => now, env: { DB: m.db } });
    // Two integrations flooded over one hour (one request every 7.2 s), from one isolate.
    for (let i = 0; i < 1_000; i++) {
      now = NOW + Math.floor((i * HOUR) / 1_000);
      const path = i % 2 ? '/webhooks/github' : '/webhooks/stripe';
      const headers: Record<string, string> =
        i % 2 ? { 'x-hub-signature-256': 'sha256=00' } : { 'stripe-signature': `t=${Math.floor(now / 1000)},v1=00` };
      expect((await h.post(path, '{}', headers)).status).toBe(401);
    }
    const logged = (await env.DB.prepare('SELECT count(*) AS n FROM refusals').first<{ n: number }>())!.n;
    expect(logged).toBe(REFUSAL_CAPS.per_hour);
    // Sampled a few a minute per integration (two integrations here), not the first 60 of one second.
    const minutes = (await env.DB.prepare('SELECT count(DISTINCT substr(at, 1, 16)) AS n FROM refusals').first<{
      n: number;
    }>())!.n;
    expect(minutes).toBe(REFUSAL_CAPS.per_hour / (2 * REFUSAL_CAPS.per_integration_per_minute));
    // The stated budget: every logged refusal costs its rows; a refusal past the cap, none.
    expect(logWritten(m)).toBe(logged * REFUSAL_ROWS_WRITTEN);
    // Every refusal is counted (the cron writes what the log did not carry).
    await h.runtime.scheduled(h.env);
    const counted = (await env.DB.prepare(
      "SELECT coalesce(sum(n), 0) AS n FROM usage WHERE metric IN ('rejections.github', 'rejections.stripe')",
    ).first<{ n: number }>())!.n;
    expect(counted).toBe(1_000);
  }, 60_000);

  it(`a day-long flood of every integration stays within ${REFUSAL_ROWS_PER_DAY.toLocaleString('en-US')} rows written, the stated worst case`, async () => {
    await clear();
    let now = NOW;
    const m = metered(env.DB);
    const compiled = compileManifest(defaultManifest, defaultRegistry, builtInputs());
    const h = harness({ compiled, now: () => now, env: { DB: m.db } });
    const paths = [...compiled.webhookPaths.keys()];
    // 64 refusals an hour (past the hourly cap), spread over every integration's route, for 24 hours.
    for (let i = 0; i < 64 * 24; i++) {
      now = NOW + Math.floor((i * HOUR) / 64);
      expect((await h.post(paths[i % paths.length]!, '{}', {})).status).toBeGreaterThanOrEqual(400);
    }
    const logged = (await env.DB.prepare('SELECT count(*) AS n FROM refusals').first<{ n: number }>())!.n;
    expect(logged).toBe(REFUSAL_CAPS.per_hour * 24);
    // The log's own statements (its rows and their counters); the usage flush, every 10 minutes, is the isolate's.
    expect(logWritten(m)).toBe(logged * REFUSAL_ROWS_WRITTEN);
    expect(logged * REFUSAL_ROWS_WRITTEN).toBeLessThanOrEqual(REFUSAL_ROWS_PER_DAY);
  }, 120_000);

  it('is pruned by retention (refusals: 7d by default)', async () => {
    await clear();
    let now = NOW;
    const h = harness({ now: () => now });
    expect((await h.post('/webhooks/github', '{}', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    now = NOW + 6 * 24 * HOUR;
    expect((await h.post('/webhooks/github', '{}', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    now = NOW + 8 * 24 * HOUR;
    await h.runtime.scheduled(h.env);
    expect((await refusals(h)).refusals.map((r) => r.at)).toEqual([new Date(NOW + 6 * 24 * HOUR).toISOString()]);
  });
});
