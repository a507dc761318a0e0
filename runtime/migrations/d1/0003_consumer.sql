-- The consumer's records: which messages were applied (the guard that makes redelivery a no-op), the outbox of
-- messages that enqueue steps send after the transaction commits. (The cookbook's version columns, once here, are in
-- migrations/0003_consumer.sql.)

CREATE TABLE IF NOT EXISTS applied_messages (
  integration TEXT NOT NULL,
  event_id TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (integration, event_id)
);

CREATE TABLE IF NOT EXISTS outbox (
  key TEXT PRIMARY KEY,     -- integration, event id and step: the same step never sends twice from here
  integration TEXT NOT NULL,
  event_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_event ON outbox (integration, event_id);
