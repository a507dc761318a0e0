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

/** A secret named by the manifest is not set: the runtime fails closed (500), it never accepts. */
export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
  readonly variable: string;
  constructor(variable: string) {
    super(`secret ${variable} is not set in the environment`);
    this.variable = variable;
  }
}

/** Schema for a secret: the NAME of an environment variable, never its value (the spec's `field.secret()`). */
export const secretRefSchema = field.secret().schema;

/** Schema for one or more secret names, several to rotate (the spec's `field.secrets()`). */
export const secretRefsSchema = field.secrets().schema;

/** Reads named secrets from the environment, failing closed when one is missing or empty. */
export function readSecrets(env: SecretEnv, names: string | readonly string[]): string[] {
  const list = typeof names === 'string' ? [names] : names;
  return list.map((name) => {
    const value = env[name];
    if (typeof value !== 'string' || value.trim() === '') throw new MissingSecretError(name);
    return value.trim();
  });
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
  values: import('../manifest/values.ts').ValueContext;
  env: SecretEnv;
}

/** The context a step runs in for an envelope: its values read the payload, the envelope and the env. */
export function stepContext(envelope: import('../lib/envelope.ts').Envelope, env: SecretEnv): StepContext {
  return { envelope, values: { payload: envelope.payload, envelope: { ...envelope, version: eventVersion(envelope) }, env }, env };
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
