/**
 * Providers answering 200 with missing or mistyped fields, for every action in the registry: the request was
 * performed, so the effect ends sent with the answer's problem noted (never retried into a second send), nothing
 * throws, nothing stays leased, and the settle of the other effects is not lost with it.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest, Step } from '../../runtime/manifest/types.gen.ts';
import { defaultManifest, fakeMessage, harness, uid } from '../support/harness.ts';

const SECRETS = {
  SENDGRID_API_KEY: 'SG.test',
  TWILIO_ACCOUNT_SID: 'AC0123',
  TWILIO_AUTH_TOKEN: 'tw_token',
  MIXPANEL_TOKEN: 'mp_token',
  MIXPANEL_API_SECRET: 'mp_secret',
  POSTHOG_API_KEY: 'phc_test',
  APP_FORWARD_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

/**
 * One step per action type, the field of the answer it reads (undefined: it reads none), and how many events go
 * in one call (2 for Resend's batch path).
 */
const CASES: { name: string; action: string; step: Step; field?: string; events: number; notes: boolean }[] = [
  {
    name: 'resend (one email)',
    action: 'resend',
    step: {
      action: 'resend',
      from: 'A <a@example.com>',
      to: 'data.object.email',
      subject: 'Hi',
      text: 'Hello',
      api_key: 'RESEND_API_KEY',
    },
    field: 'id',
    events: 1,
    notes: true,
  },
  {
    name: 'resend (a batch)',
    action: 'resend',
    step: {
      action: 'resend',
      from: 'A <a@example.com>',
      to: 'data.object.email',
      subject: 'Hi',
      text: 'Hello',
      api_key: 'RESEND_API_KEY',
    },
    field: 'data',
    events: 2,
    notes: true,
  },
  {
    name: 'sendgrid',
    action: 'sendgrid',
    step: {
      action: 'sendgrid',
      from: 'A <a@example.com>',
      to: 'data.object.email',
      subject: 'Hi',
      text: 'Hello',
      api_key: 'SENDGRID_API_KEY',
    },
    events: 1,
    notes: true,
  },
  {
    name: 'twilio',
    action: 'twilio',
    step: {
      action: 'twilio',
      to: 'data.object.phone',
      from: '+15005550006',
      text: 'Hi',
      account_sid: 'TWILIO_ACCOUNT_SID',
      auth_token: 'TWILIO_AUTH_TOKEN',
    },
    field: 'sid',
    events: 1,
    notes: true,
  },
  {
    name: 'mixpanel',
    action: 'mixpanel',
    step: {
      action: 'mixpanel',
      event: '@type',
      distinct_id: 'data.object.email',
      token: 'MIXPANEL_TOKEN',
      api_secret: 'MIXPANEL_API_SECRET',
    },
    events: 2,
    notes: false,
  },
  {
    name: 'posthog',
    action: 'posthog',
    step: { action: 'posthog', event: '@type', distinct_id: 'data.object.email', api_key: 'POSTHOG_API_KEY' },
    events: 2,
    notes: false,
  },
  {
    name: 'http',
    action: 'http',
    step: { action: 'http', url: 'https://api.example.test/notes', body: { a: { const: 1 } } },
    events: 1,
    notes: false,
  },
  // An app's answer is its own: forward reads none of it but an excerpt, so a 200 is sent whatever its body says.
  {
    name: 'forward',
    action: 'forward',
    step: {
      action: 'forward',
      url: 'https://app.example.test/webhooks',
      secret: 'APP_FORWARD_SECRET',
      body: 'envelope',
    },
    events: 1,
    notes: false,
  },
];

/** 200 answers with missing or mistyped fields; `field` is the one the action reads. */
const answers = (field = 'id'): [string, () => Response][] => [
  ['an empty body', () => new Response('', { status: 200 })],
  ['{}', () => Response.json({})],
  ['null', () => Response.json(null)],
  [`${field} as a number`, () => Response.json({ [field]: 42 })],
  [`${field} as an object`, () => Response.json({ [field]: {} })],
  [`${field} as an array`, () => Response.json({ [field]: [] })],
  [
    'HTML instead of JSON',
    () =>
      new Response('<html><body><h1>502 Bad Gateway</h1></body></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      }),
  ],
  [
    'truncated JSON',
    () => new Response(`{"${field}": "abc`, { status: 200, headers: { 'content-type': 'application/json' } }),
  ],
  [
    'a body that breaks off (connection reset mid-answer)',
    () =>
      new Response(brokenBody(`{"${field}": "ab`), { status: 200, headers: { 'content-type': 'application/json' } }),
  ],
];

/** A body stream that delivers its start, then fails as a reset connection does. */
function brokenBody(start: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (sent) return controller.error(new Error('Network connection lost.'));
      sent = true;
      controller.enqueue(new TextEncoder().encode(start));
    },
  });
}

function manifest(step: Step): Manifest {
  const m = structuredClone(defaultManifest);
  m.integrations = { stripe: { ...m.integrations.stripe!, handlers: [{ on: '*', steps: [step] }] } };
  return m;
}

describe('fuzz: providers answer 200 with missing or mistyped fields', () => {
  it('covers every action type in the registry', () => {
    expect([...new Set(CASES.map((c) => c.action))].sort()).toEqual([...defaultRegistry.actions.keys()].sort());
  });

  for (const c of CASES) {
    for (const [label, answer] of answers(c.field)) {
      it(`${c.name}: ${label}`, async () => {
        let requests = 0;
        const fetcher: typeof fetch = async () => {
          requests++;
          return answer();
        };
        const h = harness({
          compiled: compileManifest(manifest(c.step), defaultRegistry),
          fetch: fetcher,
          env: SECRETS,
        });
        const messages = Array.from({ length: c.events }, (_, i) => {
          const id = uid('evt');
          return fakeMessage({
            integration: 'stripe',
            id,
            type: 'x',
            occurred_at: null,
            received_at: new Date().toISOString(),
            payload: { data: { object: { email: `${id}_${i}@example.com`, phone: '+15005550007' } } },
          } satisfies Envelope);
        });
        await expect(h.consume(messages)).resolves.toBeUndefined();
        expect(messages.every((m) => m.acked && !m.retried)).toBe(true);
        expect(h.events.filter((e) => e.kind === 'runtime.error')).toEqual([]);
        const ids = messages.map((m) => (m.body as Envelope).id);
        const rows = (
          await env.DB.prepare(
            `SELECT status, result, error FROM effects WHERE integration = 'stripe' AND event_id IN (${ids.map(() => '?').join(', ')})`,
          )
            .bind(...ids)
            .all<{ status: string; result: string | null; error: string | null }>()
        ).results;
        expect(rows).toHaveLength(c.events);
        // The provider said 200: it acted. Sent (never retried into a second send), the odd answer noted where it matters.
        expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'sent'));
        for (const r of rows) {
          expect(() => JSON.parse(r.result!)).not.toThrow();
          if (c.notes) expect(r.error).toMatch(new RegExp(`^${c.action} answered 200 `));
        }
        expect(requests).toBe(
          c.action === 'resend' && c.events > 1 ? 1 : c.action === 'mixpanel' || c.action === 'posthog' ? 1 : c.events,
        );
      });
    }
  }
});

describe('one effect cannot sink the settle of the others', () => {
  it("an effect whose log statement cannot be built (a value D1 refuses) is settled sent with a note; the other effect's settle and log still commit", async () => {
    let requests = 0;
    const m = manifest(CASES[0]!.step);
    m.integrations.stripe!.handlers![0]!.steps.push(CASES.find((c) => c.action === 'twilio')!.step);
    const both = compileManifest(m, defaultRegistry);
    const resend = [...both.effects.byId.values()].find((s) => s.action.type === 'resend')!.action;
    // As a log statement that binds a value from an answer it did not check would: D1 refuses `undefined`.
    resend.logStatements = () => [{ sql: 'INSERT INTO email_logs (id) VALUES (?1)', params: [undefined] }];
    const h = harness({
      compiled: both,
      env: SECRETS,
      fetch: async (input) => {
        requests++;
        const url = String(input instanceof Request ? input.url : input);
        return url.includes('resend')
          ? Response.json({ id: 're_1' })
          : Response.json({ sid: `SM${uid('x')}`, status: 'queued' }, { status: 201 });
      },
    });
    const id = uid('evt');
    const message = fakeMessage({
      integration: 'stripe',
      id,
      type: 'x',
      occurred_at: null,
      received_at: new Date().toISOString(),
      payload: { data: { object: { email: `${id}@example.com`, phone: `+1500555${String(Date.now()).slice(-4)}` } } },
    } satisfies Envelope);
    await h.consume([message]);
    expect(message.acked).toBe(true);
    expect(requests).toBe(2);
    expect(h.events.filter((e) => e.kind === 'runtime.error')).toEqual([]);
    const rows = (
      await env.DB.prepare(
        "SELECT action, status, error FROM effects WHERE integration = 'stripe' AND event_id = ? ORDER BY step",
      )
        .bind(id)
        .all<{ action: string; status: string; error: string | null }>()
    ).results;
    expect(rows).toEqual([
      { action: 'resend', status: 'sent', error: expect.stringContaining('its answer could not be recorded') },
      { action: 'twilio', status: 'sent', error: null },
    ]);
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM sms_logs WHERE to_number = ?')
        .bind((message.body as { payload: { data: { object: { phone: string } } } }).payload.data.object.phone)
        .first(),
    ).toEqual({ n: 1 });
  });
});
