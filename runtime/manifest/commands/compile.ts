/**
 * Compiles one entry of `commands:`: its input check, who may call it, its synchronous result mapping, and its steps
 * as an event source (`command:<name>`), so the consumer, the event log, replay and the sweep treat a command like
 * any other event.
 */
import type { CompiledLimit, CompiledStep } from '../../component/step.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { Requirement } from '../types.gen.ts';
import type { Command } from '../types.gen.ts';
import { compileValue, type ValueFn } from '../../language/values.ts';
import type { InputValidator } from './input.ts';

/** The event-log source a command's calls are recorded under: it can never clash with an integration's name. */
export const commandSource = (name: string) => `command:${name}`;

/** The command a source name belongs to, if it is one. */
export const commandOf = (source: string) =>
  source.startsWith('command:') ? source.slice('command:'.length) : undefined;

/** Where a call is applied: in the request (SQL only, or synchronous), or through the queue. */
export type CommandMode = 'sync' | 'request' | 'queue';

export interface CompiledCommand {
  name: string;
  /** `command:<name>`: the event source its calls are recorded and applied under. */
  source: string;
  validate: InputValidator;
  /** The input's JSON Schema, as declared (for the typed client). */
  schema: Record<string, unknown>;
  auth: { serviceTokens: string[]; provider?: string; require?: Requirement };
  rpc: boolean;
  /** Largest accepted body over HTTP. */
  maxBody: number;
  sync?: { result: [string, ValueFn][]; cacheSeconds: number };
  /** A command that counts operations (`count:`): the limit, and how many a call counts (read from the input). */
  count?: { limit: CompiledLimit; n: ValueFn };
  /** The steps (compiled on first use in a lazy manifest). */
  steps(): readonly CompiledStep[];
}

/** Checks a command's own options; problems are thrown as plain errors by the caller's `attempt`. */
export function compileCommand(
  name: string,
  spec: Command,
  deps: {
    validate: InputValidator;
    maxBody: number;
    steps: () => readonly CompiledStep[];
    problem: (path: (string | number)[], message: string) => void;
  },
): CompiledCommand {
  const at = ['commands', name];
  const { service_token, provider, roles, roles_claim, claims } = spec.auth;
  const serviceTokens =
    service_token === undefined ? [] : typeof service_token === 'string' ? [service_token] : [...service_token];
  if (!serviceTokens.length && !provider)
    deps.problem(
      [...at, 'auth'],
      'say who may call: service_token (a secret) and/or provider (an auth provider from auth:)',
    );
  if (!provider && (roles || claims || roles_claim))
    deps.problem([...at, 'auth'], 'roles and claims apply to a provider: add provider');
  const require: Requirement | undefined =
    roles || claims
      ? { ...(roles ? { roles } : {}), ...(roles_claim ? { roles_claim } : {}), ...(claims ? { claims } : {}) }
      : undefined;
  let sync: CompiledCommand['sync'];
  if (spec.sync) {
    const steps = (spec.steps ?? []) as unknown as Record<string, unknown>[];
    if (steps.length !== 1 || !('action' in steps[0]!)) {
      deps.problem(
        [...at, 'sync'],
        `a synchronous command has exactly one step, an action step (it has ${steps.length} step${steps.length === 1 ? '' : 's'}${steps.length === 1 ? ', not an action' : ''})`,
      );
    }
    const result = Object.entries(spec.sync.result).map(([field, value]): [string, ValueFn] => [
      field,
      compileValue(value),
    ]);
    sync = { result, cacheSeconds: Math.ceil(parseDuration(spec.sync.cache!) / 1000) };
  }
  return {
    name,
    source: commandSource(name),
    validate: deps.validate,
    schema: spec.input,
    auth: { serviceTokens, ...(provider ? { provider } : {}), ...(require ? { require } : {}) },
    rpc: spec.rpc!,
    maxBody: deps.maxBody,
    ...(sync ? { sync } : {}),
    steps: deps.steps,
  };
}
