/**
 * Secret rotation degrades instead of failing, and Discord's Interactions endpoint has a preset of its own.
 *
 * Rotation: `secret: [STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET_NEXT]` with one of them unset keeps serving with
 * the other; the unset one is a warning, logged once per isolate (not per request) and shown in /healthz. Only when
 * none is set is the integration misconfigured (500), and /healthz names it and the variables.
 *
 * Discord Interactions (catalog/discord-interactions.yaml, examples/more-providers.yaml): the PING (type 1) is
 * verified, then answered `{"type":1}` as JSON; an unsigned or wrongly signed PING (Discord sends those on purpose)
 * gets 401; a slash command is recorded as an event under its interaction id (test/worker/discord-interactions.test.ts
 * covers the answer Discord gets and the follow-up).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { optionsOf } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import type { Envelope } from '../../runtime/lib/envelope.ts';
import { builtInputs, defaultManifest, harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;

/** The default manifest with Stripe's secret as a rotation list, everything through the queue (a visible 202). */
function rotating(): ReturnType<typeof compileManifest> {
  const m = queuedOnly(defaultManifest);
  (m.integrations.stripe!.verifier as unknown as { secret: string[] }).secret = [
    'STRIPE_WEBHOOK_SECRET',
    'STRIPE_WEBHOOK_SECRET_NEXT',
  ];
  return compileManifest(m, defaultRegistry, builtInputs());
}

const stripeEvent = (id: string) =>
  JSON.stringify({
    id,
    type: 'customer.subscription.created',
    created: 1_700_000_000,
    data: { object: { id: 'sub_1', customer: 'cus_1', status: 'active' } },
  });
const postStripe = async (h: Harness, body: string, secret: string) =>
  h.post('/webhooks/stripe', body, { 'stripe-signature': await stripeSignature(secret, body) });

interface Health {
  status: string;
  manifest: { integrations: string[] };
  integrations: Record<string, { status: string; unset_secrets?: string[] }>;
  warnings: string[];
  errors: string[];
}
const health = async (h: Harness) => {
  const res = await h.request('/healthz');
  expect(res.status).toBe(200);
  return (await res.json()) as Health;
};

describe('secret rotation', () => {
  it('the second secret of a list unset: signed with the first, webhooks are accepted; one warning per variable, /healthz says serving', async () => {
    const h = harness({ compiled: rotating(), env: { STRIPE_WEBHOOK_SECRET_NEXT: undefined } });
    for (let i = 0; i < 3; i++) {
      const res = await postStripe(h, stripeEvent(uid('evt')), S.STRIPE_WEBHOOK_SECRET!);
      expect(res.status).toBe(202);
    }
    expect(h.queue.messages).toHaveLength(3);
    // Logged once for the isolate, not once per request.
    const warned = h.events.filter((e) => e.kind === 'secret.unset');
    expect(warned).toEqual([
      {
        kind: 'secret.unset',
        integration: 'stripe',
        variable: 'STRIPE_WEBHOOK_SECRET_NEXT',
        verifying_with: ['STRIPE_WEBHOOK_SECRET'],
      },
    ]);
    expect(h.events.filter((e) => e.kind === 'secret.missing')).toEqual([]);

    const body = await health(h);
    expect(body.status).toBe('ok');
    expect(body.integrations.stripe).toEqual({ status: 'serving', unset_secrets: ['STRIPE_WEBHOOK_SECRET_NEXT'] });
    expect(body.integrations.clerk).toEqual({ status: 'serving' });
    expect(body.warnings).toEqual([
      expect.stringMatching(/^stripe: .*STRIPE_WEBHOOK_SECRET_NEXT is not set.*STRIPE_WEBHOOK_SECRET\b/),
    ]);
    expect(body.errors).toEqual([]);
    // Names, never values.
    expect(JSON.stringify(body)).not.toContain(S.STRIPE_WEBHOOK_SECRET!);
  });

  it('the first secret unset and the second set (mid-rotation): signed with the second, accepted', async () => {
    const next = 'whsec_rotation_next_0123456789';
    const h = harness({ compiled: rotating(), env: { STRIPE_WEBHOOK_SECRET: '', STRIPE_WEBHOOK_SECRET_NEXT: next } });
    expect((await postStripe(h, stripeEvent(uid('evt')), next)).status).toBe(202);
    expect((await postStripe(h, stripeEvent(uid('evt')), S.STRIPE_WEBHOOK_SECRET!)).status).toBe(401);
    expect((await health(h)).integrations.stripe).toEqual({
      status: 'serving',
      unset_secrets: ['STRIPE_WEBHOOK_SECRET'],
    });
  });

  it('no secret of the list set: 500 misconfigured, nothing queued, /healthz names the integration and both variables', async () => {
    const h = harness({
      compiled: rotating(),
      env: { STRIPE_WEBHOOK_SECRET: undefined, STRIPE_WEBHOOK_SECRET_NEXT: undefined },
    });
    const res = await postStripe(h, stripeEvent(uid('evt')), 'whsec_anything');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: 'misconfigured',
      message: 'integration stripe is not configured on this server',
    });
    expect(h.queue.messages).toHaveLength(0);
    expect(h.events).toContainEqual({
      kind: 'secret.missing',
      integration: 'stripe',
      variable: 'STRIPE_WEBHOOK_SECRET',
      variables: ['STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_SECRET_NEXT'],
    });

    const body = await health(h);
    expect(body.status).toBe('ok');
    expect(body.integrations.stripe).toEqual({
      status: 'misconfigured',
      unset_secrets: ['STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_SECRET_NEXT'],
    });
    expect(body.errors).toEqual([
      expect.stringMatching(/^stripe: .*STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET_NEXT/),
    ]);
    expect(body.integrations.clerk).toEqual({ status: 'serving' });
  });

  it('/healthz keeps its earlier fields, and every integration is listed with its status', async () => {
    const h = harness();
    const body = await health(h);
    expect(body).toMatchObject({ status: 'ok', environment: 'test', manifest: { version: 2, hash: 'test' } });
    expect(Object.keys(body.integrations)).toEqual(body.manifest.integrations);
    expect(Object.values(body.integrations).every((i) => i.status === 'serving')).toBe(true);
    expect(body.warnings).toEqual([]);
  });
});

const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
const base = 'https://switchyard.test';
const ROUTE = '/webhooks/discord-interactions';

/** Signs as Discord does: Ed25519 over `{timestamp}{body}`, with the preset's verifier and a private key. */
async function discordSigned(body: string, privateKey: string): Promise<Record<string, string>> {
  const { type, ...options } = manifest.integrations.discord_interactions!.verifier as unknown as {
    type: string;
  } & Record<string, unknown>;
  const out = await signRequest(defaultRegistry.verifiers.get(type)!, options, {
    url: `${base}${ROUTE}`,
    body,
    now: Date.now(),
    secrets: [privateKey],
  });
  return { 'content-type': 'application/json', ...out.headers };
}

const keyPair = () => {
  const adapter = defaultRegistry.verifiers.get('ed25519')!;
  return adapter.keyPair!(optionsOf(adapter, { public_key: 'DISCORD_PUBLIC_KEY', header: 'X-Signature-Ed25519' }));
};

describe('/healthz on the example manifest', () => {
  it('a secret a handshake learns (Asana, Notion) is not reported unset; an unset public key is', async () => {
    const h = harness({
      compiled: compileManifest(queuedOnly(manifest), defaultRegistry),
      env: { DISCORD_PUBLIC_KEY: undefined },
    });
    const body = await health(h);
    expect(body.integrations.asana).toEqual({ status: 'serving' });
    expect(body.integrations.notion).toEqual({ status: 'serving' });
    expect(body.integrations.discord_interactions).toEqual({
      status: 'misconfigured',
      unset_secrets: ['DISCORD_PUBLIC_KEY'],
    });
    expect(body.errors).toContain(
      'discord_interactions: secret DISCORD_PUBLIC_KEY is not set; its webhooks answer 500 misconfigured',
    );
  });
});

describe('Discord Interactions (provider: discord-interactions)', () => {
  const ping = JSON.stringify({
    id: '1178562432457195612',
    application_id: '1178562432457195520',
    type: 1,
    token: 'aW50ZXJhY3Rpb246dG9rZW4',
    version: 1,
    user: { id: '53908232506183680', username: 'mason' },
  });

  it('a signed PING (type 1) is answered 200 {"type":1} as JSON, never queued or logged', async () => {
    const pair = await keyPair();
    const h = harness({
      compiled: compileManifest(queuedOnly(manifest), defaultRegistry),
      env: { DISCORD_PUBLIC_KEY: pair.publicKey },
    });
    const res = await h.post(ROUTE, ping, await discordSigned(ping, pair.privateKey));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ type: 1 });
    expect(h.queue.messages).toEqual([]);
    const logged = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM events WHERE integration = 'discord_interactions'",
    ).first<{ n: number }>();
    expect(logged!.n).toBe(0);
  });

  it('an unsigned PING and one signed with another key get 401, as Discord checks when the URL is saved', async () => {
    const pair = await keyPair();
    const h = harness({
      compiled: compileManifest(queuedOnly(manifest), defaultRegistry),
      env: { DISCORD_PUBLIC_KEY: pair.publicKey },
    });
    const unsigned = await h.post(ROUTE, ping);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.text()).not.toContain('"type":1');
    const other = await keyPair();
    const forged = await h.post(ROUTE, ping, await discordSigned(ping, other.privateKey));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: 'unauthorized', reason: 'signature_mismatch' });
    expect(h.queue.messages).toEqual([]);
  });

  it('a slash command (type 2) is recorded as an event: id = the interaction id, type interaction.2.<command name>', async () => {
    const pair = await keyPair();
    const h = harness({
      compiled: compileManifest(queuedOnly(manifest), defaultRegistry),
      env: { DISCORD_PUBLIC_KEY: pair.publicKey },
    });
    const id = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const command = JSON.stringify({
      id,
      application_id: '1178562432457195520',
      type: 2,
      token: 'aW50ZXJhY3Rpb246dG9rZW4',
      version: 1,
      guild_id: '290926798626357999',
      channel_id: '645027906669510667',
      data: {
        id: '771825006014889984',
        name: 'blep',
        type: 1,
        options: [{ name: 'animal', type: 3, value: 'animal_dog' }],
      },
      member: { user: { id: '53908232506183680', username: 'mason' }, roles: [] },
    });
    const res = await h.post(ROUTE, command, await discordSigned(command, pair.privateKey));
    // Queued (202 `accepted` without it), and answered as the preset's `response:` says: Discord's deferred reply.
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 5 });
    expect([res.headers.get('x-switchyard-status'), res.headers.get('x-switchyard-id')]).toEqual(['accepted', id]);
    expect(h.queue.messages).toHaveLength(1);
    expect(h.queue.messages[0] as Envelope).toMatchObject({
      integration: 'discord_interactions',
      id,
      type: 'interaction.2.blep',
      payload: JSON.parse(command),
    });
    const row = await env.DB.prepare(
      "SELECT type, status FROM events WHERE integration = 'discord_interactions' AND id = ?",
    )
      .bind(id)
      .first();
    expect(row).toEqual({ type: 'interaction.2.blep', status: 'queued' });
    // A button on a message: routed by its custom_id.
    const button = JSON.stringify({
      id: `${id}1`,
      application_id: '1178562432457195520',
      type: 3,
      token: 't',
      version: 1,
      data: { custom_id: 'approve_order', component_type: 2 },
    });
    expect((await h.post(ROUTE, button, await discordSigned(button, pair.privateKey))).status).toBe(200);
    expect((h.queue.messages[1] as Envelope).type).toBe('interaction.3.approve_order');
  });
});
