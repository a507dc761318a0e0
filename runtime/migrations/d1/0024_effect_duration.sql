-- How long an effect's last provider call took (ms), written by the settle that records its outcome (the same row
-- update, so no row more is written): the timeline shows it beside the final attempt, as the attempts table does for
-- each failed one. NULL when no call was made (deferred, dropped) or for effects settled before this migration.
ALTER TABLE effects ADD COLUMN duration_ms INTEGER;
