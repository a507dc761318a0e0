/**
 * Fuzzing where outbound requests go. Every action that has a URL (each registered action, from its own example
 * config) meets a provider that answers with a random redirect status to a random Location: another origin, the same
 * origin, a relative path, a protocol-relative `//evil.test`, `javascript:`, an http downgrade, an empty Location.
 * Nothing may reach another origin and no redirect is followed, except by an http action that allows same_origin,
 * and then only within its origin and for at most 5 hops. Then every URL template with a placeholder in the built
 * manifests (default, examples, postgres: every environment) and in the registry's examples is filled with dot
 * segments, plain and percent-encoded: none may send a request, each is a 422 naming the placeholder.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import defaults from '../../.switchyard/manifests.json';
import examples from '../../.switchyard/examples.json';
import postgres from '../../.switchyard/postgres.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { defaultManifest, harness, uid } from '../support/harness.ts';
import { prng } from '../support/prng.ts';
import { following, REDIRECT_CODES } from '../support/redirects.ts';
import { commandCallId } from '../../runtime/store/index.ts';

const SERVICE = { authorization: 'Bearer test-service-token' };
/** A call's id in the log: its key scoped to its caller, the service token. */
const callId = (key: string) => commandCallId(key, 'SWITCHYARD_SERVICE_TOKEN');
const SECRETS = {
  SENDGRID_API_KEY: 'SG.fuzz',
  TWILIO_ACCOUNT_SID: 'ACfuzz',
  TWILIO_AUTH_TOKEN: 'tw_fuzz',
  MIXPANEL_TOKEN: 'mp_fuzz',
  MIXPANEL_API_SECRET: 'mps_fuzz',
  POSTHOG_API_KEY: 'phc_fuzz',
  SLACK_TOKEN: 'xoxb-fuzz',
};
const commandOf = (step: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  input: { type: 'object' },
  auth: { service_token: 'SWITCHYARD_SERVICE_TOKEN' },
  queue: 'events',
  retry: { max_attempts: 1 },
  steps: [step],
  ...extra,
});
const compile = (commands: Record<string, unknown>) =>
  compileManifest({ ...structuredClone(defaultManifest), commands } as unknown as Manifest, defaultRegistry, {
    inputValidator: (_name, schema) => compileInputSchema(schema),
  });

/** Where a redirect points, given the URL that was asked. Same-origin kinds are those a same_origin http action follows. */
const LOCATIONS: { kind: string; sameOrigin: boolean; to: (u: URL) => string }[] = [
  { kind: 'other origin', sameOrigin: false, to: () => 'https://evil.test/collect' },
  { kind: 'protocol-relative', sameOrigin: false, to: () => '//evil.test/collect' },
  { kind: 'javascript:', sameOrigin: false, to: () => 'javascript:alert(1)' },
  { kind: 'http downgrade', sameOrigin: false, to: (u) => `http://${u.host}/moved` },
  { kind: 'other port', sameOrigin: false, to: (u) => `https://${u.hostname}:8443/moved` },
  { kind: 'same origin', sameOrigin: true, to: (u) => `${u.origin}/moved` },
  { kind: 'relative', sameOrigin: true, to: () => '/moved' },
  { kind: 'relative path', sameOrigin: true, to: () => 'moved' },
];

/** One command per registered action, from its example config, given an input that fills every example's paths. */
const INPUT = {
  data: {
    email: 'ada@example.com',
    first_name: 'Ada',
    phone: '+15005550006',
    code: '123456',
    channel: 'C0FUZZ',
    id: 'user_1',
    object: { customer: 'cus_1' },
  },
};
/** Each action's example; one naming a template gets inline text instead (the default manifest's templates need other data). */
const actions = [...defaultRegistry.actions.values()].map((a) => {
  const { template, ...step } = a.example as Record<string, unknown>;
  return { name: a.name, step: template === undefined ? step : { ...step, subject: 'fuzz', text: 'fuzz' } };
});
const targets = [
  ...actions.map((a) => ({ command: `fuzz_${a.name}`, step: a.step, follows: false })),
  ...actions
    .filter((a) => a.name === 'http')
    .map((a) => ({ command: 'fuzz_http_follow', step: { ...a.step, follow_redirects: 'same_origin' }, follows: true })),
];

describe('redirecting providers, for every action that has a URL', () => {
  it('covers every registered action', () => {
    expect(actions.map((a) => a.name).sort()).toEqual(
      expect.arrayContaining(['http', 'mixpanel', 'posthog', 'resend', 'sendgrid', 'twilio']),
    );
  });

  it('sends nothing to another origin and follows nothing, except same_origin within its origin', async () => {
    const compiled = compile(Object.fromEntries(targets.map((t) => [t.command, commandOf(t.step)])));
    const rand = prng(0x5eed);
    for (const target of targets) {
      for (const location of LOCATIONS) {
        const status = REDIRECT_CODES[Math.floor(rand() * REDIRECT_CODES.length)]!;
        const fake = new FakeProviders();
        fake.on(/./, (r) => {
          const url = new URL(r.url);
          if (url.pathname.endsWith('/moved')) return Response.json({ status: 1, id: 'moved' });
          return new Response(null, { status, headers: { location: location.to(url) } });
        });
        const h = harness({ compiled, fetch: following(fake.fetch), env: SECRETS });
        const key = uid('k');
        const what = `${target.command}, ${status} to ${location.kind}`;
        expect(
          (
            await h.post(`/v1/commands/${target.command}`, JSON.stringify(INPUT), {
              ...SERVICE,
              'idempotency-key': key,
            })
          ).status,
          what,
        ).toBe(200);
        await h.consume(h.drain());
        const first = new URL(fake.requests[0]!.url);
        expect(
          fake.requests.every((r) => new URL(r.url).origin === first.origin),
          what,
        ).toBe(true);
        const effect = await env.DB.prepare('SELECT status FROM effects WHERE integration = ?1 AND event_id = ?2')
          .bind(`command:${target.command}`, await callId(key))
          .first<{ status: string }>();
        if (target.follows && location.sameOrigin) {
          expect(
            fake.requests.map((r) => new URL(r.url).pathname.endsWith('/moved')),
            what,
          ).toEqual([false, true]);
          expect(effect?.status, what).toBe('sent');
        } else {
          expect(fake.requests, what).toHaveLength(1);
          expect(effect?.status, what).toBe('dead_lettered');
        }
      }
    }
  });

  it('bounds a same-origin chain: an answer that always redirects to itself ends after 5 hops', async () => {
    const fake = new FakeProviders();
    fake.on(/./, (r) => new Response(null, { status: 307, headers: { location: r.url } }));
    const h = harness({
      compiled: compile({ fuzz_http_follow: commandOf(targets.find((t) => t.follows)!.step) }),
      fetch: following(fake.fetch),
      env: SECRETS,
    });
    const key = uid('k');
    await h.post('/v1/commands/fuzz_http_follow', JSON.stringify(INPUT), { ...SERVICE, 'idempotency-key': key });
    await h.consume(h.drain());
    expect(fake.requests).toHaveLength(6);
    const letter = await env.DB.prepare(
      "SELECT error FROM dead_letters WHERE integration = 'command:fuzz_http_follow' AND event_id LIKE ?1 || '#%'",
    )
      .bind(await callId(key))
      .first<{ error: string }>();
    expect(letter!.error).toMatch(/answered 307.*more than 5 redirects/);
  });
});

/** Every http step with a placeholder in its URL, in every environment of the built manifests and the registry's examples. */
function templates(): { where: string; step: Record<string, unknown> }[] {
  const found = new Map<string, { where: string; step: Record<string, unknown> }>();
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.action === 'http' && typeof o.url === 'string' && o.url.includes('{') && !found.has(o.url))
        found.set(o.url, { where, step: o });
      for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
    }
  };
  for (const [file, built] of Object.entries({ defaults, examples, postgres })) {
    for (const [name, e] of Object.entries(
      (built as { environments: Record<string, { manifest: unknown }> }).environments,
    ))
      walk(e.manifest, `${file}:${name}`);
  }
  for (const a of actions) walk(a.step, `registry:${a.name}`);
  return [...found.values()];
}

/** Values that are, or decode to, a dot segment: fixed ones, then generated from tokens. */
function climbing(rand: () => number): string[] {
  const fixed = [
    '.',
    '..',
    '%2e',
    '%2E',
    '%2e%2e',
    '%2E.',
    '.%2e',
    '..%2f',
    '..%2F',
    '..%5c',
    '../',
    '..\\',
    '%252e%252e',
    '%252E.',
    'x/../y',
    './x',
  ];
  const dot = ['.', '%2e', '%2E', '%252e'];
  const sep = ['', '/', '%2f', '%2F', '\\', '%5c', '%252f'];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const generated = Array.from({ length: 40 }, () => {
    const segment = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pick(dot)).join('');
    const tail = pick(sep);
    return rand() < 0.3 && tail ? `a${tail}${segment}` : `${segment}${tail}${tail ? pick(['', 'x', 'v1/orders']) : ''}`;
  });
  return [...new Set([...fixed, ...generated])];
}

/** The event paths an http step's body, query and headers read (so an input can fill them all). */
function pathsRead(step: Record<string, unknown>): string[] {
  const maps = [step.body, step.query, step.headers] as (Record<string, unknown> | undefined)[];
  return maps
    .flatMap((m) => Object.values(m ?? {}))
    .flatMap((v) =>
      typeof v === 'string' && !v.startsWith('@')
        ? [v]
        : v && typeof v === 'object' && typeof (v as { path?: unknown }).path === 'string' && !('default' in v)
          ? [(v as { path: string }).path]
          : [],
    );
}

/** Sets a value path (`data.channel`, `subscription_id`) in an input object. */
function put(input: Record<string, unknown>, path: string, value: unknown) {
  const parts = path.split('.');
  let node = input;
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

describe('dot segments in every URL template', () => {
  const found = templates();
  it('finds the templates with placeholders (examples/more-providers.yaml and the http example at least)', () => {
    expect(found.map((t) => t.step.url)).toEqual(
      expect.arrayContaining([
        'https://api.paddle.com/subscriptions/{subscription_id}',
        'https://hooks.slack.com/services/{data.channel}',
      ]),
    );
  });

  it.each(found.map((t) => [t.step.url as string, t] as const))(
    '%s: no value climbs out of its path, and a plain value is sent',
    async (_url, { step }) => {
      const url = step.url as string;
      const placeholders = [...url.slice(0, url.search(/[?#]|$/)).matchAll(/\{([^{}]+)\}/g)]
        .map((m) => m[1]!.trim())
        .filter((p) => !p.startsWith('@'));
      const compiled = compile({
        dots: commandOf(
          { ...step, idempotency_header: 'Idempotency-Key' },
          { sync: { result: { any: { path: 'x', default: null } }, cache: '0s' } },
        ),
      });
      const fake = new FakeProviders();
      fake.on(/./, () => Response.json({ ok: true }));
      const h = harness({ compiled, fetch: following(fake.fetch), env: SECRETS });
      const rand = prng(url.length);
      for (const placeholder of placeholders) {
        for (const value of climbing(rand)) {
          const input: Record<string, unknown> = {};
          for (const p of [...pathsRead(step), ...placeholders]) put(input, p, 'ok_1');
          put(input, placeholder, value);
          const res = await h.post('/v1/commands/dots', JSON.stringify(input), {
            ...SERVICE,
            'idempotency-key': uid('k'),
          });
          const body = (await res.json()) as { message?: string };
          expect(fake.requests, `${placeholder} = ${JSON.stringify(value)}`).toEqual([]);
          expect(res.status, `${placeholder} = ${JSON.stringify(value)}`).toBe(422);
          expect(body.message).toContain(placeholder);
        }
      }
      const plain: Record<string, unknown> = {};
      for (const p of [...pathsRead(step), ...placeholders]) put(plain, p, 'v1.2');
      expect(
        (await h.post('/v1/commands/dots', JSON.stringify(plain), { ...SERVICE, 'idempotency-key': uid('k') })).status,
      ).toBe(200);
      expect(fake.requests).toHaveLength(1);
    },
  );
});
