-- switchyard's own tables: the event log (also the deduplication record and the store of raw bodies) and dead letters.

-- One row per (integration, event id), written by ingest in one statement that is also the deduplication.
-- `status` moves queued -> applied / failed / dead_lettered / replayed. A redelivery bumps `deliveries` and is
-- not queued again. `claim` is the token of the request that queued the event; a stale claim is taken over.
CREATE TABLE IF NOT EXISTS events (
  integration TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  received_at TEXT NOT NULL,
  occurred_at TEXT,
  deliveries INTEGER NOT NULL DEFAULT 1,
  attempts INTEGER NOT NULL DEFAULT 0,
  body TEXT,             -- the verified raw body, byte for byte (UTF-8)
  claim TEXT,
  claimed_at TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (integration, id)
);
CREATE INDEX IF NOT EXISTS events_by_status ON events (status, received_at);
CREATE INDEX IF NOT EXISTS events_by_received ON events (received_at);

-- Work that could not be done, kept whole so it can be replayed after the cause is fixed.
-- stage 'ingest': a verified request whose body could not be parsed or mapped (raw_body kept);
-- stage 'consumer': an envelope whose handlers failed max_attempts times or permanently.
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  integration TEXT NOT NULL,
  stage TEXT NOT NULL,
  event_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  error TEXT,
  envelope TEXT,
  raw_body TEXT,
  content_type TEXT,
  headers TEXT,          -- ingest stage: the request headers the extraction rules read (JSON)
  attempts INTEGER NOT NULL DEFAULT 0,
  first_failed_at TEXT NOT NULL,
  last_failed_at TEXT NOT NULL,
  replayed_at TEXT,
  UNIQUE (integration, stage, event_id)
);
CREATE INDEX IF NOT EXISTS dead_letters_open ON dead_letters (replayed_at, integration);
