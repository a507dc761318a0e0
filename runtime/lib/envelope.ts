/** The envelope every event travels in, from ingest through the queue to the consumer and the dead letters. */
export interface Envelope {
  integration: string;
  id: string;
  type: string;
  occurred_at: string | null;
  received_at: string;
  /** The parsed body; null when it was too large for a queue message: then read it from the event row. */
  payload: unknown;
  payload_ref?: string;
  /** Arrival order: the event log's sequence, assigned when ingest first recorded the event. */
  seq?: number;
  /** Who made a command call (a service token's name, `<provider>:<sub>`, `rpc`): recorded with it. */
  caller?: string;
  /**
   * A batch (an endpoint's request, a browser's analytics events): ONE message and ONE event in the log, whose items each run the
   * handlers with their own envelope (see itemEnvelopes). Its own `type` is BATCH_EVENT_TYPE and its payload null.
   */
  items?: EnvelopeItem[];
}

/** One event of a batch: what its own envelope has besides the batch's integration and received_at. */
export interface EnvelopeItem {
  id: string;
  type: string;
  occurred_at: string | null;
  payload: unknown;
}

/** The type a batch is recorded under in the event log (its items keep their own types). */
export const BATCH_EVENT_TYPE = 'batch';

/** The envelopes a message's handlers run for: a batch's items, each in its own envelope; else the envelope itself. */
export function itemEnvelopes(envelope: Envelope): Envelope[] {
  if (!envelope.items) return [envelope];
  return envelope.items.map((item) => ({
    integration: envelope.integration,
    id: item.id,
    type: item.type,
    occurred_at: item.occurred_at,
    received_at: envelope.received_at,
    payload: item.payload,
  }));
}

/**
 * Queues refuse a message over 128 KB; a batch is split below this many bytes (JSON, UTF-8). Queues bill per 64 KB,
 * so two messages cost what one of twice the size does: splitting at the limit, not at 64 KB, saves event-log rows.
 */
export const MAX_BATCH_MESSAGE_BYTES = 120_000;

/**
 * Events queued together as batches: as few messages as MAX_BATCH_MESSAGE_BYTES allows (one, unless the envelopes
 * outgrow the limit), each with its own id. Throws a RangeError when one event alone cannot fit a message.
 */
export function batchEnvelopes(
  integration: string,
  items: readonly EnvelopeItem[],
  receivedAt: string,
  maxBytes = MAX_BATCH_MESSAGE_BYTES,
): Envelope[] {
  const head = (): Envelope => ({
    integration,
    id: crypto.randomUUID(),
    type: BATCH_EVENT_TYPE,
    occurred_at: null,
    received_at: receivedAt,
    payload: null,
    items: [],
  });
  const size = (value: unknown) => utf8Length(JSON.stringify(value));
  const empty = size(head());
  const batches: Envelope[] = [];
  let current = head();
  let bytes = empty;
  for (const item of items) {
    const n = size(item) + 1;
    if (empty + n > maxBytes)
      throw new RangeError(`an event of ${n} bytes cannot fit a queue message (${maxBytes} bytes)`);
    if (bytes + n > maxBytes) {
      batches.push(current);
      current = head();
      bytes = empty;
    }
    current.items!.push(item);
    bytes += n;
  }
  if (current.items!.length) batches.push(current);
  return batches;
}

const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;

/**
 * What ordering guards compare (`@version`): `occurred_at`, then the arrival sequence, as one string that sorts
 * as text. Same-time ties go to the later arrival, never to a random id, and an event with no `occurred_at` sorts
 * below every event that has one (`#` sorts before every digit), so it can never outrank one.
 * @example eventVersion({ occurred_at: '2024-01-01T00:00:05.000Z', seq: 42, … }) === '2024-01-01T00:00:05.000Z#0000000000000042'
 */
/**
 * The sequence of an event applied in the request, before its row exists: its `@version` is then read in SQL from
 * the row the same transaction inserts (see the consumer's applyInRequest).
 */
export const PENDING_SEQ = Number.MAX_SAFE_INTEGER;

export function eventVersion(envelope: Pick<Envelope, 'occurred_at' | 'seq'>): string {
  return `${envelope.occurred_at ?? ''}#${String(envelope.seq ?? 0).padStart(16, '0')}`;
}

/**
 * Queues bill a message per 64 KB (one that is larger costs twice the operations) and refuse one over 128 KB; above
 * this (with headroom for the envelope) the message carries a reference to the body in the event log instead.
 */
export const MAX_INLINE_MESSAGE_BYTES = 63 * 1024;

/** The bindings the runtime itself relies on; queue bindings are named by the manifest. */
export interface RuntimeEnv {
  DB: D1Database;
  SWITCHYARD_ENV?: string;
  [binding: string]: unknown;
}

/** The envelope without its payload, pointing at the body the event log keeps (for a body too large to travel). */
export const byReference = (envelope: Envelope): Envelope => ({
  ...envelope,
  payload: null,
  payload_ref: `events:${envelope.integration}:${envelope.id}`,
});

/** A queue message that asks the consumer to deliver an applied event's due effects (a retry, a deferral's end). */
export interface EffectsMessage {
  effects: { integration: string; id: string };
}

export function isEffectsMessage(value: unknown): value is EffectsMessage {
  const e = (value as EffectsMessage | null)?.effects;
  return typeof e === 'object' && e !== null && typeof e.integration === 'string' && typeof e.id === 'string';
}

export function isEnvelope(value: unknown): value is Envelope {
  const v = value as Envelope;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.integration === 'string' &&
    typeof v.id === 'string' &&
    typeof v.type === 'string'
  );
}
