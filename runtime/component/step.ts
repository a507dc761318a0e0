import type { OutboxMessage, Statement, StepContext } from './context.ts';
import type { CompiledAction } from './action.ts';
import type { JsonSchema } from './spec.ts';
import type { RetryPolicy } from '../manifest/types.gen.ts';

/** What a step needs to know about the rest of the manifest at compile time. */
export interface StepCompileContext {
  /** Queue names the manifest declares. */
  queues: ReadonlySet<string>;
  /** Builds the action an action step's block names (`action: resend`, …) through its component. */
  action(block: Readonly<Record<string, unknown>>): CompiledAction;
  /** The action types the registry has (for messages). */
  actionTypes: readonly string[];
  templates: ReadonlyMap<string, import('../language/templates.ts').CompiledTemplate>;
  limits: ReadonlyMap<string, CompiledLimit>;
  /** The manifest's stores by name (`d1`, the event log's database, always among them). */
  stores: ReadonlyMap<string, import('./context.ts').CompiledStore>;
  /** The step's whole block as the manifest writes it (the action step hands it to its action component). */
  block: Readonly<Record<string, unknown>>;
  /** The store the step's handler names (its sql goes there unless the step names its own). */
  store?: string;
}

/** A limit from the manifest's `limits:`, compiled. */
export interface CompiledLimit {
  name: string;
  period: import('../lib/periods.ts').Period;
  limit: number;
  warnAt: number;
  onExceed: 'warn' | 'defer' | 'drop';
  /** What is counted: sends of action steps (default), active users of routes, or events routes queue. */
  counts: 'sends' | 'active_users' | 'tracked_events' | 'operations';
  per?: import('../language/values.ts').ValueFn;
  /** Counted per recipient of each send (the action's `recipient` of its payload). */
  perRecipient?: boolean;
  notify?: CompiledAction;
}

/** An outbound send a step asks for; the consumer sends it with the others of its batch. */
export interface PendingAction {
  action: CompiledAction;
  payload: unknown;
  limits: { limit: CompiledLimit; key: string }[];
}

/** What a step contributes to its message: statements for the transaction, messages for the outbox. */
export interface StepOutput {
  /** The step did not run: its condition (`if:`) or its handler's was false. Says which, as the manifest writes it. */
  skipped?: string;
  statements?: Statement[];
  outbox?: OutboxMessage[];
  actions?: PendingAction[];
}

/**
 * A compiled step. The consumer calls `run` for each message and commits what every step returned in one
 * transaction; it never needs to know what kind of step it ran. Throwing MappingError (or any PermanentError)
 * dead-letters the message at once; any other error is retried by the policy.
 */
export interface CompiledStep {
  kind: string;
  run(ctx: StepContext): StepOutput | Promise<StepOutput>;
  /**
   * True when everything it produces commits in the event log's own D1 transaction: statements, outbox rows and
   * effect rows (the messages and sends go out after the commit), never another store. An event whose steps all say
   * so may be applied in the request.
   */
  inRequest?: boolean;
  /** The tables of the event log's D1 database it writes (what `reconcile` may compare). */
  writes?: readonly string[];
  /** When the step is an effect: the action delivered after the commit, and its retry policy over the integration's. */
  effect?: { action: CompiledAction; retry?: RetryPolicy };
}

/** What a step kind declares besides `create`: its YAML key is its name (`- sql: …`, like Benthos processors). */
export interface StepHooks {
  /**
   * The step's whole schema branch, when it is more than its options. The action step has one branch per action:
   * `actionBranches` makes them, each the action's own options beside the keys the step adds around them.
   */
  schema?(parts: { actionBranches(around: Record<string, JsonSchema>): JsonSchema[] }): JsonSchema;
}
