// The admin API's answer types come from the server's modules, which name the Worker's bindings as globals
// (@cloudflare/workers-types). The page is checked against the DOM, whose globals clash with those: only the
// bindings' names are brought in, from the module form of the same types.
type D1Database = import('@cloudflare/workers-types/index.ts').D1Database;
type D1PreparedStatement = import('@cloudflare/workers-types/index.ts').D1PreparedStatement;
type KVNamespace<Key extends string = string> = import('@cloudflare/workers-types/index.ts').KVNamespace<Key>;
type Queue<Body = unknown> = import('@cloudflare/workers-types/index.ts').Queue<Body>;
