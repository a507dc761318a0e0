/**
 * Local fakes of the request/response APIs the example commands call, each checking the wire format from the
 * provider's API reference and answering with the provider's shapes (success and error):
 *  - Stripe `POST /v1/payment_intents`: form-encoded (nested bracket keys), `Authorization: Bearer sk_…`, and
 *    `Idempotency-Key` with Stripe's semantics (the same key replays the first answer; other parameters are a 400
 *    idempotency_error);
 *  - Paddle Billing `PATCH /subscriptions/{id}`: JSON, `Authorization: Bearer`, snake_case fields;
 *  - Mixpanel `POST /engage`: a JSON profile update with `$token`, `$distinct_id` and `$set` (verbose answers).
 */
import type { FakeProviders, RecordedRequest } from './fake-providers.ts';

/** Parses a form body with Stripe's nested keys (`metadata[order_id]=1`, `items[0][price]=p`) into an object. */
export function parseNestedForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const [head, ...rest] = key.replace(/\]/g, '').split('[');
    let node = out as Record<string, unknown>;
    const path = [head!, ...rest];
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else node = (node[part] ??= /^[0-9]+$/.test(path[i + 1]!) ? [] : {}) as Record<string, unknown>;
    });
  }
  return out;
}

const stripeError = (status: number, type: string, message: string, code?: string) =>
  Response.json({ error: { type, message, ...(code ? { code } : {}) } }, { status });

/** Stripe's PaymentIntents create, with its idempotency layer. `decline` makes the next N creates answer 402. */
export function fakeStripe(fake: FakeProviders) {
  const seen = new Map<string, { params: string; response: unknown }>();
  const state = { created: 0, decline: 0, hold: undefined as Promise<void> | undefined };
  fake.on(/^https:\/\/api\.stripe\.com\/v1\/payment_intents$/, async (r: RecordedRequest) => {
    if (r.method !== 'POST') return stripeError(405, 'invalid_request_error', 'Unrecognized request URL');
    if (!/^Bearer sk_(test|live)_\S+$/.test(r.headers.authorization ?? ''))
      return stripeError(401, 'invalid_request_error', 'Invalid API Key provided');
    if (r.headers['content-type'] !== 'application/x-www-form-urlencoded')
      return stripeError(400, 'invalid_request_error', 'Stripe takes form-encoded bodies');
    const key = r.headers['idempotency-key'];
    const earlier = key ? seen.get(key) : undefined;
    if (earlier) {
      if (earlier.params !== r.body)
        return stripeError(
          400,
          'idempotency_error',
          'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        );
      return Response.json(earlier.response, { headers: { 'idempotent-replayed': 'true' } });
    }
    if (state.hold) await state.hold;
    const params = parseNestedForm(r.body);
    if (!/^[0-9]+$/.test(String(params.amount)) || typeof params.currency !== 'string')
      return stripeError(400, 'invalid_request_error', 'Missing required param: amount.', 'parameter_missing');
    if (state.decline > 0) {
      state.decline--;
      // Stripe answers a declined card 402 with error.code; it echoes nothing secret, but a careless API might.
      return stripeError(
        402,
        'card_error',
        `Your card was declined. (request by ${r.headers.authorization})`,
        'card_declined',
      );
    }
    const id = `pi_${String(++state.created).padStart(4, '0')}${crypto.randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const response = {
      id,
      object: 'payment_intent',
      amount: Number(params.amount),
      currency: params.currency,
      status: 'requires_payment_method',
      client_secret: `${id}_secret_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`,
      automatic_payment_methods: params.automatic_payment_methods
        ? { enabled: (params.automatic_payment_methods as { enabled: string }).enabled === 'true' }
        : null,
      metadata: params.metadata ?? {},
    };
    if (key) seen.set(key, { params: r.body, response });
    return Response.json(response);
  });
  return state;
}

/** Paddle Billing's update subscription (PATCH), answering `{ data, meta }` or `{ error, meta }`. */
export function fakePaddle(fake: FakeProviders) {
  fake.on(/^https:\/\/api\.paddle\.com\/subscriptions\/[^/]+$/, (r: RecordedRequest) => {
    const meta = { request_id: crypto.randomUUID() };
    const error = (status: number, code: string, detail: string) =>
      Response.json(
        {
          error: {
            type: 'request_error',
            code,
            detail,
            documentation_url: `https://developer.paddle.com/errors/shared/${code}`,
          },
          meta,
        },
        { status },
      );
    if (r.method !== 'PATCH') return error(405, 'method_not_allowed', 'use PATCH');
    if (!/^bearer \S+$/i.test(r.headers.authorization ?? ''))
      return error(403, 'forbidden', 'You aren\u2019t permitted to perform this request.');
    if (r.headers['content-type'] !== 'application/json') return error(400, 'bad_request', 'Invalid request');
    const body = r.json as { items?: { price_id?: string; quantity?: number }[]; proration_billing_mode?: string };
    if (!Array.isArray(body?.items) || body.items.some((i) => !i.price_id || typeof i.quantity !== 'number'))
      return error(400, 'invalid_field', 'items: price_id and quantity are required');
    if (!body.proration_billing_mode)
      return error(400, 'invalid_field', 'proration_billing_mode is required when items change');
    const id = new URL(r.url).pathname.split('/').pop()!;
    return Response.json({
      data: {
        id,
        status: 'active',
        items: body.items.map((i) => ({ price: { id: i.price_id }, quantity: i.quantity, status: 'active' })),
      },
      meta,
    });
  });
}

/** Mixpanel's /engage profile update: a JSON object (or array) of updates; answers `{ status, error }` with verbose=1. */
export function fakeMixpanel(fake: FakeProviders, token: string) {
  fake.on(/^https:\/\/api\.mixpanel\.com\/engage(\?|$)/, (r: RecordedRequest) => {
    const verbose = new URL(r.url).searchParams.get('verbose') === '1';
    const answer = (ok: boolean, error?: string) =>
      verbose ? Response.json({ status: ok ? 1 : 0, error: error ?? null }) : new Response(ok ? '1' : '0');
    if (r.method !== 'POST' || r.headers['content-type'] !== 'application/json')
      return answer(false, 'expected a JSON POST');
    const updates = ([] as Record<string, unknown>[]).concat(r.json as Record<string, unknown>);
    for (const u of updates) {
      if (u.$token !== token) return answer(false, 'token, missing or empty');
      if (typeof u.$distinct_id !== 'string' || !u.$distinct_id) return answer(false, '$distinct_id, missing or empty');
      if (!u.$set || typeof u.$set !== 'object') return answer(false, 'no profile operation');
    }
    return answer(true);
  });
}

/**
 * Resend's `POST /emails` and `POST /emails/batch` with its idempotency layer: the same Idempotency-Key with the
 * same body replays the first answer (for 24 h) and sends nothing; with another body it is a 409
 * `invalid_idempotent_request`. A batch with an address that is not one is refused whole with a 422
 * `validation_error` (nothing sent). `sent` holds every email it actually sent, with the key it came under.
 */
export function fakeResend(fake: FakeProviders) {
  const seen = new Map<string, { body: string; response: unknown }>();
  const state = { sent: [] as { to: string; id: string; key: string }[], ids: 0 };
  const error = (status: number, name: string, message: string) =>
    Response.json({ statusCode: status, name, message }, { status });
  fake.on(/^https:\/\/api\.resend\.com\/emails(\/batch)?$/, (r: RecordedRequest) => {
    const batch = r.url.endsWith('/batch');
    if (!/^Bearer re_\S+$/.test(r.headers.authorization ?? ''))
      return error(401, 'missing_api_key', 'Missing API key in the authorization header.');
    const key = r.headers['idempotency-key'];
    const earlier = key ? seen.get(key) : undefined;
    if (earlier)
      return earlier.body === r.body
        ? Response.json(earlier.response)
        : error(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
    const emails = (batch ? r.json : [r.json]) as { to: string[] }[];
    if (
      !Array.isArray(emails) ||
      emails.some((e) => !e || !Array.isArray(e.to) || !e.to.every((a) => /^[^@\s]+@[^@\s]+$/.test(a)))
    )
      return error(422, 'validation_error', 'Invalid `to` field.');
    const ids = emails.map((e) => {
      const id = `re_${String(++state.ids).padStart(4, '0')}${crypto.randomUUID().slice(0, 8)}`;
      state.sent.push({ to: e.to[0]!, id, key: key ?? '' });
      return id;
    });
    const response = batch ? { data: ids.map((id) => ({ id })) } : { id: ids[0] };
    if (key) seen.set(key, { body: r.body, response });
    return Response.json(response);
  });
  return state;
}
