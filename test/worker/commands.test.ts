/**
 * Commands over HTTP: the application asks, switchyard delivers, once per Idempotency-Key. The default manifest's
 * send_password_reset and order_confirmation send the cookbook's templates; sync_user is SQL only and applied in
 * the request.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { builtInputs, defaultManifest, harness, uid, type Harness } from '../support/harness.ts';
import { clerkToken, jwks, testKey } from '../support/jwt.ts';
import { metered } from '../support/metered.ts';
import { commandCallId } from '../../runtime/store/index.ts';

const SERVICE = { authorization: 'Bearer test-service-token' };
const ADMIN = { authorization: 'Bearer test-admin-token' };
/** A call's id in the log: the key the backend sent, scoped to its service token. */
const callId = (key: string) => commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN');
const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();

function call(
  h: Harness,
  name: string,
  input: unknown,
  key: string | undefined,
  headers: Record<string, string> = SERVICE,
) {
  return h.post(`/v1/commands/${name}`, JSON.stringify(input), {
    ...headers,
    ...(key !== undefined ? { 'idempotency-key': key } : {}),
  });
}

describe('send_password_reset over HTTP', () => {
  it('sends exactly one email for two calls with the same Idempotency-Key, rendered from the password_reset template', async () => {
    const h = harness();
    const key = crypto.randomUUID();
    const email = `${uid('u')}@example.com`;
    const input = { email, reset_url: 'https://app.example.com/reset?token=a&b=<c>' };

    // Applied in the request, the email sent right after the commit (awaited here: no execution context).
    const first = await call(h, 'send_password_reset', input, key);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ id: key, status: 'applied' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    // The same key again, its fields in another order: the first answer, marked replayed, and nothing sent or queued.
    const again = await call(h, 'send_password_reset', { reset_url: input.reset_url, email }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ id: key, status: 'applied' });
    expect(h.drain()).toHaveLength(0);
    expect(h.providers.emails).toEqual([
      { to: [email], subject: 'Reset your password', key: `command:send_password_reset:${await callId(key)}:0:0` },
    ]);
    const sent = h.providers
      .to(/api\.resend\.com/)
      .map((r) => r.json as { html: string; from: string })
      .find((m) => m.html.includes(email.replace('@', '')) || m.html.includes(email))!;
    expect(sent.from).toBe('Acme <security@example.com>');
    // Values are HTML-escaped in the template.
    expect(sent.html).toContain('href="https://app.example.com/reset?token&#61;a&amp;b&#61;&lt;c&gt;"');
    expect(sent.html).toContain(`the password for ${email}`);
    expect(await row('SELECT subject, status FROM email_logs WHERE to_email = ?', email)).toEqual({
      subject: 'Reset your password',
      status: 'sent',
    });
  });

  it('shows in the event log like a webhook event, as the source command:<name>', async () => {
    const h = harness();
    const key = uid('k');
    await call(h, 'send_password_reset', { email: 'log@example.com', reset_url: 'https://app.example.com/r' }, key);
    await h.consume(h.drain());
    const list = (await (await h.request(`/admin/api/events?id=${key}`, { headers: ADMIN })).json()) as {
      events: { integration: string; id: string; type: string; status: string }[];
    };
    // Found by the key the caller sent; its id in the log is that key scoped to the caller, who is recorded.
    expect(list.events).toEqual([
      expect.objectContaining({
        integration: 'command:send_password_reset',
        id: await callId(key),
        type: 'send_password_reset',
        status: 'applied',
      }),
    ]);
    const detail = (await (
      await h.request(`/admin/api/events/command:send_password_reset/${await callId(key)}`, { headers: ADMIN })
    ).json()) as { event: { payload: unknown; caller: string }; effects: { action: string; status: string }[] };
    expect(detail.event.caller).toBe('SWITCHYARD_SERVICE_TOKEN');
    expect(detail.event.payload).toEqual({ email: 'log@example.com', reset_url: 'https://app.example.com/r' });
    expect(detail.effects).toEqual([expect.objectContaining({ action: 'resend', status: 'sent' })]);
  });

  it('refuses what it cannot accept, each with its own status and a message that says why', async () => {
    const h = harness();
    const good = { email: 'a@example.com', reset_url: 'https://app.example.com/r' };

    const longKey = await call(h, 'send_password_reset', good, 'k'.repeat(129));
    expect(longKey.status).toBe(400);
    expect(await longKey.json()).toMatchObject({
      reason: 'invalid_idempotency_key',
      message: expect.stringContaining('1 to 128 printable ASCII characters'),
    });

    const missingKey = await call(h, 'send_password_reset', good, undefined);
    expect(missingKey.status).toBe(400);
    expect(await missingKey.json()).toMatchObject({
      error: 'bad_request',
      reason: 'missing_idempotency_key',
      message: expect.stringContaining('Idempotency-Key is required'),
    });

    const bad = await call(
      h,
      'send_password_reset',
      { email: 'not an email', reset_url: 'http://plain.example.com', extra: 1 },
      uid('k'),
    );
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { error: string; problems: { path: string; message: string }[] };
    expect(body.error).toBe('unprocessable');
    expect(body.problems).toEqual(
      expect.arrayContaining([
        { path: '/email', message: 'must match format "email"' },
        { path: '/reset_url', message: 'must match pattern "^https://"' },
        { path: '/extra', message: 'is not allowed' },
      ]),
    );
    const missing = (await (await call(h, 'send_password_reset', { email: 'a@example.com' }, uid('k'))).json()) as {
      message: string;
      problems: unknown[];
    };
    expect(missing).toMatchObject({
      message: '/reset_url is required',
      problems: [{ path: '/reset_url', message: 'is required' }],
    });

    expect((await call(h, 'send_password_reset', good, uid('k'), {})).status).toBe(401);
    const wrong = await call(h, 'send_password_reset', good, uid('k'), { authorization: 'Bearer guess' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call(h, 'no_such_command', good, uid('k'))).status).toBe(404);
    expect((await h.request('/v1/commands/send_password_reset', { headers: SERVICE })).status).toBe(405);
    const notJson = await h.post('/v1/commands/send_password_reset', '{"email":', {
      ...SERVICE,
      'idempotency-key': uid('k'),
    });
    expect(notJson.status).toBe(400);

    // The same key with another input: 422, and the first call stands.
    const key = uid('k');
    expect((await call(h, 'send_password_reset', good, key)).status).toBe(200);
    const reused = await call(h, 'send_password_reset', { ...good, email: 'b@example.com' }, key);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ reason: 'idempotency_key_reused' });
    expect(h.providers.emails.filter((e) => e.to.includes('b@example.com'))).toHaveLength(0);
    expect(h.queue.messages).toHaveLength(0);
  });

  it('keeps keys per command: the same key on two commands is two calls', async () => {
    const h = harness();
    const key = uid('k');
    expect(
      (await call(h, 'send_password_reset', { email: 'c@example.com', reset_url: 'https://a.example.com/r' }, key))
        .status,
    ).toBe(200);
    expect(
      (await call(h, 'order_confirmation', { email: 'c@example.com', order_id: 'o_1', name: 'C' }, key)).status,
    ).toBe(200);
    expect(h.providers.emails.filter((e) => e.to.includes('c@example.com'))).toHaveLength(2);
  });

  it('apply: queue: answers 503 and keeps nothing when the queue refuses, so the retry with the same key is a first call', async () => {
    const h = harness({ queued: true });
    const key = uid('k');
    h.queue.failures = 1;
    const input = { email: 'q@example.com', reset_url: 'https://a.example.com/r' };
    expect((await call(h, 'send_password_reset', input, key)).status).toBe(503);
    const retry = await call(h, 'send_password_reset', input, key);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(h.drain()).toHaveLength(1);
  });
});

describe('a command that fails is dead-lettered and replayed like an event', () => {
  it('dead-letters the email Resend refuses, and the replay from the admin API sends it with the same key', async () => {
    const h = harness();
    const key = uid('k');
    const id = await callId(key);
    h.providers.failNext(/api\.resend\.com/, 422, {
      body: { name: 'validation_error', message: 'The to address is invalid' },
    });
    expect(
      (await call(h, 'order_confirmation', { order_id: 'ord_9', email: 'z@example.com', name: 'Z' }, key)).status,
    ).toBe(200);
    expect(h.drain()).toHaveLength(0);
    const letters = (await (
      await h.request('/admin/api/dead-letters?integration=command:order_confirmation', { headers: ADMIN })
    ).json()) as { dead_letters: { seq: number; stage: string; event_id: string }[] };
    const letter = letters.dead_letters.find((d) => d.event_id === `${id}#0:0`)!;
    expect(letter).toMatchObject({ stage: 'effect' });
    const replayed = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ seq: [letter.seq] }),
    });
    expect(replayed.status).toBe(200);
    await h.consume(h.drain());
    expect(h.providers.emails).toEqual([
      { to: ['z@example.com'], subject: 'Order ord_9 confirmed', key: `command:order_confirmation:${id}:0:0` },
    ]);
  });
});

describe('order_confirmation: a service token, or a staff user with the role', () => {
  async function staff() {
    const key = await testKey(uid('kid'));
    const h = harness();
    h.providers.on(/\/\.well-known\/jwks\.json$/, () => Response.json(jwks(key)));
    return { h, key };
  }

  it('lets an org admin of the admin organisation call it, and answers 403 to a signed-in user without the role', async () => {
    const { h, key } = await staff();
    const input = { order_id: 'ord_1', email: 'buyer@example.com', name: 'Zoë <b>' };
    const admin = await clerkToken(key, { org_role: 'org:admin', org_id: env.ADMIN_ORG_ID });
    const member = await clerkToken(key, { org_role: 'org:member', org_id: env.ADMIN_ORG_ID });
    const ownOrg = await clerkToken(key, { org_role: 'org:admin', org_id: 'org_somebody_else' });
    expect((await call(h, 'order_confirmation', input, uid('k'), { authorization: `Bearer ${member}` })).status).toBe(
      403,
    );
    expect((await call(h, 'order_confirmation', input, uid('k'), { authorization: `Bearer ${ownOrg}` })).status).toBe(
      403,
    );
    expect(
      (
        await call(h, 'order_confirmation', input, uid('k'), {
          authorization: `Bearer ${await clerkToken(key, { exp: 1 })}`,
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await call(h, 'send_password_reset', { email: 'a@example.com', reset_url: 'https://a.example.com' }, uid('k'), {
          authorization: `Bearer ${admin}`,
        })
      ).status,
    ).toBe(401);

    const res = await call(h, 'order_confirmation', input, uid('k'), { authorization: `Bearer ${admin}` });
    expect(res.status).toBe(200);
    const sent = h.providers
      .to(/api\.resend\.com/)
      .map((r) => r.json as { subject: string; html: string; to: string[] });
    expect(sent).toEqual([expect.objectContaining({ to: ['buyer@example.com'], subject: 'Order ord_1 confirmed' })]);
    expect(sent[0]!.html).toContain('Thanks for your order, Zoë &lt;b&gt;');
    expect(sent[0]!.html).toContain('Order ord_1 is confirmed');
  });
});

describe('sync_user: SQL only, applied in the request', () => {
  it('applies in the request (200, no queue) at 4 rows written; a repeat writes nothing and reads 1 row', async () => {
    const meter = metered(env.DB);
    const h = harness({ env: { DB: meter.db } });
    const id = uid('user');
    const key = uid('k');
    const res = await call(h, 'sync_user', { id, email: `${id}@example.com`, name: 'Ada' }, key);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: key, status: 'applied' });
    expect(h.queue.messages).toHaveLength(0);
    // The event row and its UNIQUE key (2), the user row and its primary key (2): no queue operation.
    const firstCall = meter.written;
    expect(await row('SELECT email, name FROM users WHERE id = ?', id)).toEqual({
      email: `${id}@example.com`,
      name: 'Ada',
    });

    meter.reset();
    const again = await call(h, 'sync_user', { id, email: `${id}@example.com`, name: 'Ada' }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ id: key, status: 'applied' });
    expect({ firstCall, repeat: { written: meter.written, read: meter.read } }).toEqual({
      firstCall: 4,
      repeat: { written: 0, read: 1 },
    });
  });

  it('apply: queue: costs a queued call 2 rows written at the edge and 7 to 8 when applied (marker, effect, limit, email log); a repeat reads 2 rows and writes none', async () => {
    const meter = metered(env.DB);
    const h = harness({ env: { DB: meter.db }, queued: true });
    const key = uid('k');
    const input = { email: 'm@example.com', reset_url: 'https://a.example.com/r' };
    await call(h, 'send_password_reset', input, key);
    const edge = meter.written;
    meter.reset();
    await call(h, 'send_password_reset', input, key);
    const repeat = { written: meter.written, read: meter.read };
    meter.reset();
    await h.consume(h.drain());
    // Applied: the marker (1), the effect and its open-index entry (2), the settlement (1), the email_logs row and its
    // key (2), plus the resend.emails counter (1, or 2 for the month's first): what a webhook event whose handler sends
    // one email costs. A repeat reads the conflicting row on insert and once more to answer (2), and writes nothing.
    const counter = meter.statements
      .filter((st) => st.sql.startsWith('INSERT INTO usage'))
      .reduce((n, st) => n + st.written, 0);
    expect({ edge, repeat, consumer: meter.written - counter, counter: counter >= 1 && counter <= 2 }).toEqual({
      edge: 2,
      repeat: { written: 0, read: 2 },
      consumer: 6,
      counter: true,
    });
  });
});

describe('over RPC (the runtime behind SwitchyardEntrypoint)', () => {
  it('answers like HTTP, with no token (the binding is the authorisation), and refuses a command marked rpc: false', async () => {
    const manifest = structuredClone(defaultManifest);
    manifest.commands!.sync_user!.rpc = false;
    const h = harness({ compiled: compileManifest(manifest, defaultRegistry, builtInputs()) });
    const key = uid('k');
    const input = { email: 'rpc@example.com', reset_url: 'https://a.example.com/r' };
    expect(await h.runtime.command('send_password_reset', input, { idempotencyKey: key }, h.env)).toEqual({
      status: 200,
      body: { id: key, status: 'applied' },
    });
    expect(await h.runtime.command('send_password_reset', input, { idempotencyKey: key }, h.env)).toMatchObject({
      status: 200,
      replayed: true,
      headers: { 'Idempotent-Replayed': 'true' },
    });
    expect(await h.runtime.command('send_password_reset', input, undefined, h.env)).toMatchObject({
      status: 400,
      body: { reason: 'missing_idempotency_key' },
    });
    expect(
      await h.runtime.command('sync_user', { id: 'u', email: 'u@example.com' }, { idempotencyKey: uid('k') }, h.env),
    ).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(await h.runtime.command('nope', {}, { idempotencyKey: uid('k') }, h.env)).toMatchObject({ status: 404 });
    const huge = { email: 'big@example.com', reset_url: `https://a.example.com/${'x'.repeat(2 * 1024 * 1024)}` };
    expect(await h.runtime.command('send_password_reset', huge, { idempotencyKey: uid('k') }, h.env)).toMatchObject({
      status: 413,
    });
    // Over HTTP it still answers.
    expect((await call(h, 'sync_user', { id: uid('u'), email: 'u@example.com' }, uid('k'))).status).toBe(200);
  });
});

describe('compiling commands', () => {
  it('refuses a command that names no caller, an unknown provider, or a sync command without one action', () => {
    const manifest = structuredClone(defaultManifest);
    manifest.commands = {
      nobody: { input: { type: 'object' }, auth: {}, queue: 'events', steps: [{ sql: 'DELETE FROM users WHERE 0' }] },
      stranger: {
        input: { type: 'object' },
        auth: { provider: 'auth0' },
        queue: 'events',
        steps: [{ sql: 'DELETE FROM users WHERE 0' }],
      },
      two: {
        input: { type: 'object' },
        auth: { service_token: 'SWITCHYARD_SERVICE_TOKEN' },
        queue: 'events',
        sync: { result: { id: 'id' } },
        steps: [{ sql: 'DELETE FROM users WHERE 0' }, { sql: 'DELETE FROM users WHERE 0' }],
      },
      keyless: {
        input: { type: 'object' },
        auth: { service_token: 'SWITCHYARD_SERVICE_TOKEN' },
        queue: 'events',
        sync: { result: { id: 'id' } },
        steps: [{ action: 'http', url: 'https://api.example.com/x', limits: ['resend.emails'] }],
      },
    };
    const error = (() => {
      try {
        compileManifest(manifest, defaultRegistry, builtInputs());
      } catch (e) {
        return String(e);
      }
    })();
    expect(error).toMatch(/commands\.nobody\.auth: say who may call/);
    expect(error).toMatch(/commands\.stranger\.auth\.provider: auth provider "auth0" is not declared/);
    expect(error).toMatch(
      /commands\.two\.sync: a synchronous command has exactly one step, an action step \(it has 2 steps\)/,
    );
    expect(error).toMatch(
      /commands\.keyless\.steps\[0\]: a synchronous command sends its Idempotency-Key to the provider: set idempotency_header/,
    );
    expect(error).toMatch(/commands\.keyless\.steps\[0\]\.limits: limit resend\.emails defers sends past its reset/);
  });
});
