import type { EndpointEvent, EndpointHandler } from '../../runtime/component/endpoint.ts';
import { utf8 } from '../../runtime/lib/bytes.ts';
import { defineComponent } from '../../runtime/component/define.ts';
import { field } from '../../runtime/component/spec.ts';
import { errorResponse, readBody } from '../../runtime/lib/http.ts';

interface IncomingEvent {
  event?: unknown;
  properties?: unknown;
  distinct_id?: unknown;
  timestamp?: unknown;
}

/** 64 KiB: a browser batch of analytics events; anything larger is not a batch of events. */
export const TRACK_MAX_BODY = 64 * 1024;
/** Events waiting on the route's queue above which new batches answer 503 (public traffic must not pile up). */
export const DEFAULT_MAX_QUEUED = 10_000;
/** How far ahead of the server a browser's event time may be. */
const MAX_FUTURE_MS = 86_400_000;
/** How deep a batch may nest: the batch, an event, its properties and a few levels of values. */
export const TRACK_MAX_DEPTH = 16;

/** The deepest nesting of arrays and objects in JSON text, counted without parsing (strings skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * `POST /v1/track`: a batch of analytics events from browsers, authenticated by the route's JWT provider or by a
 * publishable project key (`X-Switchyard-Key`) from an allowed origin. Each event gets an `$insert_id`, a time
 * and the user's id; the request's events are queued as ONE message (one event in the log) for the route's handlers,
 * which run for each event and send them on to Mixpanel or PostHog in one call per provider.
 * Answers 202 as soon as the events are queued. The body is read bounded (TRACK_MAX_BODY), credentials are checked
 * before the route's rate limit (precheck), and a backlog over `max_queued` answers 503.
 */
export const trackEndpoint = defineComponent({
  kind: 'endpoint',
  name: 'track',
  title: 'TrackEndpoint',
  description: 'Collects analytics events from browsers and queues them for the route handlers.',
  auth: 'optional',
  queue: true,
  spec: {
    max_events: field.integer({ minimum: 1, maximum: 500 }).default(100).describe('Events per request.'),
    publishable_keys: field
      .list(field.string({ pattern: '^pk_[A-Za-z0-9_]+$' }))
      .optional()
      .describe('Public project keys a browser may send instead of a JWT.'),
    origins: field
      .list(field.string({ pattern: '^https?://[^/]+$' }))
      .optional()
      .describe('Origins allowed to send events (CORS).'),
    max_queued: field
      .integer({ minimum: 1 })
      .default(DEFAULT_MAX_QUEUED)
      .describe("Answer 503 while more events than this wait on the route's queue, not yet consumed."),
  },
  example: { type: 'track', publishable_keys: ['pk_example_web'], origins: ['https://app.example.com'] },
  create(options) {
    const { max_events: maxEvents, max_queued: maxQueued } = options;
    const keys = new Set(options.publishable_keys ?? []);
    const origins = new Set(options.origins ?? []);
    const corsFor = (request: Request): Record<string, string> => {
      const origin = request.headers.get('origin');
      return origin && origins.has(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    };
    const handler: EndpointHandler = async (ctx) => {
      const cors = corsFor(ctx.request);
      const bytes = await readBody(ctx.request, TRACK_MAX_BODY);
      if (!bytes)
        return errorResponse(413, { error: 'payload_too_large', message: `at most ${TRACK_MAX_BODY} bytes` }, cors);
      const text = utf8.decode(bytes);
      // A deeply nested event would overflow the stack when it is cloned into a queue message (a 500).
      if (jsonDepth(text) > TRACK_MAX_DEPTH)
        return errorResponse(
          400,
          { error: 'bad_request', message: `the body nests deeper than ${TRACK_MAX_DEPTH} levels`, reason: 'too_deep' },
          cors,
        );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return errorResponse(400, { error: 'bad_request', message: 'the body is not JSON' }, cors);
      }
      const list = (Array.isArray(body) ? body : (body as { events?: unknown })?.events) as IncomingEvent[] | undefined;
      if (!Array.isArray(list) || list.length === 0 || list.length > maxEvents)
        return errorResponse(
          400,
          { error: 'bad_request', message: `send {"events": [...]} with 1 to ${maxEvents} events` },
          cors,
        );
      const events: EndpointEvent[] = [];
      const rejected: { index: number; reason: 'invalid_timestamp' }[] = [];
      for (const [index, e] of list.entries()) {
        if (typeof e?.event !== 'string' || e.event.length === 0 || e.event.length > 200)
          return errorResponse(
            400,
            { error: 'bad_request', message: 'every event needs an "event" name (1-200 characters)' },
            cors,
          );
        const time =
          typeof e.timestamp === 'number'
            ? e.timestamp
            : typeof e.timestamp === 'string'
              ? Date.parse(e.timestamp)
              : ctx.now;
        const at = Number.isFinite(time) ? time : ctx.now;
        // A browser clock can be wrong; a time no date can hold (or before 1970, or a day ahead) is refused alone.
        if (at < 0 || at > ctx.now + MAX_FUTURE_MS) {
          rejected.push({ index, reason: 'invalid_timestamp' });
          continue;
        }
        const insertId = crypto.randomUUID();
        const distinctId = ctx.user?.sub ?? (typeof e.distinct_id === 'string' ? e.distinct_id : 'anonymous');
        const properties =
          e.properties && typeof e.properties === 'object' && !Array.isArray(e.properties)
            ? (e.properties as Record<string, unknown>)
            : {};
        events.push({
          id: insertId,
          type: e.event,
          occurred_at: new Date(at).toISOString(),
          payload: {
            event: e.event,
            distinct_id: distinctId,
            properties: {
              ...properties,
              $insert_id: insertId,
              time: at,
              ...(ctx.user ? { user_id: ctx.user.sub } : {}),
            },
          },
        });
      }
      if (events.length === 0)
        return errorResponse(
          400,
          {
            error: 'bad_request',
            message: 'no event has a usable timestamp (ms since 1970, at most a day ahead)',
            reason: 'invalid_timestamp',
          },
          cors,
        );
      if ((await ctx.queueDepth()) + events.length > maxQueued) {
        return errorResponse(
          503,
          { error: 'unavailable', message: 'too many analytics events are waiting; retry later', reason: 'backlog' },
          { ...cors, 'retry-after': '60' },
        );
      }
      const queued = await ctx.enqueue(events);
      // Past a tracked_events limit that drops, the batch is answered (a browser must not retry it) and not queued.
      const dropped = events.length - queued;
      return Response.json(
        {
          accepted: queued,
          ...(dropped ? { dropped, reason: 'limit_reached' } : {}),
          ...(rejected.length ? { rejected } : {}),
        },
        { status: 202, headers: cors },
      );
    };
    // Origin, preflight and credentials need no D1: answered before the route's rate limit is counted.
    handler.precheck = (request, user) => {
      const cors = corsFor(request);
      const origin = request.headers.get('origin');
      if (origin && origins.size && !origins.has(origin))
        return errorResponse(403, { error: 'forbidden', message: 'origin not allowed' });
      if (request.method === 'OPTIONS') {
        return new Response(null, {
          status: 204,
          headers: {
            ...cors,
            'access-control-allow-methods': 'POST',
            'access-control-allow-headers': 'content-type, authorization, x-switchyard-key',
            'access-control-max-age': '600',
          },
        });
      }
      const key = request.headers.get('x-switchyard-key');
      if (!user && !(key && keys.has(key)))
        return errorResponse(
          401,
          { error: 'unauthorized', message: 'send a bearer token or a publishable key', reason: 'missing_credentials' },
          cors,
        );
      return undefined;
    };
    return handler;
  },
});
