-- Alert incidents: an alert fires once when its condition starts holding, and again only after it has cleared.
CREATE TABLE IF NOT EXISTS alert_incidents (
  alert TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  closed_at TEXT,
  value REAL,
  PRIMARY KEY (alert, opened_at)
);
CREATE INDEX IF NOT EXISTS alert_incidents_open ON alert_incidents (alert, closed_at);
CREATE INDEX IF NOT EXISTS dead_letters_by_time ON dead_letters (last_failed_at);
CREATE INDEX IF NOT EXISTS applied_by_time ON applied_messages (applied_at);
CREATE INDEX IF NOT EXISTS ledger_by_time ON action_ledger (sent_at);
