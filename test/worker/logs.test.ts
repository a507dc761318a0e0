/**
 * Logs carry reasons and field names, never values: a scenario plants recognisable personal data and secrets
 * through bad signatures, unmappable and malformed events, auth failures, rate limits and provider errors, then
 * greps every log line the runtime writes for them.
 */
import { env } from 'cloudflare:test';
import { expect, it, vi } from 'vitest';
import { FakeProviders } from '../support/fake-providers.ts';
import { fakeMessage, harness } from '../support/harness.ts';
import { stripeSignature, svixHeaders } from '../support/sign.ts';
import { configureLogs, logEmit } from '../../runtime/lib/telemetry.ts';

const S = env.TEST_SECRETS;
const PLANTED = {
  email: 'planted.victim@example.org',
  otherEmail: 'ada.lovelace.planted@example.net',
  token: 'eyJplantedTokenValue0123456789abcdefXYZ',
  apiKey: 're_planted_api_key_0123456789',
  ip: '203.0.113.77',
  phone: '+15557654321',
  value: 'PlantedPayloadValue-7f3a',
};

it('writes no planted secret, token, email, IP or payload value into any log line', async () => {
  const lines: string[] = [];
  const capture = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  const log = vi.spyOn(console, 'log').mockImplementation(capture);
  const error = vi.spyOn(console, 'error').mockImplementation(capture);
  const warn = vi.spyOn(console, 'warn').mockImplementation(capture);
  try {
    const fake = new FakeProviders();
    fake.on(/api\.resend\.com\/emails/, () =>
      Response.json(
        { message: `Invalid to field: ${PLANTED.email}; key ${PLANTED.apiKey}; from ${PLANTED.ip}` },
        { status: 503 },
      ),
    );
    const h = harness({
      fetch: fake.fetch,
      env: { RESEND_API_KEY: PLANTED.apiKey, POSTHOG_API_KEY: 'phc_test', MIXPANEL_TOKEN: 'mp_token' },
    });
    const stripeBody = (extra: Record<string, unknown>) =>
      JSON.stringify({
        id: `evt_${crypto.randomUUID()}`,
        type: 'invoice.payment_failed',
        created: 1_700_000_000,
        data: {
          object: {
            customer_email: PLANTED.email,
            note: PLANTED.value,
            amount_due: 1200,
            currency: 'usd',
            hosted_invoice_url: 'https://pay.example.com/i/1',
          },
        },
        ...extra,
      });
    const sign = async (body: string) => ({
      'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body),
      'cf-connecting-ip': PLANTED.ip,
    });

    // A bad signature, an unmappable event (a value where a time should be), a malformed body.
    const body = stripeBody({});
    await h.post('/webhooks/stripe', body, {
      'stripe-signature': `t=1,v1=${PLANTED.token}`,
      'cf-connecting-ip': PLANTED.ip,
    });
    const unmappable = stripeBody({ created: PLANTED.otherEmail });
    await h.post('/webhooks/stripe', unmappable, await sign(unmappable));
    const malformed = `{"email": "${PLANTED.email}", "phone": "${PLANTED.phone}" `;
    await h.post('/webhooks/stripe', malformed, await sign(malformed));
    const clerk = JSON.stringify({ type: 'user.created', timestamp: PLANTED.value, data: { id: PLANTED.value } });
    await h.post('/webhooks/clerk', clerk, await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, 'msg_planted', clerk));
    // Auth failures: a forged bearer token, a wrong publishable key, from a planted IP.
    await h.request('/v1/track', {
      method: 'POST',
      body: JSON.stringify([{ event: PLANTED.value }]),
      headers: { authorization: `Bearer ${PLANTED.token}`, 'cf-connecting-ip': PLANTED.ip },
    });
    await h.request('/v1/track', {
      method: 'POST',
      body: '[]',
      headers: { 'x-switchyard-key': PLANTED.token, 'cf-connecting-ip': PLANTED.ip },
    });
    await h.request('/admin/api/events', { headers: { authorization: `Bearer ${PLANTED.token}` } });
    // A provider error echoing the recipient and the key, through the consumer.
    const failing = stripeBody({});
    await h.post('/webhooks/stripe', failing, await sign(failing));
    await h.consume(h.drain());
    await h.consume([
      fakeMessage(
        {
          integration: 'stripe',
          id: 'evt_planted_map',
          type: 'customer.subscription.created',
          occurred_at: null,
          received_at: new Date().toISOString(),
          payload: {
            data: {
              object: {
                id: PLANTED.value,
                customer: PLANTED.email,
                status: 'active',
                current_period_end: PLANTED.otherEmail,
              },
            },
          },
        },
        9,
      ),
    ]);

    for (const event of h.events) logEmit(event);
    // Free text that is not JSON: a provider answering in prose, an error quoting a header.
    logEmit({
      kind: 'runtime.error',
      where: 'outbound',
      error: `twilio answered 400: The 'To' number ${PLANTED.phone} is not valid for ${PLANTED.email} (client ${PLANTED.ip}, auth Bearer ${PLANTED.token}, key ${PLANTED.apiKey})`,
    });
    logEmit({
      kind: 'limit.warned',
      limit: 'resend.emails',
      key: PLANTED.email,
      used: 8,
      max: 10,
      percent: 80,
      period_start: '2026-01-01T00:00:00.000Z',
    });
  } finally {
    log.mockRestore();
    error.mockRestore();
    warn.mockRestore();
  }
  expect(lines.length).toBeGreaterThan(8);
  const leaks = lines.flatMap((line) =>
    Object.entries(PLANTED)
      .filter(([, v]) => line.includes(v))
      .map(([k]) => `${k} in ${line}`),
  );
  expect(leaks).toEqual([]);
});

it('writes each event as one JSON object on one line with its level, errors on stderr unless SWITCHYARD_LOG_ERRORS_TO=stdout', () => {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.map(String).join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.map(String).join(' ')));
  const failure = { kind: 'runtime.error', where: 'http', error: 'Error: line one\nline two' } as const;
  const accepted = {
    kind: 'webhook.accepted',
    integration: 'stripe',
    id: 'evt_1',
    type: 'x',
    stored_payload: true,
  } as const;
  try {
    logEmit(failure);
    logEmit(accepted);
    configureLogs({ SWITCHYARD_LOG_ERRORS_TO: 'stdout' });
    logEmit(failure);
  } finally {
    configureLogs({});
    log.mockRestore();
    error.mockRestore();
  }
  expect(err).toHaveLength(1);
  expect(out).toHaveLength(2);
  for (const line of [...err, ...out]) {
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toHaveProperty('ts');
  }
  expect(JSON.parse(err[0]!)).toMatchObject({ level: 'error', kind: 'runtime.error' });
  expect(JSON.parse(out[0]!)).toMatchObject({ level: 'info', kind: 'webhook.accepted' });
  expect(JSON.parse(out[1]!)).toMatchObject({
    level: 'error',
    kind: 'runtime.error',
    error: 'Error: line one\nline two',
  });
});
