/**
 * The manifest's top level and the definitions its sections declare, assembled from the section files beside it.
 * Pure data: manifest/schema.ts turns it (with the registry's components) into the JSON Schema, and
 * manifest/defaults.ts applies its defaults (at build time: the Worker receives a defaulted manifest).
 */
import { field, type Field } from '../../component/spec.ts';
import { platform } from './platform.ts';
import { retention } from './retention.ts';
import { retryPolicy } from './retry.ts';
import { limit } from './limits.ts';
import { command } from './commands.ts';
import { routeAnalytics } from './analytics.ts';
import { webhookResponse } from './response.ts';
import { defaults, eventExtraction, handler, integration, lets, queue, store } from './integrations.ts';
import { admin, rateLimit, requirement, route } from './routes.ts';
import { LIMIT_NAME_PATTERN, NAME_PATTERN } from './names.ts';

/** The manifest language's version; an older one is read through cli/lib/upgrade.ts's rules (`switchyard upgrade`). */
export const MANIFEST_VERSION = 2;

const OVERLAID = [
  'defaults',
  'queues',
  'stores',
  'integrations',
  'templates',
  'limits',
  'auth',
  'routes',
  'commands',
  'admin',
  'retention',
  'alerts',
] as const;

export const overlay = field
  .object(Object.fromEntries(OVERLAID.map((key) => [key, field.schema({ type: 'object' }).optional()])))
  .title('Overlay')
  .describe('Fields merged over the base manifest for one environment.');

const named = (definition: string, description: string) =>
  field.map(field.ref(definition), NAME_PATTERN).describe(description).optional();

export const manifestSpec = {
  version: field
    .enum(Array.from({ length: MANIFEST_VERSION }, (_, i) => i + 1))
    .describe(
      `Manifest language version (current: ${MANIFEST_VERSION}); \`switchyard upgrade\` rewrites an older manifest.`,
    ),
  components: field
    .list(field.string({ pattern: '\\.(ts|mts|js|mjs)$' }), { uniqueItems: true })
    .describe(
      "The project's own components: files (relative to the manifest) that export what defineComponent returns; their options join this schema.",
    )
    .optional(),
  defaults: field.ref('Defaults').default({}),
  platform: platform.default({}),
  retention: retention.default({}),
  alerts: named('Alert', 'Conditions to be told about, each once per incident.'),
  queues: named('Queue', 'Queues by name, each mapped to its producer binding in wrangler.toml.'),
  stores: named(
    'Store',
    "Where projections go, by name. `d1` (the event log's database, binding DB) is always there and is the default; a `postgres` store is reached through a Hyperdrive binding.",
  ),
  integrations: field.map(field.ref('Integration'), NAME_PATTERN).describe('Integrations by name.'),
  templates: named('Template', 'Named email and SMS templates.'),
  limits: field
    .map(field.ref('Limit'), LIMIT_NAME_PATTERN)
    .describe('Free-tier and rate limits, counted atomically, named like `resend.emails`.')
    .optional(),
  auth: named('AuthProvider', 'JWT providers for routes and the admin API, by name.'),
  routes: named('Route', 'Application-facing routes: protected upstream proxies and built-in endpoints, by name.'),
  commands: named(
    'Command',
    'What the application may ask switchyard to do (POST /v1/commands/<name>, or a Service Binding), by name.',
  ),
  admin: admin.optional(),
  environments: named(
    'Overlay',
    'Per-environment overlays, merged over the base (objects merge, other values replace, null removes).',
  ),
};

/**
 * The definitions the sections declare, by name (`#/definitions/<name>`). The others (Value, Condition, Step,
 * Verifier, Handshake, …) come from the value language and the registry's components, which default their own
 * options when they are created.
 */
export const sectionDefinitions: Readonly<Record<string, Field<unknown, 'required' | 'optional' | 'defaulted'>>> = {
  RetryPolicy: retryPolicy,
  Let: lets,
  Defaults: defaults,
  Queue: queue,
  Integration: integration,
  EventExtraction: eventExtraction,
  Handler: handler,
  Store: store,
  Command: command,
  Requirement: requirement,
  RouteAnalytics: routeAnalytics,
  WebhookResponse: webhookResponse,
  RateLimit: rateLimit,
  Route: route,
  Limit: limit,
  Overlay: overlay,
};
