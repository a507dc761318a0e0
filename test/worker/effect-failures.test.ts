import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { builtInputs, defaultManifest, fakeMessage, harness, uid, type Harness } from '../support/harness.ts';

const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const T0 = Date.parse('2026-06-01T05:54:00.000Z');

/** A manifest whose one integration sends an email for every event (its own integration name keeps tests apart). */
function emailing(name: string): Manifest {
  const m = structuredClone(defaultManifest) as Manifest;
  m.integrations = {
    [name]: {
      ...m.integrations.stripe!,
      route: `/webhooks/${name}`,
      handlers: [
        {
          on: '*',
          steps: [
            { sql: 'SELECT 1' },
            {
              action: 'resend',
              from: 'Acme <billing@acme.test>',
              to: 'data.object.email',
              template: 'payment_failed',
              data: { amount: 'data.object.amount', currency: 'data.object.currency', invoice_url: 'data.object.url' },
              api_key: 'RESEND_API_KEY',
            },
          ],
        },
      ],
    } as Manifest['integrations'][string],
  };
  return m;
}

interface World {
  h: Harness;
  fake: FakeProviders;
  name: string;
  clock: { now: number };
  /** Consumes one event for `email` (its id returned). */
  event(email: string): Promise<string>;
  get<T = Record<string, unknown>>(path: string): Promise<T>;
  post(path: string, body: unknown): Promise<Response>;
}

function world(): World {
  const name = uid('mail').toLowerCase();
  const fake = new FakeProviders();
  const clock = { now: T0 };
  const h = harness({
    compiled: compileManifest(emailing(name), defaultRegistry, builtInputs()),
    fetch: fake.fetch,
    now: () => clock.now,
  });
  return {
    h,
    fake,
    name,
    clock,
    async event(email) {
      const id = uid('evt');
      await h.consume([
        fakeMessage({
          integration: name,
          id,
          type: 'invoice.payment_failed',
          occurred_at: null,
          received_at: new Date(clock.now).toISOString(),
          payload: {
            data: { object: { email, amount: '19.00', currency: 'usd', url: 'https://pay.example.test/in?token=abc' } },
          },
        } satisfies Envelope),
      ]);
      return id;
    },
    get: async <T>(path: string) => (await (await h.request(path, { headers: ADMIN })).json()) as T,
    post: (path, body) => h.request(path, { method: 'POST', headers: ADMIN, body: JSON.stringify(body) }),
  };
}

type Listed = {
  id: string;
  status: string;
  effect: null | {
    status: string;
    action: string;
    label: string;
    attempts: number;
    max_attempts: number;
    summary: string;
    step: string;
  };
  effects_failing: number;
};

describe('the event list shows the worst effect of each event', () => {
  it('badges a retrying and a dead-lettered email, filters events with failing effects, and health counts them', async () => {
    const w = world();
    w.fake.failNext(/api\.resend\.com/, 500, { times: 1, body: { message: 'upstream mail relay down' } });
    const retrying = await w.event('retry@example.test');
    w.fake.failNext(/api\.resend\.com/, 422, {
      times: 1,
      body: { name: 'validation_error', message: 'Invalid `to` field' },
    });
    const dead = await w.event('dead@example.test');
    const fine = await w.event('fine@example.test');
    expect(w.fake.emails.map((e) => e.to[0])).toEqual(['fine@example.test']);

    const { events } = await w.get<{ events: Listed[] }>(`/admin/api/events?integration=${w.name}`);
    const byId = new Map(events.map((e) => [e.id, e]));
    expect(byId.get(retrying)).toMatchObject({
      status: 'applied',
      effects_failing: 1,
      effect: {
        status: 'retrying',
        action: 'resend',
        attempts: 1,
        max_attempts: 5,
        label: `${w.name}.handlers[0].steps[1] resend`,
        summary: 'resend retrying, attempt 1 of 5 failed',
      },
    });
    expect(byId.get(dead)).toMatchObject({
      status: 'applied',
      effects_failing: 1,
      effect: { status: 'dead_lettered', summary: 'resend dead-lettered after 1 attempt' },
    });
    expect(byId.get(fine)).toMatchObject({ status: 'applied', effects_failing: 0, effect: null });

    const failing = await w.get<{ events: Listed[] }>(`/admin/api/events?integration=${w.name}&effects=failing`);
    expect(failing.events.map((e) => e.id)).toEqual([dead, retrying]);
    expect((await w.h.request('/admin/api/events?effects=sometimes', { headers: ADMIN })).status).toBe(400);

    const health = await w.get<{
      integrations: Record<string, { effects: { retrying: number; dead_lettered: number } }>;
    }>('/admin/api/health');
    expect(health.integrations[w.name]!.effects).toEqual({ retrying: 1, dead_lettered: 1 });

    // A dismissed letter is no longer failing: it leaves the filter and the count, and its badge says so.
    const [letter] = (await w.get<{ dead_letters: { seq: number }[] }>(`/admin/api/dead-letters?integration=${w.name}`))
      .dead_letters;
    expect((await w.post(`/admin/api/dead-letters/${letter!.seq}/dismiss`, {})).status).toBe(200);
    expect(
      (await w.get<{ events: Listed[] }>(`/admin/api/events?integration=${w.name}&effects=failing`)).events.map(
        (e) => e.id,
      ),
    ).toEqual([retrying]);
    expect(
      (await w.get<{ integrations: Record<string, { effects: unknown }> }>('/admin/api/health')).integrations[w.name]!
        .effects,
    ).toEqual({ retrying: 1, dead_lettered: 0 });
    const after = (await w.get<{ events: Listed[] }>(`/admin/api/events?integration=${w.name}`)).events.find(
      (e) => e.id === dead,
    );
    expect(after).toMatchObject({
      effects_failing: 0,
      effect: { status: 'dead_lettered', summary: 'resend dead-lettered after 1 attempt (dismissed)' },
    });
  });
});

describe("an effect's dead letter says what was sent and what the provider answered", () => {
  it('shows the email (recipient, subject, template), the answer (status, excerpt, time), the first failure at its own time, and step labels', async () => {
    const w = world();
    w.fake.failNext(/api\.resend\.com/, 503, { times: 1, body: { message: 'try later' } });
    const id = await w.event('who@example.test');
    const first = new Date(w.clock.now).toISOString();
    // 24 minutes later the retry is refused for good.
    w.clock.now = T0 + 24 * 60_000 + 51_000;
    w.fake.failNext(/api\.resend\.com/, 422, {
      times: 1,
      body: { name: 'validation_error', message: 'The `to` address is on the suppression list' },
    });
    await w.h.consume(w.h.drain());
    const last = new Date(w.clock.now).toISOString();

    const [letter] = (await w.get<{ dead_letters: { seq: number }[] }>(`/admin/api/dead-letters?integration=${w.name}`))
      .dead_letters;
    const res = await w.h.request(`/admin/api/dead-letters/${letter!.seq}`, { headers: ADMIN });
    const text = await res.text();
    const { dead_letter: d } = JSON.parse(text) as { dead_letter: Record<string, unknown> };
    expect(d).toMatchObject({ stage: 'effect', attempts: 2, first_failed_at: first, last_failed_at: last });
    expect(d.effect).toEqual({
      action: 'resend',
      label: `${w.name}.handlers[0].steps[1] resend`,
      request: {
        from: 'Acme <billing@acme.test>',
        to: 'who@example.test',
        subject: 'Your payment did not go through',
        template: 'payment_failed',
      },
      answer: { status: 422, code: null, excerpt: expect.stringContaining('suppression list'), at: last },
      attempts: [
        { n: 1, at: first, duration_ms: expect.any(Number), error: expect.stringContaining('resend answered 503') },
        { n: 2, at: last, duration_ms: expect.any(Number), error: expect.stringContaining('resend answered 422') },
      ],
    });
    // No secret leaves: the API key the send used is nowhere in the answer.
    expect(text).not.toContain(w.h.env.RESEND_API_KEY as string);

    // The event's detail labels its effect by the manifest's step, not `1:0`.
    const detail = await w.get<{ effects: { step: string; label: string }[] }>(`/admin/api/events/${w.name}/${id}`);
    expect(detail.effects).toEqual([
      expect.objectContaining({ step: '1:0', label: `${w.name}.handlers[0].steps[1] resend` }),
    ]);
  });

  it('an unreachable provider reads as such, and an http request shows its method and URL with secrets redacted', async () => {
    const name = uid('hook').toLowerCase();
    const m = structuredClone(defaultManifest) as Manifest;
    m.integrations = {
      [name]: {
        ...m.integrations.stripe!,
        route: `/webhooks/${name}`,
        handlers: [
          {
            on: '*',
            steps: [
              {
                action: 'http',
                method: 'POST',
                url: 'https://hooks.example.test/notify/{data.object.id}',
                headers: { 'x-api-key': { const: 'literal-key-1234' }, 'x-kind': { const: 'invoice' } },
                secret_headers: { Authorization: { secret: 'RESEND_API_KEY', prefix: 'Bearer ' } },
                query: { token: { secret: 'RESEND_API_KEY' }, plain: 'data.object.id' },
                body: { id: 'data.object.id' },
                retry: { max_attempts: 1 },
              },
            ],
          },
        ],
      } as Manifest['integrations'][string],
    };
    const h = harness({
      compiled: compileManifest(m, defaultRegistry),
      fetch: async () => {
        throw new Error('internal error; reference = abc');
      },
      now: () => T0,
    });
    await h.consume([
      fakeMessage({
        integration: name,
        id: uid('evt'),
        type: 'invoice.created',
        occurred_at: null,
        received_at: new Date(T0).toISOString(),
        payload: { data: { object: { id: 'in_42' } } },
      } satisfies Envelope),
    ]);
    const [letter] = (
      (await (await h.request(`/admin/api/dead-letters?integration=${name}`, { headers: ADMIN })).json()) as {
        dead_letters: { seq: number }[];
      }
    ).dead_letters;
    const text = await (await h.request(`/admin/api/dead-letters/${letter!.seq}`, { headers: ADMIN })).text();
    const { dead_letter: d } = JSON.parse(text) as {
      dead_letter: { effect: { request: Record<string, string>; answer: Record<string, unknown> } };
    };
    expect(d, text).toMatchObject({ reason: 'effect' });
    expect(d.effect.request).toMatchObject({
      method: 'POST',
      url: 'https://hooks.example.test/notify/in_42?plain=in_42&token=[secret RESEND_API_KEY]',
      'header x-api-key': '[redacted]',
      'header x-kind': 'invoice',
    });
    expect(d.effect.answer).toMatchObject({
      status: null,
      excerpt: expect.stringContaining('could not reach hooks.example.test'),
    });
    expect(text).not.toContain('literal-key-1234');
    expect(text).not.toContain(h.env.RESEND_API_KEY as string);
  });
});

describe('retry now', () => {
  it('sends a retrying email once when the provider has recovered, even with its retry due; an effect already sent is not sent again', async () => {
    const w = world();
    w.fake.failNext(/api\.resend\.com/, 500, { times: 1 });
    const id = await w.event('again@example.test');
    const key = { integration: w.name, id, step: '1:0' };
    // Its retry is due now, and its delayed message is on the queue.
    w.clock.now = T0 + 2 * 3_600_000;
    const res = await w.post('/admin/api/effects/retry', key);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      retried: [{ ...key, label: `${w.name}.handlers[0].steps[1] resend`, status: 'sent', attempt: 2 }],
      skipped: [],
    });
    expect(w.fake.emails.filter((e) => e.to[0] === 'again@example.test')).toHaveLength(1);
    // The queue's retry comes after: nothing is due, nothing is sent.
    await w.h.consume(w.h.drain());
    const again = await w.post('/admin/api/effects/retry', key);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'conflict', message: expect.stringContaining('already sent') });
    expect(w.fake.emails.filter((e) => e.to[0] === 'again@example.test')).toHaveLength(1);
    expect(w.fake.to(/api\.resend\.com/)).toHaveLength(2);
    expect((await w.post('/admin/api/effects/retry', { ...key, step: '9:9' })).status).toBe(404);
    expect((await w.post('/admin/api/effects/retry', { integration: w.name })).status).toBe(400);
  });

  it('retries a dead-lettered email now, and marks its letter replayed', async () => {
    const w = world();
    w.fake.failNext(/api\.resend\.com/, 400, { times: 1, body: { name: 'validation_error', message: 'bad from' } });
    const id = await w.event('later@example.test');
    const res = await w.post('/admin/api/effects/retry', { integration: w.name, id, step: '1:0' });
    expect(await res.json()).toMatchObject({ retried: [{ status: 'sent', attempt: 1 }] });
    expect(w.fake.emails.map((e) => e.to[0])).toEqual(['later@example.test']);
    expect(
      (await w.get<{ dead_letters: unknown[] }>(`/admin/api/dead-letters?integration=${w.name}`)).dead_letters,
    ).toEqual([]);
  });

  it('bulk: previews the effects that failed for one reason (count and sample), then retries them, each once', async () => {
    const w = world();
    w.fake.failNext(/api\.resend\.com/, 500, { times: 2 });
    const a = await w.event('a@example.test');
    const b = await w.event('b@example.test');
    w.fake.failNext(/api\.resend\.com/, 422, { times: 1, body: { name: 'validation_error', message: 'nope' } });
    await w.event('c@example.test');

    const { reasons } = await w.get<{ reasons: { reason: string; count: number; sample: { id: string }[] }[] }>(
      `/admin/api/effects/failing?integration=${w.name}`,
    );
    expect(reasons.map((r) => [r.reason, r.count])).toEqual([
      ['resend answered 500', 2],
      ['resend answered 422 validation_error', 1],
    ]);
    const preview = await (
      await w.post('/admin/api/effects/retry', { reason: 'resend answered 500', integration: w.name, dry_run: true })
    ).json();
    expect(preview).toMatchObject({ dry_run: true, reason: 'resend answered 500', count: 2, truncated: false });
    expect((preview as { sample: { id: string }[] }).sample.map((s) => s.id).sort()).toEqual([a, b].sort());
    expect(w.fake.to(/api\.resend\.com/)).toHaveLength(3);

    const done = (await (
      await w.post('/admin/api/effects/retry', { reason: 'resend answered 500', integration: w.name })
    ).json()) as { retried: { id: string; status: string }[] };
    expect(done.retried.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(w.fake.emails.map((e) => e.to[0]).sort()).toEqual(['a@example.test', 'b@example.test']);
    // Once: the same bulk retry again finds nothing that failed for that reason.
    expect(
      await (await w.post('/admin/api/effects/retry', { reason: 'resend answered 500', integration: w.name })).json(),
    ).toEqual({ retried: [], skipped: [] });
    expect(w.fake.emails).toHaveLength(2);
  });
});
