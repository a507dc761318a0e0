/**
 * The answers the docs print, from a run (issue 28: "every response code in the README comes from a run"). Each
 * case of docs/webhooks.md's table is delivered here to the default manifest's runtime (the build the Worker
 * bundles, real D1, waitUntil work awaited as the platform runs it, the queue drained through the consumer), and
 * the table between its markers must be exactly what this run renders. The messages docs/troubleshooting.md quotes
 * come from the same kind of run. On a mismatch the failure prints the table as it should be: paste it.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import webhooksDoc from '../../docs/webhooks.md?raw';
import troubleshootingDoc from '../../docs/troubleshooting.md?raw';
import readme from '../../README.md?raw';
import { parse } from 'yaml';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { builtInputs, defaultManifest, harness, queuedOnly, uid, type Harness } from '../support/harness.ts';
import { decide } from '../../runtime/manifest/decide.ts';
import { githubSignature, nowSeconds, stripeSignature, twilioSignature } from '../support/sign.ts';

const S = env.TEST_SECRETS;
const TABLE_START = '<!-- answers:start';
const TABLE_END = '<!-- answers:end -->';

/** What one delivery did: the HTTP answer, its body's status (or error) and reason, and the event log before and after the queue. */
interface Outcome {
  http: number;
  body: string;
  logged: string;
  drained: string;
  /** The path `plan --budget` prices the event's type on (runtime/manifest/decide.ts); '' where nothing is recorded. */
  path?: string;
}

const eventStatus = async (integration: string, id: string | undefined) =>
  id === undefined
    ? undefined
    : (
        await env.DB.prepare('SELECT status FROM events WHERE integration = ? AND id = ?')
          .bind(integration, id)
          .first<{ status: string }>()
      )?.status;
const ingestLetters = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM dead_letters WHERE stage = 'ingest'").first<{ n: number }>())!.n;

/** A delivery and what it left: the answer, then the event's row (or an ingest dead letter), then the row once the queue is drained. */
async function deliver(h: Harness, integration: string, send: () => Promise<Response>, id?: string): Promise<Outcome> {
  const letters = await ingestLetters();
  const res = await send();
  const json = (await res.json().catch(() => ({}))) as { status?: string; error?: string; reason?: string };
  await h.settle();
  const state = async () =>
    (await eventStatus(integration, id)) ?? ((await ingestLetters()) > letters ? 'ingest dead letter' : 'nothing');
  const logged = await state();
  await h.consume(h.drain());
  await h.settle();
  const word = json.status ?? json.error ?? '';
  return {
    http: res.status,
    body: `\`${word}\`${json.reason ? ` (\`${json.reason}\`)` : ''}`,
    logged,
    drained: await state(),
  };
}

const stripeBody = (id: string, type: string, object: Record<string, unknown>) =>
  JSON.stringify({ id, object: 'event', type, created: nowSeconds(), data: { object } });
const postStripe = async (h: Harness, body: string, t = nowSeconds()) =>
  h.post('/webhooks/stripe', body, { 'stripe-signature': await stripeSignature(S.STRIPE_WEBHOOK_SECRET!, body, t) });
const postGithub = async (h: Harness, type: string, body: string, delivery: string) =>
  h.post('/webhooks/github', body, {
    'x-hub-signature-256': await githubSignature(S.GITHUB_WEBHOOK_SECRET!, body),
    'x-github-event': type,
    'x-github-delivery': delivery,
  });

/** The cases of the table, in its order: the label the doc shows, and the delivery. */
async function answers(): Promise<[string, Outcome][]> {
  const rows: [string, Outcome][] = [];
  const h = harness({ ctx: true });
  const compiled = compileManifest(defaultManifest, defaultRegistry, builtInputs());
  const priced = (integration: string, type: string, manifest = compiled) =>
    decide(manifest.integrations.get(integration)!, type).path;
  const add = async (label: string, integration: string, send: () => Promise<Response>, id?: string, type?: string) =>
    void rows.push([
      label,
      { ...(await deliver(h, integration, send, id)), ...(type ? { path: priced(integration, type) } : {}) },
    ]);

  const sub = uid('evt');
  const subBody = stripeBody(sub, 'customer.subscription.created', {
    id: uid('sub'),
    customer: 'cus_1',
    status: 'active',
  });
  await add(
    'a signed Stripe `customer.subscription.created` (its handler is SQL only)',
    'stripe',
    () => postStripe(h, subBody),
    sub,
    'customer.subscription.created',
  );
  await add('the same delivery again', 'stripe', () => postStripe(h, subBody), sub, 'customer.subscription.created');
  const refund = uid('evt');
  await add(
    'a Stripe type no handler is `on:` (`charge.refunded`)',
    'stripe',
    () => postStripe(h, stripeBody(refund, 'charge.refunded', { id: 'ch_1' })),
    refund,
    'charge.refunded',
  );
  const issue = crypto.randomUUID();
  await add(
    'a GitHub `issues` event (id and type from headers; no handler)',
    'github',
    () => postGithub(h, 'issues', JSON.stringify({ action: 'opened', issue: { number: Math.random() } }), issue),
    issue,
    'issues',
  );
  const branch = crypto.randomUUID();
  await add(
    "a GitHub `push` to another branch (the handler's `if:` is false)",
    'github',
    () => postGithub(h, 'push', JSON.stringify({ ref: 'refs/heads/dev', after: uid('c') }), branch),
    branch,
    'push',
  );
  const main = crypto.randomUUID();
  const mainBody = JSON.stringify({ ref: 'refs/heads/main', after: uid('c') });
  await add(
    'a GitHub `push` to main (an `http` action: the deploy hook)',
    'github',
    () => postGithub(h, 'push', mainBody, main),
    main,
    'push',
  );
  const again = crypto.randomUUID();
  await add(
    "that push's body again under a new delivery id",
    'github',
    () => postGithub(h, 'push', mainBody, again),
    again,
  );
  const unmapped = uid('evt');
  await add(
    'a Stripe subscription event without `customer` (its SQL step reads it, no `default`)',
    'stripe',
    () => postStripe(h, stripeBody(unmapped, 'customer.subscription.created', { id: uid('sub'), status: 'active' })),
    unmapped,
    'customer.subscription.created',
  );
  await add('a Stripe event with no signature', 'stripe', () =>
    h.post('/webhooks/stripe', stripeBody(uid('evt'), 'charge.refunded', {})),
  );
  await add('a Stripe event signed an hour ago', 'stripe', () =>
    postStripe(h, stripeBody(uid('evt'), 'charge.refunded', {}), nowSeconds() - 3600),
  );
  await add('a signed body that is not JSON', 'stripe', () => postStripe(h, '{"id": "evt_1", '));
  const form = { AccountSid: 'AC1', From: '+15550100' };
  await add('a signed Twilio form with no `MessageSid`/`CallSid` pair (no id can be built)', 'twilio', async () =>
    h.request('/webhooks/twilio', {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': await twilioSignature(
          S.TWILIO_AUTH_TOKEN!,
          'https://switchyard.test/webhooks/twilio',
          form,
        ),
      },
    }),
  );
  await add('a body over `max_body` (1 MiB)', 'stripe', () =>
    h.post('/webhooks/stripe', 'x'.repeat(1024 * 1024 + 1), { 'stripe-signature': 't=1,v1=00' }),
  );
  await add('a POST to a route no integration has', 'stripe', () => h.post('/webhooks/nobody', '{}'));
  await add('a GET on a webhook route', 'stripe', () => h.request('/webhooks/stripe'));
  const unset = harness({ ctx: true, env: { STRIPE_WEBHOOK_SECRET: undefined } });
  await add('a Stripe event while `STRIPE_WEBHOOK_SECRET` is not set', 'stripe', () =>
    postStripe(unset, stripeBody(uid('evt'), 'charge.refunded', {})),
  );

  // `apply: queue` (here on every integration): the queue path, its redelivery and a queue that refuses.
  const queued = harness({ ctx: true, queued: true });
  const queuedPath = priced(
    'stripe',
    'customer.subscription.created',
    compileManifest(queuedOnly(defaultManifest), defaultRegistry, builtInputs()),
  );
  const q = uid('evt');
  const qBody = stripeBody(q, 'customer.subscription.created', { id: uid('sub'), customer: 'cus_1', status: 'active' });
  const first = await postStripe(queued, qBody);
  const firstBody = (await first.json()) as { status: string };
  await queued.settle();
  const firstLogged = (await eventStatus('stripe', q)) ?? 'nothing';
  const redelivered = await deliver(queued, 'stripe', () => postStripe(queued, qBody), q);
  rows.push([
    'with `apply: queue`: a signed Stripe subscription event',
    {
      http: first.status,
      body: `\`${firstBody.status}\``,
      logged: firstLogged,
      drained: (await eventStatus('stripe', q))!,
      path: queuedPath,
    },
  ]);
  rows.push([
    'with `apply: queue`: the same delivery again before the consumer took it',
    { ...redelivered, path: queuedPath },
  ]);
  queued.queue.failures = 1;
  const refused = uid('evt');
  rows.push([
    'with `apply: queue`: a delivery while the queue refuses the send',
    await deliver(
      queued,
      'stripe',
      () =>
        postStripe(
          queued,
          stripeBody(refused, 'customer.subscription.created', { id: uid('sub'), customer: 'cus_1', status: 'active' }),
        ),
      refused,
    ),
  ]);
  return rows;
}

const cell = (s: string) => (['nothing', 'ingest dead letter'].includes(s) ? s : `\`${s}\``);
/** The table as docs/webhooks.md shows it. */
const render = (rows: [string, Outcome][]) =>
  [
    '| what arrives (default manifest) | answer | body `status` or `error` (`reason`) | event log after the answer | after the queue is drained | `plan --budget` path |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      ([label, o]) =>
        `| ${label} | ${o.http} | ${o.body.replace(/``/, '—')} | ${cell(o.logged)} | ${cell(o.drained)} | ${o.path ? `\`${o.path}\`` : '—'} |`,
    ),
  ].join('\n');

const between = (doc: string) => {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  expect(start, 'docs/webhooks.md has the answers markers').toBeGreaterThan(-1);
  return doc.slice(doc.indexOf('\n', start) + 1, end).trim();
};

describe('docs/webhooks.md', () => {
  it('the answers table is what a run of each case through the default manifest answers', async () => {
    const table = render(await answers());
    expect(between(webhooksDoc), `docs/webhooks.md's answers table, as this run renders it:\n${table}\n`).toBe(table);
  });
});

/** Each `<!-- seen: key -->` of docs/troubleshooting.md and the fenced block after it. */
const seenBlocks = (doc: string) =>
  new Map([...doc.matchAll(/<!-- seen: ([\w-]+) -->\n```[^\n]*\n([\s\S]*?)\n```/g)].map((m) => [m[1]!, m[2]!]));
const letter = (integration: string, id: string) =>
  env.DB.prepare('SELECT stage, reason, error FROM dead_letters WHERE integration = ? AND event_id = ?')
    .bind(integration, id)
    .first<{ stage: string; reason: string; error: string }>();
const letterText = (l: { stage: string; reason: string; error: string } | null) =>
  l ? `stage: ${l.stage}  reason: ${l.reason}\nerror: ${l.error}` : 'no dead letter';

/** What a person sees in each case of docs/troubleshooting.md, from a run. */
async function seen(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const answer = async (res: Response) => `${res.status} ${await res.text()}`;

  // A secret the verifier names is not set.
  const unset = harness({ ctx: true, env: { STRIPE_WEBHOOK_SECRET: undefined } });
  const health = (await (await unset.request('/healthz')).json()) as { errors: string[] };
  out.misconfigured = `${await answer(await postStripe(unset, stripeBody(uid('evt'), 'charge.refunded', {})))}\n/healthz errors: ${JSON.stringify(health.errors)}`;

  // Signed with another secret (a test-mode secret against a live endpoint, a rotated one).
  const h = harness({ ctx: true });
  const body = stripeBody(uid('evt'), 'charge.refunded', {});
  out['bad-signature'] = await answer(
    await h.post('/webhooks/stripe', body, { 'stripe-signature': await stripeSignature('whsec_another_secret', body) }),
  );
  out['malformed-body'] = await answer(await postStripe(h, '{"id": "evt_1", '));

  // A handler writes a table no applied migration created.
  const manifest = structuredClone(defaultManifest) as Manifest;
  const stripe = manifest.integrations.stripe!;
  stripe.handlers = [
    {
      on: 'charge.refunded',
      steps: [{ sql: 'INSERT INTO refunds (id) VALUES (:id)', params: { id: 'data.object.id' } }],
    },
    ...(stripe.handlers ?? []),
  ] as typeof stripe.handlers;
  const missing = harness({ ctx: true, compiled: compileManifest(manifest, defaultRegistry, builtInputs()) });
  const refund = 'evt_1RefundNoTable'; // a fixed id: the answer quotes it
  const first = await answer(await postStripe(missing, stripeBody(refund, 'charge.refunded', { id: 'ch_1' })));
  await missing.settle();
  await missing.consume(missing.drain());
  out['no-such-table'] = `${first}\n${letterText(await letter('stripe', refund))}`;

  // A consumer that dies on an event every time: the sweep queues it again 3 times, then gives up.
  let now = Date.now();
  const loop = harness({ queued: true, now: () => now });
  const stuck = uid('evt');
  await postStripe(
    loop,
    stripeBody(stuck, 'customer.subscription.created', { id: uid('sub'), customer: 'cus_1', status: 'active' }),
  );
  for (let i = 0; i < 12; i++) {
    loop.drain(); // the consumer that took it was killed: nothing recorded
    now += 16 * 60_000;
    await loop.runtime.scheduled(loop.env);
  }
  out.stuck = letterText(await letter('stripe', stuck));
  return out;
}

describe('docs/troubleshooting.md', () => {
  it('each message it quotes is what a run of that failure shows', async () => {
    const run = await seen();
    const shown = seenBlocks(troubleshootingDoc);
    const wrong = Object.entries(run).filter(([key, text]) => shown.get(key) !== text);
    expect(
      wrong.map(([key, text]) => `<!-- seen: ${key} -->\n\`\`\`\n${text}\n\`\`\``).join('\n\n'),
      'blocks of docs/troubleshooting.md that differ from this run (as the run shows them)',
    ).toBe('');
    expect(
      [...shown.keys()].filter((k) => !(k in run)),
      'blocks no run checks',
    ).toEqual([]);
  });
});

describe("README's five-minute tour", () => {
  it("step 3's answers are what the shop integration of step 1 answers to step 3's curl, sent twice", async () => {
    const tour = readme.slice(readme.indexOf('## Five minutes: add a provider'));
    const { integrations } = parse(/```yaml\n([\s\S]*?)```/.exec(tour)![1]!.replace(/^ {3}/gm, '')) as {
      integrations: Manifest['integrations'];
    };
    const shell = /```sh\n([\s\S]*?)```/.exec(tour)![1]!;
    const body = /body='([^']*)'/.exec(shell)![1]!;
    const secret = /-hmac (\S+)/.exec(shell)![1]!;
    const headers = Object.fromEntries([...shell.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
    const shown = /# (HTTP\/1\.1 .*)$/m.exec(shell)![1]!;

    const manifest = {
      ...structuredClone(defaultManifest),
      integrations: { ...defaultManifest.integrations, ...integrations },
    } as Manifest;
    const h = harness({
      ctx: true,
      compiled: compileManifest(manifest, defaultRegistry, builtInputs()),
      env: { [(integrations.shop!.verifier as { secret: string }).secret]: secret },
    });
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const sig = btoa(
      String.fromCharCode(...new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body)))),
    );
    const send = async () => {
      const res = await h.post('/webhooks/shop', body, { 'X-Shop-Hmac-Sha256': sig, ...headers });
      await h.settle();
      return `${res.status} ${await res.text()}`;
    };
    const [first, again] = [await send(), await send()];
    const [status, json] = [first.slice(0, 3), first.slice(4)];
    expect(shown).toBe(
      `HTTP/1.1 ${status} ${status === '200' ? 'OK' : 'Accepted'}  ${json}   (again: ${again.replace(/,"id":"[^"]*"/, '')})`,
    );
  });
});
