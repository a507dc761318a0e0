-- Secrets a handshake hands over (Asana's X-Hook-Secret, Notion's verification_token) and the operator's arming
-- window, one row per integration. They lived in KV, which cannot arbitrate: two handshakes racing through one window
-- both read "armed" and both wrote, the later one silently replacing the secret the first provider was answered
-- with. Here keeping a secret is one conditional UPDATE (armed, no secret yet) that exactly one handshake wins.
-- A secret kept in KV before this migration is adopted into this table on its first read (runtime/edge/handshake.ts).
CREATE TABLE IF NOT EXISTS handshake_secrets (
  integration TEXT PRIMARY KEY,
  secret TEXT,           -- the learnt secret; NULL until a handshake is kept
  armed_until TEXT,      -- ISO-8601: the operator's window for one handshake; NULL once used or never opened
  kept_at TEXT,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
