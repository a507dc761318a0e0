/**
 * The contract for handshakes: the requests some providers send to prove that an endpoint is theirs (Slack's
 * url_verification, Zoom's hashed plainToken, a GET challenge). Ingest answers them synchronously, before
 * anything is queued or logged, after the integration's verifier accepted them whenever the provider signs them.
 * Adapters are generic: they read fields, headers and query parameters the manifest names.
 */
import { utf8 } from '../lib/bytes.ts';
import type { InboundRequest, SecretEnv } from './context.ts';
import { compileBodyPath, readPath } from '../language/values.ts';
import { field } from './spec.ts';

export interface HandshakeContext {
  /** The integration's name. */
  integration: string;
  env: SecretEnv;
  /** Secrets a provider hands over in its handshake, kept by the core (D1) and only while the operator armed it. */
  learnt: LearntSecrets;
}

/**
 * A secret the provider hands over in its handshake (Asana's X-Hook-Secret, Notion's verification_token) and then
 * signs with. The core keeps it: a handshake cannot write one itself, so none can skip the operator's arming.
 */
export interface LearntSecrets {
  /** The kept value of the secret `name`, when the environment does not set it (one D1 row read per delivery). */
  read(name: string): Promise<Record<string, string>>;
  /** Keeps `value` as the secret `name`: undefined when kept, else the answer refusing the handshake (`what` names it). */
  keep(name: string, value: string, what: string): Promise<HandshakeAnswer | undefined>;
}

/** The options of a handshake that learns the verifier's secret. */
export const learntSecretSpec = {
  secret: field
    .secret()
    .describe('The secret name the verifier reads; the handshake provides its value unless the environment sets it.'),
  secret_store: field
    .enum(['d1', 'kv'])
    .default('d1')
    .describe(
      "Where the learnt secret is kept: the runtime's D1 (table handshake_secrets), where only one armed handshake can keep it. `kv`, what earlier versions used, is read as d1: a secret they kept in KV is adopted on its first read.",
    ),
};

/** What a handshake answers: status, content type and body, built by the core into a Response. */
export interface HandshakeAnswer {
  status: number;
  body: string;
  contentType: 'text/plain' | 'application/json';
  headers?: Record<string, string>;
}

export interface Handshake {
  /** Methods the route must accept besides the integration's own (GET for a GET challenge). */
  methods: string[];
  /** Whether the integration's verifier must accept the handshake before it is answered. */
  verify: boolean;
  /** Whether this request is the handshake: method, a header, a query parameter or one JSON body field. */
  matches(request: InboundRequest): boolean;
  /** Answers the handshake; throws VerificationError when a check of its own (a verify token) fails. */
  answer(request: InboundRequest, ctx: HandshakeContext): Promise<HandshakeAnswer>;
  /**
   * Secrets the handshake learnt, which the verifier reads from the environment (`secret_store: kv`). A handshake
   * that has this learns a secret from an unsigned request, so it is accepted only while the operator armed it.
   */
  secrets?(ctx: HandshakeContext): Promise<Record<string, string>>;
}

/** Schema for `when: { field, equals }`: a top-level or dotted JSON body field with an exact value. */
export const whenFieldSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'equals'],
  properties: {
    field: { type: 'string', minLength: 1, description: 'Dotted path of a JSON body field.' },
    equals: { type: ['string', 'number', 'boolean'], description: 'The value that marks the handshake.' },
  },
  description: 'The handshake is the request whose JSON body field has this value.',
} as const;

/** The `when: { field, equals }` option of body-marked handshakes. */
export const whenField = () => field.schema<{ field: string; equals: string | number | boolean }>(whenFieldSchema);

/** The `verify` option: verified first unless the provider does not sign its handshake. */
export const verifyField = () =>
  field
    .boolean()
    .default(true)
    .describe(
      "Verify the handshake with the integration's verifier first (false only where the provider does not sign it).",
    );

/** Reads a dotted path from parsed JSON. */
/**
 * A dotted body path compiled once, when the manifest compiles, and read per request with the runtime's own path
 * reader (values.ts): a handshake reads a field the same way a handler value does.
 */
export function bodyField(path: string): (json: unknown) => unknown {
  const compiled = compileBodyPath(path);
  return (json) => readPath(compiled, { payload: json });
}

export const MAX_HANDSHAKE_BYTES = 16 * 1024;

/** A small POST body as JSON, or undefined: what every body-reading handshake looks at. */
export function handshakeJson(request: InboundRequest, mustInclude?: string): unknown {
  if (request.method !== 'POST' || request.body.length === 0 || request.body.length > MAX_HANDSHAKE_BYTES)
    return undefined;
  const text = utf8.decode(request.body);
  // A cheap test before parsing: most requests on a handshake route are ordinary events.
  if (mustInclude !== undefined && !text.includes(mustInclude)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `when: { field, equals }` test, compiled once: the parsed body when it matches, undefined otherwise. */
export function compileWhen(when: {
  field: string;
  equals: string | number | boolean;
}): (request: InboundRequest) => unknown {
  const field = bodyField(when.field);
  const needle = String(when.equals);
  return (request) => {
    const json = handshakeJson(request, needle);
    return json !== undefined && field(json) === when.equals ? json : undefined;
  };
}
