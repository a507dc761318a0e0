/** The list client backfill and reconcile share, against the local fake list APIs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListError, Pager, retryAfterMs, type Cursor } from './pager.ts';
import type { BackfillSource } from '../../../runtime/manifest/sources.ts';
import { startFakeLists, stripeSubscriptions, type FakeLists } from '../../../test/support/fake-lists.ts';

const KEY = 'sk_test_pager';
let fake: FakeLists;
beforeAll(async () => {
  fake = await startFakeLists({ key: KEY });
  fake.stripe.set('subscriptions', stripeSubscriptions(230));
});
afterAll(() => fake.close());

const stripe = (): BackfillSource => ({
  url: `${fake.url}/v1/subscriptions`,
  query: { limit: 100 },
  auth: { type: 'bearer', secret: 'STRIPE_SECRET_KEY' },
  items: 'data',
  pagination: { type: 'cursor', param: 'starting_after', has_more: 'has_more' },
  since: { param: 'created[gte]', format: 'unix_seconds' },
  rate_limit: { per_second: 1000 },
  event: { type: 't', id: '{object.id}', body: {} },
});

async function all(pager: Pager): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: Cursor | null = null;
  do {
    const page = await pager.page(cursor);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

describe('the list pager', () => {
  it('walks cursor pages to the end, and --since narrows by the declared filter', async () => {
    const env = { STRIPE_SECRET_KEY: KEY };
    expect(await all(new Pager(stripe(), { env }))).toHaveLength(230);
    expect(await all(new Pager(stripe(), { env, since: new Date((1_700_000_000 + 200) * 1000) }))).toHaveLength(30);
    expect(() => new Pager({ ...stripe(), since: undefined } as BackfillSource, { env, since: new Date() })).toThrow(
      /declares no `since:`/,
    );
  });

  it('waits out a 429 for its Retry-After, and names the missing or refused credential without echoing it', async () => {
    fake.throttleEvery = 2;
    const waits: number[] = [];
    const items = await all(
      new Pager(stripe(), {
        env: { STRIPE_SECRET_KEY: KEY },
        sleep: async (ms) => void waits.push(ms),
        onWait: () => undefined,
      }),
    );
    fake.throttleEvery = 0;
    expect(items).toHaveLength(230);
    expect(waits.filter((w) => w === 1000).length).toBeGreaterThan(0);
    expect(() => new Pager(stripe(), { env: {} })).toThrow('set STRIPE_SECRET_KEY in the environment');
    const refused = await new Pager(stripe(), { env: { STRIPE_SECRET_KEY: 'sk_wrong_secret' } })
      .page(null)
      .catch((e: ListError) => e);
    expect(refused).toBeInstanceOf(ListError);
    expect((refused as ListError).message).toContain('answered 401 (check the API key the source names)');
    expect((refused as ListError).message).not.toContain('sk_wrong_secret');
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('Wed, 21 Oct 2026 07:27:58 GMT'))).toBe(2000);
  });

  it("follows next links only on the source's own origin, so the credential is never sent elsewhere", async () => {
    fake.paddleSubscriptions = Array.from({ length: 5 }, (_, i) => ({
      id: `sub_01h${i}`,
      updated_at: '2026-01-01T00:00:00Z',
    }));
    const paddle: BackfillSource = {
      url: `${fake.url}/subscriptions`,
      query: { per_page: 2 },
      auth: { type: 'bearer', secret: 'K' },
      items: 'data',
      pagination: { type: 'next_url', next: 'meta.pagination.next', has_more: 'meta.pagination.has_more' },
      total: { path: 'meta.pagination.estimated_total' },
      rate_limit: { per_second: 1000 },
      event: { type: 't', id: '{object.id}', body: {} },
    };
    const pager = new Pager(paddle, { env: { K: KEY } });
    const first = await pager.page(null);
    expect(first.total).toBe(5);
    expect(await all(pager)).toHaveLength(5);
    await expect(pager.page({ url: 'https://attacker.example/subscriptions?after=x' })).rejects.toThrow(
      'the next page link points at https://attacker.example',
    );
  });
});
