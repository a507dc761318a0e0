/**
 * The webhook side of the manifest: `defaults:`, `queues:`, `stores:`, `integrations:` and their handlers. Pure
 * data: each field's schema, default and description, declared once; the schema, the generated types, the docs
 * and the defaults a built manifest carries all come from here.
 */
import { field } from '../../component/spec.ts';
import { RETRY_DEFAULTS } from './retry.ts';
import { BINDING_PATTERN, NAME_PATTERN } from './names.ts';

const REPLAY_WINDOW_TEXT =
  'When the event id or type comes from a header the verifier does not sign, the same signed body is accepted once within this window, whatever those headers say (0s turns it off).';

export const defaultsSpec = {
  retry: field
    .ref('RetryPolicy')
    .describe(
      'The retry policy of every integration, route and command that does not say otherwise; the fields given here replace the built-in ones.',
    )
    .default(RETRY_DEFAULTS),
  max_body: field
    .ref('Size')
    .describe('The largest accepted body, for every integration that does not say otherwise.')
    .default('1MiB'),
  stuck_after: field
    .ref('Duration')
    .describe(
      'An event or effect waiting this long past its time with no outcome is queued again by the sweep (an event up to 3 times, each try waiting twice as long), then dead-lettered.',
    )
    .default('15m'),
  replay_window: field.ref('Duration').describe(REPLAY_WINDOW_TEXT).default('30d'),
};

/** The Defaults definition; absent means every default. */
export const defaults = field.object(defaultsSpec).title('Defaults');

export const queue = field
  .object({
    binding: field.string({ pattern: BINDING_PATTERN }).describe('Producer binding name in wrangler.toml.'),
    dead_letter: field
      .string({ pattern: BINDING_PATTERN })
      .describe('Producer binding of its dead-letter queue.')
      .optional(),
    description: field.string().optional(),
  })
  .title('Queue');

export const eventExtraction = field
  .object({ id: field.ref('Value'), type: field.ref('Value'), occurred_at: field.ref('Value').optional() })
  .title('EventExtraction')
  .describe(
    'How the envelope is read from a request: `id` (the deduplication key), `type` (matched by handlers), `occurred_at` (ISO-8601 after transforms).',
  );

export const handlerSpec = {
  on: field
    .anyOf([field.string({ minLength: 1 }), field.list(field.string({ minLength: 1 }), { minItems: 1 })])
    .describe('Event type(s); `*` matches any run of characters.'),
  description: field.string().optional(),
  store: field
    .string({ pattern: NAME_PATTERN })
    .describe(
      "The store its sql steps write (from `stores:`; d1 when not given). One event's SQL goes to one store: a transaction cannot span two databases.",
    )
    .optional(),
  if: field
    .ref('Condition')
    .describe(
      'Run the handler only when the condition holds; otherwise its steps are skipped, and the event says which condition decided (`skipped` when no step of any handler ran).',
    )
    .optional(),
  let: field.ref('Let').optional(),
  steps: field.list(field.ref('Step'), { minItems: 1 }),
};

export const handler = field.object(handlerSpec).title('Handler');

export const integrationSpec = {
  description: field.string().optional(),
  route: field.string({ pattern: '^/[A-Za-z0-9._~/-]*$' }).describe('Path the provider posts to.'),
  methods: field
    .list(field.enum(['POST', 'PUT', 'GET']), { minItems: 1, uniqueItems: true })
    .describe('Accepted methods.')
    .default(['POST']),
  format: field.enum(['json', 'form']).describe('Body format.').default('json'),
  max_body: field.ref('Size').describe('The largest accepted body (defaults.max_body when not given).').optional(),
  apply: field
    .enum(['auto', 'queue'])
    .describe(
      "auto: an event whose steps all commit in the event log's D1 (SQL, actions and enqueues; no Postgres store) is applied in the request, in one D1 transaction with its effects and outbox rows, and answered 200 after the commit; its emails, sends and messages go out right after the answer, and only what fails goes through the queue. Any other event, and any failure, goes through the queue. queue: always through the queue.",
    )
    .default('auto'),
  replay_window: field
    .ref('Duration')
    .describe(`${REPLAY_WINDOW_TEXT} defaults.replay_window when not given.`)
    .optional(),
  provider: field.ref('Provider').optional(),
  verifier: field
    .schema({ type: 'object', tsType: 'Verifier' })
    .describe(
      "How a request is authenticated (`type` picks the adapter). With `provider:`, keys merged over the preset's verifier.",
    )
    .optional(),
  event: field
    .schema({ type: 'object', tsType: 'EventExtraction' })
    .describe("How the envelope is read. With `provider:`, fields that replace the preset's.")
    .optional(),
  handshake: field.ref('Handshake').optional(),
  response: field.ref('WebhookResponse').optional(),
  queue: field.string({ pattern: NAME_PATTERN }).describe('Queue the events go to.'),
  retry: field.ref('RetryPolicy').optional(),
  let: field.ref('Let').optional(),
  handlers: field.list(field.ref('Handler')).optional(),
  sources: field
    .record(field.schema({ type: ['object', 'null'] }))
    .describe(
      "Backfill sources by object kind, merged key by key over the provider's catalog `sources:` (`null` removes one); only the CLI reads them (switchyard backfill, reconcile).",
    )
    .optional(),
};

/**
 * The Integration definition. Without `provider:` the integration says everything itself; with one, the preset
 * fills in the rest and the merged verifier and envelope are checked after it is applied (the manifest the runtime
 * sees has both).
 */
export const integration = field
  .object(integrationSpec, {
    if: { required: ['provider'] },
    else: {
      required: ['verifier', 'event'],
      properties: { verifier: { $ref: '#/definitions/Verifier' }, event: { $ref: '#/definitions/EventExtraction' } },
    },
  })
  .title('Integration');

export const store = field
  .oneOf(
    [
      field
        .object({
          type: field
            .const('d1')
            .describe("The event log's D1 database: projections commit in one transaction with the event log."),
          binding: field.string({ pattern: BINDING_PATTERN }).describe('Its D1 binding (DB).'),
          description: field.string().optional(),
        })
        .title('D1Store'),
      field
        .object({
          type: field
            .const('postgres')
            .describe(
              'PostgreSQL through Hyperdrive: projections commit in one Postgres transaction with their applied-marker (switchyard_applied).',
            ),
          binding: field
            .string({ pattern: BINDING_PATTERN })
            .describe('Its Hyperdrive binding in wrangler.toml ([[hyperdrive]]).'),
          migrations: field
            .string({ minLength: 1 })
            .describe(
              'The folder of its SQL migrations (*.sql, applied in name order), relative to the manifest: validate prepares each statement against them.',
            ),
          description: field.string().optional(),
        })
        .title('PostgresStore'),
    ],
    { type: 'object', required: ['type'], discriminator: { propertyName: 'type' } },
  )
  .title('Store')
  .describe('A database projections are written to; `type` picks it.');

/** Derived values, named once (the Let definition). */
export const lets = field
  .record(field.ref('Value'), { propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, minProperties: 1 })
  .title('Let')
  .describe(
    'Derived values, each named once and read as `$name` wherever a value is read (params, templates, `http` bodies, conditions); computed on first read, once per event. A value may read names declared before it.',
  );
