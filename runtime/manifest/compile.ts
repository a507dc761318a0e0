/**
 * Compiles a validated manifest into the immutable routing table the Worker serves from. Runs once per
 * isolate, in the Worker, so it uses no code generation: verifiers are built by their adapters, values and
 * handler patterns are compiled to closures and regular expressions.
 */
import type { CompiledLimit, CompiledStep, StepCompileContext, Verifier } from '../adapter.ts';
import { compileTemplate, type CompiledTemplate } from '../templates.ts';
import type { Registry } from '../registry.ts';
import { parseSize } from '../duration.ts';
import { BUILTIN_RETRY, resolveRetryPolicy, type RetryPolicy } from '../retry.ts';
import { compileValue, type ValueFn } from '../values.ts';
import { ManifestError, type ManifestProblem } from './problems.ts';
import type { Integration, Manifest } from './types.gen.ts';

/** One megabyte: the default largest accepted webhook body. */
export const DEFAULT_MAX_BODY = 1024 * 1024;
/** The event log keeps each raw body in one D1 row, and D1 rows hold at most 2 MB. */
export const MAX_STORABLE_BODY = 2_000_000 - 16 * 1024;

export interface CompiledQueue {
  name: string;
  binding: string;
  deadLetter?: string;
}

export interface CompiledHandler {
  patterns: string[];
  matches: (type: string) => boolean;
  steps: CompiledStep[];
}

export interface CompiledIntegration {
  name: string;
  route: string;
  methods: ReadonlySet<string>;
  format: 'json' | 'form';
  maxBody: number;
  verifier: Verifier;
  verifierType: string;
  extract: { id: ValueFn; type: ValueFn; occurredAt?: ValueFn };
  /** Request headers the extraction rules read (kept with ingest dead letters, so replay can extract again). */
  extractHeaders: string[];
  queue: CompiledQueue;
  retry: RetryPolicy;
  handlers: CompiledHandler[];
  /** The steps to run for an event type, in handler order; memoized per type. */
  stepsFor(type: string): readonly CompiledStep[];
}

export interface CompiledManifest {
  version: number;
  routes: ReadonlyMap<string, CompiledIntegration>;
  integrations: ReadonlyMap<string, CompiledIntegration>;
  queues: ReadonlyMap<string, CompiledQueue>;
  templates: ReadonlyMap<string, CompiledTemplate>;
  limits: ReadonlyMap<string, CompiledLimit>;
  plan: 'free' | 'paid';
}

/** `*` matches any run of characters; everything else is literal. */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Compiles a manifest. Throws ManifestError listing every problem found, each with its manifest path.
 * @example const compiled = compileManifest(manifest, defaultRegistry)
 */
export function compileManifest(manifest: Manifest, registry: Registry): CompiledManifest {
  const problems: ManifestProblem[] = [];
  const attempt = <T>(path: (string | number)[], fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ManifestError) problems.push(...error.problems);
      else problems.push({ path, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  };

  const queues = new Map<string, CompiledQueue>();
  for (const [name, q] of Object.entries(manifest.queues ?? {})) {
    queues.set(name, { name, binding: q.binding, ...(q.dead_letter ? { deadLetter: q.dead_letter } : {}) });
  }
  const queueNames = new Set(queues.keys());
  const templates = new Map<string, CompiledTemplate>();
  for (const [name, spec] of Object.entries(manifest.templates ?? {})) {
    const compiled = attempt(['templates', name], () => compileTemplate(name, spec));
    if (compiled) templates.set(name, compiled);
  }
  const limits = new Map<string, CompiledLimit>();
  const ctx: StepCompileContext = { queues: queueNames, registry, templates, limits };
  for (const [name, spec] of Object.entries(manifest.limits ?? {})) {
    const at = ['limits', name];
    const per = spec.per === undefined ? undefined : attempt([...at, 'per'], () => compileValue(spec.per as never, { allowEnvelope: true }));
    let notify: CompiledLimit['notify'];
    if (spec.notify) {
      const step = compileStep(spec.notify as unknown as Record<string, unknown>, [...at, 'notify'], registry, ctx, attempt);
      notify = step?.notifyAction;
      if (step && !notify) problems.push({ path: [...at, 'notify'], message: 'notify must be an action step' });
    }
    limits.set(name, {
      name,
      period: spec.period,
      limit: spec.limit,
      warnAt: spec.warn_at ?? 0.8,
      onExceed: spec.on_exceed ?? 'warn',
      ...(per ? { per } : {}),
      ...(notify ? { notify } : {}),
    });
  }
  const defaultRetry = attempt(['defaults', 'retry'], () => resolveRetryPolicy(BUILTIN_RETRY, manifest.defaults?.retry)) ?? BUILTIN_RETRY;
  const defaultMaxBody = manifest.defaults?.max_body ? parseSize(manifest.defaults.max_body) : DEFAULT_MAX_BODY;

  const integrations = new Map<string, CompiledIntegration>();
  const routes = new Map<string, CompiledIntegration>();
  for (const [name, spec] of Object.entries(manifest.integrations)) {
    const at = ['integrations', name];
    const compiled = compileIntegration(name, spec, at, registry, queues, ctx, defaultRetry, defaultMaxBody, attempt);
    if (!compiled) continue;
    const clash = routes.get(compiled.route);
    if (clash) problems.push({ path: [...at, 'route'], message: `route ${compiled.route} is already served by integration ${clash.name}` });
    else routes.set(compiled.route, compiled);
    integrations.set(name, compiled);
  }
  if (problems.length) throw new ManifestError(problems);
  return { version: manifest.version, routes, integrations, queues, templates, limits, plan: manifest.platform?.plan ?? 'free' };
}

type Attempt = <T>(path: (string | number)[], fn: () => T) => T | undefined;

/** Compiles one step by the registered adapter for its key. */
function compileStep(step: Record<string, unknown>, at: (string | number)[], registry: Registry, ctx: StepCompileContext, attempt: Attempt) {
  const key = Object.keys(step).find((k) => registry.steps.has(k));
  if (!key) {
    attempt(at, () => {
      throw new Error(`unknown step; known: ${[...registry.steps.keys()].join(', ')}`);
    });
    return undefined;
  }
  const { description: _description, ...options } = step;
  return attempt([...at, key], () => registry.steps.get(key)!.compile(options, ctx) as CompiledStep & { notifyAction?: CompiledLimit['notify'] });
}

function compileIntegration(
  name: string,
  spec: Integration,
  at: (string | number)[],
  registry: Registry,
  queues: Map<string, CompiledQueue>,
  ctx: StepCompileContext,
  defaultRetry: RetryPolicy,
  defaultMaxBody: number,
  attempt: Attempt,
): CompiledIntegration | undefined {
  const { type: verifierType, ...options } = spec.verifier as { type: string };
  const adapter = registry.verifiers.get(verifierType);
  const verifier = adapter
    ? attempt([...at, 'verifier'], () => adapter.create(options))
    : attempt([...at, 'verifier', 'type'], () => {
        throw new Error(`unknown verifier type ${JSON.stringify(verifierType)}; known: ${[...registry.verifiers.keys()].join(', ')}`);
      });
  const id = attempt([...at, 'event', 'id'], () => compileValue(spec.event.id as never, { allowHeaders: true }));
  const type = attempt([...at, 'event', 'type'], () => compileValue(spec.event.type as never, { allowHeaders: true }));
  const occurredAt = spec.event.occurred_at === undefined ? undefined : attempt([...at, 'event', 'occurred_at'], () => compileValue(spec.event.occurred_at as never, { allowHeaders: true }));
  const queue = queues.get(spec.queue);
  if (!queue) attempt([...at, 'queue'], () => { throw new Error(`queue ${JSON.stringify(spec.queue)} is not declared under queues:`); });
  const retry = attempt([...at, 'retry'], () => resolveRetryPolicy(defaultRetry, spec.retry));
  const maxBody = spec.max_body ? parseSize(spec.max_body) : defaultMaxBody;
  if (maxBody > MAX_STORABLE_BODY) {
    attempt([...at, spec.max_body ? 'max_body' : 'route'], () => {
      throw new Error(`max_body ${maxBody} bytes is more than a D1 row can store for the event log (${MAX_STORABLE_BODY})`);
    });
  }

  const handlers: CompiledHandler[] = [];
  (spec.handlers ?? []).forEach((handler, h) => {
    const patterns = typeof handler.on === 'string' ? [handler.on] : handler.on;
    const exact = new Set(patterns.filter((p) => !p.includes('*')));
    const regexes = patterns.filter((p) => p.includes('*')).map(compilePattern);
    const steps: CompiledStep[] = [];
    handler.steps.forEach((step, s) => {
      const compiled = compileStep(step as unknown as Record<string, unknown>, [...at, 'handlers', h, 'steps', s], registry, ctx, attempt);
      if (compiled) steps.push(compiled);
    });
    handlers.push({ patterns, matches: (t) => exact.has(t) || regexes.some((r) => r.test(t)), steps });
  });

  if (!verifier || !id || !type || !queue || !retry || (spec.event.occurred_at !== undefined && !occurredAt)) return undefined;
  const memo = new Map<string, readonly CompiledStep[]>();
  return {
    name,
    route: spec.route,
    methods: new Set(spec.methods ?? ['POST']),
    format: spec.format ?? 'json',
    maxBody,
    verifier,
    verifierType,
    extract: { id, type, ...(occurredAt ? { occurredAt } : {}) },
    extractHeaders: [spec.event.id, spec.event.type, spec.event.occurred_at].flatMap((v) => (v && typeof v === 'object' && typeof v.header === 'string' ? [v.header.toLowerCase()] : [])),
    queue,
    retry,
    handlers,
    stepsFor(eventType) {
      let steps = memo.get(eventType);
      if (!steps) {
        steps = Object.freeze(handlers.filter((h) => h.matches(eventType)).flatMap((h) => h.steps));
        if (memo.size < 1000) memo.set(eventType, steps);
      }
      return steps;
    },
  };
}
