-- The event log, lean enough for the free plan. D1 bills every index entry written as a row, and a scan as every row
-- it passes, so the event log keeps one index per event (the dedup key) and reads everything else by its sequence:
--   * `seq` (the rowid) is the arrival order: ordering guards break ties by it, and time ranges, retention, the sweep
--     and the admin list walk it (received_at grows with it), so no received_at or status index is written per event;
--   * the applied-marker is the row's own status: a trigger refuses to apply an event twice, which is what the
--     separate applied_messages table (3 rows written per event) was for;
--   * only rows that need attention (retrying, dead-lettered, replayed) are in a status index;
--   * an event's effects go when its row goes (a trigger), so pruning effects needs no index of their own.
-- An event costs 2 rows written at ingest (row + dedup key) and 1 when applied.

CREATE TABLE events_lean (
  seq INTEGER PRIMARY KEY,
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
  error TEXT,
  next_at TEXT,
  swept_at TEXT,
  body_hash TEXT,
  steps TEXT,            -- what each step contributed, once applied (JSON)
  UNIQUE (integration, id)
);

INSERT INTO events_lean (seq, integration, id, type, status, received_at, occurred_at, deliveries, attempts, body, claim, claimed_at, updated_at, error, next_at, swept_at, body_hash, steps)
SELECT e.rowid, e.integration, e.id, e.type, e.status, e.received_at, e.occurred_at, e.deliveries, e.attempts, e.body, e.claim, e.claimed_at, e.updated_at, e.error, e.next_at, e.swept_at, e.body_hash, a.steps
FROM events e LEFT JOIN applied_messages a ON a.integration = e.integration AND a.event_id = e.id
ORDER BY e.rowid;

-- Events applied without an ingest row (a route's queued events): their markers become rows.
INSERT INTO events_lean (integration, id, type, status, received_at, updated_at, steps)
SELECT a.integration, a.event_id, '', 'applied', a.applied_at, a.applied_at, a.steps FROM applied_messages a
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.integration = a.integration AND e.id = a.event_id);

DROP TABLE events;
ALTER TABLE events_lean RENAME TO events;
DROP TABLE applied_messages;

CREATE INDEX events_attention ON events (status, seq) WHERE status IN ('retrying', 'dead_lettered', 'replayed');
CREATE INDEX events_by_body_hash ON events (integration, body_hash) WHERE body_hash IS NOT NULL;

-- Applied (or ignored) once: a second copy's commit fails here and its whole transaction with it.
CREATE TRIGGER events_apply_once BEFORE UPDATE OF status ON events
WHEN OLD.status IN ('applied', 'ignored') AND NEW.status IN ('applied', 'ignored')
BEGIN
  SELECT RAISE(ABORT, 'already applied');
END;

CREATE TRIGGER events_prune_effects AFTER DELETE ON events
BEGIN
  DELETE FROM effects WHERE integration = old.integration AND event_id = old.id;
END;

-- Where the bookkeeping that walks the log by sequence left off (the sweep, retention).
CREATE TABLE IF NOT EXISTS checkpoints (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
) WITHOUT ROWID;
