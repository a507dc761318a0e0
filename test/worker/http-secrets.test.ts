/**
 * Secrets in an http action's body and query (Paddle Classic's vendor_auth_code, an API key in the query string): sent
 * to the provider, never stored in the effect row, a dead letter or an attempt, never logged, and redacted from the
 * provider's answer when it echoes them.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { parseNestedForm } from '../support/fake-apis.ts';
import { harness, uid } from '../support/harness.ts';
import { commandCallId } from '../../runtime/store/index.ts';

const AUTH_CODE = 'vac_5f1c9e0d7a3b4e21';
const QUERY_KEY = 'qk_8d2e6a4b0c9f1e37';

const manifest = {
  version: 1,
  queues: { events: { binding: 'EVENTS_QUEUE', dead_letter: 'EVENTS_DLQ' } },
  integrations: {},
  commands: {
    cancel_classic_subscription: {
      description: 'Paddle Classic: cancel a subscription (form-encoded, vendor_auth_code in the body).',
      input: {
        type: 'object',
        additionalProperties: false,
        required: ['subscription_id'],
        properties: { subscription_id: { type: 'integer' } },
      },
      auth: { service_token: 'SWITCHYARD_SERVICE_TOKEN' },
      queue: 'events',
      retry: { max_attempts: 1 },
      steps: [
        {
          action: 'http',
          method: 'POST',
          url: 'https://vendors.paddle.com/api/2.0/subscription/users_cancel',
          body_encoding: 'form',
          body: {
            vendor_id: { const: 123456 },
            vendor_auth_code: { secret: 'PADDLE_VENDOR_AUTH_CODE' },
            subscription_id: 'subscription_id',
          },
          query: { key: { secret: 'PARTNER_QUERY_KEY' }, source: { const: 'switchyard' } },
        },
      ],
    },
  },
} as unknown as Manifest;

function setup() {
  const compiled = compileManifest(manifest, defaultRegistry, {
    inputValidator: (_name, schema) => compileInputSchema(schema),
  });
  return harness({ compiled, env: { PADDLE_VENDOR_AUTH_CODE: AUTH_CODE, PARTNER_QUERY_KEY: QUERY_KEY } });
}

/** Everything stored for a call: its key scoped to its caller, the service token, is its id in the log. */
const everywhere = async (integration: string, key: string) => {
  const id = await commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN');
  return JSON.stringify([
    (await env.DB.prepare('SELECT * FROM effects WHERE integration = ?1 AND event_id = ?2').bind(integration, id).all())
      .results,
    (await env.DB.prepare('SELECT * FROM dead_letters WHERE integration = ?1').bind(integration).all()).results,
    (
      await env.DB.prepare('SELECT * FROM attempts WHERE integration = ?1 AND event_id = ?2')
        .bind(integration, id)
        .all()
    ).results,
    (await env.DB.prepare('SELECT * FROM events WHERE integration = ?1 AND id = ?2').bind(integration, id).all())
      .results,
  ]);
};

describe('secrets in an http body and query', () => {
  it('sends them form-encoded and in the query string, and keeps only their names', async () => {
    const h = setup();
    h.providers.on(/vendors\.paddle\.com/, () => Response.json({ success: true }));
    const key = uid('k');
    const res = await h.post('/v1/commands/cancel_classic_subscription', JSON.stringify({ subscription_id: 987 }), {
      authorization: 'Bearer test-service-token',
      'idempotency-key': key,
    });
    expect(res.status).toBe(200);
    const [sent] = h.providers.to(/vendors\.paddle\.com/);
    expect(sent!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(parseNestedForm(sent!.body)).toEqual({
      vendor_id: '123456',
      subscription_id: '987',
      vendor_auth_code: AUTH_CODE,
    });
    expect(new URL(sent!.url).searchParams.get('key')).toBe(QUERY_KEY);
    expect(new URL(sent!.url).searchParams.get('source')).toBe('switchyard');
    const stored = await everywhere('command:cancel_classic_subscription', key);
    expect(stored).toContain('PADDLE_VENDOR_AUTH_CODE');
    expect(stored).not.toContain(AUTH_CODE);
    expect(stored).not.toContain(QUERY_KEY);
  });

  it('redacts them from a provider answer that echoes them, in the dead letter, the attempt and the log', async () => {
    const h = setup();
    h.providers.on(/vendors\.paddle\.com/, (r) =>
      Response.json(
        {
          success: false,
          error: {
            code: 107,
            message: `bad vendor_auth_code ${parseNestedForm(r.body).vendor_auth_code} for ${r.url}`,
          },
        },
        { status: 403 },
      ),
    );
    const key = uid('k');
    await h.post('/v1/commands/cancel_classic_subscription', JSON.stringify({ subscription_id: 5 }), {
      authorization: 'Bearer test-service-token',
      'idempotency-key': key,
    });
    await h.consume(h.drain());
    const stored = await everywhere('command:cancel_classic_subscription', key);
    expect(stored).toContain('dead_lettered');
    expect(stored).toContain('[redacted]');
    expect(stored).not.toContain(AUTH_CODE);
    expect(stored).not.toContain(QUERY_KEY);
    expect(JSON.stringify(h.events)).not.toContain(AUTH_CODE);
  });

  it('redacts them however the answer echoes them: URL- and form-encoded, JSON-escaped, base64 (alone or in a Basic credential)', async () => {
    const code = 'vac 5f1c/9e0d+7a3b"4e21\\x&y=z';
    const compiled = compileManifest(manifest, defaultRegistry, {
      inputValidator: (_name, schema) => compileInputSchema(schema),
    });
    const h = harness({ compiled, env: { PADDLE_VENDOR_AUTH_CODE: code, PARTNER_QUERY_KEY: QUERY_KEY } });
    const echoes = {
      url: encodeURIComponent(code),
      form: new URLSearchParams({ c: code }).toString().slice(2),
      json: JSON.stringify(code).slice(1, -1),
      base64: btoa(code),
      basic: btoa(`vendor:${code}`),
    };
    h.providers.on(
      /vendors\.paddle\.com/,
      () =>
        new Response(
          `denied: ${Object.entries(echoes)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
          { status: 403, headers: { 'content-type': 'text/plain' } },
        ),
    );
    const key = uid('k');
    await h.post('/v1/commands/cancel_classic_subscription', JSON.stringify({ subscription_id: 6 }), {
      authorization: 'Bearer test-service-token',
      'idempotency-key': key,
    });
    await h.consume(h.drain());
    const letter = await env.DB.prepare(
      "SELECT error FROM dead_letters WHERE integration = 'command:cancel_classic_subscription' AND event_id = ?",
    )
      .bind(`${await commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN')}#0:0`)
      .first<{ error: string }>();
    expect(letter!.error).toMatch(
      /^http answered 403: denied: url=\[redacted\] form=\[redacted\] json=\[redacted\] base64=\[redacted\] basic=/,
    );
    const texts = JSON.parse(await everywhere('command:cancel_classic_subscription', key)) as unknown[];
    const values = collectStrings(texts);
    for (const [form, echo] of Object.entries(echoes))
      expect(
        values.filter((v) => v.includes(echo)),
        form,
      ).toEqual([]);
  });
});

const collectStrings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(collectStrings)
      : value && typeof value === 'object'
        ? Object.values(value).flatMap(collectStrings)
        : [];
