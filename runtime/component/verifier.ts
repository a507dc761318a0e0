import type { InboundRequest, SecretEnv } from './context.ts';

/** The reasons every scheme may refuse with; a component lists any others it uses in its `reasons`. */
export const VERIFICATION_REASONS = [
  'missing_signature',
  'malformed_signature',
  'missing_timestamp',
  'invalid_timestamp',
  'timestamp_too_old',
  'timestamp_in_future',
  'no_supported_signature',
  'signature_mismatch',
  'body_hash_mismatch',
  'malformed_body',
] as const;

/** Why a request was refused (snake_case); logged and counted, never echoed with secret material. */
export type VerificationReason = (typeof VERIFICATION_REASONS)[number] | (string & {});

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

/** What a verifier declares besides `create`, each taking its parsed options. */
export interface VerifierHooks<O> {
  /**
   * The request headers the signature covers besides the body (lower-case); none when absent. An event id or type
   * read from any other header can be changed by whoever re-sends a captured request, so for such integrations the
   * core also deduplicates on the body (see `replay_window`), and `validate` warns.
   */
  signedHeaders?(options: O): string[];
  /**
   * What a valid request proves (default `body`: the body is signed). `fields`: only some fields are signed, not the
   * body (a body-carried signature over a timestamp and a token, as Mailgun's): a captured signature can carry
   * another payload within its tolerance. `sender`: the sender is authenticated and nothing is signed (a shared
   * token, Basic credentials): whoever sees one request can send any body with it. `validate` warns of both.
   */
  authenticates?(options: O): 'body' | 'fields' | 'sender';
  /**
   * The window (ms, either way) within which the signed timestamp of a valid request lies; absent when the scheme
   * signs no timestamp (GitHub's, Meta's and Asana's HMAC over the body alone), so a captured request verifies
   * forever. The core caps an event's `occurred_at` at its arrival plus this window, and `validate` tells, for a
   * scheme without one, how long a replayed capture is refused (its deduplication record's life).
   */
  timestampTolerance?(options: O): number | undefined;
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
