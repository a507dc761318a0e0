/**
 * A crash loop does not need an operator: an event whose consumer was killed (nothing recorded, its message gone) is
 * queued again by the sweep a few times, backing off, before it is dead-lettered as `stuck`; the letter and the alert
 * say how many times it was tried. The sweep's queries stay on indexes.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { STUCK_REQUEUES } from '../../runtime/operations/sweep.ts';
import { staleWaitingSql } from '../../runtime/store/events.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { faultyDb, harness, uid, type Harness } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token' };
const MINUTE = 60_000;
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

async function stripe(h: Harness, sub: string): Promise<string> {
  const id = uid('evt');
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'customer.subscription.created',
    created: 1_700_000_000,
    data: { object: { id: sub, customer: 'c', status: 'active' } },
  });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
  expect(res.status).toBe(202);
  return id;
}

/** A harness whose clock the test moves, with a cron run after `minutes` that returns the messages it queued for `id`. */
function crashLoop() {
  let now = Date.now();
  const fake = new FakeProviders();
  const h = harness({ queued: true, now: () => now, fetch: fake.fetch });
  const sweepAfter = async (minutes: number, id: string) => {
    now += minutes * MINUTE;
    await h.runtime.scheduled(h.env);
    return h.drain().filter((m) => (m.body as Envelope).id === id);
  };
  return { h, fake, sweepAfter };
}

const letterOf = (id: string) =>
  row<{ seq: number; reason: string; error: string }>(
    "SELECT seq, reason, error FROM dead_letters WHERE integration = 'stripe' AND event_id = ?",
    id,
  );

describe('a crash loop: the sweep tries a stuck event again, backing off, before it gives up', () => {
  it('an event whose consumer is killed is queued again 3 times, 15, 30 and 60 minutes apart, and applies when a consumer then runs', async () => {
    const { h, sweepAfter } = crashLoop();
    const sub = uid('sub');
    const id = await stripe(h, sub);
    h.drain(); // the consumer that took it was killed: nothing recorded, the message is gone

    expect(await sweepAfter(16, id)).toHaveLength(1); // try 1: 15 minutes with no outcome
    expect(await sweepAfter(16, id)).toHaveLength(1); // killed again; try 2, 15 minutes after try 1
    expect(await sweepAfter(16, id)).toHaveLength(0); // try 3 waits 30 minutes
    const third = await sweepAfter(16, id); // killed again; try 3
    expect(third).toHaveLength(1);
    for (const minutes of [16, 16, 16]) expect(await sweepAfter(minutes, id)).toHaveLength(0); // the last waits 60 minutes
    expect(await letterOf(id)).toBeNull();
    expect(
      h.events.filter((e) => e.kind === 'event.stuck' && e.id === id).map((e) => (e as { requeues?: number }).requeues),
    ).toEqual([1, 2, 3]);

    // The crash is fixed: try 3's message is consumed, and the event applies; later sweeps leave it alone.
    await h.consume(third);
    expect(third[0]!.acked).toBe(true);
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'applied',
    });
    expect(await sweepAfter(120, id)).toHaveLength(0);
    expect(await letterOf(id)).toBeNull();
  });

  it(`one that stays stuck through all ${STUCK_REQUEUES} tries is dead-lettered "stuck after 3 re-queues"; the alert says so, and the letter replays`, async () => {
    const { h, fake, sweepAfter } = crashLoop();
    const id = await stripe(h, uid('sub'));
    h.drain();
    for (const minutes of [16, 16, 32]) expect(await sweepAfter(minutes, id)).toHaveLength(1); // each try's consumer killed
    expect(await sweepAfter(50, id)).toHaveLength(0); // not yet: 60 minutes after the last try
    expect(await letterOf(id)).toBeNull();
    expect(await sweepAfter(11, id)).toHaveLength(0);
    expect(await row("SELECT status, error FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'dead_lettered',
      error: expect.stringContaining('stuck after 3 re-queues'),
    });
    const letter = await letterOf(id);
    expect(letter).toEqual({
      seq: expect.any(Number),
      reason: 'stuck',
      error: expect.stringContaining('stuck after 3 re-queues'),
    });
    const alerts = fake.requests
      .map((r) => r.json as { subject?: string; text?: string })
      .filter((j) => j?.subject?.includes('stuck with no outcome'));
    expect(alerts).toEqual([
      expect.objectContaining({
        subject: 'switchyard: 1 event(s) stuck with no outcome',
        text: expect.stringContaining('stuck after 3 re-queues'),
      }),
    ]);

    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    await h.consume(h.drain());
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'applied',
    });
  });

  it('a retrying event whose redelivery never comes (its consumer killed too) is queued again the same way, and applies', async () => {
    const { h, sweepAfter } = crashLoop();
    const sub = uid('sub');
    const id = await stripe(h, sub);
    const [first] = h.drain();
    await h.consume([first!], { DB: faultyDb(env.DB, () => id) }); // D1 busy: retrying in a minute
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'retrying',
    });
    expect(await sweepAfter(17, id)).toHaveLength(1); // its redelivery's consumer was killed: try 1
    const second = await sweepAfter(16, id); // killed again: try 2
    expect(second).toHaveLength(1);
    await h.consume(second);
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", id)).toEqual({
      status: 'applied',
    });
    expect(await row('SELECT status FROM subscriptions WHERE id = ?', sub)).toEqual({ status: 'active' });
  });

  it('the sweep reads the events it re-queued through the attention index, never by a scan of the log', async () => {
    const cutoffs = Array.from({ length: STUCK_REQUEUES + 1 }, (_, n) =>
      new Date(Date.now() - (n + 1) * MINUTE).toISOString(),
    );
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${staleWaitingSql(cutoffs.length)}`)
      .bind(100, ...cutoffs)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail);
    expect(details.join(' ')).toContain('events_attention');
    expect(details.filter((d) => /^SCAN events\b/.test(d) && !/USING (COVERING )?INDEX/.test(d))).toEqual([]);
  });
});
