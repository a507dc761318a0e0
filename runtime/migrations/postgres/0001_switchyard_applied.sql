-- switchyard's applied-markers for Postgres projections: one row per event applied, written in the same transaction
-- as the projection, so a redelivered event applies nothing. `switchyard migrate` creates it; the runtime also
-- creates it on first use if it is absent.
CREATE TABLE IF NOT EXISTS switchyard_applied (
  integration text NOT NULL,
  id text NOT NULL,
  version text,              -- the event's @version (occurred_at#arrival), the value ordering guards compare
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration, id)
);
