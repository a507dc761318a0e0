import type { OptionsSchema, OutboxMessage, Statement, StepContext } from './context.ts';

/** What a step needs to know about the rest of the manifest at compile time. */
export interface StepCompileContext {
  /** Queue names the manifest declares. */
  queues: ReadonlySet<string>;
  registry: import('./registry.ts').Registry;
  templates: ReadonlyMap<string, import('../manifest/templates.ts').CompiledTemplate>;
  limits: ReadonlyMap<string, CompiledLimit>;
  /** The manifest's stores by name (`d1`, the event log's database, always among them). */
  stores: ReadonlyMap<string, import('../consumer/stores.ts').CompiledStore>;
  /** The store the step's handler names (its sql goes there unless the step names its own). */
  store?: string;
}

/** A limit from the manifest's `limits:`, compiled. */
export interface CompiledLimit {
  name: string;
  period: import('../consumer/limits.ts').Period;
  limit: number;
  warnAt: number;
  onExceed: 'warn' | 'defer' | 'drop';
  /** What is counted: sends of action steps (default), active users of routes, or events routes queue. */
  counts: 'sends' | 'active_users' | 'tracked_events';
  per?: import('../manifest/values.ts').ValueFn;
  /** Counted per recipient of each send (the action's `recipient` of its payload). */
  perRecipient?: boolean;
  notify?: import('./action.ts').CompiledAction;
}

/** An outbound send a step asks for; the consumer sends it with the others of its batch. */
export interface PendingAction {
  action: import('./action.ts').CompiledAction;
  payload: unknown;
  limits: { limit: CompiledLimit; key: string }[];
}

/** What a step contributes to its message: statements for the transaction, messages for the outbox. */
export interface StepOutput {
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
}

/**
 * A step adapter. In YAML a step is named by its key (`- sql: …`, `- enqueue: …`), like Benthos processors;
 * `key` is that key and `options` its sibling fields.
 */
export interface StepAdapter<O = any, C extends CompiledStep = CompiledStep> {
  key: string;
  title: string;
  description: string;
  options: OptionsSchema;
  example: O;
  /** The step's whole schema branch, when it is more than `key` plus options (the action step's union). */
  schema?(registry: import('./registry.ts').Registry): Record<string, unknown>;
  compile(options: O, ctx: StepCompileContext): C;
}
