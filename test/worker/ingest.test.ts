import { env } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { harness, uid } from '../support/harness.ts';
import { githubSignature, paddleSignature, stripeSignature, svixHeaders, twilioSignature } from '../support/sign.ts';

const TEST_SECRETS = env.TEST_SECRETS;

const stripeEvent = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    type: 'customer.subscription.created',
    created: 1_700_000_000,
    data: { object: { id: 'sub_1', customer: 'cus_1', status: 'active' } },
    ...extra,
  });

async function postStripe(h: ReturnType<typeof harness>, body: string, secret = TEST_SECRETS.STRIPE_WEBHOOK_SECRET!) {
  return h.post('/webhooks/stripe', body, { 'stripe-signature': await stripeSignature(secret, body) });
}

const eventRow = (integration: string, id: string) =>
  env.DB.prepare('SELECT status, deliveries, type, occurred_at FROM events WHERE integration = ? AND id = ?')
    .bind(integration, id)
    .first<{ status: string; deliveries: number; type: string; occurred_at: string }>();

describe('ingest', () => {
  it('accepts a signed Stripe event and queues its envelope', async () => {
    const h = harness({ queued: true });
    const id = uid('evt');
    const body = stripeEvent(id);
    const res = await postStripe(h, body);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', id });
    expect(h.queue.messages).toHaveLength(1);
    const envelope = h.queue.messages[0] as Envelope;
    expect(envelope).toMatchObject({
      integration: 'stripe',
      id,
      type: 'customer.subscription.created',
      occurred_at: '2023-11-14T22:13:20.000Z',
      payload: JSON.parse(body),
    });
    expect(Date.parse(envelope.received_at)).not.toBeNaN();
    expect(await eventRow('stripe', id)).toMatchObject({ status: 'queued', deliveries: 1 });
    expect(h.events).toContainEqual({
      kind: 'webhook.accepted',
      integration: 'stripe',
      id,
      type: 'customer.subscription.created',
      stored_payload: false,
    });
  });

  it('queues a redelivered event once: 5 deliveries, 1 message; 409 until consumed, then 200', async () => {
    const h = harness({ queued: true });
    const id = uid('evt');
    const body = stripeEvent(id);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postStripe(h, body)).status);
    expect(statuses).toEqual([202, 409, 409, 409, 409]);
    expect(h.queue.messages).toHaveLength(1);
    expect(await eventRow('stripe', id)).toMatchObject({ status: 'queued', deliveries: 5 });
    expect(h.events.filter((e) => e.kind === 'webhook.in_flight')).toHaveLength(4);
    // Once the consumer has processed it, a redelivery is a plain duplicate.
    await env.DB.prepare("UPDATE events SET status = 'applied' WHERE integration = 'stripe' AND id = ?").bind(id).run();
    const later = await postStripe(h, body);
    expect(later.status).toBe(200);
    expect(await later.json()).toEqual({ status: 'duplicate', id });
    expect(h.queue.messages).toHaveLength(1);
  });

  it('takes over a claim left stale for a minute and queues again (at-least-once)', async () => {
    let now = Date.now();
    const h = harness({ queued: true, now: () => now });
    const id = uid('evt');
    const body = stripeEvent(id);
    expect((await postStripe(h, body)).status).toBe(202);
    now += 30_000;
    expect((await postStripe(h, body)).status).toBe(409);
    now += 31_000;
    expect((await postStripe(h, body)).status).toBe(202);
    expect(h.queue.messages).toHaveLength(2);
  });

  it('a take-over whose queue send fails keeps the event row and its body: the first message may still be in flight', async () => {
    let now = Date.now();
    const h = harness({ queued: true, now: () => now });
    const id = uid('evt');
    const body = stripeEvent(id);
    expect((await postStripe(h, body)).status).toBe(202);
    now += 61_000;
    h.queue.failures = 1;
    expect((await postStripe(h, body)).status).toBe(503);
    const stored = () =>
      env.DB.prepare("SELECT status, body FROM events WHERE integration = 'stripe' AND id = ?").bind(id).first();
    expect(await stored()).toEqual({ status: 'queued', body });
    // The first message is consumed after all: it applies, with its body in the log for rebuild.
    await h.consume(h.drain());
    expect(await stored()).toEqual({ status: 'applied', body });
  });

  it('answers 503 when the queue send fails, records nothing as accepted, and takes the retry', async () => {
    const h = harness({ queued: true });
    h.queue.failures = 1;
    const id = uid('evt');
    const body = stripeEvent(id);
    const failed = await postStripe(h, body);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('30');
    expect(await failed.json()).toMatchObject({ error: 'unavailable' });
    expect(h.queue.messages).toHaveLength(0);
    expect(await eventRow('stripe', id)).toBeNull();
    const retried = await postStripe(h, body);
    expect(retried.status).toBe(202);
    expect(h.queue.messages).toHaveLength(1);
  });

  it('fails closed with 500 and a log line naming a missing secret', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const h = harness({ env: { STRIPE_WEBHOOK_SECRET: undefined } });
      const res = await postStripe(h, stripeEvent(uid('evt')), 'whsec_anything');
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body).toEqual({ error: 'misconfigured', message: 'integration stripe is not configured on this server' });
      expect(h.queue.messages).toHaveLength(0);
      expect(h.events).toContainEqual({
        kind: 'secret.missing',
        integration: 'stripe',
        variable: 'STRIPE_WEBHOOK_SECRET',
      });
    } finally {
      errors.mockRestore();
    }
  });

  it('refuses a body over max_body with 413 before verifying', async () => {
    const h = harness({ queued: true });
    const big = 'x'.repeat(1024 * 1024 + 1);
    const res = await h.post('/webhooks/stripe', big, {
      'stripe-signature': await stripeSignature(TEST_SECRETS.STRIPE_WEBHOOK_SECRET!, big),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('keeps a signed but malformed body as an ingest dead letter and answers 400', async () => {
    const h = harness({ queued: true });
    const body = `{"id": "${uid('evt')}", "type": `;
    const res = await postStripe(h, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_request', reason: 'malformed_body' });
    const row = await env.DB.prepare(
      "SELECT reason, raw_body FROM dead_letters WHERE integration = 'stripe' AND stage = 'ingest' AND raw_body = ?",
    )
      .bind(body)
      .first();
    expect(row).toEqual({ reason: 'malformed_body', raw_body: body });
    expect(h.queue.messages).toHaveLength(0);
  });

  it('answers 400 for a signed event the manifest cannot map (no type)', async () => {
    const h = harness({ queued: true });
    const body = JSON.stringify({ id: uid('evt'), created: 1 });
    const res = await postStripe(h, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'unmappable_event' });
  });

  it('queues a reference for a payload too large for a queue message; the consumer reads it from the event log', async () => {
    const h = harness({ queued: true });
    const id = uid('evt');
    const sub = uid('sub');
    const body = JSON.stringify({
      id,
      type: 'customer.subscription.created',
      created: 1_700_000_000,
      data: { object: { id: sub, customer: 'cus_big', status: 'active' } },
      padding: 'p'.repeat(200 * 1024),
    });
    const res = await postStripe(h, body);
    expect(res.status).toBe(202);
    const envelope = h.queue.messages[0] as Envelope;
    expect(envelope.payload).toBeNull();
    expect(envelope.payload_ref).toBe(`events:stripe:${id}`);
    expect(new TextEncoder().encode(JSON.stringify(envelope)).byteLength).toBeLessThan(128 * 1024);
    const stored = await env.DB.prepare("SELECT body FROM events WHERE integration = 'stripe' AND id = ?")
      .bind(id)
      .first<{ body: string }>();
    expect(stored!.body).toBe(body);
    const messages = h.drain();
    await h.consume(messages);
    expect(messages[0]!.acked).toBe(true);
    expect(await env.DB.prepare('SELECT customer_id FROM subscriptions WHERE id = ?').bind(sub).first()).toEqual({
      customer_id: 'cus_big',
    });
  });

  it('serves github with the generic hmac verifier only', async () => {
    const h = harness({ queued: true });
    const body = JSON.stringify({ action: 'opened', issue: { number: 1 } });
    const delivery = crypto.randomUUID();
    const headers = {
      'x-hub-signature-256': await githubSignature(TEST_SECRETS.GITHUB_WEBHOOK_SECRET!, body),
      'x-github-delivery': delivery,
      'x-github-event': 'issues',
    };
    expect((await h.post('/webhooks/github', body, headers)).status).toBe(202);
    expect(h.queue.messages[0]).toMatchObject({
      integration: 'github',
      id: delivery,
      type: 'issues',
      occurred_at: null,
    });
    const tampered = await h.post('/webhooks/github', body.replace('1', '2'), headers);
    expect(tampered.status).toBe(401);
  });

  it('derives a stable id for Twilio status callbacks (form bodies)', async () => {
    const h = harness({ queued: true });
    const sid = uid('SM');
    const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+15551234567', AccountSid: 'AC123' };
    const form = new URLSearchParams(params).toString();
    const signature = await twilioSignature(
      TEST_SECRETS.TWILIO_AUTH_TOKEN!,
      'https://switchyard.test/webhooks/twilio',
      params,
    );
    const send = () =>
      h.post('/webhooks/twilio', form, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
      });
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(409);
    expect(h.queue.messages).toEqual([
      expect.objectContaining({ id: `${sid}:delivered`, type: 'message.delivered', payload: params }),
    ]);
  });

  it('accepts Clerk and Resend (svix), Supabase (standard-webhooks, v1,whsec_ secret) and Paddle', async () => {
    const h = harness({ queued: true });
    const clerkId = uid('msg');
    const clerk = JSON.stringify({ type: 'user.created', timestamp: 1_700_000_000_000, data: { id: 'user_1' } });
    expect(
      (
        await h.post(
          '/webhooks/clerk',
          clerk,
          await svixHeaders('svix-', TEST_SECRETS.CLERK_WEBHOOK_SECRET!, clerkId, clerk),
        )
      ).status,
    ).toBe(202);
    const resendId = uid('msg');
    const resend = JSON.stringify({
      type: 'email.delivered',
      created_at: '2024-01-01T00:00:00.000Z',
      data: { email_id: 'em_1' },
    });
    expect(
      (
        await h.post(
          '/webhooks/resend',
          resend,
          await svixHeaders('svix-', TEST_SECRETS.RESEND_WEBHOOK_SECRET!, resendId, resend),
        )
      ).status,
    ).toBe(202);
    const supabaseId = uid('msg');
    const supabase = JSON.stringify({
      type: 'INSERT',
      table: 'users',
      schema: 'public',
      record: { id: 'u1', email: 'a@b.c' },
      old_record: null,
    });
    expect(
      (
        await h.post(
          '/webhooks/supabase',
          supabase,
          await svixHeaders('webhook-', TEST_SECRETS.SUPABASE_WEBHOOK_SECRET!, supabaseId, supabase),
        )
      ).status,
    ).toBe(202);
    const paddleId = uid('evt');
    const paddle = JSON.stringify({
      event_id: paddleId,
      event_type: 'subscription.created',
      occurred_at: '2024-04-12T10:18:49.621022Z',
      data: { id: 'sub_1' },
    });
    expect(
      (
        await h.post('/webhooks/paddle', paddle, {
          'paddle-signature': await paddleSignature(TEST_SECRETS.PADDLE_WEBHOOK_SECRET!, paddle),
        })
      ).status,
    ).toBe(202);
    expect(
      h.queue.messages.map((m) => [(m as Envelope).integration, (m as Envelope).type, (m as Envelope).occurred_at]),
    ).toEqual([
      ['clerk', 'user.created', '2023-11-14T22:13:20.000Z'],
      ['resend', 'email.delivered', '2024-01-01T00:00:00.000Z'],
      ['supabase', 'users.insert', expect.stringMatching(/^\d{4}-/)],
      ['paddle', 'subscription.created', '2024-04-12T10:18:49.621Z'],
    ]);
  });
});
