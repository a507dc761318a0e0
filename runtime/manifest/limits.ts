/**
 * The `limits:` section: each limit's shape (its schema) and what the schema cannot say about one entry. The stages
 * count against the compiled limits (consumer/limits.ts).
 */
import { PERIODS } from '../lib/periods.ts';

export const limitSchema = {
  type: 'object',
  title: 'Limit',
  additionalProperties: false,
  required: ['period', 'limit'],
  properties: {
    period: { enum: PERIODS, description: 'The window the limit counts over (UTC).' },
    limit: { type: 'integer', minimum: 1, description: 'How many are allowed per period (and per key).' },
    warn_at: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Warn once when usage reaches this fraction (default 0.8).' },
    on_exceed: { enum: ['warn', 'defer', 'drop'], description: 'warn: send anyway; defer: retry after the period resets; drop: skip and record limit.dropped.' },
    per: { $ref: '#/definitions/Value', description: 'Count separately per value (e.g. the recipient), from the event.' },
    per_recipient: { type: 'boolean', description: "Count separately per recipient of each send (the SMS's number, the email's address), whatever the event calls it." },
    counts: {
      enum: ['sends', 'active_users', 'tracked_events', 'operations'],
      description:
        "What is counted. sends (default): each send of an action step that names the limit. active_users: each signed-in user once per period, on routes that name it (Clerk's MAU); it only warns. tracked_events: each event queued by a route that names it (track, and the api_request events routed to it); warn or drop. operations: what the application counts itself, through a command's `count:` (an OpenAI request made from its own code).",
    },
    description: { type: 'string' },
  },
} as const;

/** What a schema cannot say about one `limits:` entry: which options fit what it counts. */
export function limitProblems(spec: { counts?: string; per?: unknown; per_recipient?: boolean; on_exceed?: string }, at: (string | number)[]): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const counts = spec.counts ?? 'sends';
  if (spec.per !== undefined && spec.per_recipient) problems.push({ path: [...at, 'per_recipient'], message: 'use per or per_recipient, not both' });
  if (counts !== 'sends' && (spec.per !== undefined || spec.per_recipient)) problems.push({ path: [...at, spec.per !== undefined ? 'per' : 'per_recipient'], message: `a limit that counts ${counts} is counted as a whole: per applies to sends` });
  // A count of users must never lock them out unannounced: past it, switchyard warns and serves.
  if (counts === 'active_users' && (spec.on_exceed ?? 'warn') !== 'warn') problems.push({ path: [...at, 'on_exceed'], message: 'a limit on active users only warns: switchyard never refuses a signed-in user over a count' });
  if (counts === 'tracked_events' && spec.on_exceed === 'defer') problems.push({ path: [...at, 'on_exceed'], message: 'tracked events cannot wait for the next period: use warn or drop' });
  return problems;
}
