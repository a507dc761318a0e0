/**
 * The event store: the one module that owns switchyard's own tables (events, applied markers, outbox, effects,
 * dead letters, dashboard sessions, handshake secrets), every SQL statement on them, and the status vocabulary. Ingest, the consumer, replay, rebuild,
 * retention, the sweep and the admin API go through it.
 *
 * It names what the stages and tests use; what only the store's own modules share (the status lists, shared SQL)
 * stays among them.
 */
export { EffectStatus, EventStatus, isSettled, Stage } from './status.ts';
export type { SettledEventStatus } from './status.ts';
export {
  appliedClaimStatement,
  appliedStatements,
  checkpoint,
  checkpointStatement,
  claimStatement,
  deadLetteredStatement,
  deleteOutbox,
  eventDetail,
  EventOrigin,
  eventOutcomes,
  eventsById,
  eventsToReplay,
  forwardedEvents,
  keyOf,
  LIST_SCAN,
  listEvents,
  oldestWaiting,
  outboxStatement,
  pruneEvents,
  readBodies,
  rebuildPageRows,
  rebuildTotal,
  recorded,
  releaseClaim,
  REPLAYABLE_STATUSES,
  replayedStatement,
  restoreBody,
  retryingStatement,
  staleEvents,
  staleOutbox,
  storedEnvelope,
  storedEvents,
  SWEPT_TO,
  sweptStatement,
  unsentOutbox,
} from './events.ts';
export type { ClaimResult, EventKey, EventQuery, OutboxRow, StoredEvent } from './events.ts';
export {
  batchedItems,
  batchedPayload,
  batchMemberSentStatement,
  batchPayloads,
  blockers,
  claimDue,
  effectsOf,
  effectsWithPayloads,
  forgetBatch,
  idempotencyKey,
  insertEffects,
  nextDue,
  overdueEvents,
  recordBatch,
  reopenStatement,
  settleStatement,
  UNBUILT_PAYLOAD,
} from './effects.ts';
export type { BatchedItem, BatchRecord, ClaimedEffect, NewEffect, Settlement } from './effects.ts';
export { effectStates, failingCounts, failingEffects, retryNowStatements, shownEffectsOf } from './failing.ts';
export type { EffectKey, EffectState } from './failing.ts';
export {
  closedDeadLetters,
  countOpen,
  deadLetter,
  deadLettersOf,
  dismissStatement,
  effectDeadLetter,
  eventDeadLetter,
  ingestDeadLetter,
  lastOpenError,
  listDeadLetters,
  markReplayed,
  openDeadLetters,
  parseEffectLetterId,
  pruneDeadLetters,
} from './dead-letters.ts';
export { attemptsOf, attemptStatement, EVENT_TARGET } from './attempts.ts';
export { commandCall, commandClaimStatement, reopenSyncStatements } from './commands.ts';
export { commandCallId, commandCallRange } from './callers.ts';
export { endSessionStatement, openSessionStatement, sessionRecord } from './admin-sessions.ts';
export {
  adoptHandshakeSecret,
  armHandshake,
  forgetHandshake,
  handshakeRow,
  keepHandshakeSecret,
} from './handshakes.ts';
export type { HandshakeRow } from './handshakes.ts';
export {
  ATTENTION_STATUSES,
  attentionByHour,
  EFFECT_FAILURES,
  effectFailuresSince,
  effectFailureStatement,
} from './charts.ts';
