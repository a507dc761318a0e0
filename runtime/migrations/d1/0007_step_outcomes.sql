-- What each step of an applied message did (kind, statements, outbox messages, actions), for the event log.
ALTER TABLE applied_messages ADD COLUMN steps TEXT;
