/**
 * Local fakes of provider list APIs (Node http), shaped like the real ones: Stripe (`/v1/<kind>`, newest first,
 * `limit` up to 100, `starting_after`, `has_more`), Clerk (`/v1/users`, a bare array, `limit`/`offset`,
 * `/v1/users/count`) and Paddle Billing (`/subscriptions`, `data` + `meta.pagination.next`/`has_more`/
 * `estimated_total`). Each checks the bearer key, can answer 429 with Retry-After every Nth request, and can fail
 * with 500s from a given request on (a failure mid-way), so the CLI's pacing, retries and resume are exercised.
 */
import { createServer, type Server } from 'node:http';

export interface FakeListOptions {
  /** The bearer key every request must carry. */
  key: string;
  /** Answer 429 (Retry-After: 1) to every Nth request (0: never). */
  throttleEvery?: number;
  /** From this request number on, answer 500, until `failing` is set to Infinity. */
  failFrom?: number;
}

export interface FakeLists {
  url: string;
  stripe: Map<string, Record<string, unknown>[]>;
  clerkUsers: Record<string, unknown>[];
  paddleSubscriptions: Record<string, unknown>[];
  requests: number;
  throttled: number;
  /** Set to a request number to start failing there (Infinity: stop failing). */
  failFrom: number;
  /** Answer 429 to every Nth request (0: never); changeable between runs. */
  throttleEvery: number;
  close(): Promise<void>;
}

/** `count` Stripe subscriptions, ids sortable, created one second apart. */
export function stripeSubscriptions(count: number, prefix = 'sub_', base = 1_700_000_000): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${String(i).padStart(6, '0')}`,
    object: 'subscription',
    customer: `cus_${String(i % 997).padStart(6, '0')}`,
    status: i % 10 === 0 ? 'canceled' : 'active',
    created: base + i,
    current_period_end: base + 30 * 86400 + i,
    livemode: false,
    items: { object: 'list', data: [{ id: `si_${i}`, price: { id: i % 3 === 0 ? 'price_pro' : 'price_basic' } }] },
  }));
}

export async function startFakeLists(options: FakeListOptions): Promise<FakeLists> {
  const state: FakeLists = {
    url: '',
    stripe: new Map(),
    clerkUsers: [],
    paddleSubscriptions: [],
    requests: 0,
    throttled: 0,
    failFrom: options.failFrom ?? Infinity,
    throttleEvery: options.throttleEvery ?? 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const json = (
    res: import('node:http').ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  const server: Server = createServer((req, res) => {
    const n = ++state.requests;
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== `Bearer ${options.key}`)
      return json(res, 401, { error: { message: 'Invalid API Key provided' } });
    if (state.throttleEvery && n % state.throttleEvery === 0) {
      state.throttled++;
      return json(res, 429, { error: { message: 'Too many requests' } }, { 'retry-after': '1' });
    }
    if (n >= state.failFrom) return json(res, 500, { error: { message: 'internal error' } });
    const stripe = /^\/v1\/(subscriptions|customers|invoices|payment_intents)$/.exec(url.pathname);
    if (stripe) {
      // Newest first, like Stripe; `starting_after` continues after that object.
      const all = [...(state.stripe.get(stripe[1]!) ?? [])].sort(
        (a, b) => (b.created as number) - (a.created as number) || String(b.id).localeCompare(String(a.id)),
      );
      const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 10));
      const after = url.searchParams.get('starting_after');
      const gte = url.searchParams.get('created[gte]');
      const filtered = gte ? all.filter((o) => (o.created as number) >= Number(gte)) : all;
      const start = after ? filtered.findIndex((o) => o.id === after) + 1 : 0;
      if (after && start === 0) return json(res, 400, { error: { message: `No such object: '${after}'` } });
      const data = filtered.slice(start, start + limit);
      return json(res, 200, { object: 'list', url: url.pathname, has_more: start + limit < filtered.length, data });
    }
    if (url.pathname === '/v1/users/count')
      return json(res, 200, { object: 'total_count', total_count: state.clerkUsers.length });
    if (url.pathname === '/v1/users') {
      const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 10));
      const offset = Number(url.searchParams.get('offset') ?? 0);
      return json(res, 200, state.clerkUsers.slice(offset, offset + limit));
    }
    if (url.pathname === '/subscriptions') {
      const perPage = Math.min(200, Number(url.searchParams.get('per_page') ?? 50));
      const after = url.searchParams.get('after');
      const start = after ? state.paddleSubscriptions.findIndex((s) => s.id === after) + 1 : 0;
      const data = state.paddleSubscriptions.slice(start, start + perPage);
      const more = start + perPage < state.paddleSubscriptions.length;
      const next = new URL(`${state.url}/subscriptions`);
      next.searchParams.set('per_page', String(perPage));
      if (data.length) next.searchParams.set('after', String(data[data.length - 1]!.id));
      return json(res, 200, {
        data,
        meta: {
          request_id: `req_${n}`,
          pagination: {
            per_page: perPage,
            next: next.toString(),
            has_more: more,
            estimated_total: state.paddleSubscriptions.length,
          },
        },
      });
    }
    return json(res, 404, { error: { message: `no route ${url.pathname}` } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}
