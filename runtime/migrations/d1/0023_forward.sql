-- Forwards ordered per key (issue 27): an effect whose step declares `order_by` records its key (the step's place
-- and the value, e.g. "stripe.handlers[0].steps[1]\u001fcus_1"); NULL for every other effect. A send waits while an
-- earlier effect with the same key is still open. The index holds only open, ordered effects, so the check reads the
-- effect itself and at most one index entry before it, and an effect without a key writes no index row.
ALTER TABLE effects ADD COLUMN order_key TEXT;
CREATE INDEX IF NOT EXISTS effects_ordered ON effects (order_key, created_at, event_id, step) WHERE order_key IS NOT NULL AND status IN ('pending', 'sending', 'retrying', 'deferred');
