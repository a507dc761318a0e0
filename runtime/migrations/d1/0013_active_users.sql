-- Active users per limit and period (limits with `counts: active_users`, e.g. Clerk's 5,000 MAU): one marker per
-- user per period, so a user counts once however many requests they make. The nonce lets the count's upsert, in the
-- same transaction, tell the marker it just inserted from one another request inserted first. WITHOUT ROWID: one
-- row written per marker.
CREATE TABLE IF NOT EXISTS active_users (
  metric TEXT NOT NULL,
  period_start TEXT NOT NULL,
  sub TEXT NOT NULL,
  nonce TEXT NOT NULL,
  PRIMARY KEY (metric, period_start, sub)
) WITHOUT ROWID;
