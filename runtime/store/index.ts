/**
 * The event store: the one module that owns switchyard's own tables (events, applied markers, outbox, effects,
 * dead letters, dashboard sessions, handshake secrets), every SQL statement on them, and the status vocabulary. Ingest, the consumer, replay, rebuild,
 * retention, the sweep and the admin API go through it.
 */
export * from './status.ts';
export * from './events.ts';
export * from './effects.ts';
export * from './failing.ts';
export * from './dead-letters.ts';
export * from './attempts.ts';
export * from './commands.ts';
export * from './callers.ts';
export * from './admin-sessions.ts';
export * from './handshakes.ts';
export * from './charts.ts';
