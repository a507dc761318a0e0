-- Replay protection for integrations whose event id or type comes from a header the signature does not cover
-- (GitHub's X-GitHub-Delivery / X-GitHub-Event, Shopify's topic): the SHA-256 of the verified body, so the same
-- signed body cannot be queued again under a new id within the integration's replay_window.
-- NULL for every other integration; the partial index then holds no entry for them, so they write no extra row.
ALTER TABLE events ADD COLUMN body_hash TEXT;
CREATE INDEX IF NOT EXISTS events_by_body_hash ON events (integration, body_hash) WHERE body_hash IS NOT NULL;
