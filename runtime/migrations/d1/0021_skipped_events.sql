-- Conditions (`if:`): an event whose handlers' conditions let no step run is settled as `skipped`. It is settled
-- once, like `applied` and `ignored`: a second copy's commit fails here and its whole transaction with it.
DROP TRIGGER events_apply_once;
CREATE TRIGGER events_apply_once BEFORE UPDATE OF status ON events
WHEN OLD.status IN ('applied', 'ignored', 'skipped') AND NEW.status IN ('applied', 'ignored', 'skipped')
BEGIN
  SELECT RAISE(ABORT, 'already applied');
END;
