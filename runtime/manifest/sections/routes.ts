/** The application side of the manifest: `auth:`'s requirements, `routes:` and `admin:`. Pure data. */
import { field } from '../../component/spec.ts';
import { PERIODS } from '../../lib/periods.ts';
import { BINDING_PATTERN, HEADER_PATTERN, NAME_PATTERN } from './names.ts';
import { ROUTE_METHODS } from './route-methods.ts';

const claimFromEnv = field
  .object({
    env: field
      .string({ pattern: BINDING_PATTERN })
      .describe('A Worker variable (wrangler.toml [vars]); unset or empty matches nothing.'),
  })
  .title('ClaimFromEnv')
  .describe('The value of a Worker variable, e.g. the id of the organisation whose admins may use the admin API.');

export const requirement = field
  .object({
    claims: field
      .record(field.anyOf([{ type: ['string', 'number', 'boolean'] }, claimFromEnv]))
      .describe('Claims that must have exactly these values (a constant, or `{ env: NAME }`).')
      .optional(),
    roles: field.list(field.string(), { minItems: 1 }).describe('Any one of these roles.').optional(),
    roles_claim: field.string().describe('The claim holding roles (roles when not given).').optional(),
  })
  .title('Requirement')
  .describe(
    'What a token must carry. For the admin API it must name at least one claim: roles alone can be self-granted (whoever creates a Clerk organisation is its org:admin).',
  );

export const rateLimit = field
  .object({ limit: field.integer({ minimum: 1 }), period: field.enum(PERIODS), per: field.enum(['user', 'ip']) })
  .title('RateLimit');

const headers = (description: string) =>
  field
    .record(field.string(), { propertyNames: { pattern: HEADER_PATTERN } })
    .describe(description)
    .optional();

export const routeSpec = {
  description: field.string().optional(),
  path: field.string({ pattern: '^/[A-Za-z0-9._~/:*-]*$' }).describe('Path pattern, e.g. /api/* or /v1/track.'),
  methods: field
    .list(field.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']), { minItems: 1, uniqueItems: true })
    .describe(
      `The methods it answers (when not given: ${ROUTE_METHODS.endpoint.join(', ')} for an endpoint, ${ROUTE_METHODS.upstream.join(', ')} for an upstream).`,
    )
    .optional(),
  auth: field.string().describe('An auth provider from `auth:`.').optional(),
  require: field.ref('Requirement').optional(),
  rate_limit: field.ref('RateLimit').optional(),
  upstream: field
    .string({ pattern: '^https?://[^/?#]+/?$' })
    .describe('Origin to proxy to (the path and query are kept).')
    .optional(),
  forward_claims: headers('Headers to send upstream, each from a claim.'),
  keep_authorization: field
    .boolean()
    .describe('Pass the Authorization header upstream (false: stripped).')
    .default(false),
  profile: field
    .boolean()
    .describe(
      "Read the user's full profile (the auth provider's `profile` options), cached in KV. When not given: read where the provider has profile options and the route reads the user (forward_user, forward_profile, on_first_seen); false never reads it.",
    )
    .optional(),
  forward_profile: headers("Headers to send upstream, each from a field (a path) of the provider's own profile."),
  forward_user: headers(
    'Headers to send upstream, each from user.* as the auth provider maps its user (email, name, created_at, metadata.<key>): the same whichever provider signs the token.',
  ),
  on_first_seen: field
    .list(field.ref('Step'), { minItems: 1 })
    .describe(
      "SQL steps run once per user, the first time the route sees them (values: sub, claims.*, profile.*, and user.* as the auth provider maps its user: id, email, name, metadata, created_at; created_at is the first request's time where the provider gives none).",
    )
    .optional(),
  analytics: field.ref('RouteAnalytics').optional(),
  limits: field
    .list(field.string(), { minItems: 1, uniqueItems: true })
    .describe(
      'Limits (from `limits:`) this route counts: active_users (each signed-in user once per period) or tracked_events (each event it queues).',
    )
    .optional(),
  endpoint: field.ref('Endpoint').optional(),
  queue: field.string({ pattern: NAME_PATTERN }).describe("Queue for an endpoint's events (track).").optional(),
  retry: field.ref('RetryPolicy').optional(),
  handlers: field.list(field.ref('Handler')).optional(),
};

export const route = field.object(routeSpec).title('Route');

export const admin = field
  .object({
    auth: field.string().describe('An auth provider whose tokens may use the admin API (with `require`).').optional(),
    require: field.ref('Requirement').optional(),
  })
  .title('Admin')
  .describe('Who may use /admin/api besides the ADMIN_TOKEN secret.');
