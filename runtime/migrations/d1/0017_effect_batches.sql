-- A batch call that shares one idempotency key among its members (Resend's /emails/batch) is recorded before it is
-- made: each member effect holds the batch it went out in, {"key": "...", "members": [[integration, event_id, step],
-- ...]} in call order. A retry of a member whose outcome is unknown re-sends THAT batch under THAT key, so the
-- provider replays it rather than sending again. Written only for real batches (2+ items), one row per member; NULL
-- for everything else. No index: it is read with the effect row it belongs to.
ALTER TABLE effects ADD COLUMN batch TEXT;
