/** One limit under `limits:` (counted by consumer/limits.ts): pure data. */
import { field } from '../../component/spec.ts';
import { PERIODS } from '../../lib/periods.ts';

export const limitSpec = {
  period: field.enum(PERIODS).describe('The window the limit counts over (UTC).'),
  limit: field.integer({ minimum: 1 }).describe('How many are allowed per period (and per key).'),
  warn_at: field
    .number({ exclusiveMinimum: 0, maximum: 1 })
    .describe('Warn once when usage reaches this fraction.')
    .default(0.8),
  on_exceed: field
    .enum(['warn', 'defer', 'drop'])
    .describe('warn: send anyway; defer: retry after the period resets; drop: skip and record limit.dropped.')
    .default('warn'),
  per: field.ref('Value').describe('Count separately per value (e.g. the recipient), from the event.').optional(),
  per_recipient: field
    .boolean()
    .describe(
      "Count separately per recipient of each send (the SMS's number, the email's address), whatever the event calls it.",
    )
    .optional(),
  counts: field
    .enum(['sends', 'active_users', 'tracked_events', 'operations'])
    .describe(
      "What is counted. sends: each send of an action step that names the limit. active_users: each signed-in user once per period, on routes that name it (Clerk's MAU); it only warns. tracked_events: each event queued by a route that names it (track, and the api_request events routed to it); warn or drop. operations: what the application counts itself, through a command's `count:` (an OpenAI request made from its own code).",
    )
    .default('sends'),
  description: field.string().optional(),
  notify: field
    .ref('Step')
    .describe('An action step sent once when the limit reaches warn_at and once when it is exceeded, per period.')
    .optional(),
};

/** The Limit definition. */
export const limit = field.object(limitSpec).title('Limit');
