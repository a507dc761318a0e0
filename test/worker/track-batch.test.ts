/**
 * /v1/track batches as a batch: a browser request is ONE queue message and ONE event in the log; each action step
 * is ONE effect holding every tracked event, sent in ONE provider call, each event under the key it always had
 * (`track:<event id>:<step>`: PostHog's uuid, Mixpanel's $insert_id), so a retry cannot count twice.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import type { BudgetTable } from '../../runtime/lib/platform.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { stableId } from '../../runtime/component/action.ts';
import { asUuid } from '../../adapters/actions/analytics.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders, losingAnswers, type RecordedRequest } from '../support/fake-providers.ts';
import { defaultManifest, fakeMessage, harness, QUEUE_NAMES, uid, type FakeMessage } from '../support/harness.ts';
import { metered } from '../support/metered.ts';

const SECRETS = { POSTHOG_API_KEY: 'phc_test', MIXPANEL_TOKEN: 'mp_token' };
const KEY = { 'x-switchyard-key': 'pk_dev_switchyard', 'content-type': 'application/json' };

type PosthogBody = { batch: { event: string; uuid: string; properties: Record<string, unknown> }[] };
type MixpanelBody = { event: string; properties: Record<string, unknown> }[];

/**
 * PostHog and Mixpanel as they dedup: an event whose uuid / $insert_id they have seen is not counted again. The
 * network can lose the next `lose` answers after the provider has acted (it performed, then the connection dropped).
 */
function providers() {
  const fake = new FakeProviders();
  const posthog = new Set<string>();
  const mixpanel = new Set<string>();
  fake.on(/posthog\.com\/batch\/$/, (r: RecordedRequest) => {
    for (const e of (r.json as PosthogBody).batch) posthog.add(e.uuid);
    return Response.json({ status: 1 });
  });
  fake.on(/api\.mixpanel\.com\/track$/, (r: RecordedRequest) => {
    for (const e of r.json as MixpanelBody) mixpanel.add(String(e.properties.$insert_id));
    return Response.json({ status: 1 });
  });
  const { net, fetch: lossy } = losingAnswers(fake.fetch);
  return { fake, posthog, mixpanel, net, lossy };
}

function setup(manifest: Manifest = defaultManifest, db: D1Database = env.DB) {
  let now = Date.now();
  const p = providers();
  const h = harness({
    compiled: compileManifest(manifest, defaultRegistry),
    fetch: p.lossy,
    env: { ...SECRETS, DB: db },
    now: () => now,
  });
  const track = (events: unknown[]) =>
    h.request('/v1/track', { method: 'POST', body: JSON.stringify({ events }), headers: KEY });
  /** Runs the analytics queue's consumer on these messages (as Queues would deliver them). */
  const consume = (messages: FakeMessage[]) => h.runtime.queue({ queue: QUEUE_NAMES.ANALYTICS_QUEUE, messages }, h.env);
  const posthogCalls = () => p.fake.to(/posthog\.com\/batch\/$/).map((r) => (r.json as PosthogBody).batch);
  const mixpanelCalls = () => p.fake.to(/api\.mixpanel\.com\/track$/).map((r) => r.json as MixpanelBody);
  return { ...p, h, track, consume, posthogCalls, mixpanelCalls, advance: (ms: number) => void (now += ms) };
}

const tenEvents = () =>
  Array.from({ length: 10 }, (_, i) => ({ event: `click_${i}`, properties: { n: i }, distinct_id: 'anon_1' }));
/** The id each tracked event got at the edge (its $insert_id), in order. */
const itemIds = (message: unknown) => ((message as Envelope).items ?? []).map((item) => item.id);
/** The keys the per-event path gave each event's PostHog (step 0) and Mixpanel (step 1) sends. */
const keysOf = async (ids: string[]) => ({
  posthog: await Promise.all(ids.map(async (id) => asUuid(await stableId(`track:${id}:0:0`)))),
  mixpanel: await Promise.all(ids.map((id) => stableId(`track:${id}:1:0`))),
});
const effectsOf = async (id: string) =>
  (
    await env.DB.prepare(
      "SELECT step, action, status FROM effects WHERE integration = 'track' AND event_id = ? ORDER BY step",
    )
      .bind(id)
      .all<{ step: string; action: string; status: string }>()
  ).results;

describe('a browser batch is one message, one event, one call per provider', () => {
  it('10 events: ONE analytics message, ONE events row, ONE PostHog and ONE Mixpanel call with 10 items under their per-event keys', async () => {
    const meter = metered(env.DB);
    const s = setup(defaultManifest, meter.db);
    const res = await s.track(tenEvents());
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 10 });
    expect(s.h.analytics.messages).toHaveLength(1);
    const [message] = s.h.analytics.messages as Envelope[];
    const ids = itemIds(message);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    // Each item is the envelope the handlers see: its own id, the tracked event's name, its payload with $insert_id.
    expect(message!.items![3]).toMatchObject({
      id: ids[3],
      type: 'click_3',
      payload: { event: 'click_3', distinct_id: 'anon_1', properties: { n: 3, $insert_id: ids[3] } },
    });
    await s.consume(s.h.drain());

    const rows = await env.DB.prepare("SELECT id, status FROM events WHERE integration = 'track' AND id IN (?, ?)")
      .bind(message!.id, ids[0])
      .all();
    expect(rows.results).toEqual([{ id: message!.id, status: 'applied' }]);
    expect(await effectsOf(message!.id)).toEqual([
      { step: '0:0', action: 'posthog', status: 'sent' },
      { step: '1:0', action: 'mixpanel', status: 'sent' },
    ]);
    const keys = await keysOf(ids);
    const [posthog, ...morePosthog] = s.posthogCalls();
    expect(morePosthog).toHaveLength(0);
    expect(posthog!.map((e) => e.event)).toEqual(ids.map((_, i) => `click_${i}`));
    expect(posthog!.map((e) => e.uuid)).toEqual(keys.posthog);
    const [mixpanel, ...moreMixpanel] = s.mixpanelCalls();
    expect(moreMixpanel).toHaveLength(0);
    expect(mixpanel!.map((e) => e.properties.$insert_id)).toEqual(keys.mixpanel);
    expect(mixpanel![3]!.properties).toMatchObject({ n: 3, distinct_id: 'anon_1', token: 'mp_token' });

    // What a request costs, metered by D1 itself (the per-event shape cost 82 rows written and 10 messages).
    console.log(`track batch of 10: ${meter.written} D1 rows written, ${meter.read} read, 1 queue message`);
    // `plan --budget` prices the route per tracked event in batches of 10, from the same statement builders.
    const budget = (built as unknown as { environments: Record<string, { budget: BudgetTable }> }).environments.default!
      .budget;
    const model = budget.handlers.find((c) => c.source === 'track' && c.on === '*')!;
    expect(model.batch_size).toBe(10);
    expect(meter.written).toBe(Math.round(model.d1_rows_written * 10));
    expect(Math.abs(meter.read - model.d1_rows_read * 10)).toBeLessThanOrEqual(4);
    expect(model.queue_operations * 10).toBeCloseTo(3);
    expect(model.capacity[0]!.events_per_day).toBeGreaterThanOrEqual(30_000);
  });

  it('the provider performs, then the connection drops: the retry goes out under the same item keys, and 10 events are counted, not 20', async () => {
    const s = setup();
    await s.track(tenEvents());
    const [message] = s.h.drain();
    const batchId = (message!.body as Envelope).id;
    s.net.lose = 2;
    await s.consume([message!]);
    expect(message!.acked).toBe(true);
    expect((await effectsOf(batchId)).map((e) => e.status)).toEqual(['retrying', 'retrying']);
    s.advance(60 * 60_000);
    const retries = s.h.drain();
    expect(retries.map((m) => m.body)).toEqual([{ effects: { integration: 'track', id: batchId } }]);
    await s.consume(retries);
    expect((await effectsOf(batchId)).map((e) => e.status)).toEqual(['sent', 'sent']);
    const [first, second] = s.posthogCalls();
    expect(second!.map((e) => e.uuid)).toEqual(first!.map((e) => e.uuid));
    const [mpFirst, mpSecond] = s.mixpanelCalls();
    expect(mpSecond!.map((e) => e.properties.$insert_id)).toEqual(mpFirst!.map((e) => e.properties.$insert_id));
    expect(s.posthog.size).toBe(10);
    expect(s.mixpanel.size).toBe(10);
  });

  it('a redelivered message (a second copy of the batch) is applied once and sends nothing twice', async () => {
    const s = setup();
    await s.track(tenEvents());
    const [message] = s.h.drain();
    await s.consume([message!]);
    const copy = fakeMessage(message!.body);
    await s.consume([copy]);
    expect(copy.acked).toBe(true);
    // Two copies in one delivery, too.
    await s.track(tenEvents());
    const [next] = s.h.drain();
    await s.consume([next!, fakeMessage(next!.body)]);
    expect(s.posthogCalls()).toHaveLength(2);
    expect(s.mixpanelCalls()).toHaveLength(2);
    const ids = [(message!.body as Envelope).id, (next!.body as Envelope).id];
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE integration = 'track' AND id IN (?, ?)")
      .bind(...ids)
      .first();
    expect(rows).toEqual({ n: 2 });
    expect(s.h.events.filter((e) => e.kind === 'event.duplicate')).toHaveLength(2);
  });
});

describe('a provider that refuses the batch', () => {
  it('dead-letters the effect whole (visible, replayable); its replay sends the same items under the same keys, and Mixpanel is not sent again', async () => {
    const s = setup();
    s.fake.failNext(/posthog\.com\/batch\/$/, 400, { body: { type: 'validation_error' } });
    await s.track(tenEvents());
    const [message] = s.h.drain();
    const batchId = (message!.body as Envelope).id;
    await s.consume([message!]);
    expect(await effectsOf(batchId)).toEqual([
      { step: '0:0', action: 'posthog', status: 'dead_lettered' },
      { step: '1:0', action: 'mixpanel', status: 'sent' },
    ]);
    const letter = await env.DB.prepare(
      "SELECT seq, stage, error FROM dead_letters WHERE integration = 'track' AND stage = 'effect' AND event_id LIKE ?",
    )
      .bind(`${batchId}%`)
      .first<{ seq: number; stage: string; error: string }>();
    expect(letter!.error).toContain('posthog answered 400');
    const replayed = await s.h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ seq: [letter!.seq] }),
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
    });
    expect(await replayed.json()).toMatchObject({ replayed: [{ event_id: batchId }] });
    // The admin API reopens it at the wall clock's time, not the test's.
    s.advance(60_000);
    await s.consume(s.h.drain());
    expect((await effectsOf(batchId)).map((e) => e.status)).toEqual(['sent', 'sent']);
    const [refused, sent] = s.posthogCalls();
    expect(sent!.map((e) => e.uuid)).toEqual(refused!.map((e) => e.uuid));
    expect(sent!.map((e) => e.uuid)).toEqual((await keysOf(itemIds(message!.body))).posthog);
    expect(s.mixpanelCalls()).toHaveLength(1);
  });
});

describe('an event of a batch whose payload cannot be built', () => {
  it('is dead-lettered alone (its own effect); the batch effect sends the others', async () => {
    const m = structuredClone(defaultManifest);
    const handler = m.routes!.track!.handlers![0]!;
    handler.steps = [
      { ...handler.steps[0], distinct_id: 'properties.account' } as (typeof handler.steps)[number],
      handler.steps[1]!,
    ];
    const s = setup(m);
    await s.track(
      tenEvents().map((e, i) => (i % 4 === 1 ? e : { ...e, properties: { ...e.properties, account: `acct_${i}` } })),
    );
    const [message] = s.h.drain();
    const batchId = (message!.body as Envelope).id;
    await s.consume([message!]);
    expect(await effectsOf(batchId)).toEqual([
      { step: '0:0', action: 'posthog', status: 'sent' },
      { step: '0:0:1', action: 'posthog', status: 'dead_lettered' },
      { step: '0:0:5', action: 'posthog', status: 'dead_lettered' },
      { step: '0:0:9', action: 'posthog', status: 'dead_lettered' },
      { step: '1:0', action: 'mixpanel', status: 'sent' },
    ]);
    expect(s.posthogCalls().map((call) => call.length)).toEqual([7]);
    expect(s.mixpanelCalls().map((call) => call.length)).toEqual([10]);
    const letters = await env.DB.prepare(
      "SELECT reason FROM dead_letters WHERE integration = 'track' AND stage = 'effect' AND event_id LIKE ?",
    )
      .bind(`${batchId}%`)
      .all();
    expect(letters.results).toEqual([{ reason: 'mapping' }, { reason: 'mapping' }, { reason: 'mapping' }]);
  });
});

describe('limits count tracked events, not messages', () => {
  it('mixpanel.events counts each tracked event of a batch (10), and a batch past a drop limit is answered and not queued', async () => {
    const metric = `test.tracked.${uid('t')}`;
    const m = structuredClone(defaultManifest);
    m.limits = {
      ...m.limits,
      [metric]: { counts: 'tracked_events', period: 'month', limit: 15, on_exceed: 'drop' },
    } as Manifest['limits'];
    m.routes!.track!.limits = ['mixpanel.events', metric];
    const s = setup(m);
    const before =
      (
        await env.DB.prepare(
          "SELECT n FROM usage WHERE metric = 'mixpanel.events' AND key = '*' ORDER BY period_start DESC",
        ).first<{ n: number }>()
      )?.n ?? 0;
    expect(await (await s.track(tenEvents())).json()).toEqual({ accepted: 10 });
    const after = await env.DB.prepare(
      "SELECT n FROM usage WHERE metric = 'mixpanel.events' AND key = '*' ORDER BY period_start DESC",
    ).first<{ n: number }>();
    expect(after!.n - before).toBe(10);
    expect(await (await s.track(tenEvents())).json()).toEqual({ accepted: 0, dropped: 10, reason: 'limit_reached' });
    expect(s.h.analytics.messages).toHaveLength(1);
  });

  it("an action step's sends limit counts each tracked event of the batch", async () => {
    const metric = `test.sends.${uid('s')}`;
    const m = structuredClone(defaultManifest);
    m.limits = { ...m.limits, [metric]: { period: 'month', limit: 100, on_exceed: 'warn' } } as Manifest['limits'];
    const handler = m.routes!.track!.handlers![0]!;
    handler.steps = [{ ...handler.steps[0], limits: [metric] } as (typeof handler.steps)[number], handler.steps[1]!];
    const s = setup(m);
    await s.track(tenEvents());
    await s.consume(s.h.drain());
    expect(await env.DB.prepare("SELECT n FROM usage WHERE metric = ? AND key = '*'").bind(metric).first()).toEqual({
      n: 10,
    });
    expect(s.posthogCalls()).toHaveLength(1);
  });
});

describe('the backlog guard counts events on both sides', () => {
  it('answers 503 once max_queued events wait, and takes batches again once they are consumed', async () => {
    const m = structuredClone(defaultManifest);
    (m.routes!.track!.endpoint as { max_queued?: number }).max_queued = 15;
    const s = setup(m);
    expect((await s.track(tenEvents())).status).toBe(202);
    const full = await s.track(tenEvents());
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ reason: 'backlog' });
    // One message consumed is ten events consumed: the backlog is 0 again, not 9.
    await s.consume(s.h.drain());
    expect((await s.track(tenEvents())).status).toBe(202);
    expect((await s.track(tenEvents().slice(0, 5))).status).toBe(202);
    expect((await s.track(tenEvents().slice(0, 1))).status).toBe(503);
  });
});

describe('a batch that cannot be processed', () => {
  it('dead-letters whole and replays whole: one letter holding its 10 events, applied once the manifest is fixed', async () => {
    // A handler step that needs a property these events lack: a mapping error, permanent.
    const broken = structuredClone(defaultManifest);
    broken.routes!.track!.handlers = [
      {
        on: '*',
        steps: [
          {
            sql: 'UPDATE users SET name = :name WHERE id = :id',
            params: { id: 'distinct_id', name: 'properties.required_name' },
          },
          ...broken.routes!.track!.handlers![0]!.steps,
        ],
      },
    ];
    const s = setup(broken);
    await s.track(tenEvents());
    const [message] = s.h.drain();
    const batch = message!.body as Envelope;
    await s.consume([message!]);
    expect(message!.acked).toBe(true);
    expect(s.posthogCalls()).toHaveLength(0);
    const letter = await env.DB.prepare(
      "SELECT seq, stage, reason, envelope FROM dead_letters WHERE integration = 'track' AND event_id = ?",
    )
      .bind(batch.id)
      .first<{ seq: number; stage: string; reason: string; envelope: string }>();
    expect(letter).toMatchObject({ stage: 'consumer', reason: 'mapping' });
    expect(itemIds(JSON.parse(letter!.envelope))).toEqual(itemIds(batch));

    // The manifest fixed (the step removed), the letter is replayed: the whole batch comes back as one message.
    const fixed = setup();
    const replayed = await fixed.h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ seq: [letter!.seq] }),
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
    });
    expect(await replayed.json()).toMatchObject({ replayed: [{ event_id: batch.id }] });
    const again = fixed.h.drain();
    expect(again.map((m) => itemIds(m.body))).toEqual([itemIds(batch)]);
    await fixed.consume(again);
    expect(
      await env.DB.prepare("SELECT status FROM events WHERE integration = 'track' AND id = ?").bind(batch.id).first(),
    ).toEqual({ status: 'applied' });
    const keys = await keysOf(itemIds(batch));
    expect(fixed.posthogCalls().map((call) => call.map((e) => e.uuid))).toEqual([keys.posthog]);
  });
});

describe('the message limit', () => {
  it('splits a batch only when its envelope would pass the 128 KB message limit: 64 KiB of the largest-growing events make 2 messages', async () => {
    const s = setup();
    // The events that grow the most when enveloped: 200-character names (carried as type and as event).
    const name = 'n'.repeat(200);
    const events = Array.from({ length: 300 }, () => ({ event: name }));
    const m = structuredClone(defaultManifest);
    (m.routes!.track!.endpoint as { max_events?: number }).max_events = 500;
    const big = setup(m);
    expect(JSON.stringify({ events }).length).toBeLessThan(64 * 1024);
    const res = await big.track(events);
    expect(await res.json()).toEqual({ accepted: 300 });
    const sizes = (big.h.analytics.messages as Envelope[]).map(
      (e) => new TextEncoder().encode(JSON.stringify(e)).length,
    );
    expect(sizes.every((n) => n <= 128_000)).toBe(true);
    expect(sizes).toHaveLength(2);
    expect((big.h.analytics.messages as Envelope[]).flatMap((e) => e.items ?? []).length).toBe(300);
    void s;
  });
});
