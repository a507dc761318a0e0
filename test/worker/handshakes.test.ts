/**
 * Every catalog handshake through the runtime's app in workerd (real D1 and KV), on the presets of
 * examples/more-providers.yaml as `switchyard build` applied them: answered exactly as each provider documents,
 * verified where the provider signs it, and never queued or written to the event log.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { encoder, toHex } from '../../runtime/lib/bytes.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { optionsOf } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';

const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
const S = env.TEST_SECRETS;
const base = 'https://switchyard.test';

/** Signs a body as the integration's provider does (its preset's verifier, its own signer). */
async function signed(
  name: string,
  body: string,
  secrets: string[],
  headers: Record<string, string> = {},
): Promise<Record<string, string>> {
  const { type, ...options } = manifest.integrations[name]!.verifier as unknown as { type: string } & Record<
    string,
    unknown
  >;
  const adapter = defaultRegistry.verifiers.get(type)!;
  const route = manifest.integrations[name]!.route;
  const out = await signRequest(adapter, options, { url: `${base}${route}`, body, now: Date.now(), secrets, headers });
  return { 'content-type': 'application/json', ...headers, ...out.headers };
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text))));
}

/** Nothing reached the queue, the event log or the dead letters for this integration. */
async function leftNoTrace(h: Harness, integration: string): Promise<void> {
  expect(h.queue.messages).toEqual([]);
  const count = async (table: string) =>
    (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE integration = ?`)
      .bind(integration)
      .first<{ n: number }>())!.n;
  expect(await count('events')).toBe(0);
  expect(await count('dead_letters')).toBe(0);
}

/** Every event through the queue, so an accepted delivery is visibly queued (202) and a handshake visibly is not. */
const app = (extra: Record<string, unknown> = {}) =>
  harness({ compiled: compileManifest(queuedOnly(manifest), defaultRegistry), env: extra });

/** The operator's arming (admin API, as `switchyard handshake arm` calls it). */
const arm = (h: Harness, integration: string) =>
  h.request(`/admin/api/handshakes/${integration}/arm`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-admin-token' },
  });
/** Forgets a learnt secret, so a later test starts from a route that has none. */
const forget = async (h: Harness, integration: string) =>
  expect(
    (
      await h.request(`/admin/api/handshakes/${integration}/secret`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer test-admin-token' },
      })
    ).status,
  ).toBe(200);

describe('handshakes', () => {
  it('Slack url_verification: verified, then the challenge echoed as {challenge}; a bad signature is refused', async () => {
    const h = app();
    const body = JSON.stringify({
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const res = await h.post('/webhooks/slack', body, await signed('slack', body, [S.SLACK_SIGNING_SECRET!]));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    const forged = await h.post('/webhooks/slack', body, await signed('slack', body, ['not-the-secret']));
    expect(forged.status).toBe(401);
    expect(await forged.text()).not.toContain('3eZbrw1a');
    await leftNoTrace(h, 'slack');
  });

  it('Zoom endpoint.url_validation: verified, then {plainToken, encryptedToken = hex HMAC-SHA256(secret, plainToken)}', async () => {
    const h = app();
    const body = JSON.stringify({
      payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
      event_ts: Date.now(),
      event: 'endpoint.url_validation',
    });
    const res = await h.post('/webhooks/zoom', body, await signed('zoom', body, [S.ZOOM_WEBHOOK_SECRET_TOKEN!]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: await hmacHex(S.ZOOM_WEBHOOK_SECRET_TOKEN!, 'qgg8vlvZRS6UYooatFL8Aw'),
    });
    expect((await h.post('/webhooks/zoom', body, await signed('zoom', body, ['wrong']))).status).toBe(401);
    await leftNoTrace(h, 'zoom');
  });

  it("Zoom: an unverified hmac-challenge would sign anything with the verifier's own secret, so `verify: false` is refused at load", async () => {
    const m = structuredClone(manifest);
    (m.integrations.zoom!.handshake as unknown as Record<string, unknown>).verify = false;
    // Had it compiled: plainToken = `v0:<ts>:<body>` gets back the very signature a forged event needs.
    expect(() => compileManifest(queuedOnly(m), defaultRegistry)).toThrow(/signing oracle/);
  });

  it('Twitch webhook_callback_verification: verified, then the raw challenge as text/plain', async () => {
    const h = app();
    const body = JSON.stringify({
      challenge: 'pogchamp-kappa-360noscope-vohiyo',
      subscription: {
        id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4',
        status: 'webhook_callback_verification_pending',
        type: 'channel.follow',
        version: '2',
      },
    });
    const headers = {
      'Twitch-Eventsub-Message-Type': 'webhook_callback_verification',
      'Twitch-Eventsub-Message-Id': uid('msg'),
    };
    const res = await h.post(
      '/webhooks/twitch',
      body,
      await signed('twitch', body, [S.TWITCH_EVENTSUB_SECRET!], headers),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('pogchamp-kappa-360noscope-vohiyo');
    expect((await h.post('/webhooks/twitch', body, await signed('twitch', body, ['wrong'], headers))).status).toBe(401);
    await leftNoTrace(h, 'twitch');
  });

  it('Dropbox GET ?challenge=: echoed as text/plain with X-Content-Type-Options: nosniff', async () => {
    const h = app();
    const res = await h.request('/webhooks/dropbox?challenge=pvNzlbTnYmNbPD1aD4bIgQ', { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('pvNzlbTnYmNbPD1aD4bIgQ');
    expect((await h.request('/webhooks/dropbox', { method: 'GET' })).status).toBe(401);
    await leftNoTrace(h, 'dropbox');
  });

  it('Meta GET hub.challenge: answered only for hub.mode=subscribe and the right hub.verify_token, else 403', async () => {
    const h = app();
    const query = (token: string, mode = 'subscribe') =>
      `/webhooks/meta?hub.mode=${mode}&hub.challenge=1158201444&hub.verify_token=${encodeURIComponent(token)}`;
    const res = await h.request(query(S.META_VERIFY_TOKEN!), { method: 'GET' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1158201444');
    expect((await h.request(query('guess'), { method: 'GET' })).status).toBe(403);
    expect((await h.request(query(S.META_VERIFY_TOKEN!, 'unsubscribe'), { method: 'GET' })).status).toBe(403);
    await leftNoTrace(h, 'meta');
  });

  it('Asana: a handshake before the operator arms the route is refused, so an attacker cannot install a secret of their own', async () => {
    const h = app();
    const refused = await h.post('/webhooks/asana', '', { 'X-Hook-Secret': 'attacker-chosen' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-hook-secret')).toBeNull();
    const body = JSON.stringify({
      events: [
        { action: 'changed', created_at: new Date().toISOString(), resource: { gid: uid('t'), resource_type: 'task' } },
      ],
    });
    expect(
      (await h.post('/webhooks/asana', body, { 'X-Hook-Signature': await hmacHex('attacker-chosen', body) })).status,
    ).not.toBe(202);
    await leftNoTrace(h, 'asana');
    // Armed, the provider's own handshake is kept, once: the window closes behind it.
    expect((await arm(h, 'asana')).status).toBe(200);
    const secret = toHex(crypto.getRandomValues(new Uint8Array(32)));
    expect((await h.post('/webhooks/asana', '', { 'X-Hook-Secret': secret })).status).toBe(200);
    const status = await (
      await h.request('/admin/api/handshakes', { headers: { authorization: 'Bearer test-admin-token' } })
    ).json();
    expect(status).toEqual({
      handshakes: [
        { integration: 'asana', secret_set: true, armed: false },
        { integration: 'notion', secret_set: false, armed: false },
      ],
    });
    await forget(h, 'asana');
  });

  it('Notion: the arming window closes at its deadline, and arming takes 1 s to 1 h', async () => {
    let clock = Date.now();
    const h = harness({ compiled: compileManifest(queuedOnly(manifest), defaultRegistry), now: () => clock });
    const auth = { authorization: 'Bearer test-admin-token' };
    expect(
      (await h.request('/admin/api/handshakes/notion/arm?seconds=0', { method: 'POST', headers: auth })).status,
    ).toBe(400);
    expect(
      (await h.request('/admin/api/handshakes/notion/arm?seconds=3601', { method: 'POST', headers: auth })).status,
    ).toBe(400);
    expect((await h.request('/admin/api/handshakes/slack/arm', { method: 'POST', headers: auth })).status).toBe(404);
    expect((await h.request('/admin/api/handshakes/notion/arm', { method: 'POST' })).status).toBe(401);
    expect(
      (await h.request('/admin/api/handshakes/notion/arm?seconds=5', { method: 'POST', headers: auth })).status,
    ).toBe(200);
    clock += 6000;
    expect((await h.post('/webhooks/notion', JSON.stringify({ verification_token: 'late' }))).status).toBe(403);
    await forget(h, 'notion');
  });

  it('Notion: a verification_token before the operator arms the route is refused and never becomes the signing secret', async () => {
    const h = app();
    const refused = await h.post('/webhooks/notion', JSON.stringify({ verification_token: 'attacker-chosen' }));
    expect(refused.status).toBe(403);
    const body = JSON.stringify({
      id: uid('evt'),
      timestamp: new Date().toISOString(),
      type: 'page.created',
      entity: { id: 'p1', type: 'page' },
    });
    expect(
      (
        await h.post('/webhooks/notion', body, {
          'X-Notion-Signature': `sha256=${await hmacHex('attacker-chosen', body)}`,
        })
      ).status,
    ).not.toBe(202);
    await leftNoTrace(h, 'notion');
  });

  it("Asana X-Hook-Secret (armed): echoed, kept in D1, and then the secret that verifies deliveries; a second handshake can't replace it", async () => {
    const h = app();
    expect((await arm(h, 'asana')).status).toBe(200);
    const secret = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const res = await h.post('/webhooks/asana', '', { 'X-Hook-Secret': secret });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-hook-secret')).toBe(secret);
    await leftNoTrace(h, 'asana');
    const replaced = await h.post('/webhooks/asana', '', { 'X-Hook-Secret': 'attacker-chosen' });
    expect(replaced.status).toBe(409);
    expect(replaced.headers.get('x-hook-secret')).toBeNull();
    const body = JSON.stringify({
      events: [
        { action: 'changed', created_at: new Date().toISOString(), resource: { gid: uid('t'), resource_type: 'task' } },
      ],
    });
    expect(
      (await h.post('/webhooks/asana', body, { 'X-Hook-Signature': await hmacHex('attacker-chosen', body) })).status,
    ).toBe(401);
    const delivered = await h.post('/webhooks/asana', body, { 'X-Hook-Signature': await hmacHex(secret, body) });
    expect(delivered.status).toBe(202);
    expect(h.queue.messages).toHaveLength(1);
    // Arming again is refused while a secret is set; forgetting it refuses deliveries until a new one is kept.
    expect((await arm(h, 'asana')).status).toBe(409);
    await forget(h, 'asana');
    expect((await h.post('/webhooks/asana', body, { 'X-Hook-Signature': await hmacHex(secret, body) })).status).toBe(
      500,
    );
  });

  it('Asana (armed): of two handshakes racing through one window, exactly one is kept, and it is the one answered 200', async () => {
    const h = app();
    expect((await arm(h, 'asana')).status).toBe(200);
    const secrets = [
      toHex(crypto.getRandomValues(new Uint8Array(32))),
      toHex(crypto.getRandomValues(new Uint8Array(32))),
    ];
    const answers = await Promise.all(
      secrets.map((secret) => h.post('/webhooks/asana', '', { 'X-Hook-Secret': secret })),
    );
    const statuses = answers.map((r) => r.status);
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    const kept = secrets[statuses.indexOf(200)]!;
    const other = secrets[1 - statuses.indexOf(200)]!;
    const body = JSON.stringify({
      events: [
        { action: 'changed', created_at: new Date().toISOString(), resource: { gid: uid('t'), resource_type: 'task' } },
      ],
    });
    // The provider that was answered 200 signs with its secret: its deliveries are accepted, the other's are not.
    expect((await h.post('/webhooks/asana', body, { 'X-Hook-Signature': await hmacHex(kept, body) })).status).toBe(202);
    expect((await h.post('/webhooks/asana', body, { 'X-Hook-Signature': await hmacHex(other, body) })).status).toBe(
      401,
    );
    await forget(h, 'asana');
  });

  it('Notion: a secret an earlier version kept in KV still verifies deliveries (adopted into D1), and forget removes it for good', async () => {
    const h = app();
    const token = `secret_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
    await env.KV.put('handshake:notion:secret', token);
    const body = JSON.stringify({
      id: uid('evt'),
      timestamp: new Date().toISOString(),
      type: 'page.created',
      entity: { id: 'p1', type: 'page' },
    });
    expect(
      (await h.post('/webhooks/notion', body, { 'X-Notion-Signature': `sha256=${await hmacHex(token, body)}` })).status,
    ).toBe(202);
    expect(await env.DB.prepare("SELECT secret FROM handshake_secrets WHERE integration = 'notion'").first()).toEqual({
      secret: token,
    });
    expect((await arm(h, 'notion')).status).toBe(409);
    await forget(h, 'notion');
    expect(await env.KV.get('handshake:notion:secret')).toBeNull();
    expect(
      (await h.post('/webhooks/notion', body, { 'X-Notion-Signature': `sha256=${await hmacHex(token, body)}` })).status,
    ).toBe(500);
    await env.DB.prepare("DELETE FROM events WHERE integration = 'notion'").run(); // the tests below count notion's rows
  });

  it('Notion verification_token (armed): answered 200 and kept (not logged) as the secret that verifies deliveries', async () => {
    const h = app();
    expect((await arm(h, 'notion')).status).toBe(200);
    const token = `secret_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
    const res = await h.post('/webhooks/notion', JSON.stringify({ verification_token: token }));
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(token);
    expect(JSON.stringify(h.events)).not.toContain(token);
    await leftNoTrace(h, 'notion');
    const body = JSON.stringify({
      id: uid('evt'),
      timestamp: new Date().toISOString(),
      type: 'page.created',
      entity: { id: 'p1', type: 'page' },
    });
    const delivered = await h.post('/webhooks/notion', body, {
      'X-Notion-Signature': `sha256=${await hmacHex(token, body)}`,
    });
    expect(delivered.status).toBe(202);
    expect(h.queue.messages).toHaveLength(1);
    await forget(h, 'notion');
  });

  it('Discord webhook-events PING (type 0): verified with the Ed25519 public key, then 204 with no body', async () => {
    const adapter = defaultRegistry.verifiers.get('ed25519')!;
    const pair = await adapter.keyPair!(
      optionsOf(adapter, { public_key: 'DISCORD_PUBLIC_KEY', header: 'X-Signature-Ed25519' }),
    );
    const h = app({ DISCORD_PUBLIC_KEY: pair.publicKey });
    const body = JSON.stringify({ version: 1, application_id: '1234560123453231555', type: 0 });
    const res = await h.post('/webhooks/discord', body, await signed('discord', body, [pair.privateKey]));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const other = await adapter.keyPair!(
      optionsOf(adapter, { public_key: 'DISCORD_PUBLIC_KEY', header: 'X-Signature-Ed25519' }),
    );
    expect((await h.post('/webhooks/discord', body, await signed('discord', body, [other.privateKey]))).status).toBe(
      401,
    );
    await leftNoTrace(h, 'discord');
  });

  it('Trello HEAD on the callbackURL: 200 with an empty body, unverified, never queued or logged; a POST still needs a signature', async () => {
    const h = app();
    const res = await h.request('/webhooks/trello', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    // HEAD is the only method the handshake adds: a GET is still refused, and a route without it refuses HEAD.
    const get = await h.request('/webhooks/trello', { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, HEAD');
    expect((await h.request('/webhooks/slack', { method: 'HEAD' })).status).toBe(405);
    expect((await h.request('/webhooks/slack', { method: 'GET' })).status).toBe(405);
    const body = JSON.stringify({
      action: { id: uid('trello'), type: 'updateCard', date: new Date().toISOString() },
      model: { id: '5a4537ee7a67b1cb42d5ea9d' },
    });
    expect((await h.post('/webhooks/trello', body)).status).toBe(401);
    expect((await h.post('/webhooks/trello', body, await signed('trello', body, ['not-the-secret']))).status).toBe(401);
    await leftNoTrace(h, 'trello');
    const delivered = await h.post('/webhooks/trello', body, await signed('trello', body, [S.TRELLO_APP_SECRET!]));
    expect(delivered.status).toBe(202);
    expect(h.queue.messages).toHaveLength(1);
  });
});
