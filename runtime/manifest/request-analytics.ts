/**
 * Request analytics on upstream routes (`analytics:` on a route): each proxied request becomes one analytics event
 * (`api_request` by default) queued for the handlers of a route that collects analytics (the `track` endpoint's
 * queue and its batched PostHog/Mixpanel sends). The send runs under `ctx.waitUntil`, after the response is on
 * its way: it never delays the answer, and a failed send is logged (`analytics.send_failed`), never the caller's
 * problem. Cost: one queue message per proxied request (a `send`, not `sendBatch`: there is one), about 3 Queues
 * operations (write, read, delete), plus what the consumer's handlers cost for any queued event.
 */
import type { AuthenticatedUser } from '../component/auth.ts';
import type { Envelope, RuntimeEnv } from '../lib/envelope.ts';
import type { PlatformUsage } from '../lib/platform.ts';
import type { Emit } from '../lib/telemetry.ts';
import type { RouteAnalytics } from './types.gen.ts';

/** A route's `analytics:` as the manifest writes it: the generated `RouteAnalytics`. */
export type RouteAnalyticsOptions = RouteAnalytics;

/** A route's analytics, compiled. */
export interface CompiledRouteAnalytics {
  to: string;
  event: string;
  query: boolean;
  ip: 'none' | 'truncated' | 'full';
  country: boolean;
}

export function compileRouteAnalytics(options: RouteAnalyticsOptions): CompiledRouteAnalytics {
  // Defaults applied from the spec (runtime/manifest/sections/analytics.ts) before compile: each value is there.
  return {
    to: options.to,
    event: options.event!,
    query: options.query!,
    ip: options.privacy!.ip!,
    country: options.privacy!.country!,
  };
}

/** Expands an IPv6 address into its 8 groups (numbers), or undefined when it is not one. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip.replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((n) => n > 255)) return undefined;
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * The client IP as the privacy setting allows: `none` leaves it out, `truncated` keeps the network (IPv4 /24:
 * `203.0.113.0`; IPv6 /48: `2001:db8:85a3::`; an IPv4-mapped IPv6 address as IPv4), `full` keeps it whole. Anything that is not an IP is left out.
 * @example clientIp('203.0.113.77', 'truncated') === '203.0.113.0'
 */
export function clientIp(ip: string | null | undefined, mode: CompiledRouteAnalytics['ip']): string | undefined {
  if (!ip || mode === 'none') return undefined;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((n) => n > 255)) return undefined;
    return mode === 'full' ? octets.join('.') : `${octets.slice(0, 3).join('.')}.0`;
  }
  const groups = ipv6Groups(ip);
  if (!groups) return undefined;
  // An IPv4-mapped address (::ffff:192.0.2.1) is an IPv4 client: its /24, not a /48 of zeros.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return clientIp([groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.'), mode);
  }
  if (mode === 'full') return ip.toLowerCase();
  const network = groups.slice(0, 3);
  while (network.length && network[network.length - 1] === 0) network.pop();
  return `${network.map((g) => g.toString(16)).join(':')}::`;
}

export interface RequestFacts {
  /** The route's name and its path pattern. */
  route: { name: string; path: string };
  request: Request;
  status: number;
  startedMs: number;
  endedMs: number;
  user?: AuthenticatedUser;
}

/** The analytics event for one request, as the track endpoint would have queued it (the same payload shape). */
export function requestEnvelope(analytics: CompiledRouteAnalytics, facts: RequestFacts): Envelope {
  const url = new URL(facts.request.url);
  const id = crypto.randomUUID();
  const at = new Date(facts.startedMs).toISOString();
  const country = analytics.country
    ? (facts.request as Request & { cf?: { country?: unknown } }).cf?.country
    : undefined;
  const ip = clientIp(facts.request.headers.get('cf-connecting-ip'), analytics.ip);
  const properties: Record<string, unknown> = {
    $insert_id: id,
    time: facts.startedMs,
    route: facts.route.name,
    route_path: facts.route.path,
    path: analytics.query ? `${url.pathname}${url.search}` : url.pathname,
    method: facts.request.method,
    status: facts.status,
    duration_ms: Math.max(0, facts.endedMs - facts.startedMs),
    ...(facts.user ? { user_id: facts.user.sub } : {}),
    ...(typeof country === 'string' && country ? { country } : {}),
    ...(ip ? { ip } : {}),
  };
  return {
    integration: analytics.to,
    id,
    type: analytics.event,
    occurred_at: at,
    received_at: at,
    payload: { event: analytics.event, distinct_id: facts.user?.sub ?? 'anonymous', properties },
  };
}

export interface TrackDeps {
  emit: Emit;
  usage?: PlatformUsage;
}

/**
 * Queues one request's event on the collecting route's queue. Never rejects: a missing source or binding, or a
 * send that throws, is logged as `analytics.send_failed` and the request it describes is unaffected.
 */
export async function trackRequest(
  analytics: CompiledRouteAnalytics,
  source: { queue: { name: string; binding: string } } | undefined,
  facts: RequestFacts,
  env: RuntimeEnv,
  deps: TrackDeps,
): Promise<void> {
  try {
    if (!source) throw new Error(`route ${analytics.to} queues no events`);
    const queue = env[source.queue.binding] as Queue | undefined;
    if (!queue) throw new Error(`queue ${source.queue.name} is not bound`);
    await queue.send(requestEnvelope(analytics, facts), { contentType: 'json' });
    deps.usage?.queued('sent', source.queue.name, 1);
  } catch (error) {
    deps.emit({
      kind: 'analytics.send_failed',
      route: facts.route.name,
      to: analytics.to,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
