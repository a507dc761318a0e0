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
}

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
export const byReference = (envelope: Envelope): Envelope => ({ ...envelope, payload: null, payload_ref: `events:${envelope.integration}:${envelope.id}` });

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
  return typeof v === 'object' && v !== null && typeof v.integration === 'string' && typeof v.id === 'string' && typeof v.type === 'string';
}
