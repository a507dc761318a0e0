/**
 * Attacks from the adversarial review (issue 11) on the ingest path and the edge endpoints: each test replays
 * one, through the public surface, and asserts the refusal.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { harness, uid } from '../support/harness.ts';
import { twilioSignature } from '../support/sign.ts';

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
