/**
 * An email goes out once even when a batch's answer is lost: a retry reaches Resend under the key of the attempt
 * whose outcome is unknown (the recorded batch, re-sent whole), so Resend replays it instead of sending again.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders, losingAnswers } from '../support/fake-providers.ts';
import { fakeResend } from '../support/fake-apis.ts';
import { defaultManifest, fakeMessage, faultyDb, harness, uid, type FakeMessage } from '../support/harness.ts';

/** A manifest whose stripe events each send one email through Resend. */
function emailing(retry?: Record<string, unknown>) {
  const m = structuredClone(defaultManifest) as Manifest;
  m.integrations = {
    stripe: {
      ...m.integrations.stripe!,
      handlers: [
        {
          on: '*',
          steps: [
            {
              action: 'resend',
              from: 'A <a@example.com>',
              to: 'data.object.email',
              subject: 'Hi',
              text: 'Hello',
              api_key: 'RESEND_API_KEY',
              ...(retry ? { retry } : {}),
            },
          ],
        },
      ],
    },
  } as Manifest['integrations'];
  return compileManifest(m, defaultRegistry);
}

const envelope = (email: string, now: number): Envelope => ({
  integration: 'stripe',
  id: uid('evt'),
  type: 'x',
  occurred_at: null,
  received_at: new Date(now).toISOString(),
  payload: { data: { object: { email } } },
});

/** The fake providers behind a network that loses the next `lose` answers after the provider has acted. */
function setup(retry?: Record<string, unknown>) {
  let now = Date.now();
  const fake = new FakeProviders();
  const resend = fakeResend(fake);
  const { net, fetch: lossy } = losingAnswers(fake.fetch);
  const h = harness({ compiled: emailing(retry), fetch: lossy, now: () => now });
  const addresses = [uid('a'), uid('b'), uid('c')].map((x) => `${x}@example.com`);
  const messages = addresses.map((a) => fakeMessage(envelope(a, now)));
  const ids = messages.map((m) => (m.body as Envelope).id);
  const effects = async () =>
    (
      await env.DB.prepare(
        `SELECT event_id, status, result, error FROM effects WHERE integration = 'stripe' AND event_id IN (${ids.map(() => '?').join(', ')})`,
      )
        .bind(...ids)
        .all<{ event_id: string; status: string; result: string | null; error: string | null }>()
    ).results.sort((x, y) => ids.indexOf(x.event_id) - ids.indexOf(y.event_id));
  /** Every address sent exactly once, and every effect sent with the id Resend gave that email. */
  const sentOnce = async () => {
    expect(resend.sent.map((s) => s.to).sort()).toEqual([...addresses].sort());
    const rows = await effects();
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(rows.map((r) => (JSON.parse(r.result!) as { id: string }).id)).toEqual(
      addresses.map((a) => resend.sent.find((s) => s.to === a)!.id),
    );
  };
  const mine = (list: FakeMessage[]) =>
    list.filter((m) => ids.includes((m.body as { effects?: { id: string } }).effects?.id ?? ''));
  return {
    h,
    fake,
    resend,
    net,
    addresses,
    messages,
    ids,
    effects,
    sentOnce,
    mine,
    advance: (ms: number) => void (now += ms),
  };
}

describe('a batch whose outcome is unknown is sent again as that batch, under its key', () => {
  it('the answer is lost once: the retry replays the same batch under the same key; each email is sent once', async () => {
    const s = setup();
    s.net.lose = 1;
    await s.h.consume(s.messages);
    expect(s.resend.sent).toHaveLength(3);
    expect((await s.effects()).map((r) => r.status)).toEqual(['retrying', 'retrying', 'retrying']);
    s.advance(60 * 60_000);
    const retries = s.mine(s.h.drain());
    expect(retries).toHaveLength(3);
    await s.h.consume(retries);
    const batches = s.fake.to(/api\.resend\.com\/emails\/batch$/);
    expect(batches).toHaveLength(2);
    expect(batches[1]!.headers['idempotency-key']).toBe(batches[0]!.headers['idempotency-key']);
    expect(batches[1]!.body).toBe(batches[0]!.body);
    expect(s.fake.to(/api\.resend\.com\/emails$/)).toHaveLength(0);
    await s.sentOnce();
  });

  it('the consumer dies mid-call (no settle at all): after the lease lapses the sweep takes it back, and nothing is sent twice', async () => {
    const s = setup();
    // The settle fails, as if the Worker was killed after Resend acted: the effects stay leased ('sending').
    await s.h.consume(s.messages, { DB: faultyDb(env.DB, () => s.ids[0], /UPDATE effects SET status/) });
    expect(s.resend.sent).toHaveLength(3);
    expect((await s.effects()).map((r) => r.status)).toEqual(['sending', 'sending', 'sending']);
    s.h.drain();
    s.advance(2 * 60 * 60_000);
    await s.h.runtime.scheduled(s.h.env);
    const swept = s.mine(s.h.drain());
    expect(swept).toHaveLength(3);
    await s.h.consume(swept);
    await s.sentOnce();
    const keys = s.fake.to(/api\.resend\.com\/emails/).map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(1);
  });

  it('one member is taken back alone: it re-sends the whole batch, which settles the other two; their own retries send nothing', async () => {
    const s = setup();
    s.net.lose = 1;
    await s.h.consume(s.messages);
    s.advance(60 * 60_000);
    const drained = s.mine(s.h.drain());
    const [first, ...rest] = s.ids.map(
      (id) => drained.find((m) => (m.body as { effects: { id: string } }).effects.id === id)!,
    );
    await s.h.consume([first!]);
    expect(s.fake.to(/api\.resend\.com/)).toHaveLength(2);
    expect((await s.effects()).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    await s.h.consume(rest);
    expect(rest.every((m) => m.acked)).toBe(true);
    expect(s.fake.to(/api\.resend\.com/)).toHaveLength(2);
    await s.sentOnce();
  });

  it('a member another consumer holds under a live lease is left to it: the re-sent batch settles only what is free', async () => {
    const s = setup();
    s.net.lose = 1;
    await s.h.consume(s.messages);
    s.advance(60 * 60_000);
    const drained = s.mine(s.h.drain());
    const [first, second, third] = s.ids.map((id) =>
      drained.find((m) => (m.body as { effects: { id: string } }).effects.id === id),
    );
    // Another consumer has just claimed the third (its lease runs 15 minutes from now).
    const until = new Date(Date.now() + 2 * 60 * 60_000).toISOString();
    await env.DB.prepare(
      `UPDATE effects SET status = 'sending', lease = 'other-consumer', next_at = ?2 WHERE integration = 'stripe' AND event_id = ?1`,
    )
      .bind(s.ids[2], until)
      .run();
    await s.h.consume([first!]);
    expect((await s.effects()).map((r) => r.status)).toEqual(['sent', 'sent', 'sending']);
    expect(
      await env.DB.prepare(`SELECT lease FROM effects WHERE integration = 'stripe' AND event_id = ?`)
        .bind(s.ids[2])
        .first(),
    ).toEqual({ lease: 'other-consumer' });
    // That consumer died; once its lease lapses the third is taken back and re-sends the same batch: a replay.
    s.advance(2 * 60 * 60_000);
    await s.h.consume([second!, third!]);
    expect(new Set(s.fake.to(/api\.resend\.com/).map((r) => r.headers['idempotency-key'])).size).toBe(1);
    await s.sentOnce();
  });

  it('a batch Resend refuses outright (422, nothing sent) goes email by email under their own keys; the bad one is dead-lettered', async () => {
    const s = setup();
    const bad = fakeMessage(envelope('not-an-email', Date.now()));
    const badId = (bad.body as Envelope).id;
    await s.h.consume([s.messages[0]!, bad, s.messages[1]!]);
    const calls = s.fake.to(/api\.resend\.com/);
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(['/emails/batch', '/emails', '/emails', '/emails']);
    expect(
      calls
        .slice(1)
        .map((c) => c.headers['idempotency-key'])
        .sort(),
    ).toEqual([s.ids[0], badId, s.ids[1]].map((id) => `stripe:${id}:0:0`).sort());
    expect(s.resend.sent.map((x) => x.to).sort()).toEqual([s.addresses[0], s.addresses[1]].sort());
    const rows = await env.DB.prepare(
      `SELECT event_id, status, error FROM effects WHERE integration = 'stripe' AND event_id IN (?, ?, ?)`,
    )
      .bind(s.ids[0], badId, s.ids[1])
      .all<{ event_id: string; status: string; error: string | null }>();
    expect(Object.fromEntries(rows.results.map((r) => [r.event_id, r.status]))).toEqual({
      [s.ids[0]!]: 'sent',
      [badId]: 'dead_lettered',
      [s.ids[1]!]: 'sent',
    });
    expect(rows.results.find((r) => r.event_id === badId)!.error).toContain('resend answered 422');
    // The refused batch is forgotten: a replay of the bad one goes alone, under its own key.
    const batch = await env.DB.prepare(
      `SELECT count(*) AS n FROM effects WHERE integration = 'stripe' AND event_id IN (?, ?, ?) AND batch IS NOT NULL`,
    )
      .bind(s.ids[0], badId, s.ids[1])
      .first<{ n: number }>();
    expect(batch).toEqual({ n: 0 });
  });

  it('an email tried alone and dead-lettered, then replayed, goes alone under its own key again, never inside a new batch', async () => {
    const s = setup({ max_attempts: 1 });
    s.net.lose = 1;
    await s.h.consume([s.messages[0]!]);
    expect((await s.effects()).map((r) => r.status)).toEqual(['dead_lettered']);
    const letter = await env.DB.prepare("SELECT seq FROM dead_letters WHERE integration = 'stripe' AND event_id = ?")
      .bind(`${s.ids[0]}#0:0`)
      .first<{ seq: number }>();
    const replay = await s.h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(replay.status).toBe(200);
    // The replay arrives in one consumer batch with two new events: those two may share a call, the replayed one not.
    s.advance(60_000);
    await s.h.consume([...s.mine(s.h.drain()), s.messages[1]!, s.messages[2]!]);
    const calls = s.fake.to(/api\.resend\.com/);
    expect(calls.filter((c) => c.headers['idempotency-key'] === `stripe:${s.ids[0]}:0:0`)).toHaveLength(2);
    expect(
      calls.filter((c) => c.url.endsWith('/batch')).map((c) => (c.json as { to: string[] }[]).map((e) => e.to[0])),
    ).toEqual([[s.addresses[1], s.addresses[2]]]);
    await s.sentOnce();
  });
});
