/**
 * Attacks from the adversarial review (issue 11) on the ingest path and the edge endpoints: each test replays
 * one, through the public surface, and asserts the refusal.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../adapters/registry.ts';
import { claimStatement } from '../../runtime/ingest.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { harness, uid } from '../support/harness.ts';
import { githubSignature, shopifySignature, stripeSignature, twilioSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const TWILIO_URL = 'https://switchyard.test/webhooks/twilio';
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('a signed form cannot be stretched', () => {
  it('refuses a captured Twilio callback re-sent with a field repeated under the same signature', async () => {
    const h = harness();
    const sid = uid('SM');
    await env.DB.prepare("INSERT INTO sms_logs (sid, to_number, body, status) VALUES (?, '+15550001111', 'hi', 'queued')").bind(sid).run();
    const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+15550001111' };
    const signature = await twilioSignature(S.TWILIO_AUTH_TOKEN!, TWILIO_URL, params);
    const stretched = `${new URLSearchParams(params).toString()}&MessageStatus=delivered`;
    const res = await h.post('/webhooks/twilio', stretched, { ...form, 'x-twilio-signature': signature });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', reason: 'repeated_field' });
    expect(h.queue.messages).toHaveLength(0);
    await h.consume(h.drain());
    expect(await env.DB.prepare('SELECT status FROM sms_logs WHERE sid = ?').bind(sid).first()).toEqual({ status: 'queued' });
    // The callback as Twilio sent it still works.
    expect((await h.post('/webhooks/twilio', new URLSearchParams(params).toString(), { ...form, 'x-twilio-signature': signature })).status).toBe(202);
  });
});

describe('headers outside the signature cannot choose the event', () => {
  it('github: a captured body re-sent under a new delivery id and event is not queued again', async () => {
    const h = harness();
    const body = JSON.stringify({ action: 'opened', issue: { number: Math.floor(Math.random() * 1e9) } });
    const signature = await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body);
    const first = await h.post('/webhooks/github', body, { 'x-hub-signature-256': signature, 'x-github-delivery': crypto.randomUUID(), 'x-github-event': 'issues' });
    expect(first.status).toBe(202);
    const replay = await h.post('/webhooks/github', body, { 'x-hub-signature-256': signature, 'x-github-delivery': crypto.randomUUID(), 'x-github-event': 'deployment' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ status: 'duplicate', reason: 'same_body' });
    expect(h.queue.messages).toHaveLength(1);
    expect(h.events).toContainEqual(expect.objectContaining({ kind: 'webhook.replay_refused', integration: 'github' }));
  });

  it('shopify example: an unpaid order body re-sent as orders/paid under a new webhook id marks nothing paid', async () => {
    const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default.manifest;
    const h = harness({ compiled: compileManifest(manifest, defaultRegistry) });
    const order = String(Math.floor(Math.random() * 1e12));
    await env.DB.prepare("INSERT INTO orders (id, status) VALUES (?, 'pending')").bind(order).run();
    const body = JSON.stringify({ id: Number(order), financial_status: 'pending', total_price: '12.00' });
    const signature = await shopifySignature(S.SHOPIFY_WEBHOOK_SECRET!, body);
    const send = (topic: string) => h.post('/webhooks/shopify', body, { 'x-shopify-hmac-sha256': signature, 'x-shopify-webhook-id': uid('wh'), 'x-shopify-topic': topic });
    expect((await send('orders/create')).status).toBe(202);
    expect((await send('orders/paid')).status).toBe(200);
    await h.consume(h.drain());
    expect(await env.DB.prepare('SELECT status FROM orders WHERE id = ?').bind(order).first()).toEqual({ status: 'pending' });
  });

  it('after the replay window the same body is a new event again; ids from the body or a signed header pay nothing extra', async () => {
    let now = Date.now();
    const h = harness({ now: () => now });
    const body = JSON.stringify({ action: 'closed', number: Math.random() });
    const signature = await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body);
    const send = () => h.post('/webhooks/github', body, { 'x-hub-signature-256': signature, 'x-github-delivery': crypto.randomUUID(), 'x-github-event': 'issues' });
    expect((await send()).status).toBe(202);
    now += 31 * 86_400_000;
    expect((await send()).status).toBe(202);
    // Cost: an integration whose id is in the signed body writes no body hash (no index entry).
    const stripeId = uid('evt');
    const stripe = JSON.stringify({ id: stripeId, type: 'customer.created', created: 1_700_000_000, data: { object: {} } });
    expect((await h.post('/webhooks/stripe', stripe, { 'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, stripe, Math.floor(now / 1000)) })).status).toBe(202);
    expect(await env.DB.prepare("SELECT body_hash FROM events WHERE integration = 'stripe' AND id = ?").bind(stripeId).first()).toEqual({ body_hash: null });
  });
});

it('costs: the body-hash claim writes one index entry more than the plain claim, and reads through the index', async () => {
  const at = new Date().toISOString();
  const envelope = (integration: string) => ({ integration, id: uid('cost'), type: 't', occurred_at: null, received_at: at, payload: {} });
  const plain = await claimStatement(env.DB, envelope('cost_plain'), '{}', 'tok', Date.now()).run();
  const hashed = await claimStatement(env.DB, envelope('cost_hashed'), '{}', 'tok', Date.now(), { bodyHash: uid('h'), since: at }).run();
  expect(hashed.meta.rows_written).toBe(plain.meta.rows_written + 1);
  const plan = await env.DB.prepare('EXPLAIN QUERY PLAN SELECT 1 FROM events WHERE integration = ?1 AND body_hash = ?2 AND id <> ?3 AND received_at >= ?4').bind('a', 'b', 'c', 'd').all<{ detail: string }>();
  expect(plan.results.map((r) => r.detail).join(' ')).toContain('events_by_body_hash');
});
