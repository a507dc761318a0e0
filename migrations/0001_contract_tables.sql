-- Tables the default projections write. Their names and meanings are a public contract (docs/manifest.md, "Contract tables").
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT,
  name TEXT,
  metadata TEXT,      -- JSON
  created_at TEXT,    -- ISO-8601
  deleted_at TEXT
);

CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  status TEXT,
  paid_at TEXT,
  payment_intent_id TEXT
);

CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  customer_id TEXT,
  status TEXT,
  current_period_end TEXT,  -- ISO-8601
  plan_id TEXT
);

CREATE TABLE IF NOT EXISTS email_logs (
  id TEXT PRIMARY KEY,
  to_email TEXT,
  subject TEXT,
  status TEXT,
  sent_at TEXT
);

CREATE TABLE IF NOT EXISTS sms_logs (
  sid TEXT PRIMARY KEY,
  to_number TEXT,
  body TEXT,
  status TEXT,
  sent_at TEXT
);
