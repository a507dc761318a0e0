/**
 * Built-in application endpoints (analytics collection, feature flags, uploads) are adapters: the core runs a
 * route's auth, requirements and rate limit, then hands the request to the endpoint with this context.
 */
import type { AuthenticatedUser } from './auth.ts';
import type { RuntimeEnv } from '../lib/envelope.ts';
import type { Emit } from '../lib/telemetry.ts';

export interface EndpointEvent {
  id: string;
  type: string;
  occurred_at: string | null;
  payload: unknown;
}

export interface EndpointContext {
  request: Request;
  env: RuntimeEnv;
  /** The verified user, when the route has auth and a token was presented. */
  user?: AuthenticatedUser;
  route: string;
  now: number;
  fetch: typeof fetch;
  emit: Emit;
  /**
   * Queues events for the route's own handlers (the route must declare a queue), as ONE batch: one message and one
   * event in the log (more messages only past Queues' 128 KB limit). Resolves to how many were queued: 0 when a
   * tracked_events limit of the route with `on_exceed: drop` is reached. A 413 when one event cannot fit a message.
   */
  enqueue(events: EndpointEvent[]): Promise<number>;
  /** Events on the route's queue not yet delivered to its consumer (an estimate shared by every isolate). */
  queueDepth(): Promise<number>;
}

/**
 * What an endpoint adapter builds: the handler, and optionally a precheck the core runs before the rate limit.
 * A precheck answers what needs no D1 (preflight, a wrong origin, missing credentials), so a request refused
 * there costs no D1 write and never counts against the real users of its IP.
 */
export interface EndpointHandler {
  (ctx: EndpointContext): Promise<Response>;
  precheck?(request: Request, user: AuthenticatedUser | undefined): Response | undefined;
}

/** What an endpoint declares besides `create`. */
export interface EndpointHooks {
  /** `optional`: the core verifies a token only when one is presented (track also takes publishable keys). */
  auth: 'required' | 'optional';
  /** Whether the route must declare a queue (and may declare handlers) for this endpoint's events. */
  queue?: boolean;
}
