/** A route's `analytics:` (manifest/request-analytics.ts sends it): pure data. */
import { field } from '../../component/spec.ts';
import { NAME_PATTERN } from './names.ts';

export const requestPrivacySpec = {
  ip: field
    .enum(['none', 'truncated', 'full'])
    .describe('The client IP: left out, truncated to its /24 (IPv4) or /48 (IPv6) network, or whole.')
    .default('truncated'),
  country: field.boolean().describe("The client's country from request.cf.country.").default(true),
};

export const routeAnalyticsSpec = {
  to: field
    .string({ pattern: NAME_PATTERN })
    .describe('A route whose endpoint queues analytics events (e.g. track): its queue and handlers deliver these.'),
  event: field.string({ minLength: 1, maxLength: 200 }).describe('The event name.').default('api_request'),
  query: field
    .boolean()
    .describe('Keep the query string in `path` (false: query strings carry tokens and e-mail addresses).')
    .default(false),
  privacy: field.object(requestPrivacySpec).title('RequestPrivacy').default({}),
  description: field.string().optional(),
};

/** The RouteAnalytics definition. */
export const routeAnalytics = field
  .object(routeAnalyticsSpec)
  .title('RouteAnalytics')
  .describe('Track each proxied request as an analytics event, queued after the response (never delaying it).');
