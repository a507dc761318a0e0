-- State first, effects after. An action step no longer sends inside the consumer's transaction: it records an
-- effect, in the same transaction as the event's state, and the effect is delivered after the commit with its own
-- status, retries, dead letters and lease. The send ledger it replaces is dropped.

CREATE TABLE IF NOT EXISTS effects (
  integration TEXT NOT NULL,
  event_id TEXT NOT NULL,
  step TEXT NOT NULL,         -- "<step>:<item>" within the event's steps: with the event, the idempotency key
  action TEXT NOT NULL,       -- the action type (resend, twilio, http, ...)
  source TEXT NOT NULL,       -- the step's place in the manifest, to find its action and retry policy again
  payload TEXT NOT NULL,      -- the provider-ready payload, rendered when the event was applied (JSON)
  limits TEXT,                -- [[limit, key], ...] the send counts against (JSON)
  status TEXT NOT NULL,       -- pending | sending | sent | retrying | deferred | dropped | dead_lettered
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at TEXT,               -- when it needs attention next: a retry, the end of a deferral, a lease's expiry
  lease TEXT,                 -- the token of the consumer that may send it while status = 'sending'
  result TEXT,                -- what the provider answered (JSON), once sent
  error TEXT,                 -- the provider's last error
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (integration, event_id, step)
) WITHOUT ROWID;
-- Only effects still in flight are indexed: the sweep reads what is overdue, never the delivered history.
CREATE INDEX IF NOT EXISTS effects_open ON effects (next_at) WHERE status IN ('pending', 'sending', 'retrying', 'deferred');

DROP TABLE IF EXISTS action_ledger;

-- Every failure is visible: a retrying event keeps its last error and the time of its next attempt; the sweep
-- marks when it re-queued an event that sat with no outcome (once; the next time it dead-letters it).
ALTER TABLE events ADD COLUMN error TEXT;
ALTER TABLE events ADD COLUMN next_at TEXT;
ALTER TABLE events ADD COLUMN swept_at TEXT;
UPDATE events SET status = 'retrying' WHERE status = 'failed';
