/** The name patterns the manifest's maps are keyed by: pure data, shared by every section. */

/** An integration, queue, store, route, command… name. */
export const NAME_PATTERN = '^[a-z][a-z0-9_-]*$';
/** A wrangler.toml binding (a queue producer, a D1 database, a Hyperdrive). */
export const BINDING_PATTERN = '^[A-Z][A-Z0-9_]*$';
/** A limit, named like `resend.emails`. */
export const LIMIT_NAME_PATTERN = '^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$';
/** A header sent upstream. */
export const HEADER_PATTERN = '^[A-Za-z][A-Za-z0-9-]*$';
