-- A dead letter that can never succeed can be dismissed: it leaves the open list and the alerts' open count, and
-- stays in the log (with who dismissed it and when) until retention prunes it like any other.
ALTER TABLE dead_letters ADD COLUMN dismissed_at TEXT;
ALTER TABLE dead_letters ADD COLUMN dismissed_by TEXT;
-- The open list and count read letters neither replayed nor dismissed, through this index.
DROP INDEX IF EXISTS dead_letters_open;
CREATE INDEX dead_letters_open ON dead_letters (replayed_at, dismissed_at, integration);
