/**
 * Event ids that cannot collide (issue 24): an id built from fields a delivery lacks is unmappable (400, a visible
 * ingest dead letter), never an empty id that swallows every later delivery as a duplicate; a provider that sends
 * no id is deduplicated by its signed body within a window, so a replayed body is one event and two different
 * bodies are two events even in the same millisecond.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { encoder, toHex } from '../../runtime/lib/bytes.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { defaultManifest, harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { metered } from '../support/metered.ts';
import { twilioSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const TWILIO_URL = 'https://switchyard.test/webhooks/twilio';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ADMIN = { authorization: 'Bearer test-admin-token' };

async function postTwilio(h: Harness, params: Record<string, string>): Promise<Response> {
  const signature = await twilioSignature(S.TWILIO_AUTH_TOKEN!, TWILIO_URL, params);
  return h.post('/webhooks/twilio', new URLSearchParams(params).toString(), {
    ...FORM,
    'x-twilio-signature': signature,
  });
}

const eventIds = async (integration: string, like: string) =>
  (
    await env.DB.prepare('SELECT id, type FROM events WHERE integration = ? AND instr(body, ?) > 0 ORDER BY seq')
      .bind(integration, like)
      .all<{ id: string; type: string }>()
  ).results;

describe('twilio: every callback kind has its own id', () => {
  it('two different signed voice status callbacks are two events, not one and a duplicate', async () => {
    const h = harness();
    const first = uid('CA');
    const second = uid('CA');
    const a = await postTwilio(h, {
      CallSid: first,
      CallStatus: 'completed',
      AccountSid: 'ACtest',
      From: '+15550001111',
      To: '+15550002222',
    });
    const b = await postTwilio(h, {
      CallSid: second,
      CallStatus: 'completed',
      AccountSid: 'ACtest',
      From: '+15550003333',
      To: '+15550002222',
    });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(await a.json()).toMatchObject({ id: `${first}:completed` });
    expect(await b.json()).toMatchObject({ id: `${second}:completed` });
    expect(await eventIds('twilio', first)).toEqual([{ id: `${first}:completed`, type: 'call.completed' }]);
    expect(await eventIds('twilio', second)).toEqual([{ id: `${second}:completed`, type: 'call.completed' }]);
  });

  it('messaging, inbound SMS, recording and transcription callbacks each get an id of their own', async () => {
    const h = harness();
    const call = uid('CA');
    const message = uid('SM');
    const inbound = uid('SM');
    const recording = uid('RE');
    const transcription = uid('TR');
    const answers = [
      await postTwilio(h, {
        MessageSid: message,
        SmsSid: message,
        MessageStatus: 'delivered',
        SmsStatus: 'delivered',
        AccountSid: 'ACtest',
        To: '+15550001111',
      }),
      await postTwilio(h, {
        MessageSid: inbound,
        SmsSid: inbound,
        SmsMessageSid: inbound,
        SmsStatus: 'received',
        Body: 'hello',
        NumMedia: '0',
        AccountSid: 'ACtest',
        From: '+15550001111',
        To: '+15550002222',
      }),
      // A completed call's status callback carries its recording's sid, but no recording status: still the call's.
      await postTwilio(h, {
        CallSid: call,
        CallStatus: 'completed',
        RecordingSid: recording,
        RecordingUrl: 'https://api.twilio.com/r',
        AccountSid: 'ACtest',
      }),
      await postTwilio(h, {
        CallSid: call,
        RecordingSid: recording,
        RecordingStatus: 'completed',
        RecordingUrl: 'https://api.twilio.com/r',
        RecordingDuration: '4',
        AccountSid: 'ACtest',
      }),
      await postTwilio(h, {
        CallSid: call,
        CallStatus: 'completed',
        RecordingSid: recording,
        TranscriptionSid: transcription,
        TranscriptionStatus: 'completed',
        TranscriptionText: 'hi',
        AccountSid: 'ACtest',
      }),
    ];
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ status: string; id: string }>));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(bodies.map((b) => b.status)).not.toContain('duplicate');
    expect(bodies.map((b) => b.id)).toEqual([
      `${message}:delivered`,
      `${inbound}:received`,
      `${call}:completed`,
      `${recording}:completed`,
      `${transcription}:completed`,
    ]);
    const types = (
      await env.DB.prepare('SELECT type FROM events WHERE integration = ? AND id IN (?, ?, ?, ?, ?) ORDER BY seq')
        .bind('twilio', ...bodies.map((b) => b.id))
        .all<{ type: string }>()
    ).results;
    expect(types.map((r) => r.type)).toEqual([
      'message.delivered',
      'message.received',
      'call.completed',
      'recording.completed',
      'transcription.completed',
    ]);
  });

  it('a signed form with none of the id fields answers 400 unmappable_event and is kept as a dead letter, every time', async () => {
    const h = harness();
    const marker = uid('x');
    const lacking = { AccountSid: 'ACtest', Note: marker };
    for (const params of [lacking, { ...lacking, Other: 'again' }]) {
      const res = await postTwilio(h, params);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_request', reason: 'unmappable_event' });
    }
    expect(await eventIds('twilio', marker)).toEqual([]);
    const listed = (await (
      await h.request('/admin/api/dead-letters?integration=twilio', { headers: ADMIN })
    ).json()) as { dead_letters: { seq: number; stage: string; reason: string }[] };
    const letters = (
      await env.DB.prepare(
        "SELECT seq, reason, raw_body FROM dead_letters WHERE integration = 'twilio' AND stage = 'ingest' AND instr(raw_body, ?) > 0",
      )
        .bind(marker)
        .all<{ seq: number; reason: string; raw_body: string }>()
    ).results;
    expect(letters).toHaveLength(2);
    expect(letters.map((l) => l.reason)).toEqual(['unmappable_event', 'unmappable_event']);
    for (const letter of letters)
      expect(listed.dead_letters).toContainEqual(
        expect.objectContaining({ seq: letter.seq, stage: 'ingest', reason: 'unmappable_event' }),
      );
  });

  it('the dead letter replays once the manifest maps that kind of form', async () => {
    const marker = uid('kind');
    const params = { AccountSid: 'ACtest', FaxSid: marker, FaxStatus: 'delivered' };
    expect((await postTwilio(harness(), params)).status).toBe(400);
    const letter = await env.DB.prepare(
      "SELECT seq FROM dead_letters WHERE integration = 'twilio' AND stage = 'ingest' AND instr(raw_body, ?) > 0",
    )
      .bind(marker)
      .first<{ seq: number }>();
    // The operator adds the missing kind to the id and type, and replays the letter.
    const fixed = structuredClone(defaultManifest);
    const event = fixed.integrations.twilio!.event as { id: { first: unknown[] }; type: { first: unknown[] } };
    event.id.first.push({ template: '{FaxSid}:{FaxStatus}' });
    event.type.first.push({ template: 'fax.{FaxStatus}' });
    const h = harness({ compiled: compileManifest(fixed, defaultRegistry) });
    const replay = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(await replay.json()).toMatchObject({ replayed: [{ seq: letter!.seq, event_id: `${marker}:delivered` }] });
    expect(h.queue.messages).toEqual([expect.objectContaining({ id: `${marker}:delivered`, type: 'fax.delivered' })]);
  });

  it("the docs' two signature examples (one call sid, different callers) are never merged into one event", async () => {
    const h = harness();
    const marker = uid('doc');
    // https://www.twilio.com/docs/usage/security and the helper libraries' validation docs: the same CallSid, two callers.
    const examples = ['+14158675310', '+14158675309'].map((caller) => ({
      CallSid: 'CA1234567890ABCDE',
      Caller: caller,
      Digits: '1234',
      From: caller,
      To: '+18005551212',
      Marker: marker,
    }));
    const answers = [await postTwilio(h, examples[0]!), await postTwilio(h, examples[1]!)];
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ status?: string; reason?: string }>));
    expect(bodies.map((b) => b.status)).not.toContain('duplicate');
    // Neither says which callback it is (no CallStatus): each is its own visible dead letter, not an id of separators.
    expect(answers.map((r) => r.status)).toEqual([400, 400]);
    expect(bodies.map((b) => b.reason)).toEqual(['unmappable_event', 'unmappable_event']);
    const letters = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM dead_letters WHERE integration = 'twilio' AND stage = 'ingest' AND instr(raw_body, ?) > 0",
    )
      .bind(marker)
      .first<{ n: number }>();
    expect(letters!.n).toBe(2);
  });
});

const moreProviders = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments
  .default.manifest;

async function dropboxHeaders(body: string): Promise<Record<string, string>> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(S.DROPBOX_APP_SECRET!),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return {
    'content-type': 'application/json',
    'x-dropbox-signature': toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(body)))),
  };
}

const notification = () =>
  JSON.stringify({
    list_folder: { accounts: [`dbid:${uid('acct')}`] },
    delta: { users: [Math.floor(Math.random() * 1e9)] },
  });

describe('dropbox: no id from the provider, so the signed body is deduplicated within a window', () => {
  it('the same signed body sent 10 times in a second is one event; the 9 repeats write no row', async () => {
    const meter = metered(env.DB);
    let now = Date.now();
    const h = harness({
      compiled: compileManifest(moreProviders, defaultRegistry),
      env: { DB: meter.db },
      now: () => now,
    });
    const body = notification();
    const headers = await dropboxHeaders(body);
    const first = await h.post('/webhooks/dropbox', body, headers);
    expect(first.status).toBe(200);
    const written = meter.written;
    expect(written).toBeGreaterThan(0); // the first one's row, its dedup key and its body hash
    const repeats: { status: number; body: { status: string } }[] = [];
    for (let i = 0; i < 9; i++) {
      now += 100;
      const res = await h.post('/webhooks/dropbox', body, headers);
      repeats.push({ status: res.status, body: (await res.json()) as { status: string } });
    }
    expect(repeats.map((r) => r.status)).toEqual(Array(9).fill(200));
    expect(repeats.map((r) => r.body.status)).toEqual(Array(9).fill('duplicate'));
    expect(meter.written - written).toBe(0);
    expect(await eventIds('dropbox', body)).toHaveLength(1);
  });

  it('through the queue (apply: queue) too: the same body three times is one queued message', async () => {
    let now = Date.now();
    const h = harness({ compiled: compileManifest(queuedOnly(moreProviders), defaultRegistry), now: () => now });
    const body = notification();
    const headers = await dropboxHeaders(body);
    const answers = [];
    for (let i = 0; i < 3; i++, now += 1000) answers.push(await h.post('/webhooks/dropbox', body, headers));
    expect(answers.map((r) => r.status)).toEqual([202, 200, 200]);
    expect(await answers[1]!.json()).toMatchObject({ status: 'duplicate', reason: 'same_body' });
    expect(h.queue.messages).toHaveLength(1);
  });

  it('two different bodies in the same millisecond are two events', async () => {
    const now = Date.now();
    const h = harness({ compiled: compileManifest(moreProviders, defaultRegistry), now: () => now });
    const a = notification();
    const b = notification();
    const [ra, rb] = await Promise.all([
      h.post('/webhooks/dropbox', a, await dropboxHeaders(a)),
      h.post('/webhooks/dropbox', b, await dropboxHeaders(b)),
    ]);
    expect((await ra!.json()) as object).not.toMatchObject({ status: 'duplicate' });
    expect((await rb!.json()) as object).not.toMatchObject({ status: 'duplicate' });
    expect(await eventIds('dropbox', a)).toHaveLength(1);
    expect(await eventIds('dropbox', b)).toHaveLength(1);
  });

  it('after the window the same body is a new event again (a later change to the same account)', async () => {
    let now = Date.now();
    const h = harness({ compiled: compileManifest(moreProviders, defaultRegistry), now: () => now });
    const body = notification();
    const headers = await dropboxHeaders(body);
    expect((await h.post('/webhooks/dropbox', body, headers)).status).toBe(200);
    now += 61_000;
    const later = await h.post('/webhooks/dropbox', body, headers);
    expect(await later.json()).not.toMatchObject({ status: 'duplicate' });
    expect(await eventIds('dropbox', body)).toHaveLength(2);
  });
});

describe('an id template with a part some events lack', () => {
  it('supabase_db example: two DELETEs (record is null) are two events, not one `users:DELETE::` and a duplicate', async () => {
    const h = harness({ compiled: compileManifest(moreProviders, defaultRegistry) });
    const deletes = [uid('u'), uid('u')].map((id) =>
      JSON.stringify({ type: 'DELETE', table: 'users', schema: 'public', record: null, old_record: { id } }),
    );
    const answers = [];
    for (const body of deletes)
      answers.push(
        (await (
          await h.post('/webhooks/supabase-db', body, { 'x-webhook-token': S.SUPABASE_DB_WEBHOOK_TOKEN! })
        ).json()) as { status: string; id: string },
      );
    expect(answers.map((a) => a.status)).not.toContain('duplicate');
    expect(new Set(answers.map((a) => a.id)).size).toBe(2);
    for (const body of deletes) expect(await eventIds('supabase_db', body.slice(-30))).toHaveLength(1);
  });
});
