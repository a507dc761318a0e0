import type { EndpointAdapter, EndpointEvent } from '../../runtime/endpoints.ts';
import { errorResponse } from '../../runtime/http.ts';
import type { TrackEndpoint } from '../../runtime/manifest/types.gen.ts';

type TrackOptions = Omit<TrackEndpoint, 'type'>;

interface IncomingEvent {
  event?: unknown;
  properties?: unknown;
  distinct_id?: unknown;
  timestamp?: unknown;
}

/** 64 KiB: a browser batch of analytics events; anything larger is not a batch of events. */
export const TRACK_MAX_BODY = 64 * 1024;

/**
 * `POST /v1/track`: a batch of analytics events from browsers, authenticated by the route's JWT provider or by a
 * publishable project key (`X-Switchyard-Key`) from an allowed origin. Each event gets an `$insert_id`, a time
 * and the user's id, and is queued for the route's handlers (which send it on to Mixpanel or PostHog in batches).
 * Answers 202 as soon as the events are queued.
 */
export const trackEndpoint: EndpointAdapter<TrackOptions> = {
  type: 'track',
  title: 'TrackEndpoint',
  description: 'Collects analytics events from browsers and queues them for the route handlers.',
  auth: 'optional',
  queue: true,
  options: {
    properties: {
      max_events: { type: 'integer', minimum: 1, maximum: 500, description: 'Events per request (default 100).' },
      publishable_keys: { type: 'array', items: { type: 'string', pattern: '^pk_[A-Za-z0-9_]+$' }, description: 'Public project keys a browser may send instead of a JWT.' },
      origins: { type: 'array', items: { type: 'string', pattern: '^https?://[^/]+$' }, description: 'Origins allowed to send events (CORS).' },
    },
  },
  example: { type: 'track', publishable_keys: ['pk_example_web'], origins: ['https://app.example.com'] },
  create(options) {
    const maxEvents = options.max_events ?? 100;
    const keys = new Set(options.publishable_keys ?? []);
    const origins = new Set(options.origins ?? []);
    return async (ctx) => {
      const origin = ctx.request.headers.get('origin');
      const cors: Record<string, string> = origin && origins.has(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
      if (origin && origins.size && !origins.has(origin)) return errorResponse(403, { error: 'forbidden', message: 'origin not allowed' });
      if (ctx.request.method === 'OPTIONS') {
        return new Response(null, { status: 204, headers: { ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, authorization, x-switchyard-key', 'access-control-max-age': '600' } });
      }
      const key = ctx.request.headers.get('x-switchyard-key');
      if (!ctx.user && !(key && keys.has(key))) return errorResponse(401, { error: 'unauthorized', message: 'send a bearer token or a publishable key', reason: 'missing_credentials' }, cors);
      const text = await ctx.request.text();
      if (text.length > TRACK_MAX_BODY) return errorResponse(413, { error: 'payload_too_large', message: `at most ${TRACK_MAX_BODY} bytes` }, cors);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return errorResponse(400, { error: 'bad_request', message: 'the body is not JSON' }, cors);
      }
      const list = (Array.isArray(body) ? body : (body as { events?: unknown })?.events) as IncomingEvent[] | undefined;
      if (!Array.isArray(list) || list.length === 0 || list.length > maxEvents) return errorResponse(400, { error: 'bad_request', message: `send {"events": [...]} with 1 to ${maxEvents} events` }, cors);
      const events: EndpointEvent[] = [];
      for (const e of list) {
        if (typeof e?.event !== 'string' || e.event.length === 0 || e.event.length > 200) return errorResponse(400, { error: 'bad_request', message: 'every event needs an "event" name (1-200 characters)' }, cors);
        const time = typeof e.timestamp === 'number' ? e.timestamp : typeof e.timestamp === 'string' ? Date.parse(e.timestamp) : ctx.now;
        const at = Number.isFinite(time) ? time : ctx.now;
        const insertId = crypto.randomUUID();
        const distinctId = ctx.user?.sub ?? (typeof e.distinct_id === 'string' ? e.distinct_id : 'anonymous');
        const properties = e.properties && typeof e.properties === 'object' && !Array.isArray(e.properties) ? (e.properties as Record<string, unknown>) : {};
        events.push({
          id: insertId,
          type: e.event,
          occurred_at: new Date(at).toISOString(),
          payload: { event: e.event, distinct_id: distinctId, properties: { ...properties, $insert_id: insertId, time: at, ...(ctx.user ? { user_id: ctx.user.sub } : {}) } },
        });
      }
      await ctx.enqueue(events);
      return Response.json({ accepted: events.length }, { status: 202, headers: cors });
    };
  },
};
