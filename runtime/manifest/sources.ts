/**
 * Backfill sources as data: how a provider's list API is paged, authenticated and rate-limited, how each object
 * becomes the event its handlers already read, and what reconcile compares it with. Declared per object kind in a
 * catalog entry's `sources:` (and overridden key by key in a manifest integration's `sources:`). Only the CLI reads
 * them (`switchyard backfill`, `switchyard reconcile`): the Worker never calls a provider's list API.
 */
import type { SourceBasicAuth, SourceBearerAuth, SourceHeaderAuth } from './catalog.gen.ts';
import { closed } from './schema.ts';
import { SECRET_PATTERN } from '../component/spec.ts';
import { valueRef, valueSchema } from '../language/values.ts';

const secretName = { type: 'string', pattern: SECRET_PATTERN };

const auth = {
  anyOf: [
    closed(
      'SourceBearerAuth',
      {
        type: { const: 'bearer' },
        secret: { ...secretName, description: 'The secret sent as `Authorization: Bearer <value>`.' },
      },
      ['type', 'secret'],
    ),
    closed(
      'SourceBasicAuth',
      {
        type: { const: 'basic' },
        username: {
          ...secretName,
          description: 'The secret used as the user name (Stripe: the API key, with an empty password).',
        },
        password: secretName,
      },
      ['type', 'username'],
    ),
    closed(
      'SourceHeaderAuth',
      { type: { const: 'header' }, header: { type: 'string', pattern: '^[A-Za-z0-9-]+$' }, secret: secretName },
      ['type', 'header', 'secret'],
    ),
  ],
};

/** JSON Schema definitions shared by the catalog and the CLI's check of a merged source (with the Value they reference). */
export const sourceDefinitions = {
  Value: valueSchema,
  BackfillSource: closed(
    'BackfillSource',
    {
      description: { type: 'string' },
      docs: { type: 'string', pattern: '^https://', description: 'The list API reference the source was read from.' },
      url: {
        type: 'string',
        pattern: '^(https?://|\\{env\\.)',
        description: 'The list endpoint. `{env.NAME}` reads a variable from the environment (e.g. the project URL).',
      },
      query: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        description: 'Fixed query parameters (page size, filters).',
      },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Fixed request headers (an API version).',
      },
      auth: {
        anyOf: [auth, { type: 'array', items: auth, minItems: 1 }],
        description: 'How each request is authenticated; a list sends each.',
      },
      items: {
        type: 'string',
        description: 'The path of the array of objects in the response body; absent when the body is the array.',
      },
      pagination: {
        anyOf: [
          closed(
            'CursorPagination',
            {
              type: { const: 'cursor' },
              param: {
                type: 'string',
                description: 'The query parameter carrying the cursor (Stripe `starting_after`).',
              },
              from: {
                type: 'string',
                description: 'The field of the last object that is the next cursor (default id).',
              },
              has_more: { type: 'string', description: 'The body path saying whether more pages follow.' },
            },
            ['type', 'param', 'has_more'],
          ),
          closed(
            'OffsetPagination',
            {
              type: { const: 'offset' },
              offset_param: { type: 'string' },
              limit_param: { type: 'string' },
              limit: { type: 'integer', minimum: 1 },
            },
            ['type', 'offset_param', 'limit_param', 'limit'],
          ),
          closed(
            'PagePagination',
            {
              type: { const: 'page' },
              page_param: { type: 'string' },
              size_param: { type: 'string' },
              size: { type: 'integer', minimum: 1 },
              first: { type: 'integer', minimum: 0 },
            },
            ['type', 'page_param', 'size_param', 'size'],
          ),
          closed(
            'NextUrlPagination',
            {
              type: { const: 'next_url' },
              next: { type: 'string', description: "The body path of the next page's URL." },
              has_more: { type: 'string' },
            },
            ['type', 'next'],
          ),
        ],
        description:
          'cursor (Stripe), offset (Clerk), page (Supabase) or next_url (Paddle): a page shorter than asked ends offset and page pagination.',
      },
      total: closed(
        'SourceTotal',
        {
          path: { type: 'string', description: 'A body path of the first page holding the total.' },
          header: { type: 'string', description: 'A response header holding the total.' },
          url: {
            type: 'string',
            description: 'A count endpoint (relative to the list URL, e.g. /v1/users/count), read with the same auth.',
          },
        },
        [],
        'Where the object count comes from, for the projected cost and the ETA; without it the CLI counts by listing first.',
      ),
      since: closed(
        'SourceSince',
        { param: { type: 'string' }, format: { enum: ['unix_seconds', 'unix_ms', 'iso'] } },
        ['param', 'format'],
        'The filter `--since DATE` sets.',
      ),
      only: closed(
        'SourceOnly',
        { path: { type: 'string' }, equals: { type: ['string', 'number', 'boolean'] } },
        ['path', 'equals'],
        'Objects to synthesise events for (the others are listed and skipped): a payment intent becomes `payment_intent.succeeded` only when it succeeded.',
      ),
      rate_limit: closed(
        'SourceRateLimit',
        { per_second: { type: 'number', exclusiveMinimum: 0 }, note: { type: 'string' } },
        ['per_second'],
        'Requests per second the CLI stays under (it also honours 429 and Retry-After).',
      ),
      event: closed(
        'SourceEvent',
        {
          type: {
            type: 'string',
            minLength: 1,
            description: 'The event type synthesised: the handlers that already read it run.',
          },
          id: {
            type: 'string',
            minLength: 1,
            description:
              'The event id template: the same object state twice must give the same id (it is then written once).',
          },
          headers: {
            type: 'object',
            additionalProperties: { type: 'string' },
            description: 'Headers the envelope reads (an id or time carried in a header).',
          },
          body: {
            type: 'object',
            description:
              "The payload template. A string that is one `{placeholder}` becomes its value; others are text. Placeholders: object, object.<path>, event.id, event.type, hash (of the object), fetched_at (the provider's Date header); `|unix_s`, `|unix_ms`, `|iso` convert times.",
          },
        },
        ['type', 'id', 'body'],
      ),
      reconcile: closed(
        'SourceReconcile',
        {
          table: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          key: {
            type: 'string',
            pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
            description: "The table's key column (default id).",
          },
          object_key: { type: 'string', description: "The object's path matching the key (default id)." },
          key_like: {
            type: 'string',
            description: 'A LIKE pattern scoping the rows this source owns (a table other sources write too).',
          },
          columns: {
            type: 'object',
            minProperties: 1,
            additionalProperties: valueRef,
            description: 'Column -> value read from the object (a path, or { path, transform, default }).',
          },
        },
        ['table', 'columns'],
        'What `switchyard reconcile` compares: the projected row of each object.',
      ),
    },
    ['url', 'auth', 'pagination', 'event'],
    "One object kind of a provider's list API, as a backfill source.",
  ),
};

/** A source, as the schema describes it (generated from schemas/catalog.schema.json). */
export type { BackfillSource } from './catalog.gen.ts';
/** One way a source authenticates. */
export type SourceAuth = SourceBearerAuth | SourceBasicAuth | SourceHeaderAuth;
