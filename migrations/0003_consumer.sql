-- The cookbook's ordering guards: the newest event's version wins; an older event never overwrites newer state.
-- (This name once held the runtime's consumer tables too; they are in runtime/migrations/d1/0003_consumer.sql.)
ALTER TABLE subscriptions ADD COLUMN version TEXT;
ALTER TABLE users ADD COLUMN version TEXT;
