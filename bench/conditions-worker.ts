/**
 * The conditions benchmark's Worker (bench/conditions.ts): the Stripe event's handler run `n` times per request, as
 * the consumer's plan runs it (a fresh step context per event, so the condition and the derived values are worked
 * out again each time), without conditions and with a typical condition and two `let:` values; and the compile of
 * that condition and those values, `n` times. Nothing is written: the steps' statements are built, not run.
 */
import { stepContext } from '../runtime/component/context.ts';
import type { Envelope } from '../runtime/lib/envelope.ts';
import { compileManifest } from '../runtime/manifest/compile.ts';
import { compileCondition, type ConditionSpec } from '../runtime/language/conditions.ts';
import { compileLets } from '../runtime/language/lets.ts';
import type { Manifest, Value } from '../runtime/manifest/types.gen.ts';
import { defaultRegistry } from '../worker/registry.ts';

/** The typical condition the issue names: a payment above 10.00. */
export const CONDITION: ConditionSpec = {
  all: [
    { path: 'data.object.mode', eq: 'payment' },
    { path: 'data.object.amount_total', gt: 1000 },
  ],
};
/** Two derived values: the total formatted in its currency, and a join. */
export const LETS: Record<string, Value> = {
  total: { path: 'data.object.amount_total', transform: [{ money: 'data.object.currency' }] },
  methods: { path: 'data.object.payment_method_types', transform: [{ join: ', ' }] },
} as unknown as Record<string, Value>;

const SQL = 'INSERT INTO orders (id, status, paid_at, payment_intent_id) VALUES (:id, :total, :at, :methods)';
const manifest = {
  version: 1,
  queues: { events: { binding: 'EVENTS_QUEUE' } },
  integrations: {
    stripe: {
      route: '/webhooks/stripe',
      verifier: { type: 'stripe', secret: 'STRIPE_WEBHOOK_SECRET' },
      event: { id: 'id', type: 'type', occurred_at: { path: 'created', transform: 'unix_seconds_to_iso' } },
      queue: 'events',
      handlers: [
        {
          on: 'plain',
          steps: [
            {
              sql: SQL,
              params: {
                id: 'data.object.client_reference_id',
                total: 'data.object.amount_total',
                at: '@occurred_at',
                methods: 'data.object.payment_method_types[0]',
              },
            },
          ],
        },
        {
          on: 'conditional',
          if: CONDITION,
          let: LETS,
          steps: [
            {
              sql: SQL,
              params: {
                id: 'data.object.client_reference_id',
                total: '$total',
                at: '@occurred_at',
                methods: '$methods',
              },
            },
          ],
        },
      ],
    },
  },
} as unknown as Manifest;
const source = compileManifest(manifest, defaultRegistry).sources.get('stripe')!;

/** A Stripe checkout.session.completed event of about 4 KB (the ingest bench's size), paid in `mode`. */
function checkout(mode: string): Record<string, unknown> {
  const object = {
    id: 'cs_bench_1',
    object: 'checkout.session',
    mode,
    amount_total: 1999,
    currency: 'usd',
    client_reference_id: 'ord_bench_1',
    customer: 'cus_1',
    customer_details: { email: 'ada@example.com', name: 'Ada Lovelace' },
    payment_method_types: ['card', 'link'],
    payment_status: 'paid',
    metadata: { order: 'ord_bench_1' },
  };
  const event = {
    id: 'evt_bench_1',
    object: 'event',
    type: 'checkout.session.completed',
    created: 1_800_000_000,
    data: { object },
    padding: '',
  };
  event.padding = 'x'.repeat(Math.max(0, 4096 - JSON.stringify(event).length));
  return event;
}

const PAYMENT = checkout('payment');
const SUBSCRIPTION = checkout('subscription');
const envelopeOf = (type: string, payload: Record<string, unknown>): Envelope => ({
  integration: 'stripe',
  id: 'evt_bench_1',
  type,
  occurred_at: '2027-01-15T08:00:00.000Z',
  received_at: '2027-01-15T08:00:01.000Z',
  payload,
});
const CASES: Record<string, Envelope> = {
  plain: envelopeOf('plain', PAYMENT),
  conditional: envelopeOf('conditional', PAYMENT),
  'condition-false': envelopeOf('conditional', SUBSCRIPTION),
};

export default {
  async fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 0);
    const op = url.searchParams.get('op') ?? 'plain';
    let count = 0;
    if (op === 'compile') {
      for (let i = 0; i < n; i++) {
        compileCondition(CONDITION);
        count += compileLets(LETS, undefined, () => undefined)?.names.size ?? 0;
      }
      return Response.json({ count });
    }
    const envelope = CASES[op];
    if (!envelope) return Response.json({ error: `no case ${op}` }, { status: 400 });
    const steps = source.stepsFor(envelope.type);
    for (let i = 0; i < n; i++) {
      const ctx = stepContext(envelope, env);
      for (const step of steps) {
        const out = step.run(ctx);
        const done = out instanceof Promise ? await out : out;
        count += done.statements?.length ?? 0;
      }
    }
    return Response.json({ count });
  },
};
