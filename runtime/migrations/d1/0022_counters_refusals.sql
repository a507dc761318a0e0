-- Counters that survive the isolate that counted them, and a log of refused requests.
--
-- /health and the usage report read hourly counters (events.accepted, events.failed, lag.*) that used to be held in
-- each isolate's memory until a flush, and were lost with the isolate. They are now derived from the event log, which
-- is durable: the cron rolls each event into its hour once, in one transaction with this checkpoint (the last seq
-- rolled up), and /health adds the events after it. No row more is written per event. An existing deployment starts
-- at the head of its log: the hours before were counted by the flushes, and stay.
INSERT INTO checkpoints (name, seq) SELECT 'counters', coalesce(max(seq), 0) FROM events WHERE true
ON CONFLICT (name) DO NOTHING;

-- Refused webhook requests (401, 405, 413, 400), sampled and capped (runtime/edge/refusals.ts): what the request was,
-- never its body nor a secret. Keyed by time first, so the newest are read first, the cap counts the current
-- minute and hour through the key, and retention deletes a range of the key. WITHOUT ROWID: 1 row written each.
CREATE TABLE IF NOT EXISTS refusals (
  at TEXT NOT NULL,
  integration TEXT NOT NULL,
  id TEXT NOT NULL,            -- random, so two refusals in the same millisecond are two rows
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  secrets TEXT NOT NULL,       -- JSON: the names of the secrets the verifier tried (never their values)
  headers TEXT NOT NULL,       -- JSON: the request headers, secrets and signatures redacted
  body_sha256 TEXT,            -- of the bytes received; NULL when the body was not read (405, over the size limit)
  body_size INTEGER NOT NULL,
  PRIMARY KEY (at, integration, id)
) WITHOUT ROWID;
