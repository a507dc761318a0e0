/**
 * The http action's request stays where the manifest points it: a provider's redirect never carries its secret
 * headers or secret body fields to another origin (followed only within the origin when the manifest allows it,
 * and then checked on every hop), and an input value cannot climb out of the URL template's path with dot segments.
 * The same holds for the edge's own fetches (JWKS, profiles). Each fake answers as a provider could; `following`
 * gives it the platform's redirect-following fetch.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { commandCallId } from '../../runtime/store/index.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { parseNestedForm } from '../support/fake-apis.ts';
import { harness, uid } from '../support/harness.ts';
import { following, REDIRECT_CODES, redirectTo } from '../support/redirects.ts';
import { clerkToken, jwks, testKey } from '../support/jwt.ts';

const API_KEY = 'ak_live_6c1f0b9e2d7a4853';
const AUTH_CODE = 'vac_0e4b7d2c9a1f6e38';
const SERVICE = { authorization: 'Bearer test-service-token' };

const input = {
  type: 'object',
  additionalProperties: false,
  required: ['order_id'],
  properties: { order_id: { type: 'string', minLength: 1 } },
};
const step = (extra: Record<string, unknown> = {}) => ({
  action: 'http',
  method: 'POST',
  url: 'https://a.test/v1/pi/{order_id}/capture',
  body_encoding: 'form',
  body: { order_id: 'order_id', vendor_auth_code: { secret: 'A_AUTH_CODE' } },
  secret_headers: { 'X-Api-Key': { secret: 'A_API_KEY' } },
  idempotency_header: 'Idempotency-Key',
  ...extra,
});
const command = (extra: Record<string, unknown>, stepExtra?: Record<string, unknown>) => ({
  input,
  auth: { service_token: 'SWITCHYARD_SERVICE_TOKEN' },
  queue: 'events',
  retry: { max_attempts: 1 },
  steps: [step(stepExtra)],
  ...extra,
});

function manifest(follow: boolean): Manifest {
  return {
    version: 1,
    queues: { events: { binding: 'EVENTS_QUEUE', dead_letter: 'EVENTS_DLQ' } },
    integrations: {},
    commands: {
      charge: command({ sync: { result: { where: 'where' }, cache: '0s' } }),
      charge_later: command({}),
      ...(follow
        ? {
            charge_follow: command(
              { sync: { result: { where: 'where', method: 'method', body: 'body' }, cache: '0s' } },
              { follow_redirects: 'same_origin' },
            ),
          }
        : {}),
    },
  } as unknown as Manifest;
}

function setup(follow = false) {
  const compiled = compileManifest(manifest(follow), defaultRegistry, {
    inputValidator: (_name, schema) => compileInputSchema(schema),
  });
  const fake = new FakeProviders();
  const h = harness({ compiled, fetch: following(fake.fetch), env: { A_API_KEY: API_KEY, A_AUTH_CODE: AUTH_CODE } });
  // B answers as if it were A: were anything to reach it, the command would succeed with B's answer.
  fake.on(/^https:\/\/b\.test\//, (r) => Response.json({ where: 'b', method: r.method, body: r.body }));
  return { h, fake };
}

const call = (h: ReturnType<typeof setup>['h'], name: string, order_id: string, key = uid('k')) =>
  h.post(`/v1/commands/${name}`, JSON.stringify({ order_id }), { ...SERVICE, 'idempotency-key': key });
/** The event's dead letters: its own (stage consumer) and its effects' (`<id>#<step>`). */
const deadLetters = async (integration: string, key: string) => {
  const id = await callId(key);
  return (
    await env.DB.prepare(
      "SELECT stage, reason, error FROM dead_letters WHERE integration = ?1 AND (event_id = ?2 OR event_id LIKE ?2 || '#%')",
    )
      .bind(integration, id)
      .all<{ stage: string; reason: string; error: string }>()
  ).results;
};
/** The call's id in the log: the key scoped to its caller, the service token. */
const callId = (key: string) => commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN');

describe('the http action and redirects to another origin', () => {
  it.each(REDIRECT_CODES)(
    'a %i to another origin is not followed: B receives nothing and the command answers 502 with the status',
    async (code) => {
      const { h, fake } = setup();
      fake.on(/^https:\/\/a\.test\//, () => redirectTo(code, 'https://b.test/collect?token=xyz'));
      const key = uid('k');
      const res = await call(h, 'charge', 'ord_1', key);
      expect(fake.to(/b\.test/)).toEqual([]);
      expect(fake.to(/a\.test/)).toHaveLength(1);
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: 'bad_gateway', provider_status: code });
      const [letter] = await deadLetters('command:charge', key);
      expect(letter!.error).toContain(`answered ${code}`);
      expect(letter!.error).toContain('redirect to https://b.test');
      expect(letter!.error).not.toContain('token=xyz');
    },
  );

  it('a (non-sync) call’s effect dead-letters with the redirect as its reason, and nothing reaches B', async () => {
    const { h, fake } = setup();
    fake.on(/^https:\/\/a\.test\//, () => redirectTo(307, '//b.test/collect'));
    const key = uid('k');
    expect((await call(h, 'charge_later', 'ord_2', key)).status).toBe(200);
    await h.consume(h.drain());
    expect(fake.to(/b\.test/)).toEqual([]);
    const [letter] = await deadLetters('command:charge_later', key);
    expect(letter).toMatchObject({ stage: 'effect' });
    expect(letter!.error).toMatch(/answered 307, a redirect to https:\/\/b\.test.*not followed/);
    const effect = await env.DB.prepare('SELECT status, attempts FROM effects WHERE integration = ?1 AND event_id = ?2')
      .bind('command:charge_later', await callId(key))
      .first();
    expect(effect).toEqual({ status: 'dead_lettered', attempts: 1 });
  });
});

describe('follow_redirects: same_origin', () => {
  it('follows a 307 within A with its method, body and secrets, and a 303 as a GET without a body', async () => {
    const { h, fake } = setup(true);
    fake.on(/^https:\/\/a\.test\/v1\/pi\//, (r) => redirectTo(r.url.includes('ord_303') ? 303 : 307, '/v2/capture'));
    fake.on(/^https:\/\/a\.test\/v2\/capture$/, (r) => Response.json({ where: 'a2', method: r.method, body: r.body }));
    const kept = await call(h, 'charge_follow', 'ord_307');
    expect(kept.status).toBe(200);
    const body = ((await kept.json()) as { result: { where: string; method: string; body: string } }).result;
    expect(body).toMatchObject({ where: 'a2', method: 'POST' });
    expect(parseNestedForm(body.body)).toMatchObject({ order_id: 'ord_307' });
    const [, hop] = fake.to(/a\.test/);
    expect(hop!.headers['x-api-key']).toBe(API_KEY);
    const seen = await call(h, 'charge_follow', 'ord_303');
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { result: unknown }).result).toEqual({ where: 'a2', method: 'GET', body: '' });
  });

  it('still refuses a hop to another origin, checked on every hop, and a chain longer than 5 hops', async () => {
    const { h, fake } = setup(true);
    let hops = 0;
    fake.on(/^https:\/\/a\.test\/v1\/pi\/ord_away\//, () => redirectTo(302, 'https://a.test/step/1'));
    fake.on(/^https:\/\/a\.test\/step\/1$/, () => redirectTo(308, 'https://b.test/collect'));
    fake.on(/^https:\/\/a\.test\/v1\/pi\/ord_loop\//, () => redirectTo(307, `/loop/${++hops}`));
    fake.on(/^https:\/\/a\.test\/loop\//, () => redirectTo(307, `/loop/${++hops}`));
    const away = await call(h, 'charge_follow', 'ord_away');
    expect(away.status).toBe(502);
    expect(await away.json()).toMatchObject({ provider_status: 308 });
    expect(fake.to(/b\.test/)).toEqual([]);
    const loop = await call(h, 'charge_follow', 'ord_loop');
    expect(loop.status).toBe(502);
    expect(fake.to(/a\.test\/(v1\/pi\/ord_loop|loop)/)).toHaveLength(6);
  });
});

describe('dot segments in a URL template', () => {
  const climbing = [
    '.',
    '..',
    '%2e',
    '%2E',
    '%2e%2e',
    '%2E.',
    '.%2E',
    '..%2f',
    '..%2F',
    '%2e%2e%2f',
    '../x',
    '..\\',
    '%252e%252e',
    '%25252e%25252e',
  ];

  it.each(climbing)('refuses order_id %j: 422 naming the field, and no request is sent', async (value) => {
    const { h, fake } = setup();
    fake.on(/^https:\/\/a\.test\//, () => Response.json({ where: 'a' }));
    const res = await call(h, 'charge', value);
    expect(fake.requests).toEqual([]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: string; message: string; reason: string };
    expect(body).toMatchObject({ error: 'unprocessable', reason: 'invalid_input' });
    expect(body.message).toContain('order_id');
    expect(body.message).toMatch(/dot segment/);
  });

  it('dead-letters a (non-sync) call’s effect with the reason (the call itself is applied), and no request is sent', async () => {
    const { h, fake } = setup();
    const key = uid('k');
    expect((await call(h, 'charge_later', '..', key)).status).toBe(200);
    await h.consume(h.drain());
    expect(fake.requests).toEqual([]);
    const [letter] = await deadLetters('command:charge_later', key);
    expect(letter).toMatchObject({ stage: 'effect', reason: 'mapping' });
    expect(letter!.error).toMatch(/order_id.*dot segment/);
  });

  it('sends values that only contain dots', async () => {
    const { h, fake } = setup();
    fake.on(/^https:\/\/a\.test\//, () => Response.json({ where: 'a' }));
    for (const value of ['v1.2', '...', 'a..b', '.well', 'x.', '%2e%2e%2e'])
      expect((await call(h, 'charge', value)).status).toBe(200);
    expect(fake.requests.map((r) => new URL(r.url).pathname)).toEqual([
      '/v1/pi/v1.2/capture',
      '/v1/pi/.../capture',
      '/v1/pi/a..b/capture',
      '/v1/pi/.well/capture',
      '/v1/pi/x./capture',
      '/v1/pi/%252e%252e%252e/capture',
    ]);
  });
});

describe("the edge's own fetches: JWKS and profiles", () => {
  const PROFILE_KEY = 'sk_test_profile_6a1e';
  async function edge() {
    const fake = new FakeProviders();
    const h = harness({ fetch: following(fake.fetch), env: { CLERK_SECRET_KEY: PROFILE_KEY } });
    return { fake, h, key: await testKey(uid('kid')) };
  }

  it('does not follow a JWKS redirect: keys served by another origin never verify a token (503, nothing reaches it)', async () => {
    const { fake, h, key } = await edge();
    fake.on(/\/\.well-known\/jwks\.json$/, () => redirectTo(302, 'https://evil.test/jwks.json'));
    fake.on(/^https:\/\/evil\.test\//, () => Response.json(jwks(key)));
    const res = await h.request('/api/things', { headers: { authorization: `Bearer ${await clerkToken(key)}` } });
    expect(fake.to(/evil\.test/)).toEqual([]);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reason: 'jwks_unreachable' });
    expect(fake.to(/origin\.example\.com/)).toEqual([]);
  });

  it.each(['..', '.', '%2e%2e'])(
    'fetches no profile for a user id %j (the key would reach another endpoint); the request still goes on',
    async (sub) => {
      const { fake, h, key } = await edge();
      fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
      fake.on(/api\.clerk\.com/, () => Response.json({ id: sub, first_name: 'Eve' }));
      const res = await h.request('/api/me', {
        headers: { authorization: `Bearer ${await clerkToken(key, { sub })}` },
      });
      expect(fake.to(/api\.clerk\.com/)).toEqual([]);
      expect(res.status).toBe(200);
      expect(h.events).toContainEqual(
        expect.objectContaining({
          kind: 'runtime.error',
          where: 'auth.clerk.profile',
          error: expect.stringContaining('dot segment'),
        }),
      );
    },
  );

  it('does not follow a profile API redirect to another origin with the secret key', async () => {
    const { fake, h, key } = await edge();
    fake.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
    fake.on(/api\.clerk\.com/, () => redirectTo(307, 'https://evil.test/users'));
    fake.on(/^https:\/\/evil\.test\//, () => Response.json({ id: 'x', first_name: 'Eve' }));
    const res = await h.request('/api/me', {
      headers: { authorization: `Bearer ${await clerkToken(key, { sub: uid('user') })}` },
    });
    expect(fake.to(/evil\.test/)).toEqual([]);
    expect(res.status).toBe(200);
    expect(h.events).toContainEqual(
      expect.objectContaining({
        kind: 'runtime.error',
        where: 'auth.clerk.profile',
        error: expect.stringMatching(/answered 307, a redirect to https:\/\/evil\.test/),
      }),
    );
  });
});
