-- Where an event came from: NULL for a delivery the provider signed, 'backfill' for an event `switchyard backfill`
-- synthesised from the provider's list API, 'repair' for one `switchyard reconcile --repair` sent. Set once, when the
-- event is recorded, through the admin API's authenticated backfill endpoint (the only path that skips signature
-- verification). No index: it is read per event (the admin API, the dashboard), never searched, so it adds no row
-- written per event.
ALTER TABLE events ADD COLUMN origin TEXT;
