/** Shared shape of analytics actions: an event name, a distinct id and properties, each a value from the event. */
import type { StepContext } from '../../runtime/component/context.ts';
import { compilePath, compileValue, readPath } from '../../runtime/language/values.ts';
import { field, type Options } from '../../runtime/component/spec.ts';
import type { Value } from '../../runtime/manifest/types.gen.ts';
import { compileValueMap, valueField } from './message.ts';

/** The options every analytics action has. */
export const analyticsSpec = {
  event: valueField('Event name (a constant or from the event).'),
  distinct_id: valueField('The user the event belongs to.'),
  properties: field.record(field.ref<Value>('Value')).optional().describe('Event properties.'),
  include: field
    .string()
    .optional()
    .describe(
      "A path to an object in the event whose fields are all sent as properties (e.g. a tracked event's properties).",
    ),
} as const;

export interface AnalyticsEvent {
  event: string;
  distinct_id: string;
  /** Milliseconds since the epoch: when it happened (occurred_at), else when it was received. */
  time: number;
  properties: Record<string, unknown>;
}

export function compileAnalytics(options: Options<typeof analyticsSpec>): (ctx: StepContext) => AnalyticsEvent {
  const event = compileValue(options.event, { allowEnvelope: true });
  const distinctId = compileValue(options.distinct_id, { allowEnvelope: true });
  const properties = compileValueMap(options.properties);
  const include = options.include ? compilePath(options.include) : undefined;
  return (ctx) => {
    const included = include ? readPath(include, ctx.values) : undefined;
    return {
      event: String(event(ctx.values)),
      distinct_id: String(distinctId(ctx.values)),
      time: Date.parse(ctx.envelope.occurred_at ?? ctx.envelope.received_at) || Date.now(),
      properties: {
        ...(included && typeof included === 'object' ? (included as Record<string, unknown>) : {}),
        ...properties(ctx),
      },
    };
  };
}

/** A UUID-shaped id from a 32-hex-digit stable id (PostHog dedups on uuid). */
export const asUuid = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
