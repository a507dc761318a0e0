-- Outbound actions and limits.

-- What an action step already sent, keyed by event and step: a retry reuses the result instead of sending again,
-- for providers with and without idempotency keys.
CREATE TABLE IF NOT EXISTS action_ledger (
  key TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  result TEXT,
  sent_at TEXT NOT NULL
);

-- Usage per limit, key (e.g. recipient) and period; incremented atomically with the limit check.
CREATE TABLE IF NOT EXISTS usage (
  metric TEXT NOT NULL,
  key TEXT NOT NULL,
  period_start TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (metric, key, period_start)
);

-- One row per threshold crossed per period, so each warning is sent once.
CREATE TABLE IF NOT EXISTS limit_alerts (
  metric TEXT NOT NULL,
  key TEXT NOT NULL,
  period_start TEXT NOT NULL,
  level TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (metric, key, period_start, level)
);
