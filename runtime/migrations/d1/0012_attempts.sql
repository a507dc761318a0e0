-- Every failed attempt, kept so the event log can show each one with its error and how long it took. Written only
-- when an attempt fails (an event's state that did not commit, an effect's send): the usual path writes nothing here.
CREATE TABLE IF NOT EXISTS attempts (
  integration TEXT NOT NULL,
  event_id TEXT NOT NULL,
  target TEXT NOT NULL,       -- 'event', or the effect's step ("0:0")
  n INTEGER NOT NULL,         -- the attempt's number
  at TEXT NOT NULL,
  duration_ms INTEGER,
  error TEXT NOT NULL,
  PRIMARY KEY (integration, event_id, target, n)
) WITHOUT ROWID;

-- Attempts go with their event's row, as effects do.
CREATE TRIGGER IF NOT EXISTS events_prune_attempts AFTER DELETE ON events
BEGIN
  DELETE FROM attempts WHERE integration = old.integration AND event_id = old.id;
END;
