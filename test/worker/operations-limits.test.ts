/**
 * The application counts its own operations (an OpenAI request made from its code) against a declared limit, through
 * a command with `count:` (the default manifest's track_usage, counting openai.requests): atomically, once per
 * Idempotency-Key, with the limit's warnings and its on_exceed, and shown in the usage report like every limit.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { FakeProviders } from '../support/fake-providers.ts';
import { builtInputs, defaultManifest, harness, uid } from '../support/harness.ts';
import { metered } from '../support/metered.ts';

const SERVICE = { authorization: 'Bearer test-service-token' };
const ADMIN = { authorization: 'Bearer test-admin-token' };
const DAY = 86_400_000;
const NOON = Date.parse('2026-03-10T12:00:00Z');
/** A 200 answer's result: what the application decides on. */
const result = async (answer: Promise<Response>) =>
  ((await (await answer).json()) as { result: { allowed: boolean } & Record<string, unknown> }).result;
const usage = (metric: string) =>
  env.DB.prepare("SELECT n FROM usage WHERE metric = ? AND key = '*'").bind(metric).first<{ n: number }>();

/** The default manifest with track_usage counting a fresh limit of its own (so tests never share a count). */
function setup(limit: Record<string, unknown>, clock: { now: number } = { now: NOON }, db: D1Database = env.DB) {
  const metric = `test.ops.${uid('l')}`;
  const m = structuredClone(defaultManifest);
  m.limits = {
    ...m.limits,
    [metric]: { ...structuredClone(m.limits!['openai.requests']!), ...limit } as NonNullable<
      Manifest['limits']
    >[string],
  };
  m.commands!.track_usage!.count!.limit = metric;
  const fake = new FakeProviders();
  const h = harness({
    compiled: compileManifest(m, defaultRegistry, builtInputs()),
    fetch: fake.fetch,
    now: () => clock.now,
    env: { DB: db },
  });
  const count = (input: Record<string, unknown> = {}, key: string = crypto.randomUUID()) =>
    h.post('/v1/commands/track_usage', JSON.stringify(input), { ...SERVICE, 'idempotency-key': key });
  const alerts = () => fake.to(/api\.resend\.com\/emails$/).map((r) => (r.json as { subject: string }).subject);
  return { metric, h, count, alerts, clock };
}

describe('a command that counts operations (count:, counts: operations)', () => {
  it('answers what is used and left, and past a deferring limit 429 with retry-after until the day resets', async () => {
    const { metric, count } = setup({ limit: 5, on_exceed: 'defer' });
    const first = await count({ count: 2 });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      id: expect.any(String),
      status: 'applied',
      result: { allowed: true, used: 2, max: 5, remaining: 3, period_end: '2026-03-11T00:00:00.000Z' },
    });
    expect(await result(count({ count: 2 }))).toMatchObject({ allowed: true, used: 4, remaining: 1 });
    const over = await count({ count: 2 });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe(String(12 * 3600));
    expect(await over.json()).toMatchObject({
      error: 'rate_limited',
      reason: 'limit',
      allowed: false,
      used: 4,
      max: 5,
      remaining: 1,
    });
    // What still fits is counted.
    expect(await result(count())).toMatchObject({ allowed: true, used: 5, remaining: 0 });
    expect(await usage(metric)).toEqual({ n: 5 });
  });

  it('drop answers 200 allowed: false; warn answers allowed with a warning; neither counts past the limit', async () => {
    const drop = setup({ limit: 1, on_exceed: 'drop' });
    expect(await result(drop.count())).toMatchObject({ allowed: true, used: 1 });
    const dropped = await drop.count();
    expect(dropped.status).toBe(200);
    expect(await result(Promise.resolve(dropped))).toMatchObject({
      allowed: false,
      used: 1,
      remaining: 0,
      reason: 'limit_reached',
    });
    const warn = setup({ limit: 1, on_exceed: 'warn' });
    await warn.count();
    const warned = await warn.count();
    expect(warned.status).toBe(200);
    expect(await result(Promise.resolve(warned))).toMatchObject({ allowed: true, warning: 'limit_reached', used: 1 });
    expect(await usage(warn.metric)).toEqual({ n: 1 });
  });

  it('sends the 80% warning once (and the exceeded notice once) through the limit notify', async () => {
    const { metric, count, alerts, h } = setup({ limit: 10, warn_at: 0.8, on_exceed: 'defer' });
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) statuses.push((await count()).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429, 429]);
    expect(alerts()).toEqual([
      `switchyard: ${metric} at 8 of 10 (80%) this day`,
      `switchyard: ${metric} at 10 of 10 (100%) this day`,
    ]);
    expect(h.events.filter((e) => e.kind === 'limit.warned')).toEqual([
      expect.objectContaining({ limit: metric, used: 8, max: 10, percent: 80 }),
    ]);
  });

  it('does not count a retried call twice: the same Idempotency-Key answers the first outcome, replayed', async () => {
    const { metric, count } = setup({ limit: 10 });
    const key = crypto.randomUUID();
    expect(await result(count({ count: 3 }, key))).toMatchObject({ allowed: true, used: 3 });
    const again = await count({ count: 3 }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await result(Promise.resolve(again))).toMatchObject({ allowed: true, used: 3, remaining: 7 });
    expect(await usage(metric)).toEqual({ n: 3 });
    // Another key is another operation.
    expect(await result(count({ count: 3 }))).toMatchObject({ used: 6 });
  });

  it('frees the key of a refused call, so a retry after the reset counts in the new period', async () => {
    const { metric, count, clock } = setup({ limit: 1, on_exceed: 'defer' });
    await count();
    const key = crypto.randomUUID();
    expect((await count({}, key)).status).toBe(429);
    clock.now += DAY;
    const retried = await count({}, key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await result(Promise.resolve(retried))).toMatchObject({
      allowed: true,
      used: 1,
      period_end: '2026-03-12T00:00:00.000Z',
    });
    expect(
      await env.DB.prepare('SELECT period_start, n FROM usage WHERE metric = ? ORDER BY period_start')
        .bind(metric)
        .all()
        .then((r) => r.results),
    ).toEqual([
      { period_start: '2026-03-10T00:00:00.000Z', n: 1 },
      { period_start: '2026-03-11T00:00:00.000Z', n: 1 },
    ]);
  });

  it('allows exactly 150 of 200 concurrent counts against a limit of 150', async () => {
    const { metric, count } = setup({ limit: 150, on_exceed: 'drop' });
    const answers = await Promise.all(Array.from({ length: 200 }, () => result(count())));
    expect(answers.filter((a) => a.allowed)).toHaveLength(150);
    expect(await usage(metric)).toEqual({ n: 150 });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM usage_calls WHERE metric = ?').bind(metric).first()).toEqual(
      { n: 150 },
    );
  });

  it('costs one D1 batch: 2 rows written for a counted call (its key and the count), none for a repeat', async () => {
    const meter = metered(env.DB);
    const { count } = setup({ limit: 10 }, { now: NOON }, meter.db);
    const key = crypto.randomUUID();
    await count({}, key);
    meter.reset();
    await count();
    const counted = { written: meter.written, read: meter.read };
    meter.reset();
    await count({}, key);
    expect(counted.written).toBe(2);
    expect(meter.written).toBe(0);
    // Reads: the count and the key, a few times over within the batch.
    expect(Math.max(counted.read, meter.read)).toBeLessThanOrEqual(8);
  });

  it("lets the cron prune the keys of a period that is over, keeping the current period's", async () => {
    const { metric, count, clock, h } = setup({ limit: 10 });
    await count();
    clock.now += DAY;
    await count();
    await h.runtime.scheduled(h.env);
    expect(
      await env.DB.prepare('SELECT period_start FROM usage_calls WHERE metric = ?')
        .bind(metric)
        .all()
        .then((r) => r.results),
    ).toEqual([{ period_start: '2026-03-11T00:00:00.000Z' }]);
  });

  it('counts over a Service Binding too, under the binding as caller', async () => {
    const { metric, h } = setup({ limit: 10 });
    const answer = await h.runtime.command('track_usage', { count: 2 }, { idempotencyKey: 'rpc-1' }, h.env);
    expect(answer).toMatchObject({
      status: 200,
      body: { id: 'rpc-1', status: 'applied', result: { allowed: true, used: 2, remaining: 8 } },
    });
    expect((await h.runtime.command('track_usage', { count: 2 }, { idempotencyKey: 'rpc-1' }, h.env)).replayed).toBe(
      true,
    );
    expect(await usage(metric)).toEqual({ n: 2 });
  });

  it('shows in GET /admin/api/usage like every limit', async () => {
    const { metric, count, h } = setup({ limit: 10 });
    await count({ count: 4 });
    const report = (await (await h.request('/admin/api/usage', { headers: ADMIN })).json()) as {
      limits: { name: string; limit: number; on_exceed: string; usage: { key: string; n: number }[] }[];
    };
    expect(report.limits.find((l) => l.name === metric)).toMatchObject({
      limit: 10,
      on_exceed: 'defer',
      usage: [{ key: '*', n: 4 }],
    });
  });

  it('refuses a count outside 1..limit with a 422, counting nothing', async () => {
    const { metric, count } = setup({ limit: 10 });
    expect((await count({ count: 0 })).status).toBe(422);
    expect(await usage(metric)).toBeNull();
  });
});

describe('validate: which limits count what', () => {
  const problems = (edit: (m: Manifest) => void) => {
    const m = structuredClone(defaultManifest);
    edit(m);
    try {
      compileManifest(m, defaultRegistry, builtInputs());
    } catch (error) {
      if (error instanceof ManifestError) return error.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
      throw error;
    }
    return [];
  };

  it('refuses an operations limit named by an action step', () => {
    expect(
      problems(
        (m) => ((m.commands!.send_password_reset!.steps![0] as { limits: string[] }).limits = ['openai.requests']),
      ),
    ).toEqual([
      expect.stringMatching(
        /^commands\.send_password_reset\.steps\.0.*openai\.requests counts operations, not sends: name it in a command's count:/,
      ),
    ]);
  });

  it('refuses a count of a limit that counts sends', () => {
    expect(problems((m) => (m.commands!.track_usage!.count!.limit = 'resend.emails'))).toEqual([
      'commands.track_usage.count.limit: limit resend.emails counts sends, not operations: give it counts: operations, or count a limit that does',
    ]);
  });

  it('refuses a counting command that also has steps', () => {
    expect(problems((m) => Object.assign(m.commands!.track_usage!, { queue: 'events' }))).toEqual([
      expect.stringMatching(/^commands\.track_usage\.queue: a command that counts operations has no queue/),
    ]);
  });
});
