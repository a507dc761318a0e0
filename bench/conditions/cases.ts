/**
 * The five flows of issue 26 ("Conditions and reshaping") as events a provider sends, each with the condition it
 * needs: a matching event, a non-matching one, and a hand-written JS check of the same condition (the fair baseline
 * every candidate language is measured against). bench/conditions-languages.ts measures them.
 */

/** A flow's name, as the doc's tables say it. */
export type FlowName = 'stripe_mode' | 'clerk_verified' | 'sms_opt_in' | 'big_invoice' | 'github_main';

export interface Flow {
  name: FlowName;
  /** What the condition decides, in words. */
  says: string;
  /** An event that matches, and one that does not. */
  match: unknown;
  miss: unknown;
  /** The same condition written by hand in JS: what a language's evaluation is compared against. */
  js: (payload: any) => boolean;
}

/** Pads a Stripe event with a `padding` string to `bytes` of JSON, as bench/ingest.ts pads its 4 KB events. */
export function padded<T extends object>(event: T, bytes: number): T {
  const filler = 'x'.repeat(Math.max(0, bytes - JSON.stringify({ ...event, padding: '' }).length));
  return { ...event, padding: filler };
}

/** A 1 MB Stripe event: a checkout session whose line items are many (what a condition must not walk). */
export function large(event: { data: { object: Record<string, unknown> } }, bytes = 1 << 20): unknown {
  const item = {
    id: 'li_1',
    object: 'item',
    amount_total: 1000,
    currency: 'usd',
    description: 'Seat',
    price: { id: 'price_1', unit_amount: 1000 },
    quantity: 1,
  };
  const each = JSON.stringify(item).length + 1;
  const items = Array.from({ length: Math.floor(bytes / each) }, (_, i) => ({ ...item, id: `li_${i}` }));
  return { ...event, data: { object: { ...event.data.object, line_items: { object: 'list', data: items } } } };
}

const checkout = (mode: string) => ({
  id: 'evt_1',
  object: 'event',
  type: 'checkout.session.completed',
  created: 1765000000,
  data: {
    object: {
      id: 'cs_1',
      object: 'checkout.session',
      mode,
      customer: 'cus_1',
      subscription: mode === 'subscription' ? 'sub_1' : null,
      amount_total: 2000,
      currency: 'usd',
      payment_status: 'paid',
      metadata: {},
    },
  },
});

const clerk = (status: string) => ({
  object: 'event',
  type: 'user.created',
  timestamp: 1765000000000,
  data: {
    id: 'user_1',
    object: 'user',
    primary_email_address_id: 'idn_2',
    email_addresses: [
      { id: 'idn_1', email_address: 'old@example.com', verification: { status: 'verified', strategy: 'email_code' } },
      { id: 'idn_2', email_address: 'ada@example.com', verification: { status, strategy: 'email_code' } },
    ],
  },
});

/** Stripe metadata values are strings: `notify_sms` is `"true"`, never the boolean. */
const customer = (notify: string) => ({
  id: 'evt_3',
  object: 'event',
  type: 'customer.created',
  created: 1765000000,
  data: { object: { id: 'cus_1', object: 'customer', phone: '+15555550100', metadata: { notify_sms: notify } } },
});

const invoice = (amount: number, currency: string) => ({
  id: 'evt_4',
  object: 'event',
  type: 'invoice.finalized',
  created: 1765000000,
  data: { object: { id: 'in_1', object: 'invoice', amount_due: amount, currency, customer: 'cus_1', status: 'open' } },
});

const push = (ref: string) => ({
  ref,
  before: 'a'.repeat(40),
  after: 'b'.repeat(40),
  repository: { full_name: 'acme/app', default_branch: 'main' },
  pusher: { name: 'ada' },
  commits: [],
});

/** The five flows, each on a 4 KB event (the bench's size). */
export const FLOWS: Flow[] = [
  {
    name: 'stripe_mode',
    says: 'Stripe checkout.session.completed for a subscription (the payment branch is the same test with "payment")',
    match: padded(checkout('subscription'), 4096),
    miss: padded(checkout('payment'), 4096),
    js: (p) => p?.data?.object?.mode === 'subscription',
  },
  {
    name: 'clerk_verified',
    says: 'Clerk user.created whose primary email address is verified',
    match: padded(clerk('verified'), 4096),
    miss: padded(clerk('unverified'), 4096),
    js: (p) =>
      p?.data?.email_addresses?.find((e: any) => e?.id === p.data.primary_email_address_id)?.verification?.status ===
      'verified',
  },
  {
    name: 'sms_opt_in',
    says: 'an SMS only when the customer metadata says notify_sms (Stripe metadata values are strings)',
    match: padded(customer('true'), 4096),
    miss: padded(customer('false'), 4096),
    js: (p) => p?.data?.object?.metadata?.notify_sms === 'true',
  },
  {
    name: 'big_invoice',
    says: 'a Slack alert for an invoice above 1,000 USD (amount_due in cents)',
    match: padded(invoice(250000, 'usd'), 4096),
    miss: padded(invoice(250000, 'eur'), 4096),
    js: (p) =>
      p?.data?.object?.currency === 'usd' &&
      typeof p.data.object.amount_due === 'number' &&
      p.data.object.amount_due > 100000,
  },
  {
    name: 'github_main',
    says: 'GitHub push to main only',
    match: padded(push('refs/heads/main'), 4096),
    miss: padded(push('refs/heads/feature'), 4096),
    js: (p) => p?.ref === 'refs/heads/main',
  },
];

/** The 1 MB case: flow 1 on a checkout session with about 1 MB of line items. */
export const LARGE_FLOW: Flow = {
  ...FLOWS[0]!,
  match: large(checkout('subscription')),
  miss: large(checkout('payment')),
};
