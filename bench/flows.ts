/**
 * Every flow of the default manifest that a realistic event reaches, as DATA (one entry per flow): the request it
 * sends, signed as its provider signs, the rows it expects to find, and the issue's capacity target if it has one.
 * Shared by the bench (bench/flows-worker.ts, printed by bench/capacity.ts) and the agreement test against `plan
 * --budget` (test/worker/budget-flows.test.ts); bench/flow-runner.ts delivers them.
 */
import {
  githubSignature,
  paddleSignature,
  stripeSignature,
  svixHeaders,
  twilioSignature,
} from '../test/support/sign.ts';

/** The origin requests are sent to (Twilio signs the full URL). */
export const FLOW_ORIGIN = 'https://switchyard.test';
/** The service token commands are called with (the runner sets it in the env). */
export const FLOW_SERVICE_TOKEN = 'flows-service-token';

/** What a flow's request needs: the secrets it is signed with and fresh ids. */
export interface FlowContext {
  secrets: Record<string, string>;
  uid(prefix: string): string;
}

/** A request to send, and the rows it expects to find (statements run unmetered before it). */
export interface FlowRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
  seed?: { sql: string; params: unknown[] }[];
}

/** A capacity target from the issue, checked on the flow's free-plan figure per event. */
export interface FlowTarget {
  events_per_day: number;
  why: string;
}

export interface Flow {
  /** How the table names it. */
  name: string;
  /** The budget row that prices it (`plan --budget`'s integration and pattern). */
  source: string;
  on: string;
  /** Of a type whose handlers have conditions (`if:`): the row's branch (`if …`, `skipped`) and the steps it leaves out. */
  branch?: string;
  without?: string[];
  /** Events one request carries (a /v1/track browser batch); figures are per event, and per request when > 1. */
  events?: number;
  /** Emails it sends per event: checked on every run (the fake provider receives them). */
  emails?: number;
  target?: FlowTarget;
  request(ctx: FlowContext): Promise<FlowRequest>;
}

const ONE_EMAIL: FlowTarget = { events_per_day: 10_000, why: 'a flow that sends one email' };
const NO_HANDLER_TARGET: FlowTarget = { events_per_day: 25_000, why: 'an event with no handler' };
const nowSeconds = () => Math.floor(Date.now() / 1000);
let visitors = 0;
/** A browser's address, new on each request: the route's per-IP rate-limit counter is a new row (its dearer case). */
const visitor = () => `198.18.${(++visitors >> 8) & 255}.${visitors & 255}`;
let phones = 0;
/** A phone number new on each event, in the 555 range no one is given. */
const phone = () => `+1555${String(++phones % 10_000_000).padStart(7, '0')}`;

const stripe =
  (
    type: string,
    object: (ctx: FlowContext) => Record<string, unknown>,
    seed?: (ctx: FlowContext, object: Record<string, unknown>) => FlowRequest['seed'],
  ) =>
  async (ctx: FlowContext): Promise<FlowRequest> => {
    const data = object(ctx);
    const body = JSON.stringify({
      id: ctx.uid('evt'),
      object: 'event',
      type,
      created: nowSeconds(),
      data: { object: data },
    });
    return {
      path: '/webhooks/stripe',
      body,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': await stripeSignature(ctx.secrets.STRIPE_WEBHOOK_SECRET!, body),
      },
      ...(seed ? { seed: seed(ctx, data) } : {}),
    };
  };
const svix =
  (
    path: string,
    secret: string,
    prefix: 'svix-' | 'webhook-',
    payload: (ctx: FlowContext) => unknown,
    seed?: (payload: any) => FlowRequest['seed'],
  ) =>
  async (ctx: FlowContext): Promise<FlowRequest> => {
    const data = payload(ctx);
    const body = JSON.stringify(data);
    return {
      path,
      body,
      headers: {
        'content-type': 'application/json',
        ...(await svixHeaders(prefix, ctx.secrets[secret]!, ctx.uid('msg'), body)),
      },
      ...(seed ? { seed: seed(data) } : {}),
    };
  };
const clerkUser = (type: string) => (ctx: FlowContext) => {
  const id = ctx.uid('user');
  // As Clerk sends a sign-up: the primary address verified (the welcome email's condition).
  const email = {
    id: `idn_${id}`,
    email_address: `${id}@example.com`,
    verification: { status: 'verified', strategy: 'email_code' },
  };
  const data =
    type === 'user.deleted'
      ? { id, deleted: true }
      : {
          id,
          first_name: 'Ada',
          last_name: 'Lovelace',
          created_at: Date.now(),
          primary_email_address_id: email.id,
          email_addresses: [email],
        };
  return { type, object: 'event', timestamp: Date.now(), data };
};
const command =
  (name: string, input: (ctx: FlowContext) => Record<string, unknown>) =>
  async (ctx: FlowContext): Promise<FlowRequest> => ({
    path: `/v1/commands/${name}`,
    body: JSON.stringify(input(ctx)),
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${FLOW_SERVICE_TOKEN}`,
      'idempotency-key': ctx.uid('key'),
    },
  });
const subscription = (ctx: FlowContext) => ({
  id: ctx.uid('sub'),
  customer: 'cus_flow',
  status: 'active',
  current_period_end: nowSeconds() + 30 * 86_400,
  items: { data: [{ price: { id: 'price_pro' } }] },
});

/**
 * The flows of the default manifest (integrations.yaml): every handler pattern a realistic event reaches, each
 * command, an integration with no handler, and /v1/track with a browser batch. An upsert meets a new row (its dearer
 * case, as the budget prices it); an UPDATE finds the row it updates (seeded). Adding a flow is one entry.
 */
export const FLOWS: Flow[] = [
  {
    name: 'stripe customer.subscription.updated',
    source: 'stripe',
    on: 'customer.subscription.updated',
    request: stripe('customer.subscription.updated', subscription),
  },
  {
    name: 'stripe payment_intent.succeeded (order paid + fulfillment message)',
    source: 'stripe',
    on: 'payment_intent.succeeded',
    target: { events_per_day: 3_333, why: 'payment_intent.succeeded' },
    // Its common branch: no SMS asked for, so the conditional text step is skipped (plan --budget's row without it).
    without: ['handlers[0].steps[2]'],
    request: stripe(
      'payment_intent.succeeded',
      (ctx) => ({
        id: ctx.uid('pi'),
        customer: 'cus_flow',
        amount: 1999,
        currency: 'usd',
        metadata: { order_id: ctx.uid('ord') },
      }),
      (_, o) => [
        {
          sql: "INSERT INTO orders (id, status) VALUES (?, 'unpaid')",
          params: [(o.metadata as { order_id: string }).order_id],
        },
      ],
    ),
  },
  {
    name: 'stripe payment_intent.succeeded (order paid + fulfillment message + SMS asked for)',
    source: 'stripe',
    on: 'payment_intent.succeeded',
    // The dearer branch: the application asked for a text (metadata.notify_sms), to a new number each time, so the
    // per-number limit never drops one and every run costs the same.
    request: stripe(
      'payment_intent.succeeded',
      (ctx) => ({
        id: ctx.uid('pi'),
        customer: 'cus_flow',
        amount: 1999,
        currency: 'usd',
        metadata: { order_id: ctx.uid('ord'), notify_sms: 'true', phone: phone() },
      }),
      (_, o) => [
        {
          sql: "INSERT INTO orders (id, status) VALUES (?, 'unpaid')",
          params: [(o.metadata as { order_id: string }).order_id],
        },
      ],
    ),
  },
  {
    name: 'stripe invoice.payment_failed (email)',
    source: 'stripe',
    on: 'invoice.payment_failed',
    emails: 1,
    target: ONE_EMAIL,
    request: stripe('invoice.payment_failed', (ctx) => ({
      id: ctx.uid('in'),
      customer_email: `${ctx.uid('pay')}@example.com`,
      amount_due: 1900,
      currency: 'usd',
      hosted_invoice_url: 'https://invoice.stripe.com/i/in_1',
    })),
  },
  {
    name: 'stripe customer.subscription.deleted',
    source: 'stripe',
    on: 'customer.subscription.deleted',
    request: stripe('customer.subscription.deleted', (ctx) => ({
      id: ctx.uid('sub'),
      customer: 'cus_flow',
      status: 'canceled',
    })),
  },
  {
    name: 'stripe charge.refunded, a type no handler matches',
    source: 'stripe',
    on: '(no handler)',
    target: NO_HANDLER_TARGET,
    request: stripe('charge.refunded', (ctx) => ({ id: ctx.uid('ch'), amount_refunded: 1900 })),
  },
  {
    name: 'clerk user.created (user row + welcome email)',
    source: 'clerk',
    on: 'user.created',
    emails: 1,
    target: ONE_EMAIL,
    request: svix('/webhooks/clerk', 'CLERK_WEBHOOK_SECRET', 'svix-', clerkUser('user.created')),
  },
  {
    name: 'clerk user.updated',
    source: 'clerk',
    on: 'user.updated',
    request: svix('/webhooks/clerk', 'CLERK_WEBHOOK_SECRET', 'svix-', clerkUser('user.updated')),
  },
  {
    name: 'clerk user.deleted',
    source: 'clerk',
    on: 'user.deleted',
    request: svix('/webhooks/clerk', 'CLERK_WEBHOOK_SECRET', 'svix-', clerkUser('user.deleted')),
  },
  {
    name: 'supabase users.insert',
    source: 'supabase',
    on: 'users.insert',
    request: svix('/webhooks/supabase', 'SUPABASE_WEBHOOK_SECRET', 'webhook-', () => ({
      type: 'INSERT',
      table: 'users',
      schema: 'auth',
      record: {
        id: crypto.randomUUID(),
        email: 'sb@example.com',
        raw_user_meta_data: { plan: 'pro' },
        created_at: new Date().toISOString(),
      },
      old_record: null,
    })),
  },
  {
    name: 'paddle subscription.created',
    source: 'paddle',
    on: 'subscription.created',
    async request(ctx) {
      const body = JSON.stringify({
        event_id: ctx.uid('evt'),
        event_type: 'subscription.created',
        occurred_at: new Date().toISOString(),
        data: {
          id: ctx.uid('sub'),
          customer_id: 'ctm_flow',
          status: 'active',
          current_billing_period: { ends_at: new Date(Date.now() + 30 * 86_400_000).toISOString() },
          items: [{ price: { id: 'pri_1' } }],
        },
      });
      return {
        path: '/webhooks/paddle',
        body,
        headers: {
          'content-type': 'application/json',
          'paddle-signature': await paddleSignature(ctx.secrets.PADDLE_WEBHOOK_SECRET!, body),
        },
      };
    },
  },
  {
    name: 'twilio message status',
    source: 'twilio',
    on: 'message.*',
    async request(ctx) {
      const sid = ctx.uid('SM');
      const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+15550001111' };
      const signature = await twilioSignature(ctx.secrets.TWILIO_AUTH_TOKEN!, `${FLOW_ORIGIN}/webhooks/twilio`, params);
      return {
        path: '/webhooks/twilio',
        body: new URLSearchParams(params).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        seed: [
          {
            sql: "INSERT INTO sms_logs (sid, to_number, body, status) VALUES (?, '+15550001111', 'hi', 'accepted')",
            params: [sid],
          },
        ],
      };
    },
  },
  {
    name: 'github, an integration with no handler',
    source: 'github',
    on: '(no handler)',
    target: NO_HANDLER_TARGET,
    async request(ctx) {
      const body = JSON.stringify({
        action: 'opened',
        issue: { number: 1, title: ctx.uid('issue') },
        repository: { full_name: 'octo/hello' },
        sender: { login: 'octocat' },
      });
      return {
        path: '/webhooks/github',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': crypto.randomUUID(),
          'x-hub-signature-256': await githubSignature(ctx.secrets.GITHUB_WEBHOOK_SECRET!, body),
        },
      };
    },
  },
  {
    name: 'resend email.delivered',
    source: 'resend',
    on: 'email.*',
    request: svix(
      '/webhooks/resend',
      'RESEND_WEBHOOK_SECRET',
      'svix-',
      () => ({
        type: 'email.delivered',
        created_at: new Date().toISOString(),
        data: { email_id: crypto.randomUUID() },
      }),
      (p) => [
        {
          sql: "INSERT INTO email_logs (id, to_email, subject, status) VALUES (?, 'a@example.com', 'Hi', 'submitted')",
          params: [p.data.email_id],
        },
      ],
    ),
  },
  {
    name: 'command send_password_reset (email)',
    source: 'command:send_password_reset',
    on: 'send_password_reset',
    emails: 1,
    target: ONE_EMAIL,
    request: command('send_password_reset', (ctx) => ({
      email: `${ctx.uid('reset')}@example.com`,
      reset_url: 'https://app.example.com/reset?t=1',
    })),
  },
  {
    name: 'command order_confirmation (email)',
    source: 'command:order_confirmation',
    on: 'order_confirmation',
    emails: 1,
    target: ONE_EMAIL,
    request: command('order_confirmation', (ctx) => ({
      order_id: ctx.uid('ord'),
      email: `${ctx.uid('buyer')}@example.com`,
      name: 'Ada',
    })),
  },
  {
    name: 'command sync_user',
    source: 'command:sync_user',
    on: 'sync_user',
    request: command('sync_user', (ctx) => ({
      id: ctx.uid('user'),
      email: `${ctx.uid('sync')}@example.com`,
      name: 'Ada',
    })),
  },
  {
    name: '/v1/track, a browser batch of 10 events',
    source: 'track',
    on: '*',
    events: 10,
    target: { events_per_day: 30_000, why: '/v1/track tracked events' },
    async request(ctx) {
      const distinct = ctx.uid('anon');
      const events = Array.from({ length: 10 }, (_, i) => ({
        event: i ? 'page_view' : 'signup_started',
        distinct_id: distinct,
        properties: { path: `/page/${i}`, referrer: 'https://example.com/' },
      }));
      return {
        path: '/v1/track',
        body: JSON.stringify({ events }),
        headers: {
          'content-type': 'application/json',
          'x-switchyard-key': 'pk_dev_switchyard',
          origin: 'https://app.example.com',
          'cf-connecting-ip': visitor(),
        },
      };
    },
  },
];
