/**
 * Idempotency keys belong to whoever called: a service token (by its name), a user (`<provider>:<sub>`), or a
 * Service Binding. Another caller's key is another key: no replay of someone else's answer, no 422 for a key
 * someone else used first, and the provider is sent a key of its own for each caller.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { validators } from '../../.switchyard/examples.validators.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { fakeStripe } from '../support/fake-apis.ts';
import { builtInputs, defaultManifest, harness, uid, type Harness } from '../support/harness.ts';
import { clerkToken, jwks, testKey, type TestKey } from '../support/jwt.ts';

const SERVICE = { authorization: 'Bearer test-service-token' };
const call = (h: Harness, name: string, input: unknown, key: string, headers: Record<string, string>) =>
  h.post(`/v1/commands/${name}`, JSON.stringify(input), { ...headers, 'idempotency-key': key });
const callers = (integration: string) =>
  env.DB.prepare('SELECT caller FROM events WHERE integration = ?1 ORDER BY seq')
    .bind(integration)
    .all<{ caller: string | null }>();

let key: TestKey;
beforeAll(async () => {
  key = await testKey(uid('kid'));
});
const as = async (sub: string, claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${await clerkToken(key, { sub, ...claims })}`,
});

/** The examples' create_payment_intent (synchronous, its client_secret cached in KV), open to Clerk users too. */
function paymentIntents() {
  const manifest = structuredClone(
    (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default.manifest,
  );
  manifest.auth = { clerk: structuredClone(defaultManifest.auth!.clerk!) };
  manifest.commands!.create_payment_intent!.auth = { service_token: 'SWITCHYARD_SERVICE_TOKEN', provider: 'clerk' };
  const h = harness({ compiled: compileManifest(manifest, defaultRegistry, builtInputs('default', validators)) });
  h.providers.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  return { h, stripe: fakeStripe(h.providers) };
}

/** The default manifest, with Clerk's JWKS served. */
function defaults() {
  const h = harness();
  h.providers.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
  return h;
}

describe('a synchronous command: the cached answer is the caller\u2019s own', () => {
  it('gives B, sending A\u2019s key and input, a fresh call (not A\u2019s client_secret); A\u2019s repeat is still A\u2019s replay', async () => {
    const { h, stripe } = paymentIntents();
    const k = `order-${uid('o')}`;
    const input = { order_id: uid('ord'), amount: 2000, currency: 'eur' };
    const a = await call(h, 'create_payment_intent', input, k, await as('user_a'));
    expect(a.status).toBe(200);
    const first = (await a.json()) as { id: string; result: { client_secret: string } };

    const b = await call(h, 'create_payment_intent', input, k, await as('user_b'));
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    const second = (await b.json()) as { id: string; result: { client_secret: string } };
    expect(second.id).toBe(k);
    expect(second.result.client_secret).not.toBe(first.result.client_secret);

    const again = await call(h, 'create_payment_intent', input, k, await as('user_a'));
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(first);

    // Stripe was asked twice (A, then B), each under a key of its own, both derived from the caller's key.
    const keys = h.providers.to(/api\.stripe\.com/).map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    for (const sent of keys) expect(sent).toContain(k);
    expect(stripe.created).toBe(2);
    expect((await callers('command:create_payment_intent')).results.slice(-2)).toEqual([
      { caller: 'clerk:user_a' },
      { caller: 'clerk:user_b' },
    ]);
  });

  it('lets the backend use a key a user used first: a call of its own, not a 422', async () => {
    const { h } = paymentIntents();
    const k = `order-${uid('o')}`;
    expect(
      (
        await call(
          h,
          'create_payment_intent',
          { order_id: 'ord_user', amount: 5000, currency: 'usd' },
          k,
          await as('user_squatter'),
        )
      ).status,
    ).toBe(200);
    const backend = await call(
      h,
      'create_payment_intent',
      { order_id: 'ord_backend', amount: 2000, currency: 'usd' },
      k,
      SERVICE,
    );
    expect(backend.status).toBe(200);
    expect(backend.headers.get('idempotent-replayed')).toBeNull();
    expect(((await backend.json()) as { result: { client_secret: string } }).result.client_secret).toMatch(/^pi_/);
    // The same caller reusing its own key with another input is still refused.
    expect(
      (await call(h, 'create_payment_intent', { order_id: 'ord_other', amount: 2000, currency: 'usd' }, k, SERVICE))
        .status,
    ).toBe(422);
  });
});

describe('commands with an email and SQL-only ones: keys per caller', () => {
  it('applies a staff user\u2019s call and the backend\u2019s call with the same key as two calls, each replayed to its own caller', async () => {
    const h = defaults();
    const k = uid('k');
    const staff = await as('user_staff', { org_role: 'org:admin', org_id: env.ADMIN_ORG_ID });
    const mine = await call(
      h,
      'order_confirmation',
      { order_id: 'ord_1', email: 'one@example.com', name: 'One' },
      k,
      staff,
    );
    expect(mine.status).toBe(200);
    const theirs = await call(
      h,
      'order_confirmation',
      { order_id: 'ord_2', email: 'two@example.com', name: 'Two' },
      k,
      SERVICE,
    );
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(await theirs.json()).toEqual({ id: k, status: 'applied' });
    const repeat = await call(
      h,
      'order_confirmation',
      { order_id: 'ord_1', email: 'one@example.com', name: 'One' },
      k,
      staff,
    );
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    await h.consume(h.drain());
    const emails = h.providers.emails.map((e) => e.to[0]).sort();
    expect(emails).toEqual(['one@example.com', 'two@example.com']);
    expect((await callers('command:order_confirmation')).results.slice(-2)).toEqual([
      { caller: 'clerk:user_staff' },
      { caller: 'SWITCHYARD_SERVICE_TOKEN' },
    ]);
    // Two rows in the log, each the key with its caller's tag; the admin API finds both by the key that was sent.
    const found = (await (
      await h.request(`/admin/api/events?id=${k}`, { headers: { authorization: 'Bearer test-admin-token' } })
    ).json()) as { events: { id: string }[] };
    expect(found.events.map((e) => e.id)).toEqual([
      expect.stringMatching(new RegExp(`^${k}~[0-9a-f]{16}$`)),
      expect.stringMatching(new RegExp(`^${k}~[0-9a-f]{16}$`)),
    ]);
    expect(new Set(found.events.map((e) => e.id)).size).toBe(2);
  });

  it('applies an in-request call from a Service Binding and one over HTTP with the same key as two calls', async () => {
    const h = harness();
    const k = uid('k');
    const rpc = await h.runtime.command(
      'sync_user',
      { id: uid('u'), email: 'rpc@example.com' },
      { idempotencyKey: k },
      h.env,
    );
    expect(rpc).toEqual({ status: 200, body: { id: k, status: 'applied' } });
    const http = await call(h, 'sync_user', { id: uid('u'), email: 'http@example.com' }, k, SERVICE);
    expect(http.status).toBe(200);
    expect(http.headers.get('idempotent-replayed')).toBeNull();
    // A binding named by its props (ctx.props.caller) is a caller of its own.
    const named = await h.runtime.command(
      'sync_user',
      { id: uid('u'), email: 'named@example.com' },
      { idempotencyKey: k },
      h.env,
      undefined,
      'billing',
    );
    expect(named).toEqual({ status: 200, body: { id: k, status: 'applied' } });
    expect(
      await h.runtime.command('sync_user', { id: 'x', email: 'rpc@example.com' }, { idempotencyKey: k }, h.env),
    ).toMatchObject({ status: 422 });
    const rows = (await callers('command:sync_user')).results.slice(-3);
    expect(rows).toEqual([{ caller: 'rpc' }, { caller: 'SWITCHYARD_SERVICE_TOKEN' }, { caller: 'rpc/billing' }]);
  });
});
