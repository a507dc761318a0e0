/**
 * The one component contract. A verifier scheme, a handshake, a step, an outbound action, an auth provider and an
 * application endpoint are all written the same way:
 *
 *   export const stripeVerifier = defineComponent({
 *     kind: 'verifier', name: 'stripe', title: 'StripeVerifier', description: '…',
 *     spec: { secret: field.secrets(), tolerance: field.duration().default('5m') },
 *     example: { type: 'stripe', secret: 'STRIPE_WEBHOOK_SECRET' },
 *     create(options) { … },            // options: { secret: string[]; tolerance: number }, defaults applied
 *   });
 *
 * The spec is the single declaration: it gives the manifest schema its branch (and so the generated types), the
 * defaults, the parsed options `create` receives, the docs table (`fieldDocs`) and the checks `validate` runs.
 * The core calls `build()` and the kind's hooks; it never interprets a provider's options itself.
 * Learnt from Redpanda Connect (`service.RegisterProcessor(name, spec, ctor)`) and Hono's middleware factories,
 * which check their options once and return a function.
 */
import { parseOptions, type Options, type Spec, type JsonSchema } from './spec.ts';
import type { Verifier, VerifierHooks } from './verifier.ts';
import type { Handshake } from './handshake.ts';
import type { CompiledStep, StepCompileContext, StepHooks } from './step.ts';
import type { ActionCompileContext, ActionHooks, CompiledAction } from './action.ts';
import type { AuthHooks } from './auth.ts';
import type { EndpointHandler, EndpointHooks } from './endpoint.ts';

/** What each kind's `create` is given besides its options, and what it returns. */
export interface KindContracts {
  verifier: { context: undefined; built: Verifier };
  handshake: { context: undefined; built: Handshake };
  step: { context: StepCompileContext; built: CompiledStep };
  action: { context: ActionCompileContext; built: CompiledAction };
  auth: { context: undefined; built: AuthHooks };
  endpoint: { context: undefined; built: EndpointHandler };
}

export type Kind = keyof KindContracts;

/** The hooks a kind declares besides `create` (typed with the component's parsed options). */
export interface KindHooks<O> {
  verifier: VerifierHooks<O>;
  handshake: object;
  step: StepHooks;
  action: ActionHooks;
  auth: object;
  endpoint: EndpointHooks;
}

/** A problem a component finds in its own options, for `validate` (beyond what the schema says). */
export interface Finding {
  /** Where, below the component's own block (e.g. ['sql']); its block when empty. */
  path?: (string | number)[];
  message: string;
  severity: 'error' | 'warning';
}

/** What `validate` lends a component's check: SQL preparation against the store's migrations, and their tables. */
export interface CheckContext {
  /** Prepares one statement (`?N` placeholders) in the named store; the database's error text, or undefined. */
  prepare?(sql: string, store: string): string | undefined;
  /** Tables the store's migrations create (lower-case), when known. */
  tables?(store: string): ReadonlySet<string> | undefined;
  /** The store the component's handler writes (d1 unless it names one). */
  store: string;
}

export type Component<K extends Kind = Kind, S extends Spec = Spec> = {
  readonly kind: K;
  /** The `type` it is picked by (the step's key, the action's `action`). */
  readonly name: string;
  /** The schema title: the name of its generated type in types.gen.ts. */
  readonly title: string;
  readonly description: string;
  readonly spec: S;
  /** A complete, valid block as the manifest writes it; docs show it and a test validates it. */
  readonly example: Readonly<Record<string, unknown>>;
  /** Why it may refuse a request or a send, beyond the core's own reasons (telemetry and docs list them). */
  readonly reasons?: readonly string[];
  /** Builds the component once, from options already parsed; throws a clear Error on options that cannot work. */
  create(options: Options<S>, context: KindContracts[K]['context']): KindContracts[K]['built'];
  /** Checks of its own for `validate`, on the parsed options. */
  check?(options: Options<S>, context: CheckContext): Finding[];
} & KindHooks<Options<S>>[K];

/** Declares a component; the result goes, one line, into the registry (worker/registry.ts). */
export function defineComponent<K extends Kind, const S extends Spec>(component: Component<K, S>): Component<K, S> {
  return Object.freeze(component) as Component<K, S>;
}

/** The component's own options from a manifest block, parsed (defaults applied, durations in ms). */
export function optionsOf<K extends Kind, S extends Spec>(component: Component<K, S>, block: object): Options<S> {
  // Only the spec's keys are read: the keys the core adds around them (`type`, an action step's `limits`) are not options.
  return parseOptions(component.spec, block as Readonly<Record<string, unknown>>);
}

/** Parses a manifest block and creates the component: the one place options are parsed. */
export function build<K extends Kind, S extends Spec>(
  component: Component<K, S>,
  block: object,
  context: KindContracts[K]['context'],
): KindContracts[K]['built'] {
  return component.create(optionsOf(component, block), context);
}

/**
 * The JSON Schema of a component's block: its own options, closed, with the keys the core adds around them
 * (`type: { const: name }` for most kinds; an action step's `action`, `limits` and `retry`).
 */
export function componentSchema(
  component: Component,
  around: { properties?: Record<string, unknown>; required?: readonly string[] } = {},
): JsonSchema {
  const properties: Record<string, unknown> = { ...around.properties };
  const required = [...(around.required ?? [])];
  for (const [key, f] of Object.entries(component.spec)) {
    properties[key] = f.schema;
    if (f.presence === 'required' && !required.includes(key)) required.push(key);
  }
  return {
    type: 'object',
    title: component.title,
    description: component.description,
    additionalProperties: false,
    properties,
    ...(required.length ? { required } : {}),
  };
}

/** The schema branch of a component picked by `type` (verifiers, handshakes, auth providers, endpoints). */
export const typedSchema = (component: Component): JsonSchema =>
  componentSchema(component, {
    properties: { type: { const: component.name, description: component.description } },
    required: ['type'],
  });
