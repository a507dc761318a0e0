/**
 * The manifest's JSON Schema, assembled from the core definitions and every registered adapter's options.
 * `switchyard schema` writes it to schemas/manifest.schema.json; types are generated from that file.
 */
import type { Registry } from '../component/registry.ts';
import { componentSchema, typedSchema, type Component } from '../component/define.ts';
import { durationSchema, sizeSchema } from '../lib/duration.ts';
import { retryPolicySchema } from '../consumer/retry.ts';
import { valueSchema } from './values.ts';
import { conditionSchema } from './conditions.ts';
import { limitSchema } from '../consumer/limits.ts';
import { PERIODS } from '../lib/periods.ts';
import { platformSchema } from '../lib/platform.ts';
import { alertSchema } from './alerts.ts';
import { retentionSchema } from '../operations/retention.ts';
import { templateSchema } from './templates.ts';
import { commandSchema } from '../edge/commands/schema.ts';
import { routeAnalyticsSchema } from '../edge/request-analytics.ts';
import { webhookResponseSchema } from '../edge/response.ts';

/** The manifest language's version; an older one is read through cli/lib/upgrade.ts's rules (`switchyard upgrade`). */
export const MANIFEST_VERSION = 2;

const REPLAY_WINDOW_DESCRIPTION =
  'When the event id or type comes from a header the verifier does not sign, the same signed body is accepted once within this window, whatever those headers say (default 30d; 0s turns it off).';
export const NAME_PATTERN = '^[a-z][a-z0-9_-]*$';
export const BINDING_PATTERN = '^[A-Z][A-Z0-9_]*$';

/** An object schema that rejects unknown keys. */
export const closed = (title: string, properties: Record<string, unknown>, required: readonly string[] = [], description?: string) => ({
  type: 'object',
  title,
  ...(description ? { description } : {}),
  additionalProperties: false,
  properties,
  ...(required.length ? { required: [...required] } : {}),
});

/** Builds the manifest schema for a registry. Pure: the same registry gives the same schema. */
export function buildManifestSchema(registry: Registry, providers: readonly string[] = []): Record<string, unknown> {
  const verifiers = [...registry.verifiers.values()].map(typedSchema);
  const tagged = (list: Iterable<Component>) => [...list].map(typedSchema);
  // An action branch is `action: <type>` with the action's own options and the keys the step that sends it adds.
  // Every step may carry a description and a condition (`if:`) beside its own keys.
  const stepKeys = { description: { type: 'string' }, if: { $ref: '#/definitions/Condition', description: 'Run this step only when the condition holds; otherwise it is skipped and says which condition decided.' } };
  const actionBranches = (around: Record<string, unknown>) =>
    [...registry.actions.values()].map((a) => componentSchema(a, { properties: { action: { const: a.name, description: a.description }, ...around, ...stepKeys }, required: ['action'] }));
  const steps = [...registry.steps.values()].map((s) => (s.schema ? s.schema({ actionBranches }) : componentSchema(s, { properties: stepKeys, required: [s.name] })));

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://switchyard.dev/schemas/manifest.schema.json',
    title: 'Manifest',
    description: 'switchyard integrations manifest (integrations.yaml).',
    type: 'object',
    additionalProperties: false,
    required: ['version', 'integrations'],
    properties: {
      version: { enum: Array.from({ length: MANIFEST_VERSION }, (_, i) => i + 1), description: `Manifest language version (current: ${MANIFEST_VERSION}); \`switchyard upgrade\` rewrites an older manifest.` },
      components: {
        type: 'array',
        description: "The project's own components: files (relative to the manifest) that export what defineComponent returns; their options join this schema.",
        items: { type: 'string', pattern: '\\.(ts|mts|js|mjs)$' },
        uniqueItems: true,
      },
      defaults: { $ref: '#/definitions/Defaults' },
      platform: platformSchema,
      retention: retentionSchema,
      alerts: {
        type: 'object',
        description: 'Conditions to be told about, each once per incident.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Alert' },
      },
      queues: {
        type: 'object',
        description: 'Queues by name, each mapped to its producer binding in wrangler.toml.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Queue' },
      },
      stores: {
        type: 'object',
        description: 'Where projections go, by name. `d1` (the event log\'s database, binding DB) is always there and is the default; a `postgres` store is reached through a Hyperdrive binding.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Store' },
      },
      integrations: {
        type: 'object',
        description: 'Integrations by name.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Integration' },
      },
      templates: {
        type: 'object',
        description: 'Named email and SMS templates.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Template' },
      },
      limits: {
        type: 'object',
        description: 'Free-tier and rate limits, counted atomically, named like `resend.emails`.',
        propertyNames: { pattern: '^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$' },
        additionalProperties: { $ref: '#/definitions/Limit' },
      },
      auth: {
        type: 'object',
        description: 'JWT providers for routes and the admin API, by name.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/AuthProvider' },
      },
      routes: {
        type: 'object',
        description: 'Application-facing routes: protected upstream proxies and built-in endpoints, by name.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Route' },
      },
      commands: {
        type: 'object',
        description: 'What the application may ask switchyard to do (POST /v1/commands/<name>, or a Service Binding), by name.',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Command' },
      },
      admin: closed('Admin', { auth: { type: 'string', description: 'An auth provider whose tokens may use the admin API (with `require`).' }, require: { $ref: '#/definitions/Requirement' } }, [], 'Who may use /admin/api besides the ADMIN_TOKEN secret.'),
      environments: {
        type: 'object',
        description: 'Per-environment overlays, merged over the base (objects merge, other values replace, null removes).',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/definitions/Overlay' },
      },
    },
    definitions: {
      Duration: durationSchema,
      Size: sizeSchema,
      RetryPolicy: retryPolicySchema,
      Value: valueSchema,
      Condition: conditionSchema,
      Let: {
        type: 'object',
        title: 'Let',
        description: 'Derived values, each named once and read as `$name` wherever a value is read (params, templates, `http` bodies, conditions); computed on first read, once per event. A value may read names declared before it.',
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        additionalProperties: { $ref: '#/definitions/Value' },
        minProperties: 1,
      },
      Defaults: closed('Defaults', {
        retry: { $ref: '#/definitions/RetryPolicy' },
        max_body: { $ref: '#/definitions/Size' },
        stuck_after: { $ref: '#/definitions/Duration', description: 'An event or effect waiting this long past its time with no outcome is queued again by the sweep (an event up to 3 times, each try waiting twice as long), then dead-lettered (default 15m).' },
        replay_window: { $ref: '#/definitions/Duration', description: REPLAY_WINDOW_DESCRIPTION },
      }),
      Queue: closed(
        'Queue',
        {
          binding: { type: 'string', pattern: BINDING_PATTERN, description: 'Producer binding name in wrangler.toml.' },
          dead_letter: { type: 'string', pattern: BINDING_PATTERN, description: 'Producer binding of its dead-letter queue.' },
          description: { type: 'string' },
        },
        ['binding'],
      ),
      Integration: {
        ...closed(
          'Integration',
          {
            description: { type: 'string' },
            route: { type: 'string', pattern: '^/[A-Za-z0-9._~/-]*$', description: 'Path the provider posts to.' },
            methods: { type: 'array', items: { enum: ['POST', 'PUT', 'GET'] }, minItems: 1, uniqueItems: true, description: 'Accepted methods (default [POST]).' },
            format: { enum: ['json', 'form'], description: 'Body format (default json).' },
            max_body: { $ref: '#/definitions/Size' },
            apply: {
              enum: ['auto', 'queue'],
              description:
                "auto (default): an event whose steps all commit in the event log's D1 (SQL, actions and enqueues; no Postgres store) is applied in the request, in one D1 transaction with its effects and outbox rows, and answered 200 after the commit; its emails, sends and messages go out right after the answer, and only what fails goes through the queue. Any other event, and any failure, goes through the queue. queue: always through the queue.",
            },
            replay_window: { $ref: '#/definitions/Duration', description: REPLAY_WINDOW_DESCRIPTION },
            provider: { $ref: '#/definitions/Provider' },
            verifier: { type: 'object', tsType: 'Verifier', description: 'How a request is authenticated (`type` picks the adapter). With `provider:`, keys merged over the preset\'s verifier.' },
            event: { type: 'object', tsType: 'EventExtraction', description: 'How the envelope is read. With `provider:`, fields that replace the preset\'s.' },
            handshake: { $ref: '#/definitions/Handshake' },
            response: { $ref: '#/definitions/WebhookResponse' },
            queue: { type: 'string', pattern: NAME_PATTERN, description: 'Queue the events go to.' },
            retry: { $ref: '#/definitions/RetryPolicy' },
            let: { $ref: '#/definitions/Let' },
            handlers: { type: 'array', items: { $ref: '#/definitions/Handler' } },
            sources: { type: 'object', additionalProperties: { type: ['object', 'null'] }, description: 'Backfill sources by object kind, merged key by key over the provider\'s catalog `sources:` (`null` removes one); only the CLI reads them (switchyard backfill, reconcile).' },
          },
          ['route', 'queue'],
        ),
        // Without `provider:` the integration says everything itself; with one, the preset fills in the rest and
        // the merged verifier and envelope are checked after it is applied (the manifest the runtime sees has both).
        if: { required: ['provider'] },
        else: { required: ['verifier', 'event'], properties: { verifier: { $ref: '#/definitions/Verifier' }, event: { $ref: '#/definitions/EventExtraction' } } },
      },
      Provider: {
        type: 'string',
        ...(providers.length ? { enum: [...providers] } : { pattern: NAME_PATTERN }),
        tsType: 'string',
        description: 'A provider from the catalog (catalog/<name>.yaml): its verifier, envelope and handshake are the defaults, and every key set here overrides them. `switchyard providers` lists them.',
      },
      Handshake: {
        title: 'Handshake',
        description: 'A request the provider sends to prove the endpoint is yours, answered at once and never queued; `type` picks the adapter.',
        type: 'object',
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: tagged([...registry.handshakes.values()]),
      },
      Verifier: {
        title: 'Verifier',
        description: 'How a request is authenticated; `type` picks the adapter.',
        type: 'object',
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: verifiers,
      },
      EventExtraction: closed(
        'EventExtraction',
        {
          id: { $ref: '#/definitions/Value' },
          type: { $ref: '#/definitions/Value' },
          occurred_at: { $ref: '#/definitions/Value' },
        },
        ['id', 'type'],
        'How the envelope is read from a request: `id` (the deduplication key), `type` (matched by handlers), `occurred_at` (ISO-8601 after transforms).',
      ),
      Handler: closed(
        'Handler',
        {
          on: {
            anyOf: [
              { type: 'string', minLength: 1 },
              { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
            ],
            description: 'Event type(s); `*` matches any run of characters.',
          },
          description: { type: 'string' },
          store: { type: 'string', pattern: NAME_PATTERN, description: 'The store its sql steps write (from `stores:`; default d1). One event\'s SQL goes to one store: a transaction cannot span two databases.' },
          if: { $ref: '#/definitions/Condition', description: 'Run the handler only when the condition holds; otherwise its steps are skipped, and the event says which condition decided (`skipped` when no step of any handler ran).' },
          let: { $ref: '#/definitions/Let' },
          steps: { type: 'array', items: { $ref: '#/definitions/Step' }, minItems: 1 },
        },
        ['on', 'steps'],
      ),
      Store: {
        title: 'Store',
        description: 'A database projections are written to; `type` picks it.',
        type: 'object',
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: [
          closed('D1Store', { type: { const: 'd1', description: 'The event log\'s D1 database: projections commit in one transaction with the event log.' }, binding: { type: 'string', pattern: BINDING_PATTERN, description: 'Its D1 binding (DB).' }, description: { type: 'string' } }, ['type', 'binding']),
          closed(
            'PostgresStore',
            {
              type: { const: 'postgres', description: 'PostgreSQL through Hyperdrive: projections commit in one Postgres transaction with their applied-marker (switchyard_applied).' },
              binding: { type: 'string', pattern: BINDING_PATTERN, description: 'Its Hyperdrive binding in wrangler.toml ([[hyperdrive]]).' },
              migrations: { type: 'string', minLength: 1, description: 'The folder of its SQL migrations (*.sql, applied in name order), relative to the manifest: validate prepares each statement against them.' },
              description: { type: 'string' },
            },
            ['type', 'binding', 'migrations'],
          ),
        ],
      },
      Step: { title: 'Step', description: 'One step, named by its key.', oneOf: steps },
      Template: templateSchema,
      Command: commandSchema,
      Alert: alertSchema,
      AuthProvider: { title: 'AuthProvider', type: 'object', required: ['type'], discriminator: { propertyName: 'type' }, oneOf: tagged([...registry.auth.values()]) },
      Endpoint: { title: 'Endpoint', type: 'object', required: ['type'], discriminator: { propertyName: 'type' }, oneOf: tagged([...registry.endpoints.values()]) },
      Requirement: closed(
        'Requirement',
        {
          claims: {
            type: 'object',
            additionalProperties: {
              anyOf: [
                { type: ['string', 'number', 'boolean'] },
                closed('ClaimFromEnv', { env: { type: 'string', pattern: BINDING_PATTERN, description: 'A Worker variable (wrangler.toml [vars]); unset or empty matches nothing.' } }, ['env'], 'The value of a Worker variable, e.g. the id of the organisation whose admins may use the admin API.'),
              ],
            },
            description: 'Claims that must have exactly these values (a constant, or `{ env: NAME }`).',
          },
          roles: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Any one of these roles.' },
          roles_claim: { type: 'string', description: 'The claim holding roles (default roles).' },
        },
        [],
        'What a token must carry. For the admin API it must name at least one claim: roles alone can be self-granted (whoever creates a Clerk organisation is its org:admin).',
      ),
      RouteAnalytics: routeAnalyticsSchema,
      WebhookResponse: webhookResponseSchema,
      RateLimit: closed('RateLimit', { limit: { type: 'integer', minimum: 1 }, period: { enum: [...PERIODS] }, per: { enum: ['user', 'ip'] } }, ['limit', 'period', 'per']),
      Route: closed(
        'Route',
        {
          description: { type: 'string' },
          path: { type: 'string', pattern: '^/[A-Za-z0-9._~/:*-]*$', description: 'Path pattern, e.g. /api/* or /v1/track.' },
          methods: { type: 'array', items: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] }, minItems: 1, uniqueItems: true },
          auth: { type: 'string', description: 'An auth provider from `auth:`.' },
          require: { $ref: '#/definitions/Requirement' },
          rate_limit: { $ref: '#/definitions/RateLimit' },
          upstream: { type: 'string', pattern: '^https?://[^/?#]+/?$', description: 'Origin to proxy to (the path and query are kept).' },
          forward_claims: { type: 'object', propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$' }, additionalProperties: { type: 'string' }, description: 'Headers to send upstream, each from a claim.' },
          keep_authorization: { type: 'boolean', description: 'Pass the Authorization header upstream (default: stripped).' },
          profile: { type: 'boolean', description: "Read the user's full profile (the auth provider's `profile` options), cached in KV. Default: read where the provider has profile options and the route reads the user (forward_user, forward_profile, on_first_seen); false never reads it." },
          forward_profile: { type: 'object', propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$' }, additionalProperties: { type: 'string' }, description: "Headers to send upstream, each from a field (a path) of the provider's own profile." },
          forward_user: { type: 'object', propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9-]*$' }, additionalProperties: { type: 'string' }, description: 'Headers to send upstream, each from user.* as the auth provider maps its user (email, name, created_at, metadata.<key>): the same whichever provider signs the token.' },
          on_first_seen: { type: 'array', items: { $ref: '#/definitions/Step' }, minItems: 1, description: "SQL steps run once per user, the first time the route sees them (values: sub, claims.*, profile.*, and user.* as the auth provider maps its user: id, email, name, metadata, created_at; created_at is the first request's time where the provider gives none)." },
          analytics: { $ref: '#/definitions/RouteAnalytics' },
          limits: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true, description: 'Limits (from `limits:`) this route counts: active_users (each signed-in user once per period) or tracked_events (each event it queues).' },
          endpoint: { $ref: '#/definitions/Endpoint' },
          queue: { type: 'string', pattern: NAME_PATTERN, description: 'Queue for an endpoint\'s events (track).' },
          retry: { $ref: '#/definitions/RetryPolicy' },
          handlers: { type: 'array', items: { $ref: '#/definitions/Handler' } },
        },
        ['path'],
      ),
      Limit: {
        ...limitSchema,
        properties: { ...limitSchema.properties, notify: { $ref: '#/definitions/Step', description: 'An action step sent once when the limit reaches warn_at and once when it is exceeded, per period.' } },
      },
      Overlay: closed(
        'Overlay',
        {
          defaults: { type: 'object' },
          queues: { type: 'object' },
          stores: { type: 'object' },
          integrations: { type: 'object' },
          templates: { type: 'object' },
          limits: { type: 'object' },
          auth: { type: 'object' },
          routes: { type: 'object' },
          commands: { type: 'object' },
          admin: { type: 'object' },
          retention: { type: 'object' },
          alerts: { type: 'object' },
        },
        [],
        'Fields merged over the base manifest for one environment.',
      ),
    },
  };
}
