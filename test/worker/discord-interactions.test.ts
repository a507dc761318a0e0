/**
 * Discord Interactions that Discord accepts (issue 24): an integration declares the answer its webhooks get
 * (`response:`, from the event by the value language), and the `discord-interactions` preset uses it to acknowledge
 * every interaction within Discord's 3 s: `{"type":5}` (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE) for a slash command or
 * a modal submit, `{"type":6}` (DEFERRED_UPDATE_MESSAGE) for a button or select menu, and an empty choices list for
 * autocomplete (which cannot be deferred). The example's handler sends the follow-up with an `http` action to a fake
 * Discord API, after the answer; a redelivered interaction gets the same answer and sends nothing again.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { optionsOf } from '../../runtime/component/define.ts';
import { signRequest } from '../../runtime/component/sign.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest, WebhookResponse } from '../../runtime/manifest/types.gen.ts';
import type { FakeProviders, RecordedRequest } from '../support/fake-providers.ts';
import { harness, uid, type Harness } from '../support/harness.ts';
import { githubSignature } from '../support/sign.ts';

const manifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments.default
  .manifest;
const ROUTE = '/webhooks/discord-interactions';
const APPLICATION_ID = '1178562432457195520';

/** Signs as Discord does: Ed25519 over `{timestamp}{body}`, with the preset's verifier and a private key. */
async function discordSigned(body: string, privateKey: string): Promise<Record<string, string>> {
  const { type, ...options } = manifest.integrations.discord_interactions!.verifier as unknown as {
    type: string;
  } & Record<string, unknown>;
  const out = await signRequest(defaultRegistry.verifiers.get(type)!, options, {
    url: `https://switchyard.test${ROUTE}`,
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

/**
 * Discord's webhook endpoints for interaction follow-ups, as its API reference describes them: `POST
 * /api/v10/webhooks/{application.id}/{interaction.token}` with a JSON message (content, embeds, ...), answered 200
 * with the message (the interaction token authorises it: no bot token); an unknown application or token is a 404
 * `Unknown Webhook` (code 10015), a body with no content is a 400 (code 50006).
 */
function fakeDiscord(fake: FakeProviders, tokens: Map<string, string>) {
  const followups: { token: string; body: Record<string, unknown> }[] = [];
  const state = { followups, hold: undefined as Promise<void> | undefined };
  fake.on(/^https:\/\/discord\.com\/api\/v10\/webhooks\//, async (r: RecordedRequest) => {
    await state.hold;
    const [, app, token, ...rest] = new URL(r.url).pathname.replace('/api/v10/', '').split('/');
    if (r.method !== 'POST' || rest.length)
      return Response.json({ message: '405: Method Not Allowed', code: 0 }, { status: 405 });
    if (app !== APPLICATION_ID || !tokens.has(token!))
      return Response.json({ message: 'Unknown Webhook', code: 10015 }, { status: 404 });
    if (!(r.headers['content-type'] ?? '').startsWith('application/json'))
      return Response.json({ message: 'Cannot send an empty message', code: 50006 }, { status: 400 });
    const body = r.json as Record<string, unknown>;
    if (typeof body?.content !== 'string' || body.content === '')
      return Response.json({ message: 'Cannot send an empty message', code: 50006 }, { status: 400 });
    followups.push({ token: token!, body });
    return Response.json({
      id: `${Date.now()}`,
      type: 20,
      content: body.content,
      channel_id: tokens.get(token!),
      webhook_id: APPLICATION_ID,
    });
  });
  return state;
}

const snowflake = () => `${Date.now()}${Math.floor(Math.random() * 1e6)}`.padEnd(19, '0');

function interaction(
  type: number,
  data: Record<string, unknown>,
  id = snowflake(),
  token = `aW50ZXJhY3Rpb246${uid('tok')}`,
) {
  return {
    id,
    token,
    body: JSON.stringify({
      id,
      application_id: APPLICATION_ID,
      type,
      token,
      version: 1,
      guild_id: '290926798626357999',
      channel_id: '645027906669510667',
      data,
      member: { user: { id: '53908232506183680', username: 'mason' }, roles: [] },
    }),
  };
}

const slash = () =>
  interaction(2, {
    id: '771825006014889984',
    name: 'blep',
    type: 1,
    options: [{ name: 'animal', type: 3, value: 'animal_dog' }],
  });

const eventRows = (id: string) =>
  env.DB.prepare("SELECT type, status, deliveries FROM events WHERE integration = 'discord_interactions' AND id = ?")
    .bind(id)
    .all();

async function setup(): Promise<{
  h: Harness;
  privateKey: string;
  tokens: Map<string, string>;
  discord: ReturnType<typeof fakeDiscord>;
}> {
  const pair = await keyPair();
  const h = harness({
    compiled: compileManifest(manifest, defaultRegistry),
    env: { DISCORD_PUBLIC_KEY: pair.publicKey },
    ctx: true,
  });
  const tokens = new Map<string, string>();
  return { h, privateKey: pair.privateKey, tokens, discord: fakeDiscord(h.providers, tokens) };
}

describe('Discord Interactions: the answer Discord expects, the follow-up after it', () => {
  it('a signed slash command: 200 {"type":5} as JSON before anything is sent, recorded once, then the follow-up reaches /webhooks/<application_id>/<token>', async () => {
    const { h, privateKey, tokens, discord } = await setup();
    const command = slash();
    tokens.set(command.token, '645027906669510667');
    // Discord's API does not answer until the gate opens: the interaction's answer must not wait for it.
    let open!: () => void;
    discord.hold = new Promise<void>((resolve) => (open = resolve));
    const res = await h.post(ROUTE, command.body, await discordSigned(command.body, privateKey));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe('{"type":5}');
    // The runtime's own outcome is in headers, where Discord does not look.
    expect(res.headers.get('x-switchyard-status')).toBe('applied');
    expect(res.headers.get('x-switchyard-id')).toBe(command.id);
    expect(discord.followups).toEqual([]);
    expect((await eventRows(command.id)).results).toEqual([
      { type: 'interaction.2.blep', status: 'applied', deliveries: 1 },
    ]);

    open();
    await h.settle();
    expect(discord.followups).toEqual([
      {
        token: command.token,
        body: { content: `Running /blep (interaction ${command.id})`, allowed_mentions: { parse: [] } },
      },
    ]);
    const [sent] = h.providers.to(/discord\.com/);
    expect(sent!.method).toBe('POST');
    expect(sent!.url).toBe(`https://discord.com/api/v10/webhooks/${APPLICATION_ID}/${command.token}`);
    expect(sent!.headers['user-agent']).toMatch(/^DiscordBot \(/);
    expect(sent!.headers.authorization).toBeUndefined();
  });

  it('the same interaction delivered again: the same {"type":5} answer, still one event and one follow-up', async () => {
    const { h, privateKey, tokens, discord } = await setup();
    const command = slash();
    tokens.set(command.token, '645027906669510667');
    const first = await h.post(ROUTE, command.body, await discordSigned(command.body, privateKey));
    expect(first.status).toBe(200);
    await h.settle();
    const again = await h.post(ROUTE, command.body, await discordSigned(command.body, privateKey));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ type: 5 });
    expect(again.headers.get('x-switchyard-status')).toBe('duplicate');
    await h.settle();
    expect(discord.followups).toHaveLength(1);
    expect(h.providers.to(/discord\.com/)).toHaveLength(1);
    // A duplicate of a settled event costs no D1 write.
    expect((await eventRows(command.id)).results).toEqual([
      { type: 'interaction.2.blep', status: 'applied', deliveries: 1 },
    ]);
  });

  it('a button (message component, type 3): 200 {"type":6}; no handler matches, so it is recorded ignored and nothing is sent', async () => {
    const { h, privateKey } = await setup();
    const button = interaction(3, { custom_id: 'approve_order', component_type: 2 });
    const res = await h.post(ROUTE, button.body, await discordSigned(button.body, privateKey));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 6 });
    await h.settle();
    expect(h.providers.to(/discord\.com/)).toEqual([]);
    expect((await eventRows(button.id)).results).toEqual([
      { type: 'interaction.3.approve_order', status: 'ignored', deliveries: 1 },
    ]);
  });

  it('a modal submit (type 5) is deferred with {"type":5}; autocomplete (type 4), which cannot be deferred, gets an empty choices list', async () => {
    const { h, privateKey } = await setup();
    const modal = interaction(5, { custom_id: 'feedback_form', components: [] });
    const modalRes = await h.post(ROUTE, modal.body, await discordSigned(modal.body, privateKey));
    expect(modalRes.status).toBe(200);
    expect(await modalRes.json()).toEqual({ type: 5 });
    const autocomplete = interaction(4, {
      id: '771825006014889984',
      name: 'blep',
      type: 1,
      options: [{ name: 'animal', type: 3, value: 'do', focused: true }],
    });
    const completeRes = await h.post(ROUTE, autocomplete.body, await discordSigned(autocomplete.body, privateKey));
    expect(completeRes.status).toBe(200);
    expect(await completeRes.json()).toEqual({ type: 8, data: { choices: [] } });
    expect((await eventRows(autocomplete.id)).results).toEqual([
      { type: 'interaction.4.blep', status: 'ignored', deliveries: 1 },
    ]);
  });

  it('a bad signature: 401, nothing recorded, nothing sent', async () => {
    const { h, tokens } = await setup();
    const command = slash();
    tokens.set(command.token, '645027906669510667');
    const other = await keyPair();
    const res = await h.post(ROUTE, command.body, await discordSigned(command.body, other.privateKey));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', reason: 'signature_mismatch' });
    await h.settle();
    expect((await eventRows(command.id)).results).toEqual([]);
    expect(h.providers.to(/discord\.com/)).toEqual([]);
  });

  it('an interaction type the answer does not map (a future one): 400 and an ingest dead letter, kept for replay; nothing recorded or sent', async () => {
    const { h, privateKey } = await setup();
    const future = interaction(42, { name: 'later' });
    const res = await h.post(ROUTE, future.body, await discordSigned(future.body, privateKey));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: 'bad_request',
      reason: 'unmappable_event',
      message: expect.stringContaining('response'),
    });
    const dead = await env.DB.prepare(
      "SELECT reason, raw_body FROM dead_letters WHERE integration = 'discord_interactions' AND stage = 'ingest' AND raw_body = ?",
    )
      .bind(future.body)
      .first();
    expect(dead).toEqual({ reason: 'unmappable_event', raw_body: future.body });
    expect((await eventRows(future.id)).results).toEqual([]);
  });
});

/** A home-grown HMAC integration (GitHub's scheme) with a declared answer: nothing here is Discord's. */
function declaring(response: WebhookResponse, apply: 'auto' | 'queue' = 'auto'): Manifest {
  return {
    version: 1,
    queues: { events: { binding: 'EVENTS_QUEUE', dead_letter: 'EVENTS_DLQ' } },
    integrations: {
      hooks: {
        route: '/webhooks/hooks',
        apply,
        verifier: {
          type: 'hmac',
          secret: 'GITHUB_WEBHOOK_SECRET',
          header: 'X-Hub-Signature-256',
          algorithm: 'sha256',
          encoding: 'hex',
          prefix: 'sha256=',
        },
        event: { id: 'id', type: 'kind' },
        response,
        queue: 'events',
        handlers: [{ on: 'order.*', steps: [{ sql: "UPDATE users SET name = name WHERE id = 'nobody'" }] }],
      },
    },
  } as unknown as Manifest;
}

const postHook = async (h: Harness, body: string) =>
  h.post('/webhooks/hooks', body, {
    'x-hub-signature-256': await githubSignature(env.TEST_SECRETS.GITHUB_WEBHOOK_SECRET!, body),
  });

describe('a declared webhook answer (`response:`), for any integration', () => {
  it('applied, queued (202 without it), ignored and duplicate events all get the declared status, content type and body', async () => {
    const response = { status: 200, content_type: 'text/plain', body: { template: 'ok {@type} {id}' } };
    const h = harness({ compiled: compileManifest(declaring(response), defaultRegistry) });
    const id = uid('o');
    const applied = await postHook(h, JSON.stringify({ id, kind: 'order.paid' }));
    expect([
      applied.status,
      applied.headers.get('content-type'),
      await applied.text(),
      applied.headers.get('x-switchyard-status'),
    ]).toEqual([200, 'text/plain', `ok order.paid ${id}`, 'applied']);
    const ignored = await postHook(h, JSON.stringify({ id: `${id}i`, kind: 'other' }));
    expect([ignored.status, await ignored.text(), ignored.headers.get('x-switchyard-status')]).toEqual([
      200,
      `ok other ${id}i`,
      'ignored',
    ]);
    const duplicate = await postHook(h, JSON.stringify({ id, kind: 'order.paid' }));
    expect([duplicate.status, await duplicate.text(), duplicate.headers.get('x-switchyard-status')]).toEqual([
      200,
      `ok order.paid ${id}`,
      'duplicate',
    ]);

    const queued = harness({ compiled: compileManifest(declaring(response, 'queue'), defaultRegistry) });
    const res = await postHook(queued, JSON.stringify({ id: `${id}q`, kind: 'order.paid' }));
    expect([res.status, await res.text(), res.headers.get('x-switchyard-status')]).toEqual([
      200,
      `ok order.paid ${id}q`,
      'accepted',
    ]);
    expect(queued.queue.messages).toHaveLength(1);
  });

  it('errors keep their own answers: a bad signature is still 401 JSON, a missing value is a 400 dead letter and nothing is recorded', async () => {
    const h = harness({ compiled: compileManifest(declaring({ body: { path: 'reply' } }), defaultRegistry) });
    const body = JSON.stringify({ id: uid('o'), kind: 'order.paid' });
    const forged = await h.post('/webhooks/hooks', body, { 'x-hub-signature-256': 'sha256=00' });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: 'unauthorized' });
    const res = await postHook(h, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'bad_request',
      reason: 'unmappable_event',
      message: 'response body: path reply is missing from the event',
    });
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE integration = 'hooks' AND id = ?")
        .bind(JSON.parse(body).id)
        .first('n'),
    ).toBe(0);
    expect(
      await env.DB.prepare(
        "SELECT reason FROM dead_letters WHERE integration = 'hooks' AND stage = 'ingest' AND raw_body = ?",
      )
        .bind(body)
        .first('reason'),
    ).toBe('unmappable_event');
  });

  it('a declared answer that cannot work is a load-time problem: a body with 204, a Worker variable in the answer', () => {
    const problems = (response: WebhookResponse) => {
      try {
        compileManifest(declaring(response), defaultRegistry);
        return [];
      } catch (error) {
        return (error as ManifestError).problems.map((p) => `${p.path.join('.')}: ${p.message}`);
      }
    };
    expect(problems({ status: 204, body: { const: 'x' } })).toEqual([
      expect.stringMatching(/^integrations\.hooks\.response: .*204/),
    ]);
    expect(problems({ body: { env: 'APP_URL' } })).toEqual([
      expect.stringMatching(/^integrations\.hooks\.response\.body: .*env/),
    ]);
  });
});
