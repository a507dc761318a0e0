import { readSecrets, type StepContext } from '../../runtime/component/context.ts';
import {
  ActionError,
  providerError,
  readAnswer,
  sendEach,
  stableId,
  type ActionIO,
  type ActionItem,
} from '../../runtime/component/action.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { OptionError } from '../../runtime/manifest/problems.ts';
import { compilePath, PATH_PATTERN, readPath } from '../../runtime/language/values.ts';
import { signStandardWebhook } from '../verifiers/standard-webhooks.ts';

/** What a forward's effect row keeps: where it goes and what the headers say; the raw body stays in the event log. */
interface ForwardItem {
  url: string;
  integration: string;
  id: string;
  type: string;
  occurred_at: string | null;
  /** `body: envelope`: switchyard's envelope, as JSON text. Absent for `raw`: the body is read from the log when sent. */
  envelope?: string;
  /** The value sends are ordered by (`order_by`), when the step declares one. */
  order?: string;
}

/** Characters of the destination's answer kept: on the sent effect, and in the error its dead letter shows. */
const ANSWER_KEPT = 300;

/** The content type of a raw body, from its first characters: the provider's own header is not kept in the log. */
const contentTypeOf = (body: string) =>
  /^\s*[[{]/.test(body)
    ? 'application/json'
    : /^[^=&\s]+=[^\s]*$/.test(body)
      ? 'application/x-www-form-urlencoded'
      : 'text/plain; charset=utf-8';

/** One delivery of a forwarded event, as its headers describe it. */
export interface ForwardDelivery {
  /** The idempotency key the webhook-id derives from: the same for every retry of the delivery. */
  key: string;
  body: string;
  event: { integration: string; id: string; type: string; occurred_at: string | null };
  attempt: number;
  origin: string;
  /** The body is switchyard's envelope (JSON), not the provider's. */
  envelope: boolean;
  now: number;
}

/**
 * The headers of a forwarded delivery: Standard Webhooks' (`webhook-id`, `-timestamp`, `-signature` under the `whsec_`
 * secret) and switchyard's own. The forward action and `switchyard forward` both send these.
 */
export async function forwardHeaders(secret: string, d: ForwardDelivery): Promise<Record<string, string>> {
  const id = `msg_${await stableId(d.key)}`;
  const seconds = Math.floor(d.now / 1000);
  return {
    'content-type': d.envelope ? 'application/json' : contentTypeOf(d.body),
    'user-agent': 'switchyard-forward',
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': await signStandardWebhook(secret, id, seconds, d.body),
    'switchyard-integration': d.event.integration,
    'switchyard-event-id': d.event.id,
    'switchyard-event-type': d.event.type,
    'switchyard-occurred-at': d.event.occurred_at ?? '',
    'switchyard-attempt': String(d.attempt),
    'switchyard-origin': d.origin,
  };
}

/**
 * Forwards an event to an app elsewhere (a URL, or another Worker through a Service Binding), signed with Standard
 * Webhooks under the destination's own `whsec_` secret, so the app verifies one scheme whatever the provider. The
 * `webhook-id` derives from the effect's idempotency key: every retry of a delivery carries the same one, and the
 * app deduplicates on it. Any answer but 2xx is retried by the step's policy, except 410 and the 4xx codes the
 * destination declares `permanent` (and a redirect, never followed), which dead-letter at once.
 */
export const forwardAction = defineComponent({
  kind: 'action',
  name: 'forward',
  title: 'ForwardAction',
  description:
    'Forwards the event (its raw body or the envelope) to a URL or a Service Binding, signed with Standard Webhooks; optionally ordered per key.',
  spec: {
    url: field
      .string({ minLength: 8, pattern: '^https?://' })
      .describe(
        'Where the event goes, e.g. `https://app.example.com/webhooks/stripe`. With `service`, the path and query a request to that Worker carries.',
      ),
    service: field
      .string({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })
      .optional()
      .describe(
        'A Service Binding (wrangler.toml `[[services]]`): the request goes to that Worker instead of the network.',
      ),
    body: field
      .enum(['raw', 'envelope'])
      .default('raw')
      .describe(
        "raw: the provider's body, byte for byte (read from the event log when sent). envelope: switchyard's `{integration, id, type, occurred_at, received_at, payload}` as JSON.",
      ),
    secret: field
      .secret()
      .describe("Env var holding this destination's Standard Webhooks secret (`whsec_` and base64)."),
    permanent: field
      .list(field.integer({ minimum: 400, maximum: 499 }), { uniqueItems: true })
      .default([])
      .describe(
        "4xx statuses that stop retrying (the delivery is dead-lettered at once), besides 410. Any other answer but 2xx is retried by the step's policy.",
      ),
    order_by: field
      .string({ pattern: PATH_PATTERN })
      .optional()
      .describe(
        'A value path, e.g. `data.object.customer`: a later event with the same value waits while an earlier one is pending or retrying; other values are never held.',
      ),
  },
  example: {
    action: 'forward',
    url: 'https://app.example.com/webhooks/stripe',
    secret: 'APP_FORWARD_SECRET',
    order_by: 'data.object.customer',
  },
  create(options) {
    const url = URL.parse(options.url);
    if (!url || !/^https?:$/.test(url.protocol)) throw new OptionError('url', `${options.url} is not an http(s) URL`);
    const permanent = new Set(options.permanent);
    const order = options.order_by === undefined ? undefined : compilePath(options.order_by);
    const send = async (item: ForwardItem, sent: ActionItem, io: ActionIO) => {
      const body = item.envelope ?? sent.event?.body;
      if (body === undefined || body === null) {
        throw new ActionError(
          'forward: the raw body is no longer in the event log (pruned by retention, or an item of a batch, which has none): forward it with body: envelope',
          { transient: false },
        );
      }
      const headers = await forwardHeaders(readSecrets(io.env, options.secret)[0]!, {
        key: sent.key,
        body,
        event: item,
        attempt: sent.attempt ?? 1,
        origin: sent.event?.origin ?? 'webhook',
        envelope: item.envelope !== undefined,
        now: io.now,
      });
      const init: RequestInit = { method: 'POST', headers, body, redirect: 'manual' };
      const started = Date.now();
      let res: Response;
      if (options.service) {
        const binding = io.env[options.service] as Fetcher | undefined;
        if (typeof binding?.fetch !== 'function')
          throw new ActionError(`forward: the Service Binding ${options.service} is not bound in this environment`, {
            transient: true,
          });
        res = await binding.fetch(item.url, init);
      } else {
        res = await io.fetch(item.url, init);
      }
      if (res.ok) {
        const answer = await readAnswer(res);
        return { status: res.status, duration_ms: Date.now() - started, body: answer.text.slice(0, ANSWER_KEPT) };
      }
      // An app's 4xx is retried, unless it is 410, a code the destination declares permanent, or a redirect.
      throw await providerError(
        'forward',
        res,
        io.now,
        undefined,
        (status) => !(status === 410 || permanent.has(status) || (status >= 300 && status < 400)),
      );
    };
    return {
      type: 'forward',
      maxBatch: 1,
      readsEvent: true,
      prepare(ctx: StepContext): ForwardItem {
        const e = ctx.envelope;
        const key = order === undefined ? undefined : readPath(order, ctx.values);
        return {
          url: options.url,
          integration: e.integration,
          id: e.id,
          type: e.type,
          occurred_at: e.occurred_at,
          ...(options.body === 'envelope'
            ? {
                envelope: JSON.stringify({
                  integration: e.integration,
                  id: e.id,
                  type: e.type,
                  occurred_at: e.occurred_at,
                  received_at: e.received_at,
                  payload: e.payload,
                }),
              }
            : {}),
          ...(key === undefined || key === null ? {} : { order: typeof key === 'string' ? key : JSON.stringify(key) }),
        };
      },
      // Only a forward with order_by orders its sends (and pays for the index entry `plan --budget` then prices).
      ...(order ? { orderKey: (payload: unknown) => (payload as ForwardItem).order } : {}),
      send: (items, io) => sendEach(items, (sent) => send(sent.payload as ForwardItem, sent, io)),
      describe(payload) {
        const item = payload as ForwardItem;
        return {
          url: item.url,
          ...(options.service ? { service: options.service } : {}),
          body: item.envelope !== undefined ? 'envelope' : 'raw (from the event log)',
          event: `${item.integration}/${item.id} (${item.type})`,
          signature: `Standard Webhooks, [secret ${options.secret}]`,
          ...(item.order !== undefined ? { order_by: `${options.order_by} = ${item.order}` } : {}),
        };
      },
    };
  },
});
