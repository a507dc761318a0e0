-- A crash loop does not need an operator: the sweep queues an event that sat with no outcome again a few times,
-- backing off, before it dead-letters it as stuck. `sweeps` counts those re-queues (durably: the sweep runs in a new
-- invocation each time); an operator's replay starts it again at 0. No index: the sweep reads it from rows it finds
-- through the sequence or the attention index, never by it.
ALTER TABLE events ADD COLUMN sweeps INTEGER NOT NULL DEFAULT 0;
