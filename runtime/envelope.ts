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
}

/** Queues refuse messages over 128 KB; above this (with headroom for the envelope) the message carries a reference. */
export const MAX_INLINE_MESSAGE_BYTES = 120 * 1024;

/** The bindings the runtime itself relies on; queue bindings are named by the manifest. */
export interface RuntimeEnv {
  DB: D1Database;
  SWITCHYARD_ENV?: string;
  [binding: string]: unknown;
}
