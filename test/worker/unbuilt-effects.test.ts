/**
 * State first, effects after, when an effect cannot even be built: a Clerk user.created without an email address
 * still projects its user; the welcome email whose `to` has no value is dead-lettered alone (naming its step and the
 * missing value), and a replay builds it again from the stored event, under the manifest of the day, and sends it once.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, harness, uid, type Harness } from '../support/harness.ts';
import { svixHeaders } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token' };
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();
const rows = async <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;

/** A signed Clerk user.created through the real route; returns its event id (202: queued, 200: in the request). */
async function clerkUserCreated(h: Harness, data: Record<string, unknown>, status = 202): Promise<string> {
  const id = uid('msg');
  const body = JSON.stringify({ type: 'user.created', object: 'event', data, timestamp: Date.now() });
  const res = await h.post('/webhooks/clerk', body, await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, id, body));
  expect(res.status).toBe(status);
  return id;
}

const replay = async (h: Harness, seq: number) =>
  (await (
    await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [seq] }),
    })
  ).json()) as { replayed: unknown[]; skipped: unknown[] };

describe('an effect that cannot be built is dead-lettered alone', () => {
  it('a Clerk user.created whose verified primary address has no email_address: the user row commits, the event is applied, the welcome email alone is dead-lettered; replay after a manifest fix builds and sends it once', async () => {
    const fake = new FakeProviders();
    const h = harness({ fetch: fake.fetch });
    const userId = uid('user');
    // Applied in the request: the effect is recorded unbuilt and dead-lettered by the delivery after the commit.
    const id = await clerkUserCreated(
      h,
      {
        id: userId,
        first_name: 'Ada',
        last_name: 'Lovelace',
        created_at: 1_700_000_000_000,
        primary_email_address_id: 'idn_1',
        email_addresses: [{ id: 'idn_1', verification: { status: 'verified' } }],
      },
      200,
    );
    expect(h.drain()).toEqual([]);
    expect(await row('SELECT id, email, name FROM users WHERE id = ?', userId)).toEqual({
      id: userId,
      email: null,
      name: 'Ada Lovelace',
    });
    expect(await row("SELECT status FROM events WHERE integration = 'clerk' AND id = ?", id)).toEqual({
      status: 'applied',
    });
    // One letter, of the effect: it names the step (in the manifest and in the event) and the value it lacks.
    const letters = await rows<{ seq: number; stage: string; event_id: string; reason: string; error: string }>(
      "SELECT seq, stage, event_id, reason, error FROM dead_letters WHERE integration = 'clerk' AND (event_id = ?1 OR event_id LIKE ?1 || '#%')",
      id,
    );
    expect(letters).toEqual([
      {
        seq: expect.any(Number),
        stage: 'effect',
        event_id: `${id}#1:0`,
        reason: 'mapping',
        error: expect.stringMatching(
          /step integrations\.clerk\.handlers\[1\]\.steps\[0\] \(resend\).*path \$primary\.email_address is missing/,
        ),
      },
    ]);
    expect(fake.emails).toEqual([]);
    // The admin API shows it as the event's effect dead letter.
    const detail = (await (await h.request(`/admin/api/events/clerk/${id}`, { headers: ADMIN })).json()) as {
      event: { status: string };
      effects: { status: string; action: string }[];
      dead_letters: { stage: string; reason: string }[];
    };
    expect(detail.event.status).toBe('applied');
    expect(detail.effects).toEqual([expect.objectContaining({ action: 'resend', status: 'dead_lettered' })]);
    expect(detail.dead_letters).toEqual([expect.objectContaining({ stage: 'effect', reason: 'mapping' })]);

    // Replayed before anything is fixed: it is built again from the stored event, fails the same way, and stays open.
    const seq = letters[0]!.seq;
    expect((await replay(h, seq)).replayed).toHaveLength(1);
    await h.consume(h.drain());
    expect(fake.emails).toEqual([]);
    expect(await row('SELECT replayed_at, reason, error FROM dead_letters WHERE seq = ?', seq)).toEqual({
      replayed_at: null,
      reason: 'mapping',
      error: expect.stringContaining('$primary.email_address'),
    });

    // The manifest gives the value a default (nobody edits the stored event): the replay builds it and sends it, once.
    const m = structuredClone(defaultManifest) as Manifest;
    const welcome = m.integrations.clerk!.handlers![1]!.steps[0] as unknown as Record<string, unknown>;
    welcome.to = { path: '$primary.email_address', default: 'unknown-user@example.com' };
    const fixed = harness({ compiled: compileManifest(m, defaultRegistry), fetch: fake.fetch });
    // Retention pruned the event's body meanwhile (after 30 days): the letter kept it, and replay puts it back.
    await env.DB.prepare("UPDATE events SET body = NULL WHERE integration = 'clerk' AND id = ?").bind(id).run();
    expect((await replay(fixed, seq)).replayed).toHaveLength(1);
    const [again] = fixed.drain();
    await fixed.consume([again!]);
    expect(fake.emails.map((e) => ({ to: e.to, subject: e.subject }))).toEqual([
      { to: ['unknown-user@example.com'], subject: 'Welcome to Acme, Ada' },
    ]);
    expect(
      await row(
        "SELECT status, attempts, json_extract(payload, '$.to[0]') AS to_email FROM effects WHERE integration = 'clerk' AND event_id = ?",
        id,
      ),
    ).toEqual({ status: 'sent', attempts: 1, to_email: 'unknown-user@example.com' });
    expect(await row('SELECT replayed_at IS NOT NULL AS replayed FROM dead_letters WHERE seq = ?', seq)).toEqual({
      replayed: 1,
    });
    // A redelivered effects message, or a second replay, sends nothing more.
    await fixed.consume([fakeMessage(again!.body, 2)]);
    expect((await replay(fixed, seq)).replayed).toEqual([]);
    await fixed.consume(fixed.drain());
    expect(fake.emails).toHaveLength(1);
  });

  it("the event's other steps still happen: its SQL, another effect and its outbox message; an error in a SQL step still fails the whole event", async () => {
    const fake = new FakeProviders();
    const m = structuredClone(defaultManifest) as Manifest;
    m.integrations = {
      stripe: {
        ...m.integrations.stripe!,
        handlers: [
          {
            on: 'order.placed',
            steps: [
              { sql: "INSERT INTO orders (id, status) VALUES (:id, 'placed')", params: { id: 'data.object.id' } },
              {
                action: 'resend',
                from: 'A <a@example.com>',
                to: 'data.object.missing_email',
                subject: 'Hi',
                text: 'Hello',
                api_key: 'RESEND_API_KEY',
              },
              {
                action: 'resend',
                from: 'A <a@example.com>',
                to: 'data.object.email',
                subject: 'Placed',
                text: 'Thanks',
                api_key: 'RESEND_API_KEY',
              },
              { enqueue: 'fulfillment', body: { orderId: 'data.object.id' } },
            ],
          },
        ],
      },
    };
    const h = harness({ compiled: compileManifest(m, defaultRegistry), fetch: fake.fetch });
    const order = uid('ord');
    const envelope = (id: string, object: Record<string, unknown>): Envelope => ({
      integration: 'stripe',
      id,
      type: 'order.placed',
      occurred_at: null,
      received_at: new Date().toISOString(),
      payload: { data: { object } },
    });
    const good = envelope(uid('evt'), { id: order, email: 'buyer@example.com' });
    await h.consume([fakeMessage(good)]);
    expect(await row('SELECT status FROM orders WHERE id = ?', order)).toEqual({ status: 'placed' });
    expect(await row("SELECT status FROM events WHERE integration = 'stripe' AND id = ?", good.id)).toEqual({
      status: 'applied',
    });
    expect(fake.emails.map((e) => e.subject)).toEqual(['Placed']);
    expect(h.fulfillment.messages).toEqual([{ orderId: order }]);
    expect(
      await rows(
        "SELECT step, status FROM effects WHERE integration = 'stripe' AND event_id = ? ORDER BY step",
        good.id,
      ),
    ).toEqual([
      { step: '1:0', status: 'dead_lettered' },
      { step: '2:0', status: 'sent' },
    ]);
    expect(
      await rows(
        "SELECT stage, event_id, reason FROM dead_letters WHERE integration = 'stripe' AND (event_id = ?1 OR event_id LIKE ?1 || '#%')",
        good.id,
      ),
    ).toEqual([{ stage: 'effect', event_id: `${good.id}#1:0`, reason: 'mapping' }]);

    // No order id: the SQL step cannot be mapped, so nothing of the event commits and it is dead-lettered whole.
    const bad = envelope(uid('evt'), { email: 'nobody@example.com' });
    await h.consume([fakeMessage(bad)]);
    expect(
      await rows(
        "SELECT stage, reason FROM dead_letters WHERE integration = 'stripe' AND (event_id = ?1 OR event_id LIKE ?1 || '#%')",
        bad.id,
      ),
    ).toEqual([{ stage: 'consumer', reason: 'mapping' }]);
    expect(
      await row("SELECT count(*) AS n FROM effects WHERE integration = 'stripe' AND event_id = ?", bad.id),
    ).toEqual({ n: 0 });
    expect(fake.emails).toHaveLength(1);
    expect(h.fulfillment.messages).toHaveLength(1);
  });
});
