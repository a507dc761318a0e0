/**
 * The contract for handshakes: the requests some providers send to prove that an endpoint is theirs (Slack's
 * url_verification, Zoom's hashed plainToken, a GET challenge). Ingest answers them synchronously, before
 * anything is queued or logged, after the integration's verifier accepted them whenever the provider signs them.
 * Adapters are generic: they read fields, headers and query parameters the manifest names.
 */
import type { InboundRequest, OptionsSchema, SecretEnv } from './adapter.ts';

/** The small part of KV a handshake uses to keep what it learnt (a per-route secret). */
export interface HandshakeStore {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface HandshakeContext {
  /** The integration's name; what a handshake stores is keyed by it. */
  integration: string;
  env: SecretEnv;
  /** Where learnt secrets live (KV); absent when the Worker has no KV binding. */
  store?: HandshakeStore;
  /** The request's time (ms), for the arming window. */
  now: number;
}

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

/** A handshake adapter: its `type`, options schema, an example, and a factory run at compile time. */
export interface HandshakeAdapter<O = any> {
  type: string;
  title: string;
  description: string;
  options: OptionsSchema;
  example: O & { type: string };
  create(options: O): Handshake;
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

export const verifySchema = { type: 'boolean', description: 'Verify the handshake with the integration\'s verifier first (default true; false only where the provider does not sign it).' } as const;

/** Reads a dotted path from parsed JSON. */
export function fieldOf(json: unknown, path: string): unknown {
  let at = json;
  for (const key of path.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

const decoder = new TextDecoder();

/**
 * Handshakes are small (Slack's, Zoom's and Discord's are a few hundred bytes): a larger body is never parsed to
 * find one, so what an unverified request can make the Worker parse before verification stays bounded.
 */
export const MAX_HANDSHAKE_BYTES = 16 * 1024;

/**
 * Whether a JSON body's field has a value. The body is parsed only when it is handshake-sized and the value's text
 * occurs in it, so an ordinary event costs a byte search, not a parse, before verification.
 */
export function jsonFieldEquals(request: InboundRequest, when: { field: string; equals: string | number | boolean }): { matched: boolean; json?: unknown } {
  if (request.method !== 'POST' || request.body.length === 0 || request.body.length > MAX_HANDSHAKE_BYTES) return { matched: false };
  const text = decoder.decode(request.body);
  if (!text.includes(String(when.equals))) return { matched: false };
  try {
    const json = JSON.parse(text) as unknown;
    return { matched: fieldOf(json, when.field) === when.equals, json };
  } catch {
    return { matched: false };
  }
}

/** The KV key under which a handshake keeps what it learnt for an integration. */
export const handshakeKey = (integration: string, what: string) => `handshake:${integration}:${what}`;

/** How long `arm` opens the window by default, and at most: long enough to register a webhook, short for a race. */
export const ARM_DEFAULT_SECONDS = 10 * 60;
export const ARM_MAX_SECONDS = 60 * 60;

/** Arms an integration's secret-learning handshake until `now + seconds` (one handshake, then it closes). */
export async function arm(store: HandshakeStore, integration: string, now: number, seconds: number): Promise<string> {
  const until = new Date(now + seconds * 1000).toISOString();
  // KV expires keys lazily and no sooner than 60 s; the stored deadline is what counts.
  await store.put(handshakeKey(integration, 'armed'), until, { expirationTtl: Math.max(60, seconds) });
  return until;
}

/** Whether the operator's arming window is open for this integration. */
export async function isArmed(store: HandshakeStore, integration: string, now: number): Promise<boolean> {
  const until = await store.get(handshakeKey(integration, 'armed'));
  return until !== null && Date.parse(until) > now;
}
