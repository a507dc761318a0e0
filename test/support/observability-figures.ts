/**
 * The log volume docs/observability.md states, measured by test/worker/observability.test.ts and checked in the page
 * by test/node/observability.test.ts: records switchyard writes per event (the platform adds one invocation log per
 * invocation), and the longest line they measured.
 */
export const RECORDS_PER_EVENT = {
  /** Clerk user.created applied in the request, its welcome email sent: event.applied, webhook.accepted, effect.sent. */
  inRequestWithEmail: 3,
  /** Stripe customer.subscription.created queued, then applied by the consumer (SQL only). */
  queuedSqlOnly: 2,
};

/** Bytes of the longest of those lines (JSON, before the platform's own fields). */
export const MAX_LINE_BYTES = 300;
