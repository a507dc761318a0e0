-- Bookkeeping tables keyed by their primary key alone. D1 bills every index entry written as a row, and a rowid table
-- with a TEXT or composite PRIMARY KEY writes two per insert (the row, and the key's index); a WITHOUT ROWID table is
-- its key, so it writes one. Each table keeps the key its guarantee needs and nothing more (measured in
-- test/worker/d1-counting.test.ts; queries checked at a million events in test/worker/scale.test.ts):
--   * usage: the counters (limits, rate limits, platform and hourly metrics). Keyed (metric, period_start, key), so a
--     prune of a metric's past periods and a period's report (busiest keys) read only their own rows, not every
--     key's history. 1 row written per new counter (was 2); an increment still writes 1.
--   * limit_alerts: one row per threshold crossed per period (warn once). 1 row per warning (was 2).
--   * seen_users: a route's on_first_seen runs once per user. 1 row per new user (was 2).
--   * outbox: an enqueue step's message until it is sent. Its key (a step sends once) and the (integration, event_id)
--     index (an event's unsent messages; retention keeps an event while it has one) stay. 2 rows per message (was 3).
-- And the open dead letters' index carries the reason too, so the alerts' counts (by integration or by reason) read
-- index entries only, not each open letter's row as well. Still one entry per letter: no row more written.

CREATE TABLE usage_lean (
  metric TEXT NOT NULL,
  key TEXT NOT NULL,
  period_start TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (metric, period_start, key)
) WITHOUT ROWID;
INSERT INTO usage_lean (metric, key, period_start, n) SELECT metric, key, period_start, n FROM usage;
DROP TABLE usage;
ALTER TABLE usage_lean RENAME TO usage;

CREATE TABLE limit_alerts_lean (
  metric TEXT NOT NULL,
  key TEXT NOT NULL,
  period_start TEXT NOT NULL,
  level TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (metric, key, period_start, level)
) WITHOUT ROWID;
INSERT INTO limit_alerts_lean (metric, key, period_start, level, created_at) SELECT metric, key, period_start, level, created_at FROM limit_alerts;
DROP TABLE limit_alerts;
ALTER TABLE limit_alerts_lean RENAME TO limit_alerts;

CREATE TABLE seen_users_lean (
  provider TEXT NOT NULL,
  sub TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  PRIMARY KEY (provider, sub)
) WITHOUT ROWID;
INSERT INTO seen_users_lean (provider, sub, first_seen_at) SELECT provider, sub, first_seen_at FROM seen_users;
DROP TABLE seen_users;
ALTER TABLE seen_users_lean RENAME TO seen_users;

DROP INDEX IF EXISTS dead_letters_open;
CREATE INDEX dead_letters_open ON dead_letters (replayed_at, dismissed_at, integration, reason);

CREATE TABLE outbox_lean (
  key TEXT PRIMARY KEY,     -- integration, event id and step: the same step never sends twice from here
  integration TEXT NOT NULL,
  event_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO outbox_lean (key, integration, event_id, queue, body, created_at) SELECT key, integration, event_id, queue, body, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_lean RENAME TO outbox;
CREATE INDEX outbox_by_event ON outbox (integration, event_id);
