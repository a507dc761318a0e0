/* Generated from schemas/catalog.schema.json by `switchyard types`. Do not edit. */

/**
 * How a request is authenticated; `type` picks the adapter.
 */
export type Verifier =
  | StripeVerifier
  | SvixVerifier
  | StandardWebhooksVerifier
  | PaddleVerifier
  | PaddleClassicVerifier
  | TwilioVerifier
  | SendgridVerifier
  | HmacVerifier
  | TokenVerifier
  | BasicVerifier
  | Ed25519Verifier
  | JwsVerifier;
/**
 * A path into the event (`data.object.id`), or an object with one source and optional transforms.
 */
export type Value =
  | string
  | {
      /**
       * Read this path.
       */
      path?: string;
      /**
       * A string with `{path}` placeholders; a missing value renders empty.
       */
      template?: string;
      /**
       * This constant value.
       */
      const?: unknown;
      /**
       * The current time as ISO-8601.
       */
      now?: true;
      /**
       * A request header (event extraction only).
       */
      header?: string;
      /**
       * The hex SHA-256 of the request body (event extraction only): an id for providers whose deliveries carry none, so a redelivered body is deduplicated.
       */
      body_sha256?: true;
      /**
       * A Worker variable (wrangler.toml [vars]), e.g. ADMIN_EMAIL; not in event extraction.
       */
      env?: string;
      /**
       * Transforms applied in order.
       */
      transform?:
        | ('unix_seconds_to_iso' | 'unix_ms_to_iso' | 'iso' | 'json' | 'lower' | 'upper' | 'string' | 'number')
        | [
            'unix_seconds_to_iso' | 'unix_ms_to_iso' | 'iso' | 'json' | 'lower' | 'upper' | 'string' | 'number',
            ...('unix_seconds_to_iso' | 'unix_ms_to_iso' | 'iso' | 'json' | 'lower' | 'upper' | 'string' | 'number')[]
          ];
      /**
       * Used when the source is missing or null.
       */
      default?: unknown;
    };
/**
 * A request the provider sends to prove the endpoint is yours, answered at once and never queued; `type` picks the adapter.
 */
export type Handshake =
  | JsonChallengeHandshake
  | HeaderChallengeHandshake
  | HmacChallengeHandshake
  | GetChallengeHandshake
  | EchoHeaderHandshake
  | RecordTokenHandshake
  | HeadOkHandshake;

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
   * The npm devDependency cross-checked in test/catalog/sdk/<name>.ts.
   */
  package: string;
  note?: string;
}
/**
 * Stripe webhook signatures (Stripe-Signature header, v1 scheme).
 */
export interface StripeVerifier {
  /**
   * Stripe webhook signatures (Stripe-Signature header, v1 scheme).
   */
  type: 'stripe';
  /**
   * Name(s) of environment variables holding secrets; list several to rotate.
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Accepted clock skew either way.
   */
  tolerance?: string;
}
/**
 * Svix webhook signatures (svix-id/-timestamp/-signature), as sent by Clerk and Resend.
 */
export interface SvixVerifier {
  /**
   * Svix webhook signatures (svix-id/-timestamp/-signature), as sent by Clerk and Resend.
   */
  type: 'svix';
  /**
   * Secret(s) `whsec_…` (HMAC) or `whpk_…` (Ed25519 public key).
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Accepted clock skew either way.
   */
  tolerance?: string;
}
/**
 * Standard Webhooks signatures (webhook-id/-timestamp/-signature), v1 HMAC and v1a Ed25519.
 */
export interface StandardWebhooksVerifier {
  /**
   * Standard Webhooks signatures (webhook-id/-timestamp/-signature), v1 HMAC and v1a Ed25519.
   */
  type: 'standard-webhooks';
  /**
   * Secret(s) `whsec_…` (HMAC) or `whpk_…` (Ed25519 public key).
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Accepted clock skew either way.
   */
  tolerance?: string;
}
/**
 * Paddle Billing webhook signatures (Paddle-Signature: ts=..;h1=..).
 */
export interface PaddleVerifier {
  /**
   * Paddle Billing webhook signatures (Paddle-Signature: ts=..;h1=..).
   */
  type: 'paddle';
  /**
   * Name(s) of environment variables holding secrets; list several to rotate.
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Accepted clock skew either way (as the Paddle SDK by default).
   */
  tolerance?: string;
}
/**
 * Paddle Classic alerts (form body with p_signature, RSA-SHA1 over PHP-serialized fields).
 */
export interface PaddleClassicVerifier {
  /**
   * Paddle Classic alerts (form body with p_signature, RSA-SHA1 over PHP-serialized fields).
   */
  type: 'paddle-classic';
  /**
   * Env var(s) holding the vendor public key (PEM or base64 SPKI); several during a key rollover.
   *
   * @minItems 1
   */
  public_key: string | [string, ...string[]];
}
/**
 * Twilio request signatures (X-Twilio-Signature, HMAC-SHA1 over URL and sorted params).
 */
export interface TwilioVerifier {
  /**
   * Twilio request signatures (X-Twilio-Signature, HMAC-SHA1 over URL and sorted params).
   */
  type: 'twilio';
  /**
   * Env var(s) holding the Twilio auth token.
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * The URL configured in Twilio, when the Worker sits behind a proxy or custom domain; the query string of the request is kept.
   */
  public_url?: string;
}
/**
 * SendGrid signed event webhook (ECDSA P-256 over timestamp + body).
 */
export interface SendgridVerifier {
  /**
   * SendGrid signed event webhook (ECDSA P-256 over timestamp + body).
   */
  type: 'sendgrid';
  /**
   * Env var(s) holding the verification key (base64 SPKI, as SendGrid shows it).
   *
   * @minItems 1
   */
  public_key: string | [string, ...string[]];
  /**
   * Accepted clock skew either way.
   */
  tolerance?: string;
}
/**
 * Generic HMAC signature in a header or a JSON body field, configured in YAML only.
 */
export interface HmacVerifier {
  /**
   * Generic HMAC signature in a header or a JSON body field, configured in YAML only.
   */
  type: 'hmac';
  /**
   * Name(s) of environment variables holding secrets; list several to rotate.
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Header carrying the signature, e.g. X-Hub-Signature-256.
   */
  header?: string;
  /**
   * Dotted path of a JSON body field carrying the signature, instead of `header` (e.g. signature.signature).
   */
  signature_field?: string;
  /**
   * Hash.
   */
  algorithm?: 'sha1' | 'sha256' | 'sha512';
  /**
   * Signature encoding.
   */
  encoding?: 'hex' | 'base64' | 'base64url';
  /**
   * Text before each signature, e.g. `sha256=` or `v0=`.
   */
  prefix?: string;
  /**
   * Splits a header carrying several signatures (positional: default `,`).
   */
  separator?: string;
  /**
   * plain: the value itself; keyed: `t=123,v1=abc`; positional: `<timestamp>,<sig>,<sig>`.
   */
  signature_format?: 'plain' | 'keyed' | 'positional';
  /**
   * keyed: the key of the signatures, e.g. v1 or h1.
   */
  signature_key?: string;
  /**
   * keyed: the key of the timestamp, e.g. t or ts.
   */
  timestamp_key?: string;
  /**
   * keyed: between pairs (default `,`).
   */
  pair_separator?: string;
  /**
   * keyed: between a key and its value (default `=`).
   */
  assign?: string;
  /**
   * What is signed; placeholders {body}, {timestamp}, {url}, {method}, {path}, {header.<name>}, {field.<path>}; `\n` is a newline.
   */
  signed?: string;
  /**
   * Header with the timestamp, checked against `tolerance`.
   */
  timestamp_header?: string;
  /**
   * Dotted path of a JSON body field with the timestamp.
   */
  timestamp_field?: string;
  /**
   * How the timestamp is written (unix: seconds).
   */
  timestamp_format?: 'unix' | 'unix_ms' | 'iso8601';
  /**
   * Accepted clock skew either way when a timestamp is used.
   */
  tolerance?: string;
  /**
   * How the secret string encodes the key.
   */
  secret_encoding?: 'utf8' | 'base64' | 'hex';
  /**
   * Stripped from the secret before decoding, e.g. `whsec_`.
   */
  secret_prefix?: string;
}
/**
 * Shared-secret token in a header, or HTTP Basic auth.
 */
export interface TokenVerifier {
  /**
   * Shared-secret token in a header, or HTTP Basic auth.
   */
  type: 'token';
  /**
   * Name(s) of environment variables holding secrets; list several to rotate.
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Where the token is.
   */
  scheme?: 'header' | 'basic';
  /**
   * Header name for scheme `header` (default Authorization).
   */
  header?: string;
  /**
   * Text before the token, e.g. `Bearer `.
   */
  prefix?: string;
  /**
   * Expected Basic user name for scheme `basic`.
   */
  username?: string;
}
/**
 * HTTP Basic credentials (user name and password from secrets), compared in constant time.
 */
export interface BasicVerifier {
  /**
   * HTTP Basic credentials (user name and password from secrets), compared in constant time.
   */
  type: 'basic';
  /**
   * Name of the environment variable holding the expected user name.
   */
  username: string;
  /**
   * Name(s) of environment variables holding the password; list several to rotate.
   *
   * @minItems 1
   */
  password: string | [string, ...string[]];
}
/**
 * Ed25519 signature in a header over a template of the request, checked with a public key.
 */
export interface Ed25519Verifier {
  /**
   * Ed25519 signature in a header over a template of the request, checked with a public key.
   */
  type: 'ed25519';
  /**
   * Name(s) of environment variables holding the raw 32-byte public key (hex or base64, see key_encoding).
   *
   * @minItems 1
   */
  public_key: string | [string, ...string[]];
  /**
   * How the public key is written.
   */
  key_encoding?: 'hex' | 'base64';
  /**
   * Header carrying the signature, e.g. X-Signature-Ed25519.
   */
  header: string;
  /**
   * Signature encoding.
   */
  encoding?: 'hex' | 'base64' | 'base64url';
  /**
   * What is signed; the hmac scheme's placeholders.
   */
  signed?: string;
  /**
   * Header with the timestamp, checked against `tolerance`.
   */
  timestamp_header?: string;
  /**
   * How the timestamp is written (unix: seconds).
   */
  timestamp_format?: 'unix' | 'unix_ms' | 'iso8601';
  /**
   * Accepted clock skew either way when a timestamp is used.
   */
  tolerance?: string;
}
/**
 * A JWS/JWT in a header, HMAC-signed with a shared secret, carrying a hash of the raw body.
 */
export interface JwsVerifier {
  /**
   * A JWS/JWT in a header, HMAC-signed with a shared secret, carrying a hash of the raw body.
   */
  type: 'jws';
  /**
   * Name(s) of environment variables holding secrets; list several to rotate.
   *
   * @minItems 1
   */
  secret: string | [string, ...string[]];
  /**
   * Header carrying the token, e.g. X-Webhook-Signature.
   */
  header: string;
  /**
   * Accepted algorithms.
   *
   * @minItems 1
   */
  algorithms?: ['HS256' | 'HS384' | 'HS512', ...('HS256' | 'HS384' | 'HS512')[]];
  /**
   * Claim holding the hex SHA-256 of the raw body (e.g. sha256). Without it the token proves nothing about the body, so it is required.
   */
  body_hash_claim: string;
  /**
   * Required `iss` claim, e.g. netlify.
   */
  issuer?: string;
}
/**
 * How the envelope is read from a request: `id` (the deduplication key), `type` (matched by handlers), `occurred_at` (ISO-8601 after transforms).
 */
export interface EventExtraction {
  id: Value;
  type: Value;
  occurred_at?: Value;
}
/**
 * A POST whose JSON field marks the handshake; answered with a body field or a constant JSON.
 */
export interface JsonChallengeHandshake {
  /**
   * A POST whose JSON field marks the handshake; answered with a body field or a constant JSON.
   */
  type: 'json-challenge';
  /**
   * The handshake is the request whose JSON body field has this value.
   */
  when: {
    /**
     * Dotted path of a JSON body field.
     */
    field: string;
    /**
     * The value that marks the handshake.
     */
    equals: string | number | boolean;
  };
  /**
   * The body field whose value answers (e.g. challenge).
   */
  answer_field?: string;
  /**
   * json (default): `{ <answer_field>: value }`; text: the value as text/plain.
   */
  answer?: 'json' | 'text';
  /**
   * A constant JSON answer instead of a field (e.g. `{ type: 1 }`).
   */
  respond?: {};
  /**
   * 200 with the answer, or 204 with no body (Discord webhook events answer their PING so).
   */
  status?: 200 | 204;
  /**
   * Verify the handshake with the integration's verifier first (false only where the provider does not sign it).
   */
  verify?: boolean;
}
/**
 * A POST marked by a header value; answered with a JSON body field as text/plain.
 */
export interface HeaderChallengeHandshake {
  /**
   * A POST marked by a header value; answered with a JSON body field as text/plain.
   */
  type: 'header-challenge';
  /**
   * The header that marks the handshake.
   */
  when_header: string;
  /**
   * Its value on the handshake.
   */
  equals: string;
  /**
   * The body field whose value answers (e.g. challenge).
   */
  answer_field: string;
  /**
   * Verify the handshake with the integration's verifier first (false only where the provider does not sign it).
   */
  verify?: boolean;
}
/**
 * A POST carrying a token; answered with the token and its hex HMAC-SHA256 under the secret.
 */
export interface HmacChallengeHandshake {
  /**
   * A POST carrying a token; answered with the token and its hex HMAC-SHA256 under the secret.
   */
  type: 'hmac-challenge';
  /**
   * The handshake is the request whose JSON body field has this value.
   */
  when: {
    /**
     * Dotted path of a JSON body field.
     */
    field: string;
    /**
     * The value that marks the handshake.
     */
    equals: string | number | boolean;
  };
  /**
   * Dotted path of the token.
   */
  token_field?: string;
  /**
   * Name of an environment variable holding a secret (never the value itself).
   */
  secret: string;
  /**
   * Always verified (default true): unverified, the answer would sign any text with the secret.
   */
  verify?: true;
}
/**
 * A GET with a challenge query parameter, answered as text/plain; optionally a mode and a verify token.
 */
export interface GetChallengeHandshake {
  /**
   * A GET with a challenge query parameter, answered as text/plain; optionally a mode and a verify token.
   */
  type: 'get-challenge';
  /**
   * Query parameter carrying the challenge (e.g. challenge, hub.challenge).
   */
  challenge_param: string;
  /**
   * Query parameter carrying the mode (e.g. hub.mode).
   */
  mode_param?: string;
  /**
   * The mode value required (e.g. subscribe).
   */
  mode?: string;
  /**
   * Query parameter carrying the verify token (e.g. hub.verify_token).
   */
  token_param?: string;
  /**
   * Name of the environment variable holding the verify token you chose.
   */
  verify_token?: string;
}
/**
 * A POST carrying a secret in a header: echoed back, and kept as the secret the verifier uses.
 */
export interface EchoHeaderHandshake {
  /**
   * A POST carrying a secret in a header: echoed back, and kept as the secret the verifier uses.
   */
  type: 'echo-header';
  /**
   * The header carrying the secret (e.g. X-Hook-Secret).
   */
  header: string;
  /**
   * The secret name the verifier reads; the handshake provides its value unless the environment sets it.
   */
  secret: string;
  /**
   * Where the learnt secret is kept: the Worker's KV binding.
   */
  secret_store?: 'kv';
}
/**
 * A POST carrying a verification token in a JSON field: kept (KV) for the operator and as the verifier's secret.
 */
export interface RecordTokenHandshake {
  /**
   * A POST carrying a verification token in a JSON field: kept (KV) for the operator and as the verifier's secret.
   */
  type: 'record-token';
  /**
   * The body field carrying the token (e.g. verification_token).
   */
  field: string;
  /**
   * The secret name the verifier reads; the handshake provides its value unless the environment sets it.
   */
  secret: string;
  /**
   * Where the learnt secret is kept: the Worker's KV binding.
   */
  secret_store?: 'kv';
}
/**
 * A HEAD to the route (an unsigned reachability check, e.g. Trello's), answered 200 with an empty body.
 */
export interface HeadOkHandshake {
  /**
   * A HEAD to the route (an unsigned reachability check, e.g. Trello's), answered 200 with an empty body.
   */
  type: 'head-ok';
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
        SourceBearerAuth | SourceBasicAuth | SourceHeaderAuth,
        ...(SourceBearerAuth | SourceBasicAuth | SourceHeaderAuth)[]
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
