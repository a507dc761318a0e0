-- Users seen at the edge, per auth provider: a route's on_first_seen steps run once per user.
CREATE TABLE IF NOT EXISTS seen_users (
  provider TEXT NOT NULL,
  sub TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  PRIMARY KEY (provider, sub)
);
