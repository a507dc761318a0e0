-- Who made a command call: a service token's name, `<auth provider>:<sub>` for a user, `rpc` or `rpc/<name>` for a
-- Service Binding. The call's id in the log is its Idempotency-Key scoped to that caller (`<key>~<16 hex>`), so
-- another caller's same key is another row. Rows recorded before this migration have no caller (NULL) and keep the
-- bare key as their id: who made them cannot be known, so a repeat of such a key is answered as a new call.
-- No index: read per event (the admin API), never searched, so it adds no row written per call.
ALTER TABLE events ADD COLUMN caller TEXT;

-- Dashboard sessions, one row each: written at sign-in, read by every request the session makes, deleted at
-- sign-out (which is what ends it, everywhere at once: D1 is read from its primary, unlike KV's eventually
-- consistent copies). Expired rows are pruned by the cron trigger.
CREATE TABLE admin_sessions (
  id TEXT PRIMARY KEY,            -- random, 128 bits, hex; the cookie carries it under the session's MAC
  expires_at INTEGER NOT NULL,    -- Unix seconds: sign-in + 1 h, or the opening token's exp if sooner
  provider TEXT,                  -- the admin auth provider whose token opened it; NULL for ADMIN_TOKEN
  claims TEXT,                    -- what admin.require reads of that token (JSON), checked again on each request
  created_at TEXT NOT NULL
) WITHOUT ROWID;
