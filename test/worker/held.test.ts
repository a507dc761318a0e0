/**
 * What held (issue 25, "Hardening, third round"): attacks an adversarial review made on the runtime and that were
 * refused, kept refused. Each test performs the attack and asserts what its sender sees (status, error code) and
 * that nothing was recorded, sent or replayed. Attacks already pinned elsewhere are not repeated here (commands,
 * examples-commands, dev-auth, admin-login, backfill-api and handshakes tests).
 */
import { env } from 'cloudflare:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import examples from '../../.switchyard/examples.json';
import { validators as exampleValidators } from '../../.switchyard/examples.validators.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { encoder, toBase64, toHex } from '../../runtime/lib/bytes.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { openSession } from '../../runtime/operations/admin-session.ts';
import { handshakeRow } from '../../runtime/store/handshakes.ts';
import { commandCallId, commandCallRange } from '../../runtime/store/index.ts';
import type { RuntimeEnv } from '../../runtime/lib/envelope.ts';
import { fakeStripe } from '../support/fake-apis.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { builtInputs, defaultManifest, harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { stripeSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ORIGIN = 'https://switchyard.test';
const SERVICE = { authorization: 'Bearer test-service-token' };
const ADMIN = { authorization: 'Bearer test-admin-token' };
const exampleManifest = (examples as unknown as { environments: { default: { manifest: Manifest } } }).environments
  .default.manifest;

const row = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<T>();
const count = async (sql: string, ...params: unknown[]) => (await row<{ n: number }>(sql, ...params))!.n;
/** A command call's id in the log: the key scoped to its caller (the service token's secret name, or `rpc`). */
const viaService = (key: string) => commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN');
const viaRpc = (key: string) => commandCallId(key, 'rpc');
/** Calls of `integration` recorded with `key`, by any caller. */
const callsWithKey = (integration: string, key: string) =>
  count(
    'SELECT count(*) AS n FROM events WHERE integration = ? AND id >= ? AND id < ?',
    integration,
    ...commandCallRange(key),
  );

/** A command over HTTP with the service token; the body is sent as given when it is a string (raw JSON). */
function call(
  h: Harness,
  name: string,
  input: unknown,
  key: string | undefined,
  headers: Record<string, string> = SERVICE,
) {
  return h.post(`/v1/commands/${name}`, typeof input === 'string' ? input : JSON.stringify(input), {
    ...headers,
    ...(key !== undefined ? { 'idempotency-key': key } : {}),
  });
}

/** The example manifest (its synchronous create_payment_intent), optionally changed. */
function examplesHarness(change: (m: Manifest) => void = () => undefined): Harness {
  const m = structuredClone(exampleManifest);
  change(m);
  return harness({ compiled: compileManifest(m, defaultRegistry, builtInputs('default', exampleValidators)) });
}

/** Nothing the attack could have added to Object.prototype is there. */
function prototypeUntouched(): void {
  for (const name of ['polluted', 'isAdmin']) {
    expect(Object.hasOwn(Object.prototype, name)).toBe(false);
    expect(({} as Record<string, unknown>)[name]).toBeUndefined();
  }
}

describe('commands: the same Idempotency-Key with another input', () => {
  // A key is its caller's own (README, Idempotency): each 422 below is the same caller reusing its own key.
  it('applied in the request (sync_user): 422 over HTTP and over RPC, each for the caller’s own key, and the first call’s row stands', async () => {
    const h = harness();
    const id = uid('user');
    const key = uid('k');
    const ada = { id, email: `${id}@example.com`, name: 'Ada' };
    expect((await call(h, 'sync_user', ada, key)).status).toBe(200);

    // HTTP then HTTP: the service token reuses its key with another input.
    const reused = await call(h, 'sync_user', { ...ada, name: 'Mallory' }, key);
    expect(reused.status).toBe(422);
    expect(reused.headers.get('idempotent-replayed')).toBeNull();
    expect(await reused.json()).toMatchObject({ error: 'unprocessable', reason: 'idempotency_key_reused' });
    expect(await row('SELECT name FROM users WHERE id = ?', id)).toEqual({ name: 'Ada' });

    // RPC then RPC: the binding's first use of the key is a call of its own (same input, same row), its reuse a 422.
    expect(await h.runtime.command('sync_user', ada, { idempotencyKey: key }, h.env)).toMatchObject({
      status: 200,
      body: { id: key, status: 'applied' },
    });
    const eve = await h.runtime.command('sync_user', { ...ada, name: 'Eve' }, { idempotencyKey: key }, h.env);
    expect(eve).toMatchObject({ status: 422, body: { error: 'unprocessable', reason: 'idempotency_key_reused' } });
    expect(eve.replayed).toBeFalsy();

    expect(await row('SELECT name FROM users WHERE id = ?', id)).toEqual({ name: 'Ada' });
    expect(
      await count(
        "SELECT count(*) AS n FROM events WHERE integration = 'command:sync_user' AND id = ?",
        await viaService(key),
      ),
    ).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM events WHERE integration = 'command:sync_user' AND id = ?",
        await viaRpc(key),
      ),
    ).toBe(1);
    expect(await callsWithKey('command:sync_user', key)).toBe(2);
    expect(h.queue.messages).toHaveLength(0);
  });

  it('queued (send_password_reset, apply: queue) over RPC: 422, and one message stays queued', async () => {
    const h = harness({ queued: true });
    const key = uid('k');
    const input = { email: 'first@example.com', reset_url: 'https://a.example.com/r' };
    expect(await h.runtime.command('send_password_reset', input, { idempotencyKey: key }, h.env)).toMatchObject({
      status: 202,
    });
    expect(
      await h.runtime.command(
        'send_password_reset',
        { ...input, email: 'attacker@example.com' },
        { idempotencyKey: key },
        h.env,
      ),
    ).toMatchObject({ status: 422, body: { reason: 'idempotency_key_reused' } });
    const messages = h.drain();
    expect(messages).toHaveLength(1);
    await h.consume(messages);
    expect(h.providers.emails.map((e) => e.to)).toEqual([['first@example.com']]);
  });

  it('synchronous with no cached answer (cache: 0s): 422 from the event log, and Stripe is asked once per caller', async () => {
    const h = examplesHarness((m) => (m.commands!.create_payment_intent!.sync!.cache = '0s'));
    const stripe = fakeStripe(h.providers);
    const key = crypto.randomUUID();
    const input = { order_id: uid('ord'), amount: 2000, currency: 'eur' };
    expect((await call(h, 'create_payment_intent', input, key)).status).toBe(200);

    // HTTP then HTTP: the service token's reuse of its key is refused, and Stripe is not asked again.
    const reused = await call(h, 'create_payment_intent', { ...input, amount: 1 * 99999999 }, key);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ error: 'unprocessable', reason: 'idempotency_key_reused' });
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(1);

    // RPC then RPC: the binding's first use of the key is its own call (Stripe asked under a key of its own), its reuse a 422.
    expect(await h.runtime.command('create_payment_intent', input, { idempotencyKey: key }, h.env)).toMatchObject({
      status: 200,
      body: { id: key, status: 'applied' },
    });
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(2);
    expect(
      await h.runtime.command('create_payment_intent', { ...input, currency: 'usd' }, { idempotencyKey: key }, h.env),
    ).toMatchObject({ status: 422, body: { error: 'unprocessable', reason: 'idempotency_key_reused' } });

    const sent = h.providers.to(/api\.stripe\.com/);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((r) => r.headers['idempotency-key'])).size).toBe(2);
    expect(stripe.created).toBe(2);
    expect(await callsWithKey('command:create_payment_intent', key)).toBe(2);
  });
});

describe('commands: 20 concurrent calls with one Idempotency-Key', () => {
  const twenty = <T>(f: () => Promise<T>) => Promise.all(Array.from({ length: 20 }, f));
  const answers = (responses: Response[]) =>
    Promise.all(
      responses.map(async (r) => ({
        status: r.status,
        replayed: r.headers.get('idempotent-replayed') === 'true',
        body: (await r.json()) as Record<string, unknown>,
      })),
    );

  it('queued (apply: queue): one call is recorded and queued, the other 19 replay its 202 (or 409), and Resend receives one email', async () => {
    const h = harness({ queued: true });
    const key = uid('k');
    const email = `${uid('c')}@example.com`;
    const all = await answers(
      await twenty(() => call(h, 'send_password_reset', { email, reset_url: 'https://a.example.com/r' }, key)),
    );
    expect(all.every((a) => a.status === 202 || a.status === 409)).toBe(true);
    expect(all.filter((a) => a.status === 202 && !a.replayed)).toHaveLength(1);
    for (const a of all.filter((x) => x.status === 202)) expect(a.body).toEqual({ id: key, status: 'queued' });
    const messages = h.drain();
    expect(messages).toHaveLength(1);
    await h.consume(messages);
    expect(h.providers.emails.filter((e) => e.to[0] === email)).toHaveLength(1);
    expect(h.providers.to(/api\.resend\.com/)).toHaveLength(1);
  });

  it('in the request with an email: one call applies and sends, the other 19 replay its 200 (or 409), and Resend receives one email', async () => {
    const h = harness({ ctx: true });
    const key = uid('k');
    const email = `${uid('c')}@example.com`;
    const all = await answers(
      await twenty(() => call(h, 'send_password_reset', { email, reset_url: 'https://a.example.com/r' }, key)),
    );
    await h.settle();
    expect(all.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    expect(all.filter((a) => a.status === 200 && !a.replayed)).toHaveLength(1);
    for (const a of all.filter((x) => x.status === 200)) expect(a.body).toEqual({ id: key, status: 'applied' });
    expect(h.drain()).toHaveLength(0);
    expect(h.providers.emails.filter((e) => e.to[0] === email)).toHaveLength(1);
  });

  it('in the request: one call applies, the other 19 replay the same 200', async () => {
    const h = harness();
    const id = uid('user');
    const key = uid('k');
    const all = await answers(
      await twenty(() => call(h, 'sync_user', { id, email: `${id}@example.com`, name: 'Ada' }, key)),
    );
    expect(all.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(all.filter((a) => !a.replayed)).toHaveLength(1);
    for (const a of all) expect(a.body).toEqual({ id: key, status: 'applied' });
    expect(
      await count(
        "SELECT count(*) AS n FROM events WHERE integration = 'command:sync_user' AND id = ?",
        await viaService(key),
      ),
    ).toBe(1);
    expect(await callsWithKey('command:sync_user', key)).toBe(1);
    expect(h.queue.messages).toHaveLength(0);
  });

  it('synchronous: Stripe receives one request; the others answer 409 or replay the same result', async () => {
    const h = examplesHarness();
    const stripe = fakeStripe(h.providers);
    const key = crypto.randomUUID();
    const all = await answers(
      await twenty(() =>
        call(h, 'create_payment_intent', { order_id: 'ord_twenty', amount: 2000, currency: 'eur' }, key),
      ),
    );
    expect(all.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    const ok = all.filter((a) => a.status === 200);
    expect(ok.filter((a) => !a.replayed)).toHaveLength(1);
    for (const a of ok) expect(a.body).toEqual(ok[0]!.body);
    for (const a of all.filter((x) => x.status === 409))
      expect(a.body).toMatchObject({ error: 'conflict', reason: 'in_progress' });
    expect(h.providers.to(/api\.stripe\.com/)).toHaveLength(1);
    expect(stripe.created).toBe(1);
    // Afterwards every repeat is the first result.
    const later = await call(
      h,
      'create_payment_intent',
      { order_id: 'ord_twenty', amount: 2000, currency: 'eur' },
      key,
    );
    expect([later.status, later.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(await later.json()).toEqual(ok[0]!.body);
  });
});

describe('commands: __proto__, constructor, prototype and 1e400 in the input', () => {
  const good = '"email":"a@example.com","reset_url":"https://a.example.com/r"';

  it('a closed schema refuses each as an unexpected property (422 with its path), queues nothing and pollutes nothing', async () => {
    const h = harness();
    const attacks: [string, string][] = [
      [`{${good},"__proto__":{"polluted":"yes","isAdmin":true}}`, '/__proto__'],
      [`{${good},"constructor":{"prototype":{"polluted":"yes"}}}`, '/constructor'],
      [`{${good},"prototype":{"polluted":"yes"}}`, '/prototype'],
    ];
    for (const [body, path] of attacks) {
      const res = await call(h, 'send_password_reset', body, uid('k'));
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({
        error: 'unprocessable',
        reason: 'invalid_input',
        problems: [{ path, message: 'is not allowed' }],
      });
      // Over RPC the same object (an own "__proto__" key, as JSON.parse makes it) is refused alike.
      expect(
        await h.runtime.command('send_password_reset', JSON.parse(body), { idempotencyKey: uid('k') }, h.env),
      ).toMatchObject({ status: 422, body: { problems: [{ path }] } });
    }
    prototypeUntouched();
    expect(h.queue.messages).toHaveLength(0);
  });

  it('1e400 (Infinity) and NaN are refused before any schema: 400, nothing applied and Stripe not asked', async () => {
    const h = harness();
    const id = uid('user');
    const res = await call(h, 'sync_user', `{"id":"${id}","email":"a@example.com","name":1e400}`, uid('k'));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: 'bad_request',
      reason: 'malformed_input',
      message: expect.stringContaining('finite'),
    });
    expect(await row('SELECT id FROM users WHERE id = ?', id)).toBeNull();

    const e = examplesHarness();
    fakeStripe(e.providers);
    const over = await call(
      e,
      'create_payment_intent',
      '{"order_id":"ord_inf","amount":1e400,"currency":"eur"}',
      crypto.randomUUID(),
    );
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({ reason: 'malformed_input' });
    expect(
      await e.runtime.command(
        'create_payment_intent',
        { order_id: 'ord_inf', amount: Infinity, currency: 'eur' },
        { idempotencyKey: crypto.randomUUID() },
        e.env,
      ),
    ).toMatchObject({ status: 400, body: { reason: 'malformed_input' } });
    expect(
      await e.runtime.command(
        'create_payment_intent',
        { order_id: 'ord_nan', amount: NaN, currency: 'eur' },
        { idempotencyKey: crypto.randomUUID() },
        e.env,
      ),
    ).toMatchObject({ status: 400, body: { reason: 'malformed_input' } });
    expect(e.providers.to(/api\.stripe\.com/)).toHaveLength(0);
  });

  /** The default manifest plus `note`, a command whose input schema is open ({type: object}): no schema stands in front. */
  function openSchema(): Harness {
    const manifest = structuredClone(defaultManifest);
    manifest.commands!.note = {
      input: { type: 'object' },
      auth: { service_token: 'SWITCHYARD_SERVICE_TOKEN' },
      queue: 'events',
      steps: [
        {
          sql: 'INSERT INTO users (id, email, metadata, created_at) VALUES (:id, :email, :metadata, :created_at)',
          params: {
            id: 'id',
            email: 'email',
            metadata: { path: 'meta', transform: 'json' },
            created_at: '@received_at',
          },
        },
      ],
    };
    const built = builtInputs();
    return harness({
      compiled: compileManifest(manifest, defaultRegistry, {
        inputValidator: (name: string) => (name === 'note' ? () => [] : built.inputValidator(name)),
      }),
    });
  }

  it('an open schema ({type: object}) applies __proto__ and constructor as plain data: the keys are stored, Object.prototype is untouched', async () => {
    const h = openSchema();
    const id = uid('user');
    const body = `{"id":"${id}","email":"a@example.com","__proto__":{"isAdmin":true},"meta":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}}`;
    const key = uid('k');
    const res = await call(h, 'note', body, key);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: key, status: 'applied' });
    prototypeUntouched();
    const stored = JSON.parse(
      (await row<{ metadata: string }>('SELECT metadata FROM users WHERE id = ?', id))!.metadata,
    ) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
    const logged = JSON.parse(
      (await row<{ body: string }>(
        "SELECT body FROM events WHERE integration = 'command:note' AND id = ?",
        await viaService(key),
      ))!.body,
    ) as Record<string, unknown>;
    expect(Object.hasOwn(logged, '__proto__')).toBe(true);
  });

  // FINDING (issue 25): with no schema in front, 1e400 parsed to Infinity and the canonical JSON stored it as null: the
  // call was applied with a value its sender never sent, and a later call with null (or -1e400) under the same key
  // counted as the same input and was replayed instead of a 422.
  it('FINDING: an open schema refuses 1e400 (Infinity) with a 400 and stores nothing; the key stays unused', async () => {
    const h = openSchema();
    const id = uid('user');
    const key = uid('k');
    const res = await call(h, 'note', `{"id":"${id}","email":"a@example.com","meta":{"big":1e400}}`, key);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: 'bad_request',
      reason: 'malformed_input',
      message: expect.stringContaining('finite'),
    });
    expect(
      await h.runtime.command(
        'note',
        { id, email: 'a@example.com', meta: { big: -Infinity } },
        { idempotencyKey: key },
        h.env,
      ),
    ).toMatchObject({ status: 400, body: { reason: 'malformed_input' } });
    expect(
      await h.runtime.command(
        'note',
        { id, email: 'a@example.com', meta: { big: NaN } },
        { idempotencyKey: key },
        h.env,
      ),
    ).toMatchObject({ status: 400, body: { reason: 'malformed_input' } });
    expect(await row('SELECT id FROM users WHERE id = ?', id)).toBeNull();
    expect(await callsWithKey('command:note', key)).toBe(0);
    // The key was not spent: a call with null under it is a first call, not a replay of "the same input".
    const honest = await call(h, 'note', `{"id":"${id}","email":"a@example.com","meta":{"big":null}}`, key);
    expect([honest.status, honest.headers.get('idempotent-replayed')]).toEqual([200, null]);
  });
});

describe('commands: malformed Idempotency-Keys', () => {
  const input = { email: 'k@example.com', reset_url: 'https://a.example.com/r' };

  it('over HTTP: empty, only spaces (trimmed to empty) and a Latin-1 key are a 400, and nothing is queued', async () => {
    const h = harness();
    for (const [key, reason] of [
      ['', 'missing_idempotency_key'],
      ['    ', 'missing_idempotency_key'],
      ['cl\u00e9', 'invalid_idempotency_key'],
      ['a b', 'invalid_idempotency_key'],
    ] as const) {
      const res = await call(h, 'send_password_reset', input, key);
      expect([key, res.status]).toEqual([key, 400]);
      expect(await res.json()).toMatchObject({ error: 'bad_request', reason });
    }
    expect(h.queue.messages).toHaveLength(0);
  });

  it('over RPC: empty, spaces, non-ASCII, control characters, 129 characters and a non-string are a 400; 128 characters are accepted', async () => {
    const h = harness();
    const bad: unknown[] = ['', '   ', 'ключ', '\u{1f511}', 'a\u0000b', 'tab\tkey', 'k'.repeat(129), 42, { key: 'x' }];
    for (const key of bad) {
      const answer = await h.runtime.command('send_password_reset', input, { idempotencyKey: key as string }, h.env);
      expect([key, answer.status]).toEqual([key, 400]);
      expect(answer.body).toMatchObject({
        error: 'bad_request',
        reason: key === '' ? 'missing_idempotency_key' : 'invalid_idempotency_key',
      });
    }
    expect(h.queue.messages).toHaveLength(0);
    expect(
      await h.runtime.command('send_password_reset', input, { idempotencyKey: 'k'.repeat(128) }, h.env),
    ).toMatchObject({ status: 200 });
  });
});

describe('the dev issuer is not reached from outside', () => {
  let devKey: CryptoKey;
  let devJwk: string;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    devKey = pair.privateKey as CryptoKey;
    devJwk = JSON.stringify(await exportJWK(pair.publicKey));
  });
  const devToken = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: 'switchyard-dev',
      sub: 'user_dev',
      switchyard_dev_provider: 'clerk',
      iat: now,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(devKey);
  };

  it('refuses a dev token (401 dev_issuer_not_local) whatever the forwarding headers say, and on look-alike hosts', async () => {
    const fake = new FakeProviders();
    fake.on(/\/\.well-known\/jwks\.json$/, () => new Response('offline', { status: 503 }));
    fake.on(/origin\.example\.com/, () => Response.json({ ok: true }));
    const h = harness({
      fetch: fake.fetch,
      env: { CLERK_SECRET_KEY: 'sk_test', SWITCHYARD_DEV_AUTH: '1', SWITCHYARD_DEV_JWK: devJwk },
    });
    const at = async (url: string, headers: Record<string, string> = {}) =>
      h.runtime.app.request(
        `${url}/api/things`,
        { headers: { authorization: `Bearer ${await devToken()}`, ...headers } },
        h.env,
      );
    const attacks: [string, Record<string, string>][] = [
      [ORIGIN, { 'x-forwarded-host': 'localhost' }],
      [ORIGIN, { 'x-forwarded-host': 'localhost:8787', 'x-forwarded-proto': 'http' }],
      [ORIGIN, { 'cf-connecting-ip': '127.0.0.1' }],
      [ORIGIN, { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '::1', forwarded: 'for=127.0.0.1;host=localhost' }],
      ['http://localhost.:8787', {}],
      ['http://127.0.0.1.nip.io:8787', {}],
      ['http://localhost.attacker.example', {}],
      ['http://127.0.0.1.attacker.example', {}],
    ];
    for (const [url, headers] of attacks) {
      const res = await at(url, headers);
      expect([url, headers, res.status]).toEqual([url, headers, 401]);
      expect(await res.json()).toMatchObject({ reason: 'dev_issuer_not_local' });
    }
    expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
    // The same token on the loopback itself is accepted: the refusals above are the host's, not the token's.
    expect((await at('http://localhost:8787')).status).toBe(200);
  });
});

/** Signs in to the dashboard; the cookie pair and the CSRF token of the session. */
async function dashboardSession(h: Harness): Promise<{ cookie: string; csrf: string }> {
  const res = await h.request('/admin/login', {
    method: 'POST',
    body: new URLSearchParams({ token: 'test-admin-token' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
    redirect: 'manual',
  });
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await h.request('/admin', { headers: { cookie } })).text();
  return { cookie, csrf: /<meta name="switchyard-csrf" content="([^"]+)">/.exec(page)![1]! };
}

/** A dead letter of a command whose email Resend refused: something a replay or dismiss would visibly change. */
async function deadLetter(h: Harness): Promise<number> {
  h.providers.failNext(/api\.resend\.com/, 422, {
    body: { name: 'validation_error', message: 'The to address is invalid' },
  });
  const key = uid('k');
  expect(
    (await call(h, 'order_confirmation', { order_id: uid('ord'), email: 'dl@example.com', name: 'D' }, key)).status,
  ).toBe(200);
  return (await row<{ seq: number }>(
    "SELECT seq FROM dead_letters WHERE integration = 'command:order_confirmation' AND event_id = ?",
    `${await viaService(key)}#0:0`,
  ))!.seq;
}

/** What a state-changing admin call could change: the event log, the dead letters, the queue and handshake arming. */
async function adminState(h: Harness, seq: number) {
  return {
    events: await count('SELECT count(*) AS n FROM events'),
    letter: await row('SELECT replayed_at, dismissed_at FROM dead_letters WHERE seq = ?', seq),
    queued: h.queue.messages.length,
    armed: (await env.KV.list({ prefix: 'handshake:' })).keys.length,
  };
}

describe('state-changing admin routes by dashboard session need the CSRF token, from this origin', () => {
  it('refuses every one (from the router) with 403 csrf: no token, a cross-site Origin, Sec-Fetch-Site same-site', async () => {
    const h = harness();
    const seq = await deadLetter(h);
    const { cookie, csrf } = await dashboardSession(h);
    // Every handler under /admin/api that may change state (the `*` middleware is the check itself).
    const routes = h.runtime.app.routes
      .filter(
        (r) =>
          r.path.startsWith('/admin/api/') && !r.path.endsWith('*') && !['GET', 'HEAD', 'OPTIONS'].includes(r.method),
      )
      .map((r) => ({ method: r.method === 'ALL' ? 'POST' : r.method, path: r.path }));
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    // The list is the router's: it holds at least the routes this review knew of.
    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /admin/api/dead-letters/:seq{[0-9]+}/dismiss',
        'POST /admin/api/dead-letters/replay',
        'POST /admin/api/events/replay',
        'POST /admin/api/rebuild',
        'POST /admin/api/backfill/:integration',
        'POST /admin/api/handshakes/:integration/arm',
        'DELETE /admin/api/handshakes/:integration/secret',
      ]),
    );
    const bodies: Record<string, unknown> = {
      '/admin/api/dead-letters/replay': { seq: [seq] },
      '/admin/api/events/replay': { all: true },
      '/admin/api/rebuild': { target: 'users' },
      '/admin/api/backfill/:integration': {
        events: [
          {
            body: {
              id: 'evt_csrf',
              type: 'customer.subscription.updated',
              created: 1,
              data: {
                object: {
                  id: 'sub_csrf',
                  customer: 'c',
                  status: 'active',
                  current_period_end: 1,
                  items: { data: [{ price: { id: 'p' } }] },
                },
              },
            },
          },
        ],
      },
    };
    const concrete = (path: string) => path.replace(':seq{[0-9]+}', String(seq)).replace(':integration', 'stripe');
    const before = await adminState(h, seq);
    const attacks: [string, Record<string, string>][] = [
      ['no CSRF token', { origin: ORIGIN, 'sec-fetch-site': 'same-origin' }],
      ['a cross-site Origin', { 'x-switchyard-csrf': csrf, origin: 'https://evil.example' }],
      ['Sec-Fetch-Site: same-site', { 'x-switchyard-csrf': csrf, origin: ORIGIN, 'sec-fetch-site': 'same-site' }],
      ['Origin: null', { 'x-switchyard-csrf': csrf, origin: 'null' }],
    ];
    for (const route of routes) {
      for (const [attack, headers] of attacks) {
        const res = await h.request(concrete(route.path), {
          method: route.method,
          body: JSON.stringify(bodies[route.path] ?? {}),
          headers: { 'content-type': 'application/json', cookie, ...headers },
        });
        expect([route.method, route.path, attack, res.status]).toEqual([route.method, route.path, attack, 403]);
        expect(await res.json()).toMatchObject({ error: 'forbidden', reason: 'csrf' });
      }
    }
    expect(await adminState(h, seq)).toEqual(before);
    expect(before.letter).toEqual({ replayed_at: null, dismissed_at: null });
    // The control: the same session with its token from this origin gets through.
    const replayed = await h.request('/admin/api/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ seq: [seq] }),
      headers: {
        'content-type': 'application/json',
        cookie,
        'x-switchyard-csrf': csrf,
        origin: ORIGIN,
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(replayed.status).toBe(200);
    expect(h.queue.messages.length).toBeGreaterThan(0);
  });
});

describe('forged dashboard session cookies', () => {
  it('answers 401 to a bad signature, another key, an altered CSRF token, an expired but well-signed cookie; nothing is replayed', async () => {
    const h = harness();
    const seq = await deadLetter(h);
    const { cookie } = await dashboardSession(h);
    const [name, encoded] = cookie.split('=') as [string, string];
    const [id, exp, csrf, mac] = decodeURIComponent(encoded).split('.') as [string, string, string, string];
    const otherCsrf = csrf.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const issue = async (token: string, nowMs: number) =>
      (await openSession(env as unknown as RuntimeEnv, token, nowMs, undefined, undefined)).value;
    const forged: Record<string, string> = {
      'a bad signature': `${id}.${exp}.${csrf}.${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`,
      'a truncated signature': `${id}.${exp}.${csrf}.${mac.slice(0, 8)}`,
      'signed under another ADMIN_TOKEN': await issue('another-admin-token', Date.now()),
      'signed with ADMIN_TOKEN itself, not the derived key': await (async () => {
        const data = `${id}.${Math.floor(Date.now() / 1000) + 3600}.${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
        const key = await crypto.subtle.importKey(
          'raw',
          encoder.encode('test-admin-token'),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign'],
        );
        return `${data}.${toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(data))))}`;
      })(),
      'an altered CSRF token': `${id}.${exp}.${otherCsrf}.${mac}`,
      'an extra segment': `${id}.${exp}.${csrf}.${mac}.x`,
      'expired, well signed': await issue('test-admin-token', Date.now() - 2 * 3600_000),
    };
    const before = await adminState(h, seq);
    for (const [what, value] of Object.entries(forged)) {
      const jar = `${name}=${encodeURIComponent(value)}`;
      const read = await h.request('/admin/api/dead-letters', { headers: { cookie: jar } });
      expect([what, read.status]).toEqual([what, 401]);
      const sessionCsrf = value.split('.')[2]!;
      const replay = await h.request('/admin/api/dead-letters/replay', {
        method: 'POST',
        body: JSON.stringify({ seq: [seq] }),
        headers: {
          'content-type': 'application/json',
          cookie: jar,
          'x-switchyard-csrf': sessionCsrf,
          origin: ORIGIN,
          'sec-fetch-site': 'same-origin',
        },
      });
      expect([what, replay.status]).toEqual([what, 401]);
      expect((await h.request('/admin', { headers: { cookie: jar }, redirect: 'manual' })).status).toBe(303);
    }
    expect(await adminState(h, seq)).toEqual(before);
  });
});

describe('backfill takes the admin credential only', () => {
  it('refuses the service token, a webhook secret as a Bearer token, and a valid Stripe signature (401), storing nothing', async () => {
    const h = harness();
    const id = `evt_${uid('bf')}`;
    const body = JSON.stringify({
      events: [
        {
          body: {
            id,
            object: 'event',
            type: 'customer.subscription.updated',
            created: 1_700_000_000,
            data: {
              object: {
                id: uid('sub'),
                customer: 'cus_1',
                status: 'active',
                current_period_end: 1767225600,
                items: { data: [{ price: { id: 'price_1' } }] },
              },
            },
          },
        },
      ],
    });
    const attempts: [string, Record<string, string>][] = [
      ['the service token', SERVICE],
      ['the Stripe webhook secret', { authorization: `Bearer ${S.STRIPE_WEBHOOK_SECRET}` }],
      ['the Clerk webhook secret', { authorization: `Bearer ${S.CLERK_WEBHOOK_SECRET}` }],
      ['a valid Stripe-Signature', { 'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body) }],
    ];
    for (const [what, headers] of attempts) {
      const res = await h.post('/admin/api/backfill/stripe', body, headers);
      expect([what, res.status]).toEqual([what, 401]);
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
    expect(await count("SELECT count(*) AS n FROM events WHERE integration = 'stripe' AND id LIKE ?", `%${id}%`)).toBe(
      0,
    );
    expect(h.queue.messages).toHaveLength(0);
    // The admin credential is what it takes.
    expect((await h.post('/admin/api/backfill/stripe', body, ADMIN)).status).toBe(200);
  });
});

describe('handshakes that learn a secret', () => {
  const app = () => harness({ compiled: compileManifest(queuedOnly(exampleManifest), defaultRegistry) });
  const arm = (h: Harness, integration: string) =>
    h.request(`/admin/api/handshakes/${integration}/arm`, { method: 'POST', headers: ADMIN });
  const forget = async (h: Harness, integration: string) =>
    expect(
      (await h.request(`/admin/api/handshakes/${integration}/secret`, { method: 'DELETE', headers: ADMIN })).status,
    ).toBe(200);
  /** The secret kept for an integration (in D1, where keeping one is a single conditional UPDATE). */
  const kept = async (integration: string) => (await handshakeRow(env.DB, integration))?.secret ?? null;

  it('arming twice still opens one window: the second handshake is refused (409) and the first secret stays', async () => {
    const h = app();
    expect((await arm(h, 'notion')).status).toBe(200);
    expect((await arm(h, 'notion')).status).toBe(200);
    expect((await h.post('/webhooks/notion', JSON.stringify({ verification_token: 'secret_first' }))).status).toBe(200);
    const second = await h.post('/webhooks/notion', JSON.stringify({ verification_token: 'attacker-chosen' }));
    expect(second.status).toBe(409);
    expect(await kept('notion')).toBe('secret_first');
    await forget(h, 'notion');
  });

  it('forgetting closes an open window: a handshake after it is refused (403) and nothing is kept', async () => {
    const h = app();
    expect((await arm(h, 'asana')).status).toBe(200);
    await forget(h, 'asana');
    const res = await h.post('/webhooks/asana', '', { 'X-Hook-Secret': 'attacker-chosen' });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-hook-secret')).toBeNull();
    expect(await kept('asana')).toBeNull();
  });

  // Found by this review (issue 25): with the secret in KV, `keep` read the secret and the deadline, then disarmed,
  // each an await, so five racing handshakes were all answered 200 and the last write won. Keeping is now one
  // conditional UPDATE in D1 that exactly one handshake wins.
  it('handshakes racing in one armed window: exactly one is answered 200, and its secret is the one kept', async () => {
    const h = app();
    expect((await arm(h, 'asana')).status).toBe(200);
    const secrets = Array.from({ length: 5 }, () => toHex(crypto.getRandomValues(new Uint8Array(16))));
    const answers = await Promise.all(secrets.map((s) => h.post('/webhooks/asana', '', { 'X-Hook-Secret': s })));
    const statuses = answers.map((r) => r.status);
    const keptSecret = await kept('asana');
    await forget(h, 'asana');
    // One window, one handshake: one 200 (its secret the one kept), every other refused (409 kept, or 403 closed).
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 409 || s === 403)).toBe(true);
    expect(keptSecret).toBe(secrets[statuses.indexOf(200)]);
  });
});
