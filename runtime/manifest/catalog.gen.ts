/* Generated from schemas/catalog.schema.json by `switchyard types`. Do not edit. */
import type {EventExtraction, Handshake, Value, Verifier, WebhookResponse} from './types.gen.ts';

/**
 * One provider of the switchyard catalog (catalog/<name>.yaml).
 */
export interface CatalogEntry {
  /**
   * The file stem: lower-case letters, digits and dashes.
   */
  name: string;
  /**
   * The provider as people write it.
   */
  title: string;
  /**
   * The page the scheme was read from.
   */
  docs: string;
  /**
   * The strongest proof the conformance test uses: the official SDK, a worked example from the docs, or the docs alone.
   */
  verified_by: 'sdk' | 'doc-vector' | 'spec';
  sdk?: CatalogSdk;
  /**
   * The secret names the preset reads, each with where the user finds the value.
   */
  secrets: {
    [k: string]: string;
  };
  /**
   * Body format the provider sends (default json).
   */
  format?: 'json' | 'form';
  verifier: Verifier;
  event: EventExtraction;
  handshake?: Handshake;
  response?: WebhookResponse;
  sample: CatalogSample;
  /**
   * Worked examples published in the provider's docs, verbatim.
   */
  vectors?: CatalogVector[];
  /**
   * Caveats: per-webhook secrets, legacy schemes not covered.
   */
  notes?: string;
  /**
   * List endpoints `switchyard backfill` and `reconcile` read, per object kind (runtime/manifest/sources.ts).
   */
  sources?: {
    [k: string]: BackfillSource;
  };
}
export interface CatalogSdk {
  /**
   * The npm devDependency cross-checked in test/catalog/sdk/<name>.ts, or github:<owner>/<repo> when that file ports the provider's own published code (the note names the file and commit).
   */
  package: string;
  note?: string;
}
/**
 * A realistic event as the provider sends it; the conformance test and `switchyard send` sign it.
 */
export interface CatalogSample {
  /**
   * The event type the envelope extracts from the sample.
   */
  type: string;
  /**
   * Unsigned headers the provider sends.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * The JSON body (for form providers, the form fields); placeholders __ID__, __NOW_S__, __NOW_MS__, __NOW_ISO__.
   */
  body?: {} | unknown[];
  /**
   * A raw body, for bodies that are not a JSON object.
   */
  raw?: string;
}
export interface CatalogVector {
  /**
   * Where the example is printed.
   */
  source: string;
  /**
   * The secret (or public key) value of the example.
   */
  secret: string;
  /**
   * The URL, when the scheme signs it.
   */
  url?: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers: {
    [k: string]: string;
  };
  /**
   * The raw body, byte-exact.
   */
  body: string;
  /**
   * Unix seconds at which the example is valid.
   */
  now?: number;
}
/**
 * One object kind of a provider's list API, as a backfill source.
 */
export interface BackfillSource {
  description?: string;
  /**
   * The list API reference the source was read from.
   */
  docs?: string;
  /**
   * The list endpoint. `{env.NAME}` reads a variable from the environment (e.g. the project URL).
   */
  url: string;
  /**
   * Fixed query parameters (page size, filters).
   */
  query?: {
    [k: string]: string | number | boolean;
  };
  /**
   * Fixed request headers (an API version).
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * How each request is authenticated; a list sends each.
   */
  auth:
    | (SourceBearerAuth | SourceBasicAuth | SourceHeaderAuth)
    | [
        SourceBearerAuth1 | SourceBasicAuth1 | SourceHeaderAuth1,
        ...(SourceBearerAuth1 | SourceBasicAuth1 | SourceHeaderAuth1)[]
      ];
  /**
   * The path of the array of objects in the response body; absent when the body is the array.
   */
  items?: string;
  /**
   * cursor (Stripe), offset (Clerk), page (Supabase) or next_url (Paddle): a page shorter than asked ends offset and page pagination.
   */
  pagination: CursorPagination | OffsetPagination | PagePagination | NextUrlPagination;
  total?: SourceTotal;
  since?: SourceSince;
  only?: SourceOnly;
  rate_limit?: SourceRateLimit;
  event: SourceEvent;
  reconcile?: SourceReconcile;
}
export interface SourceBearerAuth {
  type: 'bearer';
  /**
   * The secret sent as `Authorization: Bearer <value>`.
   */
  secret: string;
}
export interface SourceBasicAuth {
  type: 'basic';
  /**
   * The secret used as the user name (Stripe: the API key, with an empty password).
   */
  username: string;
  password?: string;
}
export interface SourceHeaderAuth {
  type: 'header';
  header: string;
  secret: string;
}
export interface SourceBearerAuth1 {
  type: 'bearer';
  /**
   * The secret sent as `Authorization: Bearer <value>`.
   */
  secret: string;
}
export interface SourceBasicAuth1 {
  type: 'basic';
  /**
   * The secret used as the user name (Stripe: the API key, with an empty password).
   */
  username: string;
  password?: string;
}
export interface SourceHeaderAuth1 {
  type: 'header';
  header: string;
  secret: string;
}
export interface CursorPagination {
  type: 'cursor';
  /**
   * The query parameter carrying the cursor (Stripe `starting_after`).
   */
  param: string;
  /**
   * The field of the last object that is the next cursor (default id).
   */
  from?: string;
  /**
   * The body path saying whether more pages follow.
   */
  has_more: string;
}
export interface OffsetPagination {
  type: 'offset';
  offset_param: string;
  limit_param: string;
  limit: number;
}
export interface PagePagination {
  type: 'page';
  page_param: string;
  size_param: string;
  size: number;
  first?: number;
}
export interface NextUrlPagination {
  type: 'next_url';
  /**
   * The body path of the next page's URL.
   */
  next: string;
  has_more?: string;
}
/**
 * Where the object count comes from, for the projected cost and the ETA; without it the CLI counts by listing first.
 */
export interface SourceTotal {
  /**
   * A body path of the first page holding the total.
   */
  path?: string;
  /**
   * A response header holding the total.
   */
  header?: string;
  /**
   * A count endpoint (relative to the list URL, e.g. /v1/users/count), read with the same auth.
   */
  url?: string;
}
/**
 * The filter `--since DATE` sets.
 */
export interface SourceSince {
  param: string;
  format: 'unix_seconds' | 'unix_ms' | 'iso';
}
/**
 * Objects to synthesise events for (the others are listed and skipped): a payment intent becomes `payment_intent.succeeded` only when it succeeded.
 */
export interface SourceOnly {
  path: string;
  equals: string | number | boolean;
}
/**
 * Requests per second the CLI stays under (it also honours 429 and Retry-After).
 */
export interface SourceRateLimit {
  per_second: number;
  note?: string;
}
export interface SourceEvent {
  /**
   * The event type synthesised: the handlers that already read it run.
   */
  type: string;
  /**
   * The event id template: the same object state twice must give the same id (it is then written once).
   */
  id: string;
  /**
   * Headers the envelope reads (an id or time carried in a header).
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * The payload template. A string that is one `{placeholder}` becomes its value; others are text. Placeholders: object, object.<path>, event.id, event.type, hash (of the object), fetched_at (the provider's Date header); `|unix_s`, `|unix_ms`, `|iso` convert times.
   */
  body: {};
}
/**
 * What `switchyard reconcile` compares: the projected row of each object.
 */
export interface SourceReconcile {
  table: string;
  /**
   * The table's key column (default id).
   */
  key?: string;
  /**
   * The object's path matching the key (default id).
   */
  object_key?: string;
  /**
   * A LIKE pattern scoping the rows this source owns (a table other sources write too).
   */
  key_like?: string;
  /**
   * Column -> value read from the object (a path, or { path, transform, default }).
   */
  columns: {
    [k: string]: Value;
  };
}
