-- Operations the application counts itself (a command's `count:` against a `counts: operations` limit).
-- One row per counted call and period, keyed by the call's Idempotency-Key scoped to its caller, so a retried count
-- is not counted twice. `before` is the limit's count when the call was recorded: if the count did not change, the
-- call was refused and its row is removed in the same transaction (a later retry, after a reset, counts anew).
-- WITHOUT ROWID: the primary key is the row, so a counted call writes 1 row here. The cron prunes past periods.
CREATE TABLE IF NOT EXISTS usage_calls (
  metric TEXT NOT NULL,
  period_start TEXT NOT NULL,
  id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  before INTEGER NOT NULL,
  PRIMARY KEY (metric, period_start, id)
) WITHOUT ROWID;
