/**
 * An event as every stage reads it out of a verified body: the payload parsed by the integration's format, the
 * envelope built by the manifest's extraction rules, and the queue message that carries it. Shared by the edge
 * (ingest), the consumer (a stored body), and operations (replay, rebuild, sweep, backfill).
 */
import { byReference, MAX_INLINE_MESSAGE_BYTES, type Envelope } from '../lib/envelope.ts';
import type { CompiledIntegration } from '../manifest/compile.ts';
import { MappingError } from '../language/values.ts';

/**
 * Parses a verified body by the integration's format. Throws on malformed input. A form field sent several times
 * becomes an array of its values; the same value twice is refused, since a scheme that signs a field's values as
 * a set (Twilio) signs it once: the payload never holds more than the signature covered.
 */
export function parsePayload(format: 'json' | 'form', text: string): unknown {
  if (format === 'json') return JSON.parse(text);
  const fields: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const seen = fields[k];
    if (seen !== undefined && (seen === v || (Array.isArray(seen) && seen.includes(v))))
      throw new MappingError(`form field ${k} repeats a value`);
    fields[k] = seen === undefined ? v : ([] as string[]).concat(seen, v);
  }
  return fields;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Reads the envelope out of a verified body by the manifest's extraction rules. Throws (SyntaxError or
 * MappingError) when the body does not parse or lacks what the rules need.
 */
export function extractEnvelope(
  integration: CompiledIntegration,
  text: string,
  headers: Headers,
  receivedAt: string,
  bodySha256?: string,
): Envelope {
  const payload = parsePayload(integration.format, text);
  const ctx = { payload, headers, now: () => receivedAt, ...(bodySha256 ? { bodySha256 } : {}) };
  const id = asText(integration.extract.id(ctx));
  const type = asText(integration.extract.type(ctx));
  if (!id || !type) throw new MappingError(`event ${id ? 'type' : 'id'} is empty or not a string`);
  const occurred = asText(integration.extract.occurredAt?.(ctx)) ?? null;
  return {
    integration: integration.name,
    id,
    type,
    occurred_at: notAfterArrival(occurred, receivedAt, integration.timestampToleranceMs ?? DEFAULT_CLOCK_SKEW_MS),
    received_at: receivedAt,
    payload,
  };
}

/** How far ahead of its arrival an event may say it occurred when its verifier signs no timestamp: 5 minutes. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * An event's `occurred_at`, at most its arrival plus the clock skew its verifier accepts: ordering compares
 * occurred_at first, so an event dated an hour ahead (a provider's clock, or a field the manifest maps wrongly)
 * would otherwise outrank every correctly dated event for that hour. Values that are not dates stay as they are.
 */
function notAfterArrival(occurred: string | null, receivedAt: string, skewMs: number): string | null {
  if (occurred === null) return null;
  const at = Date.parse(occurred);
  const latest = Date.parse(receivedAt) + skewMs;
  return Number.isFinite(at) && at > latest ? new Date(latest).toISOString() : occurred;
}

/**
 * The message to queue: the envelope, or a reference to the event row when it may be too large for a message.
 * Decided without serializing a large body (JSON.stringify of 1 MB costs milliseconds of the request's CPU):
 *  - a body (`text`) longer than the limit takes a reference: its envelope may shrink below the limit when
 *    re-serialized (whitespace, escapes), but a reference is always safe: the consumer reads the stored body;
 *  - re-serializing a parsed body grows it at most ~6x (control characters in form values, exponent numbers),
 *    so below an eighth of the limit it cannot be oversized and is inlined;
 *  - in between (at most the limit itself), the envelope is serialized and measured exactly.
 */
export function messageFor(envelope: Envelope, text: string): Envelope {
  if (text.length > MAX_INLINE_MESSAGE_BYTES) return byReference(envelope);
  if (text.length <= MAX_INLINE_MESSAGE_BYTES / 8) return envelope;
  return utf8Length(JSON.stringify(envelope)) > MAX_INLINE_MESSAGE_BYTES ? byReference(envelope) : envelope;
}

/** The UTF-8 byte length of a string, without encoding it (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}
