/**
 * Fuzzing the edge: every request is either random or a correctly signed request with its signed material
 * mutated. None may be accepted or queued, and none may cause a 5xx (secrets are all set here). The same holds
 * for the application and admin routes: algorithm-confused tokens and paths hiding a separator in an escape.
 * Then signed requests stretched (a repeated form key) or replayed under swapped id and type headers, and every
 * /v1/* endpoint with oversized, deeply nested and out-of-range bodies.
 */
import { env } from 'cloudflare:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { expect, it } from 'vitest';
import { FakeProviders } from '../support/fake-providers.ts';
import { harness } from '../support/harness.ts';
import { prng } from '../support/prng.ts';
import { CLERK_ISSUER, clerkToken, jwks, signedIn, testKey } from '../support/jwt.ts';
import { githubSignature, paddleSignature, stripeSignature, svixHeaders, twilioSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const ITERATIONS = 1200;

interface Req {
  path: string;
  body: string;
  headers: Record<string, string>;
  /** Headers whose values are covered by the signature. */
  signed: string[];
}

const json = (id: string) =>
  JSON.stringify({
    id,
    type: 'customer.subscription.updated',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'sub_f', status: 'active', note: 'ünïcødé ✓' } },
  });

const makers: ((id: string) => Promise<Req>)[] = [
  async (id) => {
    const body = json(id);
    return {
      path: '/webhooks/stripe',
      body,
      headers: { 'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body) },
      signed: ['stripe-signature'],
    };
  },
  async (id) => {
    const body = json(id);
    return {
      path: '/webhooks/clerk',
      body,
      headers: await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, id, body),
      signed: ['svix-id', 'svix-timestamp', 'svix-signature'],
    };
  },
  async (id) => {
    const body = JSON.stringify({ type: 'INSERT', table: 'users', record: { id } });
    return {
      path: '/webhooks/supabase',
      body,
      headers: await svixHeaders('webhook-', S.SUPABASE_WEBHOOK_SECRET!, id, body),
      signed: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
    };
  },
  async (id) => {
    const body = JSON.stringify({
      event_id: id,
      event_type: 'subscription.updated',
      occurred_at: new Date().toISOString(),
      data: { id: 'sub' },
    });
    return {
      path: '/webhooks/paddle',
      body,
      headers: { 'paddle-signature': await paddleSignature(S.PADDLE_WEBHOOK_SECRET!, body) },
      signed: ['paddle-signature'],
    };
  },
  async (id) => {
    const params = { MessageSid: id, MessageStatus: 'sent', To: '+15551230000' };
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': await twilioSignature(
        S.TWILIO_AUTH_TOKEN!,
        'https://switchyard.test/webhooks/twilio',
        params,
      ),
    };
    return {
      path: '/webhooks/twilio',
      body: new URLSearchParams(params).toString(),
      headers,
      signed: ['x-twilio-signature'],
    };
  },
  async (id) => {
    const body = JSON.stringify({ action: 'closed', number: id });
    return {
      path: '/webhooks/github',
      body,
      headers: {
        'x-hub-signature-256': await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body),
        'x-github-delivery': id,
        'x-github-event': 'issues',
      },
      signed: ['x-hub-signature-256'],
    };
  },
  async (id) => {
    const body = JSON.stringify({
      type: 'email.bounced',
      created_at: new Date().toISOString(),
      data: { email_id: id },
    });
    return {
      path: '/webhooks/resend',
      body,
      headers: await svixHeaders('svix-', S.RESEND_WEBHOOK_SECRET!, id, body),
      signed: ['svix-id', 'svix-timestamp', 'svix-signature'],
    };
  },
];

function mutate(req: Req, rand: () => number): Req {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const randomText = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 0x2ff) + 1)).join('');
  // Header values must stay legal HTTP: printable ASCII.
  const randomHeader = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(0x21 + Math.floor(rand() * 94))).join('');
  const headers = { ...req.headers };
  const header = pick(req.signed);
  switch (Math.floor(rand() * 9)) {
    case 0: {
      const i = Math.floor(rand() * req.body.length);
      return {
        ...req,
        body:
          req.body.slice(0, i) +
          String.fromCharCode(req.body.charCodeAt(i) ^ (1 + Math.floor(rand() * 30)) || 65) +
          req.body.slice(i + 1),
      };
    }
    case 1:
      return { ...req, body: req.body + pick([' ', '\n', '{}', '&x=1', '\u0000']) };
    case 2:
      delete headers[header];
      return { ...req, headers };
    case 3:
      headers[header] = randomHeader(1 + Math.floor(rand() * 80));
      return { ...req, headers };
    case 4:
      headers[header] = headers[header]!.slice(0, Math.max(0, headers[header]!.length - 1 - Math.floor(rand() * 20)));
      return { ...req, headers };
    case 5:
      headers[header] = headers[header]!.replace(/[0-9]/, (d) => String((Number(d) + 1 + Math.floor(rand() * 8)) % 10));
      return headers[header] === req.headers[header] ? { ...req, body: `${req.body} ` } : { ...req, headers };
    case 6:
      return { ...req, body: randomText(Math.floor(rand() * 300)) };
    case 7:
      return { ...req, headers: Object.fromEntries(Object.keys(headers).map((k) => [k, randomHeader(20)])) };
    default:
      return {
        ...req,
        body:
          JSON.stringify(JSON.parse(req.body.startsWith('{') ? req.body : '{}'), null, 2) +
          (req.body.startsWith('{') ? '' : ' '),
      };
  }
}

it(`accepts none of ${ITERATIONS} random and mutated requests, queues nothing, and never answers 5xx`, async () => {
  const h = harness({ queued: true });
  const rand = prng(0x5eed);
  const statuses = new Map<number, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const maker = makers[i % makers.length]!;
    const valid = await maker(`fz_${i}_${Math.floor(rand() * 1e9)}`);
    // Every tenth request is valid for one route but sent to another: signatures do not transfer.
    const other = (['/webhooks/stripe', '/webhooks/twilio', '/webhooks/github'] as const).find(
      (p) => p !== valid.path,
    )!;
    const req = i % 10 === 9 ? { ...valid, path: other } : mutate(valid, rand);
    if (req === valid) throw new Error('a mutation must change something');
    const res = await h.post(req.path, req.body, req.headers);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status < 400 || res.status >= 500) {
      throw new Error(
        `request ${i} to ${req.path} answered ${res.status}: ${await res.text()}\n${JSON.stringify(req)}`,
      );
    }
  }
  expect(h.queue.messages).toHaveLength(0);
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  expect(total).toBe(ITERATIONS);
  expect([...statuses.keys()].every((s) => s === 401 || s === 400)).toBe(true);
});

const b64url = (text: string) => btoa(text).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

it('accepts no algorithm-confused token and forwards no path hiding a separator, on any route, never answering 5xx', async () => {
  const k1 = await testKey('k1');
  const k2 = await testKey('k1');
  const fake = new FakeProviders();
  let jwksFetches = 0;
  fake.on(/\/\.well-known\/jwks\.json$/, () => {
    jwksFetches++;
    return Response.json(jwks(k1));
  });
  const h = harness({ fetch: fake.fetch });
  const rand = prng(0xa1c0);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const now = Math.floor(Date.now() / 1000);
  // Claims that would pass every check, the admin requirement included: only the signature stands in the way.
  const claims = {
    iss: CLERK_ISSUER,
    sub: 'user_fz',
    azp: 'https://app.example.com',
    iat: now,
    exp: now + 300,
    org_id: env.ADMIN_ORG_ID,
    org_role: 'org:admin',
  };
  const valid = await clerkToken(k1, claims);
  const [, validPayload, validSignature] = valid.split('.');
  const hs = (alg: string, secret: string) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid: 'k1' }).sign(new TextEncoder().encode(secret));
  const forged: (() => Promise<string>)[] = [
    async () => new UnsecuredJWT(claims).encode(),
    async () =>
      `${b64url(JSON.stringify({ alg: pick(['none', 'None', 'NONE', 'nOnE']), kid: 'k1' }))}.${validPayload}.`,
    async () => `${b64url(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${validPayload}.${validSignature}`,
    async () => hs('HS256', JSON.stringify(k1.publicJwk)),
    async () =>
      hs(
        pick(['HS256', 'HS384', 'HS512']),
        pick(['secret', 'changeme', String(k1.publicJwk.n), 'dev_admin_token_change_me', 'test-admin-token']),
      ),
    async () =>
      `${b64url(JSON.stringify({ alg: pick(['RS257', 'rs256', 'RS256 ', 'ES256', 'PS256', 'EdDSA', 'XS999', '', 'HS256']), kid: 'k1' }))}.${validPayload}.${validSignature}`,
    async () => `${b64url(JSON.stringify({ kid: 'k1' }))}.${validPayload}.${validSignature}`,
    async () => `${b64url(JSON.stringify({ alg: ['RS256'], kid: 'k1' }))}.${validPayload}.${validSignature}`,
    // The right algorithm, the wrong key (same kid), or a payload changed under a good signature.
    async () => clerkToken(k2, claims),
    async () => `${valid.split('.')[0]}.${b64url(JSON.stringify({ ...claims, sub: 'user_other' }))}.${validSignature}`,
  ];
  const routes = [
    '/api/things',
    '/api/me',
    '/v1/flags',
    '/admin/api/events',
    '/admin/api/dead-letters',
    '/admin/api/usage',
  ];
  const separators = [
    '..%2f',
    '%2F',
    '%2f..',
    '%5c',
    '%5C..%5C',
    '%2e%2e%2f',
    '..%5c',
    '%252f',
    '%252F',
    '%25252f',
    '%25%32%66',
    '%25%35%63',
    'x%2fy',
    '%2e%2e%5c',
  ];
  // Dot segments only count as whole segments. A once-encoded one (%2e%2e) the URL parser resolves before routing,
  // like a literal '..' (auth.test.ts shows it never reaches the origin); these survive the parser.
  const dots = ['%252e%252e', '.%252e', '%25%32%65%25%32%65', '%252e', '%25252e%25252e'];
  const plain = ['a', 'internal', 'users', '%20', 'b%3Fc', '~x'];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    let path: string;
    let token: string;
    if (i % 2 === 0) {
      // A forged token on any route, method GET or POST.
      path = pick(routes);
      token = await pick(forged)();
    } else {
      // A valid token and a path that hides a separator (or dot segment) in an escape, maybe twice encoded.
      const joined = rand() < 0.3;
      const segments = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
        rand() < 0.5 ? pick(separators) : pick(plain),
      );
      segments.splice(
        Math.floor(rand() * (segments.length + 1)),
        0,
        joined ? pick(separators) : pick([...separators, ...dots]),
      );
      path = `/api/${segments.join(joined ? '' : '/')}`;
      token = valid;
    }
    const method = pick(['GET', 'POST']);
    const res = await h.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status < 400 || res.status >= 500)
      throw new Error(`request ${i} ${method} ${path} answered ${res.status}: ${await res.text()}\n${token}`);
  }
  expect(fake.to(/origin\.example\.com/)).toHaveLength(0);
  expect(fake.to(/posthog/)).toHaveLength(0);
  expect(h.queue.messages).toHaveLength(0);
  expect([...statuses.keys()].every((s) => [400, 401, 404, 405].includes(s))).toBe(true);
  // Only tokens naming the provider's algorithm (RS256) ever needed the keys: one fetch, then the cache.
  expect(jwksFetches).toBeLessThanOrEqual(2);
});

it('refuses every repeated form key that would stretch a signed Twilio callback, and every header-swapped replay', async () => {
  const h = harness({ queued: true });
  const rand = prng(0xf0e1);
  const queued = () => h.queue.messages.length;
  for (let i = 0; i < 60; i++) {
    const id = `fzr_${i}_${Math.floor(rand() * 1e9)}`;
    // Twilio: a signed callback with one of its fields repeated (same value), anywhere in the body.
    const params = { MessageSid: id, MessageStatus: 'delivered', To: '+15551230000' };
    const signature = await twilioSignature(S.TWILIO_AUTH_TOKEN!, 'https://switchyard.test/webhooks/twilio', params);
    const pairs = Object.entries(params);
    const [key, value] = pairs[Math.floor(rand() * pairs.length)]!;
    pairs.splice(Math.floor(rand() * (pairs.length + 1)), 0, [key, value]);
    const stretched = await h.post('/webhooks/twilio', new URLSearchParams(pairs).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
    });
    expect(stretched.status, `${key} repeated`).toBe(401);

    // GitHub: a genuine delivery, then the same signed body under new delivery ids and other events.
    const body = JSON.stringify({ action: 'closed', number: id });
    const headers = {
      'x-hub-signature-256': await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body),
      'x-github-delivery': crypto.randomUUID(),
      'x-github-event': 'issues',
    };
    expect((await h.post('/webhooks/github', body, headers)).status).toBe(202);
    const before = queued();
    for (const event of ['issues', 'deployment', 'push', 'x'.repeat(1 + Math.floor(rand() * 40))]) {
      const replay = await h.post('/webhooks/github', body, {
        ...headers,
        'x-github-delivery': crypto.randomUUID(),
        'x-github-event': event,
      });
      expect(replay.status).toBe(200);
    }
    // Svix: the same signed body under a new svix-id no longer verifies (the id is signed).
    const clerk = JSON.stringify({ type: 'user.updated', timestamp: Date.now(), data: { id } });
    const signed = await svixHeaders('svix-', S.CLERK_WEBHOOK_SECRET!, id, clerk);
    expect((await h.post('/webhooks/clerk', clerk, { ...signed, 'svix-id': `${id}_other` })).status).toBe(401);
    expect(queued()).toBe(before);
  }
});

it('answers every /v1/* endpoint with oversized, deeply nested or out-of-range bodies without a 5xx', async () => {
  const { fake, token } = await signedIn('fuzz');
  fake.on(/api\.cloudinary\.com/, () =>
    Response.json({ public_id: 'p', secure_url: 'https://res.example/p', bytes: 1 }),
  );
  const h = harness({
    fetch: fake.fetch,
    env: {
      POSTHOG_API_KEY: 'phc_test',
      MIXPANEL_TOKEN: 'mp_token',
      CLOUDINARY_API_KEY: 'k',
      CLOUDINARY_API_SECRET: 's',
      CLERK_SECRET_KEY: 'sk',
    },
  });
  const rand = prng(0xdee9);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  const bodies: (() => string)[] = [
    () => deep(4000),
    () => `{"events":${deep(4000)}}`,
    () => `[{"event":"x","properties":${deepObject(4000)}}]`,
    () =>
      `[{"event":"x","timestamp":${[1e20, -1e17, 1e308, -0, 8.64e15 + 1, Number.MAX_SAFE_INTEGER][Math.floor(rand() * 6)]}}]`,
    () =>
      `[{"event":"x","timestamp":"${['+275760-09-13T00:00:00.001Z', '0000-00-00', 'NaN', '9'.repeat(400)][Math.floor(rand() * 4)]}"}]`,
    () => JSON.stringify(Array.from({ length: 501 }, () => ({ event: 'x' }))),
    () => JSON.stringify([{ event: 'x'.repeat(201) }]),
    () => JSON.stringify([{ event: 'x', distinct_id: { a: [1, 2] }, properties: [1, 2] }]),
    () => 'x'.repeat(64 * 1024 + 1 + Math.floor(rand() * 1e5)),
    () => '\u0000\uffff'.repeat(100),
    () => '',
  ];
  const credentials: Record<string, string>[] = [
    { authorization: `Bearer ${token}` },
    { 'x-switchyard-key': 'pk_dev_switchyard' },
    {},
  ];
  const paths = ['/v1/track', '/v1/flags', '/v1/uploads'];
  for (let i = 0; i < 150; i++) {
    const path = paths[i % paths.length]!;
    const body = bodies[Math.floor(rand() * bodies.length)]!();
    const contentType =
      path === '/v1/uploads' && rand() < 0.5 ? 'multipart/form-data; boundary=fz' : 'application/json';
    const headers = { 'content-type': contentType, ...credentials[Math.floor(rand() * credentials.length)]! };
    for (const method of path === '/v1/flags' ? ['GET', 'POST'] : ['POST']) {
      const res = await h.request(path, { method, headers, ...(method === 'GET' ? {} : { body }) });
      if (res.status >= 500)
        throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}\n${body.slice(0, 200)}`);
    }
  }
  // Oversized uploads, declared or streamed.
  const big = new FormData();
  big.set('file', new File([new Uint8Array(10 * 1024 * 1024 + 1)], 'big.png', { type: 'image/png' }));
  expect(
    (await h.request('/v1/uploads', { method: 'POST', body: big, headers: { authorization: `Bearer ${token}` } }))
      .status,
  ).toBe(413);
  expect(h.queue.messages).toHaveLength(0);
});
