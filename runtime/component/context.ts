/**
 * What every component and the core share: a request as a verifier sees it, secrets read from the environment
 * (failing closed), a step's context and what it returns (statements, outbox messages), and the error that
 * dead-letters at once. The contract for each component kind builds on this file: verifier.ts, step.ts,
 * action.ts, auth.ts, endpoint.ts, handshake.ts; define.ts ties them together.
 */
import { eventVersion } from '../lib/envelope.ts';
import type { Store } from '../manifest/types.gen.ts';
import { field } from './spec.ts';

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

/**
 * A secret named by the manifest is not set: the runtime fails closed (500), it never accepts. For a rotation list,
 * thrown only when no name of the list is set; `variables` names them all, `variable` the first.
 */
export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
  readonly variable: string;
  readonly variables: string[];
  constructor(variables: string | readonly string[]) {
    const names = typeof variables === 'string' ? [variables] : [...variables];
    super(
      names.length === 1
        ? `secret ${names[0]} is not set in the environment`
        : `none of the secrets ${names.join(', ')} is set in the environment`,
    );
    this.variable = names[0]!;
    this.variables = names;
  }
}

/** Schema for a secret: the NAME of an environment variable, never its value (the spec's `field.secret()`). */
export const secretRefSchema = field.secret().schema;

/** Schema for one or more secret names, several to rotate (the spec's `field.secrets()`). */
export const secretRefsSchema = field.secrets().schema;

/** Whether the environment sets the secret `name` (a non-blank string). */
export function isSecretSet(env: SecretEnv, name: string): boolean {
  const value = env[name];
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * Reads named secrets from the environment, failing closed when one is missing or empty: for secrets that are all
 * needed (a user name and a password, an account SID and its token). A rotation list reads with readSecretList.
 */
export function readSecrets(env: SecretEnv, names: string | readonly string[]): string[] {
  const list = typeof names === 'string' ? [names] : names;
  return list.map((name) => {
    if (!isSecretSet(env, name)) throw new MissingSecretError(name);
    return (env[name] as string).trim();
  });
}

/**
 * Reads a rotation list (a `field.secrets()` option: any one valid secret is accepted): the names that are set and
 * their values, in list order. A name that is not set is skipped, so a second secret declared ahead of a rotation
 * cannot take the integration down (the core warns of it once per isolate and in /healthz); none set fails closed.
 */
export function readSecretList(
  env: SecretEnv,
  names: string | readonly string[],
): { names: string[]; values: string[] } {
  const list = typeof names === 'string' ? [names] : names;
  const set = list.filter((name) => isSecretSet(env, name));
  if (!set.length) throw new MissingSecretError(list);
  return { names: set, values: set.map((name) => (env[name] as string).trim()) };
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

/** What a step sees when it runs: the event, through the same value context as the manifest's paths. */
export interface StepContext {
  envelope: import('../lib/envelope.ts').Envelope;
  values: import('../language/values.ts').ValueContext;
  env: SecretEnv;
}

/** The context a step runs in for an envelope: its values read the payload, the envelope and the env. */
export function stepContext(envelope: import('../lib/envelope.ts').Envelope, env: SecretEnv): StepContext {
  return {
    envelope,
    values: { payload: envelope.payload, envelope: { ...envelope, version: eventVersion(envelope) }, env },
    env,
  };
}

/** An error that retrying cannot fix (bad data, a constraint): the message goes to the dead letters at once. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** The kinds of store the schema allows (`stores.<name>.type`). */
export type StoreType = Store['type'];

export interface CompiledStore {
  name: string;
  type: StoreType;
  binding: string;
}
