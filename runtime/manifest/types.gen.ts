/* Generated from schemas/manifest.schema.json by `switchyard types`. Do not edit. */

/**
 * A size such as `512B`, `64KiB` or `1MiB`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Size".
 */
export type Size = string;
/**
 * A duration such as `250ms`, `30s`, `5m`, `12h` or `7d`.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Duration".
 */
export type Duration = string;
/**
 * One step, named by its key.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Step".
 */
export type Step = SqlStep | EnqueueStep | ActionStep;
/**
 * A path into the event (`data.object.id`), or an object with one source and optional transforms.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Value".
 */
export type Value =
  | string
  | {
      /**
       * Read this path.
       */
      path?: string;
      /**
       * A string with `{path}` placeholders. In event extraction (id, type, occurred_at) every placeholder must be a non-empty string, a number or a boolean, or the template is missing (then `default`, the next of `first`, or 400 unmappable_event); in handler steps a missing placeholder renders empty.
       */
      template?: string;
      /**
       * The first of these values that is present (each with its own transforms and default), e.g. one id per kind of callback.
       *
       * @minItems 1
       */
      first?: [Value, ...Value[]];
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
       * With `body_sha256` as the event id: the same body is a duplicate only within this window and a new event after it (the stored id is `<hash>@<arrival>`), for providers that send the same body again for a new change.
       */
      window?: string;
      /**
       * A Worker variable (wrangler.toml [vars]), e.g. ADMIN_EMAIL; not in event extraction.
       */
      env?: string;
      /**
       * Transforms applied in order.
       */
      transform?:
        | (
            | (
                | 'trim'
                | 'unix_seconds_to_iso'
                | 'unix_ms_to_iso'
                | 'iso'
                | 'json'
                | 'lower'
                | 'upper'
                | 'string'
                | 'number'
              )
            | {
                /**
                 * An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.
                 */
                money?: Value;
                /**
                 * An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.
                 */
                decimal?: Value;
                /**
                 * Divides a number: `{ divide: 100 }`.
                 */
                divide?: number;
                /**
                 * Multiplies a number.
                 */
                multiply?: number;
                /**
                 * Joins a list into one string with this separator (missing and null items are left out).
                 */
                join?: string;
                /**
                 * Splits a string into a list at this separator.
                 */
                split?: string;
                /**
                 * Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.
                 */
                add?: string;
                /**
                 * Subtracts a duration from a date: ISO-8601.
                 */
                subtract?: string;
                /**
                 * The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.
                 */
                find?: {
                  /**
                   * A path into each item (`id`, `verification.status`).
                   */
                  where: string;
                  /**
                   * What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.
                   */
                  equals: Value;
                };
                /**
                 * Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.
                 */
                format_date?: string;
              }
          )
        | [
            (
              | (
                  | 'trim'
                  | 'unix_seconds_to_iso'
                  | 'unix_ms_to_iso'
                  | 'iso'
                  | 'json'
                  | 'lower'
                  | 'upper'
                  | 'string'
                  | 'number'
                )
              | {
                  /**
                   * An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.
                   */
                  money?: Value;
                  /**
                   * An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.
                   */
                  decimal?: Value;
                  /**
                   * Divides a number: `{ divide: 100 }`.
                   */
                  divide?: number;
                  /**
                   * Multiplies a number.
                   */
                  multiply?: number;
                  /**
                   * Joins a list into one string with this separator (missing and null items are left out).
                   */
                  join?: string;
                  /**
                   * Splits a string into a list at this separator.
                   */
                  split?: string;
                  /**
                   * Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.
                   */
                  add?: string;
                  /**
                   * Subtracts a duration from a date: ISO-8601.
                   */
                  subtract?: string;
                  /**
                   * The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.
                   */
                  find?: {
                    /**
                     * A path into each item (`id`, `verification.status`).
                     */
                    where: string;
                    /**
                     * What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.
                     */
                    equals: Value;
                  };
                  /**
                   * Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.
                   */
                  format_date?: string;
                }
            ),
            ...(
              | (
                  | 'trim'
                  | 'unix_seconds_to_iso'
                  | 'unix_ms_to_iso'
                  | 'iso'
                  | 'json'
                  | 'lower'
                  | 'upper'
                  | 'string'
                  | 'number'
                )
              | {
                  /**
                   * An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.
                   */
                  money?: Value;
                  /**
                   * An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.
                   */
                  decimal?: Value;
                  /**
                   * Divides a number: `{ divide: 100 }`.
                   */
                  divide?: number;
                  /**
                   * Multiplies a number.
                   */
                  multiply?: number;
                  /**
                   * Joins a list into one string with this separator (missing and null items are left out).
                   */
                  join?: string;
                  /**
                   * Splits a string into a list at this separator.
                   */
                  split?: string;
                  /**
                   * Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.
                   */
                  add?: string;
                  /**
                   * Subtracts a duration from a date: ISO-8601.
                   */
                  subtract?: string;
                  /**
                   * The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.
                   */
                  find?: {
                    /**
                     * A path into each item (`id`, `verification.status`).
                     */
                    where: string;
                    /**
                     * What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.
                     */
                    equals: Value;
                  };
                  /**
                   * Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.
                   */
                  format_date?: string;
                }
            )[]
          ];
      /**
       * After the transforms, the value is looked up here (a number or boolean by its text, e.g. `"2"`) and replaced by what the key maps to: any JSON value. A value that is not a key takes `default`, or is a mapping error.
       */
      map?: {
        [k: string]: unknown;
      };
      /**
       * Used when the source is missing or null, or (with `map`) when the value is not a key of the map.
       */
      default?: unknown;
    };
/**
 * An outbound action; `action` picks the adapter.
 */
export type ActionStep =
  ResendAction | SendgridAction | TwilioSmsAction | MixpanelAction | PosthogAction | HttpAction | ForwardAction;
/**
 * A database projections are written to; `type` picks it.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Store".
 */
export type Store = D1Store | PostgresStore;
/**
 * A provider from the catalog (catalog/<name>.yaml): its verifier, envelope and handshake are the defaults, and every key set here overrides them. `switchyard providers` lists them.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Provider".
 */
export type Provider = string;
/**
 * A request the provider sends to prove the endpoint is yours, answered at once and never queued; `type` picks the adapter.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Handshake".
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
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "AuthProvider".
 */
export type AuthProvider = ClerkAuth | Auth0Auth | SupabaseAuth | JwtAuth;
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Endpoint".
 */
export type Endpoint = TrackEndpoint | PosthogFlagsEndpoint | CloudinaryUploadEndpoint;
/**
 * How a request is authenticated; `type` picks the adapter.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Verifier".
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
 * switchyard integrations manifest (integrations.yaml).
 */
export interface Manifest {
  /**
   * Manifest language version (current: 2); `switchyard upgrade` rewrites an older manifest.
   */
  version: 1 | 2;
  /**
   * The project's own components: files (relative to the manifest) that export what defineComponent returns; their options join this schema.
   */
  components?: string[];
  defaults?: Defaults;
  platform?: Platform;
  retention?: Retention;
  /**
   * Conditions to be told about, each once per incident.
   */
  alerts?: {
    [k: string]: Alert;
  };
  /**
   * Queues by name, each mapped to its producer binding in wrangler.toml.
   */
  queues?: {
    [k: string]: Queue;
  };
  /**
   * Where projections go, by name. `d1` (the event log's database, binding DB) is always there and is the default; a `postgres` store is reached through a Hyperdrive binding.
   */
  stores?: {
    [k: string]: Store;
  };
  /**
   * Integrations by name.
   */
  integrations: {
    [k: string]: Integration;
  };
  /**
   * Named email and SMS templates.
   */
  templates?: {
    [k: string]: Template;
  };
  /**
   * Free-tier and rate limits, counted atomically, named like `resend.emails`.
   */
  limits?: {
    [k: string]: Limit;
  };
  /**
   * JWT providers for routes and the admin API, by name.
   */
  auth?: {
    [k: string]: AuthProvider;
  };
  /**
   * Application-facing routes: protected upstream proxies and built-in endpoints, by name.
   */
  routes?: {
    [k: string]: Route;
  };
  /**
   * What the application may ask switchyard to do (POST /v1/commands/<name>, or a Service Binding), by name.
   */
  commands?: {
    [k: string]: Command;
  };
  admin?: Admin;
  /**
   * Per-environment overlays, merged over the base (objects merge, other values replace, null removes).
   */
  environments?: {
    [k: string]: Overlay;
  };
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Defaults".
 */
export interface Defaults {
  /**
   * The retry policy of every integration, route and command that does not say otherwise; the fields given here replace the built-in ones. Default: {"backoff":"exponential","initial_delay":"30s","max_delay":"1h","jitter":0.2,"max_attempts":5}.
   */
  retry?: RetryPolicy;
  /**
   * The largest accepted body, for every integration that does not say otherwise. Default: 1MiB.
   */
  max_body?: Size;
  /**
   * An event or effect waiting this long past its time with no outcome is queued again by the sweep (an event up to 3 times, each try waiting twice as long), then dead-lettered. Default: 15m.
   */
  stuck_after?: Duration;
  /**
   * When the event id or type comes from a header the verifier does not sign, the same signed body is accepted once within this window, whatever those headers say (0s turns it off). Default: 30d.
   */
  replay_window?: Duration;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "RetryPolicy".
 */
export interface RetryPolicy {
  /**
   * How the delay grows between attempts.
   */
  backoff?: 'fixed' | 'linear' | 'exponential';
  /**
   * Delay before the second attempt.
   */
  initial_delay?: string;
  /**
   * Upper bound of any delay (Queues caps it at 12h).
   */
  max_delay?: string;
  /**
   * Random spread as a fraction of the delay (0.2 = ±20%).
   */
  jitter?: number;
  /**
   * Attempts before the message is dead-lettered.
   */
  max_attempts?: number;
}
export interface Platform {
  /**
   * The Workers plan whose daily allowances the admin usage report compares against. Default: free.
   */
  plan?: 'free' | 'paid';
}
export interface Retention {
  /**
   * Keep raw webhook bodies this long. Default: 30d.
   */
  payloads?: string;
  /**
   * Keep event metadata this long. Default: 90d.
   */
  events?: string;
  /**
   * Keep unreplayed dead letters this long; replayed ones go at the next prune. Default: 90d.
   */
  dead_letters?: string;
  /**
   * Keep the log of refused requests this long. Default: 7d.
   */
  refusals?: string;
  /**
   * Rows per statement. Default: 500.
   */
  batch?: number;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Alert".
 */
export interface Alert {
  description?: string;
  when: AlertCondition;
  /**
   * An action step (email, or http for Slack).
   */
  notify: Step;
}
export interface AlertCondition {
  /**
   * More open dead letters than this.
   */
  dead_letters?: {
    above: number;
    integration?: string;
    /**
     * Only letters with this reason (e.g. `stuck`: events the sweep gave up on).
     */
    reason?: string;
  };
  /**
   * More refused webhooks than this within the window (default 1h): a spike.
   */
  rejections?: {
    above: number;
    within?: Duration;
    integration?: string;
  };
  /**
   * This limit reached its warn threshold in its current period.
   */
  limit_warned?: string;
  /**
   * The oldest unprocessed event is older than this.
   */
  lag?: {
    above: Duration;
    integration?: string;
  };
}
/**
 * Runs one SQL statement against its store (D1 by default, or a Postgres store); all sql steps of a message commit together.
 */
export interface SqlStep {
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * The statement, with `:name` parameters.
   */
  sql: string;
  /**
   * A value for each `:name` in the statement. Default: {}.
   */
  params?: {
    [k: string]: Value;
  };
  /**
   * The store it writes (from `stores:`), over its handler's; default d1.
   */
  store?: string;
}
/**
 * When a handler or step runs: `{ path: <path>, <operator>: <operand> }` (every operator given must hold), or `all`, `any`, `not` of conditions. Paths read the payload, `@type`-style envelope fields and `$name` derived values.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Condition".
 */
export interface Condition {
  /**
   * Every condition holds.
   *
   * @minItems 1
   */
  all?: [Condition, ...Condition[]];
  /**
   * At least one condition holds.
   *
   * @minItems 1
   */
  any?: [Condition, ...Condition[]];
  /**
   * The condition does not hold.
   */
  not?: Condition;
  /**
   * What the operators test: a payload path, `@type`-style envelope field or `$name`.
   */
  path?: string;
  /**
   * equals this value (a string, number, boolean or null; or `{ path: … }` read from the event)
   */
  eq?:
    | (string | number | boolean | null)
    | {
        /**
         * Read this path from the event (the root, also inside `some`/`every`).
         */
        path: string;
      };
  /**
   * does not equal this value (true when the field is missing)
   */
  ne?:
    | (string | number | boolean | null)
    | {
        /**
         * Read this path from the event (the root, also inside `some`/`every`).
         */
        path: string;
      };
  /**
   * is one of these values
   *
   * @minItems 1
   */
  in?: [string | number | boolean | null, ...(string | number | boolean | null)[]];
  /**
   * is none of these values (true when the field is missing)
   *
   * @minItems 1
   */
  not_in?: [string | number | boolean | null, ...(string | number | boolean | null)[]];
  /**
   * is greater than this number or ISO-8601 date
   */
  gt?:
    | (number | string)
    | {
        /**
         * Read this path from the event (the root, also inside `some`/`every`).
         */
        path: string;
      };
  /**
   * is greater than or equal to this number or ISO-8601 date
   */
  gte?:
    | (number | string)
    | {
        /**
         * Read this path from the event (the root, also inside `some`/`every`).
         */
        path: string;
      };
  /**
   * is less than this number or ISO-8601 date
   */
  lt?:
    | (number | string)
    | {
        /**
         * Read this path from the event (the root, also inside `some`/`every`).
         */
        path: string;
      };
  /**
   * is less than or equal to this number or ISO-8601 date
   */
  lte?:
    | (number | string)
    | {
        /**
         * Read this path from the event (the root, also inside `some`/`every`).
         */
        path: string;
      };
  /**
   * is a string that starts with this
   */
  starts_with?: string;
  /**
   * is a string that ends with this
   */
  ends_with?: string;
  /**
   * is a string that contains this, or a list that has this item
   */
  contains?: string | number | boolean | null;
  /**
   * is present and not null (`true`), or missing or null (`false`)
   */
  exists?: boolean;
  /**
   * is a list with at least one item matching this condition (its paths are relative to the item)
   */
  some?: Condition;
  /**
   * is a non-empty list whose items all match this condition (its paths are relative to the item)
   */
  every?: Condition;
}
/**
 * Sends a message built from the event to another queue.
 */
export interface EnqueueStep {
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * Name of a queue declared under `queues:`.
   */
  enqueue: string;
  /**
   * The message: a value for each field.
   */
  body: {
    [k: string]: Value;
  };
}
/**
 * Sends email through Resend (single or batched), logging to email_logs.
 */
export interface ResendAction {
  /**
   * Sends email through Resend (single or batched), logging to email_logs.
   */
  action: 'resend';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * Sender, e.g. `Acme <hello@acme.dev>`, or `{ env: RESEND_FROM }`: a Worker variable read when the email is sent.
   */
  from:
    | string
    | {
        env: string;
      };
  /**
   * Resend tags by name. A string is the value itself (letters, numbers, _ and - only); `{ path: ... }` or another value reads it from the event, with other characters made `_`.
   */
  tags?: {
    [k: string]:
      | string
      | {
          /**
           * Read this path.
           */
          path?: string;
          /**
           * A string with `{path}` placeholders. In event extraction (id, type, occurred_at) every placeholder must be a non-empty string, a number or a boolean, or the template is missing (then `default`, the next of `first`, or 400 unmappable_event); in handler steps a missing placeholder renders empty.
           */
          template?: string;
          /**
           * The first of these values that is present (each with its own transforms and default), e.g. one id per kind of callback.
           *
           * @minItems 1
           */
          first?: [Value, ...Value[]];
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
           * With `body_sha256` as the event id: the same body is a duplicate only within this window and a new event after it (the stored id is `<hash>@<arrival>`), for providers that send the same body again for a new change.
           */
          window?: string;
          /**
           * A Worker variable (wrangler.toml [vars]), e.g. ADMIN_EMAIL; not in event extraction.
           */
          env?: string;
          /**
           * Transforms applied in order.
           */
          transform?:
            | (
                | (
                    | 'trim'
                    | 'unix_seconds_to_iso'
                    | 'unix_ms_to_iso'
                    | 'iso'
                    | 'json'
                    | 'lower'
                    | 'upper'
                    | 'string'
                    | 'number'
                  )
                | {
                    /**
                     * An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.
                     */
                    money?: Value;
                    /**
                     * An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.
                     */
                    decimal?: Value;
                    /**
                     * Divides a number: `{ divide: 100 }`.
                     */
                    divide?: number;
                    /**
                     * Multiplies a number.
                     */
                    multiply?: number;
                    /**
                     * Joins a list into one string with this separator (missing and null items are left out).
                     */
                    join?: string;
                    /**
                     * Splits a string into a list at this separator.
                     */
                    split?: string;
                    /**
                     * Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.
                     */
                    add?: string;
                    /**
                     * Subtracts a duration from a date: ISO-8601.
                     */
                    subtract?: string;
                    /**
                     * The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.
                     */
                    find?: {
                      /**
                       * A path into each item (`id`, `verification.status`).
                       */
                      where: string;
                      /**
                       * What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.
                       */
                      equals: Value;
                    };
                    /**
                     * Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.
                     */
                    format_date?: string;
                  }
              )
            | [
                (
                  | (
                      | 'trim'
                      | 'unix_seconds_to_iso'
                      | 'unix_ms_to_iso'
                      | 'iso'
                      | 'json'
                      | 'lower'
                      | 'upper'
                      | 'string'
                      | 'number'
                    )
                  | {
                      /**
                       * An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.
                       */
                      money?: Value;
                      /**
                       * An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.
                       */
                      decimal?: Value;
                      /**
                       * Divides a number: `{ divide: 100 }`.
                       */
                      divide?: number;
                      /**
                       * Multiplies a number.
                       */
                      multiply?: number;
                      /**
                       * Joins a list into one string with this separator (missing and null items are left out).
                       */
                      join?: string;
                      /**
                       * Splits a string into a list at this separator.
                       */
                      split?: string;
                      /**
                       * Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.
                       */
                      add?: string;
                      /**
                       * Subtracts a duration from a date: ISO-8601.
                       */
                      subtract?: string;
                      /**
                       * The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.
                       */
                      find?: {
                        /**
                         * A path into each item (`id`, `verification.status`).
                         */
                        where: string;
                        /**
                         * What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.
                         */
                        equals: Value;
                      };
                      /**
                       * Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.
                       */
                      format_date?: string;
                    }
                ),
                ...(
                  | (
                      | 'trim'
                      | 'unix_seconds_to_iso'
                      | 'unix_ms_to_iso'
                      | 'iso'
                      | 'json'
                      | 'lower'
                      | 'upper'
                      | 'string'
                      | 'number'
                    )
                  | {
                      /**
                       * An amount in minor units (cents) formatted in the currency this value names (a path, or `{ const: EUR }`): `1999` with `usd` → `$19.99`; `500` with `jpy` → `¥500`.
                       */
                      money?: Value;
                      /**
                       * An amount in minor units (cents) as a decimal number in the currency this value names: `1999` with `usd` → `19.99`.
                       */
                      decimal?: Value;
                      /**
                       * Divides a number: `{ divide: 100 }`.
                       */
                      divide?: number;
                      /**
                       * Multiplies a number.
                       */
                      multiply?: number;
                      /**
                       * Joins a list into one string with this separator (missing and null items are left out).
                       */
                      join?: string;
                      /**
                       * Splits a string into a list at this separator.
                       */
                      split?: string;
                      /**
                       * Adds a duration (`7d`, `90m`) to a date (ISO-8601, or a Date string): ISO-8601.
                       */
                      add?: string;
                      /**
                       * Subtracts a duration from a date: ISO-8601.
                       */
                      subtract?: string;
                      /**
                       * The first item of a list whose `where` equals `equals` (strictly), or missing when none does: `{ find: { where: id, equals: data.primary_email_address_id } }`.
                       */
                      find?: {
                        /**
                         * A path into each item (`id`, `verification.status`).
                         */
                        where: string;
                        /**
                         * What it must equal: a value read from the event (`data.primary_email_address_id`), or `{ const: … }`.
                         */
                        equals: Value;
                      };
                      /**
                       * Formats a date (ISO-8601) in UTC with the tokens YYYY, MM, DD, HH, mm, ss, MMM (Jan), MMMM (January) and D (day without zero): `{ format_date: "D MMM YYYY" }` → `7 Dec 2026`.
                       */
                      format_date?: string;
                    }
                )[]
              ];
          /**
           * After the transforms, the value is looked up here (a number or boolean by its text, e.g. `"2"`) and replaced by what the key maps to: any JSON value. A value that is not a key takes `default`, or is a mapping error.
           */
          map?: {
            [k: string]: unknown;
          };
          /**
           * Used when the source is missing or null, or (with `map`) when the value is not a key of the map.
           */
          default?: unknown;
        };
  };
  /**
   * Recipient address, from the event.
   */
  to: Value;
  reply_to?: string;
  /**
   * A template declared under `templates:`.
   */
  template?: string;
  /**
   * The template's variables, each a value from the event.
   */
  data?: {
    [k: string]: Value;
  };
  /**
   * Inline subject (placeholders allowed), instead of a template.
   */
  subject?: string;
  /**
   * Inline HTML (values escaped), instead of a template.
   */
  html?: string;
  /**
   * Inline text, instead of a template.
   */
  text?: string;
  /**
   * Env var holding the Resend API key.
   */
  api_key: string;
  /**
   * API base URL. Default: https://api.resend.com.
   */
  base_url?: string;
}
/**
 * Sends email through SendGrid (dynamic template or rendered content), logging to email_logs.
 */
export interface SendgridAction {
  /**
   * Sends email through SendGrid (dynamic template or rendered content), logging to email_logs.
   */
  action: 'sendgrid';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  from: string;
  to: Value;
  /**
   * A SendGrid dynamic template id (`d-…`); `data` becomes its dynamic_template_data.
   */
  template_id?: string;
  /**
   * A template declared under `templates:`.
   */
  template?: string;
  /**
   * The template's variables, each a value from the event.
   */
  data?: {
    [k: string]: Value;
  };
  /**
   * Inline subject (placeholders allowed), instead of a template.
   */
  subject?: string;
  /**
   * Inline HTML (values escaped), instead of a template.
   */
  html?: string;
  /**
   * Inline text, instead of a template.
   */
  text?: string;
  /**
   * Env var holding the SendGrid API key.
   */
  api_key: string;
  /**
   * API base URL. Default: https://api.sendgrid.com.
   */
  base_url?: string;
}
/**
 * Sends SMS through Twilio, logging to sms_logs.
 */
export interface TwilioSmsAction {
  /**
   * Sends SMS through Twilio, logging to sms_logs.
   */
  action: 'twilio';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * E.164 number, from the event.
   */
  to: Value;
  /**
   * Sender number (or use messaging_service_sid).
   */
  from?: string;
  messaging_service_sid?: string;
  /**
   * A template's text is the message body.
   */
  template?: string;
  data?: {
    [k: string]: Value;
  };
  /**
   * Inline body (placeholders allowed), instead of a template.
   */
  text?: string;
  /**
   * Where Twilio posts status changes (e.g. this runtime's /webhooks/twilio).
   */
  status_callback?: string;
  /**
   * Env var holding the Account SID.
   */
  account_sid: string;
  /**
   * Env var holding the auth token.
   */
  auth_token: string;
  /**
   * API base URL. Default: https://api.twilio.com.
   */
  base_url?: string;
}
/**
 * Sends analytics events to Mixpanel in batches, with $insert_id for deduplication.
 */
export interface MixpanelAction {
  /**
   * Sends analytics events to Mixpanel in batches, with $insert_id for deduplication.
   */
  action: 'mixpanel';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * Event name (a constant or from the event).
   */
  event: Value;
  /**
   * The user the event belongs to.
   */
  distinct_id: Value;
  /**
   * Event properties.
   */
  properties?: {
    [k: string]: Value;
  };
  /**
   * A path to an object in the event whose fields are all sent as properties (e.g. a tracked event's properties).
   */
  include?: string;
  /**
   * import (needs api_secret) or track. Default: import.
   */
  mode?: 'import' | 'track';
  /**
   * Env var holding the project token.
   */
  token: string;
  /**
   * Env var holding the project API secret (import).
   */
  api_secret?: string;
  /**
   * API base URL. Default: https://api.mixpanel.com.
   */
  base_url?: string;
}
/**
 * Sends analytics events to PostHog in batches, with a stable uuid per event.
 */
export interface PosthogAction {
  /**
   * Sends analytics events to PostHog in batches, with a stable uuid per event.
   */
  action: 'posthog';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * Event name (a constant or from the event).
   */
  event: Value;
  /**
   * The user the event belongs to.
   */
  distinct_id: Value;
  /**
   * Event properties.
   */
  properties?: {
    [k: string]: Value;
  };
  /**
   * A path to an object in the event whose fields are all sent as properties (e.g. a tracked event's properties).
   */
  include?: string;
  /**
   * Env var holding the project API key (phc_…).
   */
  api_key: string;
  /**
   * PostHog host. Default: https://us.i.posthog.com.
   */
  base_url?: string;
}
/**
 * A generic HTTP request with a URL template, headers, secret headers, query parameters and a JSON or form-encoded body (secrets allowed in body and query).
 */
export interface HttpAction {
  /**
   * A generic HTTP request with a URL template, headers, secret headers, query parameters and a JSON or form-encoded body (secrets allowed in body and query).
   */
  action: 'http';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * URL template; `{path}` placeholders are filled from the event and URL-encoded.
   */
  url: string;
  headers?: {
    [k: string]: Value;
  };
  secret_headers?: {
    [k: string]: {
      /**
       * Name of an environment variable holding a secret (never the value itself).
       */
      secret: string;
      /**
       * e.g. `Bearer `.
       */
      prefix?: string;
    };
  };
  /**
   * Body fields: values from the event, or `{ secret: NAME }`. A value that is an object or array is nested (JSON) or bracket-encoded (form).
   */
  body?: {
    [k: string]: Value | SecretValue;
  };
  /**
   * json (the default), or form: application/x-www-form-urlencoded with nested bracket keys (`metadata[order_id]=1`), as Stripe reads it.
   */
  body_encoding?: 'json' | 'form';
  /**
   * Query parameters added to the URL: values from the event, or `{ secret: NAME }`.
   */
  query?: {
    [k: string]: Value | SecretValue;
  };
  /**
   * GET only: cache the response in KV.
   */
  cache?: {
    /**
     * A duration such as `250ms`, `30s`, `5m`, `12h` or `7d`.
     */
    ttl: string;
  };
  /**
   * Applies only to a 2xx answer (any other status is already a failure): for APIs that answer a failure with 200 and an error in the body, e.g. Mixpanel `{ path: status, equals: 1 }`, Paddle Classic `{ path: success, equals: true }`. An answer that is not JSON or holds another value is a provider failure, retried per the step's retry policy and finally dead-lettered like a 5xx.
   */
  success?: {
    /**
     * A value path into the JSON answer, e.g. `status` or `result.ok`.
     */
    path: string;
    /**
     * The literal the value at `path` must equal (strictly: `1` is not `"1"`).
     */
    equals: string | number | boolean | null;
  };
  /**
   * With `success`: a value path into a failing answer whose value becomes the failure reason (the dead letter's error, a synchronous command's `reason`), e.g. `error.code`.
   */
  error_path?: string;
  /**
   * none: a 3xx answer is a provider failure (its status and the Location's origin recorded), never followed. same_origin: a redirect within the URL's origin is followed (at most 5 hops, each checked; a 303 continues as a GET without a body, a 307/308 keeps the method and body); one to another origin is still a failure. Default: none.
   */
  follow_redirects?: 'none' | 'same_origin';
  /**
   * A header that carries the effect's idempotency key (stable across retries), for APIs that deduplicate on one, e.g. `Idempotency-Key`.
   */
  idempotency_header?: string;
}
/**
 * The value of a secret, read when the request is sent; never stored with the effect, logged or shown in an error.
 */
export interface SecretValue {
  /**
   * Name of an environment variable holding a secret (never the value itself).
   */
  secret: string;
}
/**
 * Forwards the event (its raw body or the envelope) to a URL or a Service Binding, signed with Standard Webhooks; optionally ordered per key.
 */
export interface ForwardAction {
  /**
   * Forwards the event (its raw body or the envelope) to a URL or a Service Binding, signed with Standard Webhooks; optionally ordered per key.
   */
  action: 'forward';
  /**
   * Limits (from `limits:`) this send counts against. Default: [].
   */
  limits?: string[];
  /**
   * This effect's retry policy, over the integration's.
   */
  retry?: RetryPolicy;
  description?: string;
  /**
   * Run this step only when the condition holds; otherwise it is skipped and says which condition decided.
   */
  if?: Condition;
  /**
   * Where the event goes, e.g. `https://app.example.com/webhooks/stripe`. With `service`, the path and query a request to that Worker carries.
   */
  url: string;
  /**
   * A Service Binding (wrangler.toml `[[services]]`): the request goes to that Worker instead of the network.
   */
  service?: string;
  /**
   * raw: the provider's body, byte for byte (read from the event log when sent). envelope: switchyard's `{integration, id, type, occurred_at, received_at, payload}` as JSON. Default: raw.
   */
  body?: 'raw' | 'envelope';
  /**
   * Env var holding this destination's Standard Webhooks secret (`whsec_` and base64).
   */
  secret: string;
  /**
   * 4xx statuses that stop retrying (the delivery is dead-lettered at once), besides 410. Any other answer but 2xx is retried by the step's policy. Default: [].
   */
  permanent?: number[];
  /**
   * A value path, e.g. `data.object.customer`: a later event with the same value waits while an earlier one is pending or retrying; other values are never held.
   */
  order_by?: string;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Queue".
 */
export interface Queue {
  /**
   * Producer binding name in wrangler.toml.
   */
  binding: string;
  /**
   * Producer binding of its dead-letter queue.
   */
  dead_letter?: string;
  description?: string;
}
export interface D1Store {
  /**
   * The event log's D1 database: projections commit in one transaction with the event log.
   */
  type: 'd1';
  /**
   * Its D1 binding (DB).
   */
  binding: string;
  description?: string;
}
export interface PostgresStore {
  /**
   * PostgreSQL through Hyperdrive: projections commit in one Postgres transaction with their applied-marker (switchyard_applied).
   */
  type: 'postgres';
  /**
   * Its Hyperdrive binding in wrangler.toml ([[hyperdrive]]).
   */
  binding: string;
  /**
   * The folder of its SQL migrations (*.sql, applied in name order), relative to the manifest: validate prepares each statement against them.
   */
  migrations: string;
  description?: string;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Integration".
 */
export interface Integration {
  description?: string;
  /**
   * Path the provider posts to.
   */
  route: string;
  /**
   * Accepted methods. Default: ["POST"].
   *
   * @minItems 1
   */
  methods?: ['POST' | 'PUT' | 'GET', ...('POST' | 'PUT' | 'GET')[]];
  /**
   * Body format. Default: json.
   */
  format?: 'json' | 'form';
  /**
   * The largest accepted body (defaults.max_body when not given).
   */
  max_body?: Size;
  /**
   * auto: an event whose steps all commit in the event log's D1 (SQL, actions and enqueues; no Postgres store) is applied in the request, in one D1 transaction with its effects and outbox rows, and answered 200 after the commit; its emails, sends and messages go out right after the answer, and only what fails goes through the queue. Any other event, and any failure, goes through the queue. queue: always through the queue. Default: auto.
   */
  apply?: 'auto' | 'queue';
  /**
   * When the event id or type comes from a header the verifier does not sign, the same signed body is accepted once within this window, whatever those headers say (0s turns it off). defaults.replay_window when not given.
   */
  replay_window?: Duration;
  provider?: Provider;
  /**
   * How a request is authenticated (`type` picks the adapter). With `provider:`, keys merged over the preset's verifier.
   */
  verifier?: Verifier;
  /**
   * How the envelope is read. With `provider:`, fields that replace the preset's.
   */
  event?: EventExtraction;
  handshake?: Handshake;
  response?: WebhookResponse;
  /**
   * Queue the events go to.
   */
  queue: string;
  retry?: RetryPolicy;
  let?: Let;
  handlers?: Handler[];
  /**
   * Backfill sources by object kind, merged key by key over the provider's catalog `sources:` (`null` removes one); only the CLI reads them (switchyard backfill, reconcile).
   */
  sources?: {
    [k: string]: {} | null;
  };
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
   * 200 with the answer, or 204 with no body (Discord webhook events answer their PING so). Default: 200.
   */
  status?: 200 | 204;
  /**
   * Verify the handshake with the integration's verifier first (false only where the provider does not sign it). Default: true.
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
   * Verify the handshake with the integration's verifier first (false only where the provider does not sign it). Default: true.
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
   * Dotted path of the token. Default: payload.plainToken.
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
   * Where the learnt secret is kept: the runtime's D1 (table handshake_secrets), where only one armed handshake can keep it. `kv`, what earlier versions used, is read as d1: a secret they kept in KV is adopted on its first read. Default: d1.
   */
  secret_store?: 'd1' | 'kv';
}
/**
 * A POST carrying a verification token in a JSON field: kept (D1) for the operator and as the verifier's secret.
 */
export interface RecordTokenHandshake {
  /**
   * A POST carrying a verification token in a JSON field: kept (D1) for the operator and as the verifier's secret.
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
   * Where the learnt secret is kept: the runtime's D1 (table handshake_secrets), where only one armed handshake can keep it. `kv`, what earlier versions used, is read as d1: a secret they kept in KV is adopted on its first read. Default: d1.
   */
  secret_store?: 'd1' | 'kv';
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
 * The answer to a delivery that was verified and recorded (applied, queued or ignored) or was a duplicate, instead of switchyard's own `{"status","id"}` JSON; the outcome and id move to the X-Switchyard-Status and X-Switchyard-Id headers. Errors (4xx, 409, 5xx) keep their own answers. Built from the event before it is recorded: a value the event lacks is a 400 and an ingest dead letter.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "WebhookResponse".
 */
export interface WebhookResponse {
  /**
   * The HTTP status. Default: 200.
   */
  status?: number;
  /**
   * The Content-Type. A JSON type (`application/json`, `…+json`) sends the body value as JSON; any other sends it as text, and it must be a string or a number. Default: application/json.
   */
  content_type?: string;
  /**
   * The body, from the event (payload paths, `@id`, `@type`, …); `map` picks a body by a field, e.g. `{ path: type, map: { "2": { type: 5 } } }`. Without it the body is empty.
   */
  body?: Value;
}
/**
 * Derived values, each named once and read as `$name` wherever a value is read (params, templates, `http` bodies, conditions); computed on first read, once per event. A value may read names declared before it.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Let".
 */
export interface Let {
  [k: string]: Value;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Handler".
 */
export interface Handler {
  /**
   * Event type(s); `*` matches any run of characters.
   */
  on: string | [string, ...string[]];
  description?: string;
  /**
   * The store its sql steps write (from `stores:`; d1 when not given). One event's SQL goes to one store: a transaction cannot span two databases.
   */
  store?: string;
  /**
   * Run the handler only when the condition holds; otherwise its steps are skipped, and the event says which condition decided (`skipped` when no step of any handler ran).
   */
  if?: Condition;
  let?: Let;
  /**
   * @minItems 1
   */
  steps: [Step, ...Step[]];
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Template".
 */
export interface Template {
  /**
   * Subject line (plain text; placeholders allowed).
   */
  subject?: string;
  /**
   * HTML body; every {{value}} is HTML-escaped.
   */
  html?: string;
  /**
   * Plain-text body (also the SMS body).
   */
  text?: string;
  /**
   * A file next to the manifest holding the HTML body (inlined by the build).
   */
  html_file?: string;
  /**
   * A file next to the manifest holding the text body (inlined by the build).
   */
  text_file?: string;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Limit".
 */
export interface Limit {
  /**
   * The window the limit counts over (UTC).
   */
  period: 'minute' | 'hour' | 'day' | 'month';
  /**
   * How many are allowed per period (and per key).
   */
  limit: number;
  /**
   * Warn once when usage reaches this fraction. Default: 0.8.
   */
  warn_at?: number;
  /**
   * warn: send anyway; defer: retry after the period resets; drop: skip and record limit.dropped. Default: warn.
   */
  on_exceed?: 'warn' | 'defer' | 'drop';
  /**
   * Count separately per value (e.g. the recipient), from the event.
   */
  per?: Value;
  /**
   * Count separately per recipient of each send (the SMS's number, the email's address), whatever the event calls it.
   */
  per_recipient?: boolean;
  /**
   * What is counted. sends: each send of an action step that names the limit. active_users: each signed-in user once per period, on routes that name it (Clerk's MAU); it only warns. tracked_events: each event queued by a route that names it (track, and the api_request events routed to it); warn or drop. operations: what the application counts itself, through a command's `count:` (an OpenAI request made from its own code). Default: sends.
   */
  counts?: 'sends' | 'active_users' | 'tracked_events' | 'operations';
  description?: string;
  /**
   * An action step sent once when the limit reaches warn_at and once when it is exceeded, per period.
   */
  notify?: Step;
}
/**
 * Clerk session tokens (RS256 via the instance JWKS; azp checked).
 */
export interface ClerkAuth {
  /**
   * Clerk session tokens (RS256 via the instance JWKS; azp checked).
   */
  type: 'clerk';
  /**
   * Your Frontend API URL, e.g. https://example.clerk.accounts.dev.
   */
  issuer: string;
  /**
   * Origins your app runs on (the azp claim).
   */
  authorized_parties?: string[];
  /**
   * Default <issuer>/.well-known/jwks.json.
   */
  jwks_url?: string;
  /**
   * Accepted clock skew for exp/nbf/iat. Default: 5s.
   */
  clock_tolerance?: string;
  /**
   * Claims a token must carry, besides exp (always required). Default: [].
   */
  required_claims?: string[];
  /**
   * Fetch the full user from the Clerk Backend API (GET /v1/users/{id}).
   */
  profile?: {
    /**
     * Env var with the Clerk secret key (Backend API).
     */
    secret_key: string;
    /**
     * How long a fetched profile is cached in KV. Default: 5m.
     */
    ttl?: string;
    /**
     * The Clerk Backend API. Default: https://api.clerk.com.
     */
    api_url?: string;
  };
}
/**
 * Auth0 access tokens (RS256 via the tenant JWKS; issuer and audience checked).
 */
export interface Auth0Auth {
  /**
   * Auth0 access tokens (RS256 via the tenant JWKS; issuer and audience checked).
   */
  type: 'auth0';
  /**
   * Tenant domain, e.g. example.us.auth0.com.
   */
  domain: string;
  /**
   * The API identifier the tokens are for.
   */
  audience: string | [string, ...string[]];
  /**
   * The algorithms a token may be signed with. Default: ["RS256"].
   *
   * @minItems 1
   */
  algorithms?: ['RS256' | 'PS256', ...('RS256' | 'PS256')[]];
  /**
   * Accepted clock skew for exp/nbf/iat. Default: 5s.
   */
  clock_tolerance?: string;
  /**
   * Claims a token must carry, besides exp (always required). Default: [].
   */
  required_claims?: string[];
  /**
   * Fetch the full user from the Management API (GET /api/v2/users/{id}).
   */
  profile?: {
    /**
     * Env var with a machine-to-machine client id for the Management API.
     */
    client_id: string;
    /**
     * Env var with its client secret.
     */
    client_secret: string;
    /**
     * How long a fetched profile is cached in KV. Default: 5m.
     */
    ttl?: string;
  };
}
/**
 * Supabase Auth tokens (JWKS signing keys, or the legacy HS256 secret).
 */
export interface SupabaseAuth {
  /**
   * Supabase Auth tokens (JWKS signing keys, or the legacy HS256 secret).
   */
  type: 'supabase';
  /**
   * e.g. https://abcd.supabase.co.
   */
  project_url: string;
  /**
   * Legacy projects: env var with the JWT secret (HS256 only).
   */
  jwt_secret?: string;
  /**
   * The audience tokens are for. Default: authenticated.
   */
  audience?: string;
  /**
   * Accepted clock skew for exp/nbf/iat. Default: 5s.
   */
  clock_tolerance?: string;
  /**
   * Claims a token must carry, besides exp (always required). Default: [].
   */
  required_claims?: string[];
  /**
   * Fetch the full user from the Auth admin API (GET /auth/v1/admin/users/{id}).
   */
  profile?: {
    /**
     * Env var with the service role key (admin API).
     */
    service_role_key: string;
    /**
     * How long a fetched profile is cached in KV. Default: 5m.
     */
    ttl?: string;
  };
}
/**
 * Generic JWTs: a JWKS URL with asymmetric algorithms, or an HS256 shared secret.
 */
export interface JwtAuth {
  /**
   * Generic JWTs: a JWKS URL with asymmetric algorithms, or an HS256 shared secret.
   */
  type: 'jwt';
  jwks_url?: string;
  /**
   * Env var with a shared HS256 secret (instead of jwks_url).
   */
  hs256_secret?: string;
  issuer?: string | [string, ...string[]];
  audience?: string | [string, ...string[]];
  /**
   * @minItems 1
   */
  algorithms: [
    'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256',
    ...('RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256')[]
  ];
  /**
   * Accepted clock skew for exp/nbf/iat. Default: 5s.
   */
  clock_tolerance?: string;
  /**
   * Claims a token must carry, besides exp (always required). Default: [].
   */
  required_claims?: string[];
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Route".
 */
export interface Route {
  description?: string;
  /**
   * Path pattern, e.g. /api/* or /v1/track.
   */
  path: string;
  /**
   * The methods it answers (when not given: GET, POST, OPTIONS for an endpoint, GET, HEAD, POST, PUT, PATCH, DELETE for an upstream).
   *
   * @minItems 1
   */
  methods?: [
    'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS',
    ...('GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS')[]
  ];
  /**
   * An auth provider from `auth:`.
   */
  auth?: string;
  require?: Requirement;
  rate_limit?: RateLimit;
  /**
   * Origin to proxy to (the path and query are kept).
   */
  upstream?: string;
  /**
   * Headers to send upstream, each from a claim.
   */
  forward_claims?: {
    [k: string]: string;
  };
  /**
   * Pass the Authorization header upstream (false: stripped). Default: false.
   */
  keep_authorization?: boolean;
  /**
   * Read the user's full profile (the auth provider's `profile` options), cached in KV. When not given: read where the provider has profile options and the route reads the user (forward_user, forward_profile, on_first_seen); false never reads it.
   */
  profile?: boolean;
  /**
   * Headers to send upstream, each from a field (a path) of the provider's own profile.
   */
  forward_profile?: {
    [k: string]: string;
  };
  /**
   * Headers to send upstream, each from user.* as the auth provider maps its user (email, name, created_at, metadata.<key>): the same whichever provider signs the token.
   */
  forward_user?: {
    [k: string]: string;
  };
  /**
   * SQL steps run once per user, the first time the route sees them (values: sub, claims.*, profile.*, and user.* as the auth provider maps its user: id, email, name, metadata, created_at; created_at is the first request's time where the provider gives none).
   *
   * @minItems 1
   */
  on_first_seen?: [Step, ...Step[]];
  analytics?: RouteAnalytics;
  /**
   * Limits (from `limits:`) this route counts: active_users (each signed-in user once per period) or tracked_events (each event it queues).
   *
   * @minItems 1
   */
  limits?: [string, ...string[]];
  endpoint?: Endpoint;
  /**
   * Queue for an endpoint's events (track).
   */
  queue?: string;
  retry?: RetryPolicy;
  handlers?: Handler[];
}
/**
 * What a token must carry. For the admin API it must name at least one claim: roles alone can be self-granted (whoever creates a Clerk organisation is its org:admin).
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Requirement".
 */
export interface Requirement {
  /**
   * Claims that must have exactly these values (a constant, or `{ env: NAME }`).
   */
  claims?: {
    [k: string]: string | number | boolean | ClaimFromEnv;
  };
  /**
   * Any one of these roles.
   *
   * @minItems 1
   */
  roles?: [string, ...string[]];
  /**
   * The claim holding roles (roles when not given).
   */
  roles_claim?: string;
}
/**
 * The value of a Worker variable, e.g. the id of the organisation whose admins may use the admin API.
 */
export interface ClaimFromEnv {
  /**
   * A Worker variable (wrangler.toml [vars]); unset or empty matches nothing.
   */
  env: string;
}
/**
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "RateLimit".
 */
export interface RateLimit {
  limit: number;
  period: 'minute' | 'hour' | 'day' | 'month';
  per: 'user' | 'ip';
}
/**
 * Track each proxied request as an analytics event, queued after the response (never delaying it).
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "RouteAnalytics".
 */
export interface RouteAnalytics {
  /**
   * A route whose endpoint queues analytics events (e.g. track): its queue and handlers deliver these.
   */
  to: string;
  /**
   * The event name. Default: api_request.
   */
  event?: string;
  /**
   * Keep the query string in `path` (false: query strings carry tokens and e-mail addresses). Default: false.
   */
  query?: boolean;
  privacy?: RequestPrivacy;
  description?: string;
}
export interface RequestPrivacy {
  /**
   * The client IP: left out, truncated to its /24 (IPv4) or /48 (IPv6) network, or whole. Default: truncated.
   */
  ip?: 'none' | 'truncated' | 'full';
  /**
   * The client's country from request.cf.country. Default: true.
   */
  country?: boolean;
}
/**
 * Collects analytics events from browsers and queues them for the route handlers.
 */
export interface TrackEndpoint {
  /**
   * Collects analytics events from browsers and queues them for the route handlers.
   */
  type: 'track';
  /**
   * Events per request. Default: 100.
   */
  max_events?: number;
  /**
   * Public project keys a browser may send instead of a JWT.
   */
  publishable_keys?: string[];
  /**
   * Origins allowed to send events (CORS).
   */
  origins?: string[];
  /**
   * Answer 503 while more events than this wait on the route's queue, not yet consumed. Default: 10000.
   */
  max_queued?: number;
}
/**
 * The user's PostHog feature flags, cached in KV, served stale when PostHog is down.
 */
export interface PosthogFlagsEndpoint {
  /**
   * The user's PostHog feature flags, cached in KV, served stale when PostHog is down.
   */
  type: 'posthog-flags';
  /**
   * Env var with the PostHog project API key.
   */
  api_key: string;
  /**
   * PostHog host. Default: https://us.i.posthog.com.
   */
  base_url?: string;
  /**
   * How long flags are served from the cache. Default: 5m.
   */
  ttl?: string;
  /**
   * How long past ttl a cached answer may stand in when PostHog is down. Default: 1d.
   */
  stale_for?: string;
}
/**
 * Signed uploads to Cloudinary, with size and type limits, transformations and an optional R2 backup of the original.
 */
export interface CloudinaryUploadEndpoint {
  /**
   * Signed uploads to Cloudinary, with size and type limits, transformations and an optional R2 backup of the original.
   */
  type: 'cloudinary-upload';
  cloud_name: string;
  /**
   * Env var with the Cloudinary API key.
   */
  api_key: string;
  /**
   * Env var with the Cloudinary API secret.
   */
  api_secret: string;
  /**
   * Signature hash; must match the account's setting. Default: sha256.
   */
  algorithm?: 'sha1' | 'sha256';
  /**
   * Cloudinary folder; each user's uploads go under <folder>/<user id>.
   */
  folder?: string;
  resource_type?: 'image' | 'video' | 'raw' | 'auto';
  /**
   * An incoming transformation applied before Cloudinary stores the file, e.g. c_limit,w_2000 (signed).
   */
  transformation?: string;
  /**
   * Convert uploads to this format, e.g. webp (signed).
   */
  format?: string;
  /**
   * Named delivery transformations: the answer carries each one's URL, e.g. { thumb: c_fill,w_200,h_200 }.
   */
  urls?: {
    [k: string]: string;
  };
  /**
   * Largest file accepted. Default: 10MiB.
   */
  max_size?: string;
  /**
   * Accepted MIME types (default any image).
   */
  types?: string[];
  /**
   * R2 binding to keep the original in, with the Cloudinary URL in its metadata.
   */
  backup_binding?: string;
  /**
   * With backup_binding: keep every original (always, the default), or only when the request sends backup=true (on_request).
   */
  backup?: 'always' | 'on_request';
  /**
   * API base URL. Default: https://api.cloudinary.com.
   */
  base_url?: string;
}
/**
 * Something the application may ask for: POST /v1/commands/<name> or `command()` over a Service Binding, applied once per Idempotency-Key.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Command".
 */
export interface Command {
  description?: string;
  /**
   * A JSON Schema (draft-07) for the input, compiled by `switchyard build` and checked at the edge (422 with the failing path). Steps read the input as handler steps read a payload.
   */
  input: Record<string, unknown>;
  auth: CommandAuth;
  /**
   * Callable over a Service Binding; false: HTTP only. Default: true.
   */
  rpc?: boolean;
  /**
   * The queue the command goes through (and its effects retry through).
   */
  queue?: string;
  /**
   * auto: a call whose steps all commit in the event log's D1 (SQL, actions) is applied in the request and answered 200, its effects sent right after the answer; queue: always through the queue (202). A `sync:` command runs its action in the request either way. Default: auto.
   */
  apply?: 'auto' | 'queue';
  retry?: RetryPolicy;
  /**
   * @minItems 1
   */
  steps?: [Step, ...Step[]];
  let?: Let;
  count?: CommandCount;
  sync?: CommandSync;
}
/**
 * Who may call over HTTP: a service token, and/or users of an auth provider (with roles). Over a Service Binding the binding itself is the authorisation.
 */
export interface CommandAuth {
  /**
   * Secret(s) holding a service token the caller sends as `Authorization: Bearer <token>` (several to rotate).
   *
   * @minItems 1
   */
  service_token?: string | [string, ...string[]];
  /**
   * An auth provider from `auth:` whose users' tokens may call (with `roles` / `claims`).
   */
  provider?: string;
  /**
   * Any one of these roles (a provider's token only).
   *
   * @minItems 1
   */
  roles?: [string, ...string[]];
  /**
   * The claim holding roles (roles when not given).
   */
  roles_claim?: string;
  /**
   * Claims a user token must carry with exactly these values.
   */
  claims?: {
    [k: string]: string | number | boolean | CommandClaimFromEnv;
  };
}
/**
 * The value of a Worker variable.
 */
export interface CommandClaimFromEnv {
  env: string;
}
/**
 * Instead of steps: the call counts the application's own operations (an OpenAI request, a Cloudinary transformation) against a limit, in one D1 batch, and answers whether they fit (`allowed`, `used`, `max`, `remaining`, `period_end`).
 */
export interface CommandCount {
  /**
   * A limit from `limits:` with `counts: operations`.
   */
  limit: string;
  /**
   * How many operations the call counts: a value read from the input (1 when not given); a whole number from 1 to the limit.
   */
  n?: Value;
}
/**
 * Synchronous: the one action step runs in the request (the Idempotency-Key goes to the provider) and the mapped result is the answer.
 */
export interface CommandSync {
  /**
   * The answer: each field a value read from the action's response (the JSON body of an http action).
   */
  result: {
    [k: string]: Value;
  };
  /**
   * How long a result is kept in KV and served to a repeat of its Idempotency-Key (0s keeps none: each call costs a KV write, and the free plan allows 1,000 a day). Default: 1h.
   */
  cache?: Duration;
}
/**
 * Who may use /admin/api besides the ADMIN_TOKEN secret.
 */
export interface Admin {
  /**
   * An auth provider whose tokens may use the admin API (with `require`).
   */
  auth?: string;
  require?: Requirement;
}
/**
 * Fields merged over the base manifest for one environment.
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "Overlay".
 */
export interface Overlay {
  defaults?: {};
  queues?: {};
  stores?: {};
  integrations?: {};
  templates?: {};
  limits?: {};
  auth?: {};
  routes?: {};
  commands?: {};
  admin?: {};
  retention?: {};
  alerts?: {};
}
/**
 * How the envelope is read from a request: `id` (the deduplication key), `type` (matched by handlers), `occurred_at` (ISO-8601 after transforms).
 *
 * This interface was referenced by `Manifest`'s JSON-Schema
 * via the `definition` "EventExtraction".
 */
export interface EventExtraction {
  id: Value;
  type: Value;
  occurred_at?: Value;
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
   * Accepted clock skew either way. Default: 5m.
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
   * Accepted clock skew either way. Default: 5m.
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
   * Accepted clock skew either way. Default: 5m.
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
   * Accepted clock skew either way (as the Paddle SDK by default). Default: 5s.
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
   * Accepted clock skew either way. Default: 5m.
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
   * Hash. Default: sha256.
   */
  algorithm?: 'sha1' | 'sha256' | 'sha512';
  /**
   * Signature encoding. Default: hex.
   */
  encoding?: 'hex' | 'base64' | 'base64url';
  /**
   * Text before each signature, e.g. `sha256=` or `v0=`. Default: "".
   */
  prefix?: string;
  /**
   * Splits a header carrying several signatures (positional: default `,`).
   */
  separator?: string;
  /**
   * plain: the value itself; keyed: `t=123,v1=abc`; positional: `<timestamp>,<sig>,<sig>`. Default: plain.
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
   * What is signed; placeholders {body}, {timestamp}, {url}, {method}, {path}, {header.<name>}, {field.<path>}; `\n` is a newline. Default: {body}.
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
   * How the timestamp is written (unix: seconds). Default: unix.
   */
  timestamp_format?: 'unix' | 'unix_ms' | 'iso8601';
  /**
   * Accepted clock skew either way when a timestamp is used. Default: 5m.
   */
  tolerance?: string;
  /**
   * How the secret string encodes the key. Default: utf8.
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
   * Where the token is. Default: header.
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
   * How the public key is written. Default: hex.
   */
  key_encoding?: 'hex' | 'base64';
  /**
   * Header carrying the signature, e.g. X-Signature-Ed25519.
   */
  header: string;
  /**
   * Signature encoding. Default: hex.
   */
  encoding?: 'hex' | 'base64' | 'base64url';
  /**
   * What is signed; the hmac scheme's placeholders. Default: {body}.
   */
  signed?: string;
  /**
   * Header with the timestamp, checked against `tolerance`.
   */
  timestamp_header?: string;
  /**
   * How the timestamp is written (unix: seconds). Default: unix.
   */
  timestamp_format?: 'unix' | 'unix_ms' | 'iso8601';
  /**
   * Accepted clock skew either way when a timestamp is used. Default: 5m.
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
   * Accepted algorithms. Default: ["HS256"].
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
