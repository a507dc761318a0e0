/**
 * What Workers Logs (and its OTLP export) and Workers traces receive: an event is driven through every stage of its
 * life (refused at the edge, accepted and applied in the request, consumed from the queue, an effect that fails
 * and retries, one that dead-letters, a consumer dead letter, a replay, the cron's sweep), and each stage's log
 * record is read as its line is written, with its attributes: stage, outcome, integration, event_id, type, attempt,
 * duration_ms. Spans carry the same names.
 */
import { env } from 'cloudflare:test';
import * as workers from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { logLine, type TelemetryEvent } from '../../runtime/lib/telemetry.ts';
import type { SpanLike, Tracer } from '../../runtime/lib/trace.ts';
import { fakeMessage, harness, uid, type Harness } from '../support/harness.ts';
import { stripeSignature, svixHeaders } from '../support/sign.ts';
import { MAX_LINE_BYTES, RECORDS_PER_EVENT } from '../support/observability-figures.ts';

const S = env.TEST_SECRETS;
const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };

/** The records as their log lines hold them (what logEmit writes to Workers Logs). */
const records = (events: TelemetryEvent[]) => events.map((e) => JSON.parse(logLine(e)) as Record<string, unknown>);
const about = (h: Harness, id: string) => records(h.events).filter((r) => r.event_id === id);

class RecordingSpan implements SpanLike {
  readonly attributes: Record<string, string | number | boolean> = {};
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  get isTraced() {
    return true;
  }
  setAttribute(key: string, value: string | number | boolean) {
    this.attributes[key] = value;
  }
}

/** A tracer that keeps every span it opened; outside any span the invocation's root span is active. */
class RecordingTracer implements Tracer {
  readonly spans: RecordingSpan[] = [];
  root = new RecordingSpan('root');
  enterSpan<T>(name: string, callback: (span: SpanLike) => T): T {
    const span = new RecordingSpan(name);
    this.spans.push(span);
    return callback(span);
  }
  getActiveSpan() {
    return this.root;
  }
}

/** Resend answering by recipient: 503 (transient: the effect retries) or 422 (permanent: it dead-letters). */
function failingResend(h: Harness) {
  h.providers.on(/^https:\/\/api\.resend\.com\/emails$/, (r) => {
    if (r.body.includes('retry-me'))
      return Response.json({ name: 'internal_server_error', message: 'try later' }, { status: 503 });
    if (r.body.includes('refuse-me'))
      return Response.json({ name: 'validation_error', message: 'Invalid `to` field.' }, { status: 422 });
    return Response.json({ id: crypto.randomUUID() });
  });
}

async function clerkUserCreated(h: Harness, email: string) {
  const nowMs = Date.now();
  const body = JSON.stringify({
    object: 'event',
    type: 'user.created',
    timestamp: nowMs,
    data: {
      id: uid('user'),
      first_name: 'Ada',
      last_name: 'Lovelace',
      created_at: nowMs,
      primary_email_address_id: 'idn_1',
      email_addresses: [{ id: 'idn_1', email_address: email, verification: { status: 'verified' } }],
    },
  });
  const svixId = uid('msg');
  const res = await h.post(
    '/webhooks/clerk',
    body,
    await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, svixId, body, Math.floor(nowMs / 1000)),
  );
  return { res, id: svixId };
}

async function stripeSubscription(h: Harness, id = uid('evt')) {
  const body = JSON.stringify({
    id,
    object: 'event',
    type: 'customer.subscription.created',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: uid('sub'), customer: 'cus_1', status: 'active' } },
  });
  const res = await h.post('/webhooks/stripe', body, {
    'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
  });
  return { res, id };
}

describe('one structured record per stage, with the attributes an OTLP backend filters on', () => {
  it('edge refused: the refusal, with its integration and reason, and no event id (none was verified)', async () => {
    const h = harness();
    const res = await h.post('/webhooks/stripe', JSON.stringify({ id: 'evt_forged', type: 'x' }), {
      'stripe-signature': 't=1,v1=00',
    });
    expect(res.status).toBe(401);
    expect(records(h.events)).toEqual([
      expect.objectContaining({
        level: 'info',
        kind: 'webhook.rejected',
        stage: 'ingest',
        outcome: 'refused',
        integration: 'stripe',
        reason: expect.any(String),
      }),
    ]);
    expect(records(h.events)[0]).not.toHaveProperty('event_id');
  });

  it('accepted and applied in the request, then (after the answer) an effect attempt that fails and is retried from the queue', async () => {
    const tracer = new RecordingTracer();
    const h = harness({ tracer, ctx: true });
    failingResend(h);
    const { res, id } = await clerkUserCreated(h, `retry-me-${uid('a')}@example.com`);
    expect(res.status).toBe(200);
    await h.settle();
    const lines = about(h, id);
    expect(lines.map((r) => [r.kind, r.stage, r.outcome])).toEqual([
      ['event.applied', 'apply', 'applied'],
      ['webhook.accepted', 'ingest', 'accepted'],
      ['effect.retry', 'effect', 'retrying'],
      ['effect.scheduled', 'effect', 'scheduled'],
    ]);
    expect(lines[0]).toMatchObject({
      integration: 'clerk',
      event_id: id,
      type: 'user.created',
      attempt: 1,
      in_request: true,
      duration_ms: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({ integration: 'clerk', event_id: id, type: 'user.created' });
    expect(lines[2]).toMatchObject({
      level: 'info',
      integration: 'clerk',
      event_id: id,
      action: 'resend',
      attempt: 1,
      max_attempts: expect.any(Number),
      duration_ms: expect.any(Number),
      error: expect.stringContaining('503'),
    });
    for (const line of lines) expect(line).not.toHaveProperty('id');

    // Traces: the request's root span says which event it took and how; the provider call has a span of its own.
    expect(tracer.root.attributes).toEqual({
      integration: 'clerk',
      event_id: id,
      type: 'user.created',
      stage: 'ingest',
      outcome: 'accepted',
    });
    const effect = tracer.spans.filter((s) => s.name === 'switchyard.effect');
    expect(effect.map((s) => s.attributes)).toEqual([
      {
        stage: 'effect',
        action: 'resend',
        items: 1,
        integration: 'clerk',
        event_id: id,
        step: expect.any(String),
        attempt: 1,
        outcome: 'failed',
        duration_ms: expect.any(Number),
        provider_status: 503,
      },
    ]);
  });

  it('an effect the provider refuses is dead-lettered; its replay and the next sweep each write their record', async () => {
    const tracer = new RecordingTracer();
    const h = harness({ tracer, ctx: true });
    failingResend(h);
    const { res, id } = await clerkUserCreated(h, `refuse-me-${uid('a')}@example.com`);
    expect(res.status).toBe(200);
    await h.settle();
    expect(about(h, id).find((r) => r.kind === 'effect.dead_lettered')).toMatchObject({
      level: 'error',
      kind: 'effect.dead_lettered',
      stage: 'effect',
      outcome: 'dead_lettered',
      integration: 'clerk',
      event_id: id,
      action: 'resend',
      attempt: 1,
      duration_ms: expect.any(Number),
    });

    const letter = await env.DB.prepare("SELECT seq FROM dead_letters WHERE stage = 'effect' AND event_id LIKE ?")
      .bind(`${id}%`)
      .first<{ seq: number }>();
    const replayed = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ seq: [letter!.seq] }),
    });
    expect(replayed.status).toBe(200);
    expect(about(h, id).at(-1)).toEqual(
      expect.objectContaining({
        kind: 'event.replayed',
        stage: 'replay',
        outcome: 'replayed',
        integration: 'clerk',
        event_id: id,
        letter_stage: 'effect',
      }),
    );

    h.events.length = 0;
    await h.runtime.scheduled(h.env);
    const sweep = records(h.events).find((r) => r.kind === 'sweep.done');
    expect(sweep).toEqual(
      expect.objectContaining({
        level: 'info',
        stage: 'sweep',
        outcome: 'swept',
        requeued: expect.any(Number),
        dead_lettered: expect.any(Number),
        effects: expect.any(Number),
        duration_ms: expect.any(Number),
      }),
    );
    expect(records(h.events).find((r) => r.kind === 'retention.pruned')).toMatchObject({
      stage: 'cron',
      outcome: 'pruned',
    });
    expect(tracer.spans.find((s) => s.name === 'switchyard.sweep')?.attributes).toEqual({
      stage: 'sweep',
      outcome: 'swept',
      requeued: sweep!.requeued,
      dead_lettered: sweep!.dead_lettered,
      effects: sweep!.effects,
      duration_ms: sweep!.duration_ms,
    });
  });

  it('queued, then consumed: accepted at the edge, applied by the consumer with its attempt; the batch has a span', async () => {
    const tracer = new RecordingTracer();
    const h = harness({ queued: true, tracer });
    const { res, id } = await stripeSubscription(h);
    expect(res.status).toBe(202);
    const messages = h.drain();
    await h.consume(messages);
    expect(about(h, id).map((r) => [r.kind, r.stage, r.outcome])).toEqual([
      ['webhook.accepted', 'ingest', 'accepted'],
      ['event.applied', 'consumer', 'applied'],
    ]);
    expect(about(h, id)[1]).toMatchObject({
      integration: 'stripe',
      event_id: id,
      type: 'customer.subscription.created',
      attempt: 1,
      duration_ms: expect.any(Number),
    });
    expect(about(h, id)[1]).not.toHaveProperty('in_request');
    expect(tracer.spans.find((s) => s.name === 'switchyard.consume')?.attributes).toEqual({
      stage: 'consumer',
      queue: 'test-events',
      messages: 1,
      integration: 'stripe',
      event_id: id,
      type: 'customer.subscription.created',
      attempt: 1,
    });
  });

  it('consumer dead letter: an event that cannot be mapped, on its last attempt, with its stage and reason', async () => {
    const h = harness({ queued: true });
    const id = uid('evt');
    await h.consume([
      fakeMessage(
        {
          integration: 'stripe',
          id,
          type: 'customer.subscription.created',
          occurred_at: null,
          received_at: new Date().toISOString(),
          payload: {
            data: { object: { id: uid('sub'), customer: 'cus_1', status: 'active', current_period_end: 'not a time' } },
          },
        },
        10,
      ),
    ]);
    expect(about(h, id)).toEqual([
      expect.objectContaining({
        level: 'error',
        kind: 'webhook.dead_lettered',
        stage: 'consumer',
        outcome: 'dead_lettered',
        integration: 'stripe',
        event_id: id,
        reason: expect.any(String),
      }),
    ]);
  });

  it(`log volume: ${RECORDS_PER_EVENT.inRequestWithEmail} records for an event applied in the request with its email sent, ${RECORDS_PER_EVENT.queuedSqlOnly} for a queued SQL-only event, none over ${MAX_LINE_BYTES} bytes`, async () => {
    const h = harness({ ctx: true });
    const direct = await clerkUserCreated(h, `${uid('ada')}@example.com`);
    expect(direct.res.status).toBe(200);
    await h.settle();
    const q = harness({ queued: true });
    const queued = await stripeSubscription(q);
    await q.consume(q.drain());
    const lines = [...h.events, ...q.events].map(logLine);
    expect(about(h, direct.id).map((r) => r.kind)).toEqual(['event.applied', 'webhook.accepted', 'effect.sent']);
    expect(about(h, direct.id)).toHaveLength(RECORDS_PER_EVENT.inRequestWithEmail);
    expect(about(q, queued.id)).toHaveLength(RECORDS_PER_EVENT.queuedSqlOnly);
    expect(lines).toHaveLength(RECORDS_PER_EVENT.inRequestWithEmail + RECORDS_PER_EVENT.queuedSqlOnly);
    const longest = Math.max(...lines.map((l) => new TextEncoder().encode(l).length));
    console.log(`observability: longest line ${longest} bytes`);
    expect(longest).toBeLessThanOrEqual(MAX_LINE_BYTES);
  });

  it("the Worker entry's tracer is the platform's: cloudflare:workers has `tracing`, and a span runs its callback", () => {
    const tracing = (workers as unknown as { tracing?: Tracer }).tracing;
    expect(typeof tracing?.enterSpan).toBe('function');
    expect(typeof tracing?.getActiveSpan).toBe('function');
    expect(
      tracing!.enterSpan('switchyard.test', (span) => (typeof span.isTraced === 'boolean' ? 'ran' : 'no span')),
    ).toBe('ran');
  });
});
