import type { InboundRequest, OptionsSchema, SecretEnv } from './context.ts';

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
