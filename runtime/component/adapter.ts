/**
 * The contract between the provider-agnostic core and adapters. The core only ever sees these types;
 * adapters are looked up by `type` (verifiers) or by key (steps) in a registry built from plain tables.
 */
import { eventVersion } from '../lib/envelope.ts';

/** The schema fragment an adapter declares for its options (the `type` key is added by the core). */
export interface OptionsSchema {
  properties: Record<string, unknown>;
  required?: readonly string[];
}

/** One inbound HTTP request, as a verifier sees it: raw bytes, never parsed JSON. */
export interface InboundRequest {
  method: string;
  /** The URL the Worker received. */
  url: URL;
  headers: Headers;
  body: Uint8Array;
  /** Current time in milliseconds since the epoch. */
  now: number;
}

/** Secrets and other configuration from the Worker's environment. */
export type SecretEnv = Readonly<Record<string, unknown>>;

/** Why a request was refused; logged and counted, never echoed with secret material. */
export type VerificationReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'missing_timestamp'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'no_supported_signature'
  | 'signature_mismatch'
  | 'body_hash_mismatch'
  | 'malformed_body'
  /** A form field sent twice with the same value, where the scheme signs each value once (Twilio). */
  | 'repeated_field';

/** The one error a verifier throws for a request it refuses (401 at the edge). */
export class VerificationError extends Error {
  override name = 'VerificationError';
  readonly reason: VerificationReason;
  constructor(reason: VerificationReason, message: string = reason) {
    super(message);
    this.reason = reason;
  }
}

/** A secret named by the manifest is not set: the runtime fails closed (500), it never accepts. */
export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
  readonly variable: string;
  constructor(variable: string) {
    super(`secret ${variable} is not set in the environment`);
    this.variable = variable;
  }
}

export interface Verifier {
  /** Resolves when the request is authentic; throws VerificationError or MissingSecretError otherwise. */
  verify(request: InboundRequest, env: SecretEnv): Promise<void>;
}

/** A verifier adapter: its `type`, options schema, a working example, and a factory run at compile time. */
export interface VerifierAdapter<O = any> {
  type: string;
  title: string;
  description: string;
  options: OptionsSchema;
  /** A complete, valid `verifier:` block (including `type`), used by docs and a test. */
  example: O & { type: string };
  /** Checks options and builds the verifier once; throws a clear Error on bad options. */
  create(options: O): Verifier;
  /**
   * The request headers the signature covers besides the body (lower-case); none when absent. An event id or type
   * read from any other header can be changed by whoever re-sends a captured request, so for such integrations the
   * core also deduplicates on the body (see `replay_window`), and `validate` warns.
   */
  signedHeaders?(options: O): string[];
  /**
   * false for schemes that authenticate the sender without signing the body (a shared token, Basic credentials):
   * whoever sees one request can send any body with it, so only TLS protects the payload.
   */
  signsBody?: false;
  /**
   * false when these options sign only some fields and not the body (a body-carried signature over a timestamp and
   * a token, as Mailgun's): a captured signature can carry another payload within its tolerance. `validate` warns.
   */
  coversBody?(options: O): boolean;
  /**
   * Signs a request exactly as the provider would (for `switchyard send` and tests): returns the headers to add.
   * `secrets` are the values of the secrets the options name, in order.
   */
  sign?(options: O, request: SignRequest): Promise<Record<string, string>>;
  /** For schemes that carry the signature (or its timestamp) in the body: the body to send and the headers. */
  signBody?(options: O, request: SignRequest): Promise<{ headers: Record<string, string>; body: string }>;
  /**
   * For schemes verified with a public key: a fresh key pair, the public half as the env var holds it and the
   * private half as `sign()` takes it in `secrets` (tests and local development; switchyard never holds a
   * provider's private key).
   */
  keyPair?(options: O): Promise<{ publicKey: string; privateKey: string }>;
}

/** Signs a request with whichever signer the adapter has; the body comes back changed only for body-carried schemes. */
export async function signRequest<O>(adapter: VerifierAdapter<O>, options: O, request: SignRequest): Promise<{ headers: Record<string, string>; body: string }> {
  if (adapter.signBody) return adapter.signBody(options, request);
  if (!adapter.sign) throw new Error(`the ${adapter.type} scheme cannot sign`);
  return { headers: await adapter.sign(options, request), body: request.body };
}

/** What a signer needs: the body as sent, where it goes, when, and the secret values. */
export interface SignRequest {
  url: string;
  body: string;
  now: number;
  secrets: string[];
  /** For form bodies (Twilio), the parameters. */
  form?: Record<string, string>;
  /** A message id, for schemes that sign one (Svix, Standard Webhooks); a fresh one otherwise. */
  id?: string;
  /** The HTTP method (default POST), for templates that sign it. */
  method?: string;
  /** Unsigned headers the request will carry, for templates that sign one of them. */
  headers?: Record<string, string>;
}

/** Schema for a secret: the NAME of an environment variable, never its value. */
export const secretRefSchema = {
  type: 'string',
  pattern: '^[A-Z][A-Z0-9_]*$',
  'x-secret': true,
  description: 'Name of an environment variable holding a secret (never the value itself).',
} as const;

/** Schema for one or more secrets; several names allow rotation (any one valid secret is accepted). */
export const secretRefsSchema = {
  type: ['string', 'array'],
  pattern: secretRefSchema.pattern,
  items: { type: 'string', pattern: secretRefSchema.pattern },
  minItems: 1,
  'x-secret': true,
  description: 'Name(s) of environment variables holding secrets; list several to rotate.',
} as const;

/** Reads named secrets from the environment, failing closed when one is missing or empty. */
export function readSecrets(env: SecretEnv, names: string | readonly string[]): string[] {
  const list = typeof names === 'string' ? [names] : names;
  return list.map((name) => {
    const value = env[name];
    if (typeof value !== 'string' || value.trim() === '') throw new MissingSecretError(name);
    return value.trim();
  });
}

/** What a step needs to know about the rest of the manifest at compile time. */
export interface StepCompileContext {
  /** Queue names the manifest declares. */
  queues: ReadonlySet<string>;
  registry: import('./registry.ts').Registry;
  templates: ReadonlyMap<string, import('../manifest/templates.ts').CompiledTemplate>;
  limits: ReadonlyMap<string, CompiledLimit>;
  /** The manifest's stores by name (`d1`, the event log's database, always among them). */
  stores: ReadonlyMap<string, import('../consumer/stores.ts').CompiledStore>;
  /** The store the step's handler names (its sql goes there unless the step names its own). */
  store?: string;
}

/** A limit from the manifest's `limits:`, compiled. */
export interface CompiledLimit {
  name: string;
  period: import('../consumer/limits.ts').Period;
  limit: number;
  warnAt: number;
  onExceed: 'warn' | 'defer' | 'drop';
  /** What is counted: sends of action steps (default), active users of routes, or events routes queue. */
  counts: 'sends' | 'active_users' | 'tracked_events';
  per?: import('../manifest/values.ts').ValueFn;
  /** Counted per recipient of each send (the action's `recipient` of its payload). */
  perRecipient?: boolean;
  notify?: import('../consumer/actions.ts').CompiledAction;
}

/** An outbound send a step asks for; the consumer sends it with the others of its batch. */
export interface PendingAction {
  action: import('../consumer/actions.ts').CompiledAction;
  payload: unknown;
  limits: { limit: CompiledLimit; key: string }[];
}

/** One SQL statement with positional (`?N`) parameters, run in the message's transaction. */
export interface Statement {
  sql: string;
  params: unknown[];
  /** The store it runs in (from `stores:`); absent for the event log's D1. Postgres statements use `$N`. */
  store?: string;
}

/** A message to send to a manifest queue once the message's transaction has committed (the outbox). */
export interface OutboxMessage {
  queue: string;
  body: unknown;
}

/** What a step contributes to its message: statements for the transaction, messages for the outbox. */
export interface StepOutput {
  statements?: Statement[];
  outbox?: OutboxMessage[];
  actions?: PendingAction[];
}

/** What a step sees when it runs: the event, through the same value context as the manifest's paths. */
export interface StepContext {
  envelope: import('../lib/envelope.ts').Envelope;
  values: import('../manifest/values.ts').ValueContext;
  env: SecretEnv;
}

/**
 * A compiled step. The consumer calls `run` for each message and commits what every step returned in one
 * transaction; it never needs to know what kind of step it ran. Throwing MappingError (or any PermanentError)
 * dead-letters the message at once; any other error is retried by the policy.
 */
export interface CompiledStep {
  kind: string;
  run(ctx: StepContext): StepOutput | Promise<StepOutput>;
}

/** The context a step runs in for an envelope: its values read the payload, the envelope and the env. */
export function stepContext(envelope: import('../lib/envelope.ts').Envelope, env: SecretEnv): StepContext {
  return { envelope, values: { payload: envelope.payload, envelope: { ...envelope, version: eventVersion(envelope) }, env }, env };
}

/** An error that retrying cannot fix (bad data, a constraint): the message goes to the dead letters at once. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/**
 * A step adapter. In YAML a step is named by its key (`- sql: …`, `- enqueue: …`), like Benthos processors;
 * `key` is that key and `options` its sibling fields.
 */
export interface StepAdapter<O = any, C extends CompiledStep = CompiledStep> {
  key: string;
  title: string;
  description: string;
  options: OptionsSchema;
  example: O;
  /** The step's whole schema branch, when it is more than `key` plus options (the action step's union). */
  schema?(registry: import('./registry.ts').Registry): Record<string, unknown>;
  compile(options: O, ctx: StepCompileContext): C;
}

/**
 * The secret names a verifier's options give, per secret option in schema order (`secret`, or `username` and
 * `password`, or `public_key`): what a signer needs, first name of each, in `SignRequest.secrets` order.
 */
export function secretNamesOf(adapter: { options: OptionsSchema }, options: Record<string, unknown>): string[][] {
  return Object.entries(adapter.options.properties)
    .filter(([key, schema]) => (schema as Record<string, unknown>)['x-secret'] === true && options[key] !== undefined)
    .map(([key]) => {
      const value = options[key];
      return typeof value === 'string' ? [value] : Array.isArray(value) ? (value as string[]) : [];
    });
}
