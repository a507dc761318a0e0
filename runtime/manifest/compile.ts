/**
 * Compiles a validated manifest into the immutable routing table the Worker serves from. Runs once per
 * isolate, in the Worker, so it uses no code generation: verifiers are built by their adapters, values and
 * handler patterns are compiled to closures and regular expressions.
 */
import type { CompiledLimit, CompiledStep, StepCompileContext } from '../component/step.ts';
import type { Verifier } from '../component/verifier.ts';
import type { CompiledAction } from '../component/action.ts';
import { compileTemplate, type CompiledTemplate } from '../language/templates.ts';
import type { AuthHooks } from '../component/auth.ts';
import type { EndpointHandler } from '../component/endpoint.ts';
import type { Handshake } from '../component/handshake.ts';
import type { Period } from '../lib/periods.ts';
import type { ProfileSource } from '../component/auth.ts';
import { compileCondition, type CompiledAlert } from './alerts.ts';
import { parseDuration } from '../lib/duration.ts';
import { replayProof, retentionPolicy, type RetentionPolicy } from './retention.ts';
import { compilePath } from '../language/values.ts';
import { compileStores } from './stores.ts';
import { LazyMap } from '../lib/lazy-map.ts';
import type { CompiledStore } from '../component/context.ts';
import { compileRouteAnalytics, type CompiledRouteAnalytics } from './request-analytics.ts';
import { limitProblems } from './limits.ts';
import type { Registry } from '../component/registry.ts';
import { build, optionsOf } from '../component/define.ts';
import { parseSize } from '../lib/duration.ts';
import { BUILTIN_RETRY, resolveRetryPolicy, retryPolicyOf, type RetryPolicy } from './retry.ts';
import { applyDefaults } from './defaults.ts';
import { ROUTE_METHODS } from './sections/route-methods.ts';
import { compileValue, valueSources, type ValueContext, type ValueFn } from '../language/values.ts';
import { didYouMean } from '../language/closest.ts';
import { formatPath, ManifestError, OptionError, type ManifestProblem } from './problems.ts';
import type { Integration, Manifest, Requirement, Value } from './types.gen.ts';
import {
  compileCondition as compileMatcher,
  ConditionError,
  type CompiledCondition as CompiledMatcher,
  type ConditionSpec,
} from '../language/conditions.ts';
import { compileLets, letReferences, mentionsLet, unknownLets, type LetScope } from '../language/lets.ts';
import { integrationSecrets, type IntegrationSecrets } from './secrets.ts';
import { commandSource, compileCommand, type CompiledCommand } from './commands/compile.ts';
import type { InputValidator } from './commands/input.ts';
import { compileResponse, type DeclaredAnswer } from './response.ts';
import type { Envelope } from '../lib/envelope.ts';

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
  /** Its `if:`, when it has one: the compiled condition its steps run behind (`plan --budget` prices each branch). */
  if?: GateCondition;
  /** Per step (same order as `steps`), the step's own `if:`, when it has one. */
  stepIfs?: (GateCondition | undefined)[];
}

/** A condition as a step is gated by it: where it is in the manifest, as written, and its compiled test. */
export interface GateCondition {
  /** Its manifest path (`integrations.stripe.handlers[4].if`). */
  at: string;
  spec: ConditionSpec;
  condition: CompiledMatcher;
  /** Whether it holds for an event, its derived values (`let:`) in scope: what the gated step asks. */
  holds(values: ValueContext): boolean;
}

/** Where queued events come from, as the consumer sees it: a webhook integration, or a route that queues events. */
export interface EventSource {
  name: string;
  format: 'json' | 'form';
  queue: CompiledQueue;
  retry: RetryPolicy;
  handlers: CompiledHandler[];
  /** The steps to run for an event type, in handler order; memoized per type. */
  stepsFor(type: string): readonly CompiledStep[];
  /**
   * Whether an event of this type is applied in the request (`apply: auto`, and steps that commit in the event log's
   * D1: SQL, effects and outbox rows, delivered after the commit; or no step at all: recorded `ignored`).
   */
  appliesInRequest(type: string): boolean;
  /** `apply:` as the manifest sets it (`auto` by default); absent for a route's events, which are always queued. */
  apply?: 'auto' | 'queue';
  /** A synchronous command: recorded and delivered in the request, whatever its steps (see `decide`). */
  sync?: boolean;
}

/** An application route: auth, requirements and rate limit, then an upstream proxy or an endpoint adapter. */
export interface CompiledRoute {
  name: string;
  path: string;
  methods: string[];
  auth?: string;
  authMode: 'required' | 'optional';
  require?: Requirement;
  rateLimit?: { limit: number; period: Period; per: 'user' | 'ip' };
  upstream?: {
    origin: string;
    forwardClaims: [string, string][];
    forwardProfile: [string, ReturnType<typeof compilePath>][];
    forwardUser: [string, ReturnType<typeof compilePath>][];
    keepAuthorization: boolean;
  };
  /** Load the user's profile (from the provider's profile source). */
  profile?: ProfileSource;
  /** Steps run once per user, when the route first sees them. */
  onFirstSeen?: CompiledStep[];
  endpoint?: EndpointHandler;
  source?: EventSource;
  /** Each proxied request as an analytics event, queued on the named route's source. */
  analytics?: CompiledRouteAnalytics;
  /** Limits this route counts (active users, tracked events). */
  limits?: CompiledLimit[];
}

export interface CompiledIntegration extends EventSource {
  route: string;
  methods: ReadonlySet<string>;
  maxBody: number;
  verifier: Verifier;
  verifierType: string;
  /** The request that proves the endpoint is yours, answered in ingest before anything is queued or logged. */
  handshake?: Handshake;
  /** The declared answer (`response:`) to a recorded or duplicate delivery, built from its envelope before it is recorded. */
  response?: (envelope: Envelope) => DeclaredAnswer;
  extract: { id: ValueFn; type: ValueFn; occurredAt?: ValueFn };
  /** Whether an extraction rule reads `body_sha256` (ingest then hashes the body before extracting). */
  hashesBody: boolean;
  /** Request headers the extraction rules read (kept with ingest dead letters, so replay can extract again). */
  extractHeaders: string[];
  /** Envelope fields read from a header the verifier does not sign: a re-sent body can change them. */
  unsignedEventHeaders: { field: 'id' | 'type'; header: string }[];
  /**
   * Set when unsignedEventHeaders is not empty, or the id is `body_sha256` with a `window`: the same body is refused
   * under another id for this long.
   */
  replayWindowMs?: number;
  /** The id is the body's hash made unique per arrival (`body_sha256` with `window`): a duplicate only within replayWindowMs. */
  idPerArrival?: boolean;
  /** The verifier's signed-timestamp window (ms); absent when it signs no timestamp (a capture verifies forever). */
  timestampToleranceMs?: number;
  /** The secret names its verifier reads (rotation lists), for the unset-secret warning. */
  secrets: IntegrationSecrets;
}

/**
 * An action step as an effect: where it is in the manifest (its id, stored with each effect so a retry finds it
 * again), the action it sends, and its retry policy (the step's own over its integration's).
 */
export interface EffectSpec {
  id: string;
  action: CompiledAction;
  retry: RetryPolicy;
  /** The action step itself: an effect that could not be built when its event applied is built again by it. */
  step: CompiledStep;
}

export interface Effects {
  byId: ReadonlyMap<string, EffectSpec>;
  byStep: ReadonlyMap<CompiledStep, EffectSpec>;
}

export interface CompiledManifest {
  version: number;
  /** Integrations by the webhook path a provider posts to. */
  webhookPaths: ReadonlyMap<string, CompiledIntegration>;
  integrations: ReadonlyMap<string, CompiledIntegration>;
  queues: ReadonlyMap<string, CompiledQueue>;
  /** Where projections go, by name (`d1`, the event log's database, always among them). */
  stores: ReadonlyMap<string, CompiledStore>;
  templates: ReadonlyMap<string, CompiledTemplate>;
  limits: ReadonlyMap<string, CompiledLimit>;
  plan: 'free' | 'paid';
  /** Every source of queued events by name: integrations and routes with a queue. */
  sources: ReadonlyMap<string, EventSource>;
  auth: ReadonlyMap<string, AuthHooks>;
  /** The manifest's `routes:` (application-facing proxies and endpoints). */
  routes: readonly CompiledRoute[];
  admin?: { auth?: string; require?: Requirement };
  retention: RetentionPolicy;
  alerts: readonly CompiledAlert[];
  /** Every action step of every handler, as an effect. */
  effects: Effects;
  /** What the application may ask for (`commands:`), by name. */
  commands: ReadonlyMap<string, CompiledCommand>;
  stuckAfterMs: number;
  /** Each integration's verifier secret names, read from its block without compiling it (/healthz). */
  secrets: ReadonlyMap<string, IntegrationSecrets>;
}

/**
 * What an auth component built must agree with itself: the keys come from a JWKS or a shared `key`, and the
 * algorithms fit them (HS* only with a shared key, never with a JWKS), so a token signed with a public key used as
 * an HMAC secret cannot pass.
 */
function checkedAuth(hooks: AuthHooks): AuthHooks {
  const shared = hooks.algorithms.filter((a) => a.startsWith('HS'));
  if (!hooks.algorithms.length) throw new Error('the provider allows no algorithm');
  if (hooks.key && shared.length !== hooks.algorithms.length)
    throw new Error(
      `a shared key verifies HS* tokens only, not ${hooks.algorithms.filter((a) => !a.startsWith('HS')).join(', ')}`,
    );
  if (!hooks.key && !hooks.jwksUrl) throw new Error('the provider gives neither a JWKS URL nor a key');
  if (!hooks.key && shared.length) throw new Error(`${shared.join(', ')} needs a shared key, not a JWKS`);
  return hooks;
}

/** `*` matches any run of characters; everything else is literal. */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

export interface CompileOptions {
  /**
   * Compile each part on its first use: an integration on its first lookup, a handler when an event type it matches
   * is first asked for, and routes, auth providers, commands, templates, limits, alerts and retention when first
   * read, so a new isolate's first request compiles only what it uses. For manifests `switchyard build` compiled
   * already (the Worker's): a problem in a deferred part would only be thrown, as a ManifestError, when that part is
   * first used. Validation always compiles eagerly.
   */
  lazy?: boolean;
  /**
   * A command's input check, from its JSON Schema: compiled by Ajv in the CLI, looked up in the code `switchyard
   * build` generated in the Worker (which cannot compile). Without one, calling the command answers 500.
   */
  inputValidator?: (command: string, schema: Record<string, unknown>) => InputValidator | undefined;
  /** Told of each condition as it compiles and of each outcome as it is evaluated (`switchyard test --coverage`). */
  conditions?: ConditionObserver;
  /**
   * The manifest has its defaults applied already (`switchyard build` applied them: the Worker's), so compile does
   * not walk it again. Without it, compile applies them first (runtime/manifest/defaults.ts).
   */
  defaulted?: boolean;
}

/**
 * Sees the manifest's conditions (`if:` of handlers and steps): each once as it compiles, then every evaluation. A
 * handler's condition is evaluated once per event (per item of a batch), a step's each time its handler's held.
 * The Worker passes none: counting is for `switchyard test`, never a cost per event.
 */
export interface ConditionObserver {
  compiled(at: string, path: (string | number)[], text: string): void;
  evaluated(at: string, holds: boolean): void;
}

/**
 * Compiles a manifest. Throws ManifestError listing every problem found, each with its manifest path.
 * @example const compiled = compileManifest(manifest, defaultRegistry)
 */
export function compileManifest(given: Manifest, registry: Registry, options: CompileOptions = {}): CompiledManifest {
  // Every value below that has a default in the sections' specs is there: compile reads it and defaults nothing.
  const manifest = options.defaulted ? given : applyDefaults(given);
  const defaults = manifest.defaults!;
  const problems: ManifestProblem[] = [];
  // Deferred parts run where they are written when eager (so problems keep their order), else on first use.
  const deferred: (() => void)[] = [];
  const lazy = options.lazy === true;
  const defer = (fn: () => void) => (lazy ? deferred.push(fn) : fn());
  // Runs what is deferred, and what that defers in turn (a section's handlers), in order.
  // Declared rather than arrows where they need not run at once: the engine skips a declaration's body when it
  // compiles compileManifest (a new isolate's first request) and compiles it only if it runs.
  function late() {
    while (deferred.length) {
      const next = deferred.splice(0);
      checked(() => next.forEach((fn) => fn()));
    }
  }
  // `attempt(path, fn, ...args)` calls fn(...args): a function that is there already, not a closure to compile.
  const attempt: Attempt = (path, fn, ...args) => {
    try {
      return fn(...args);
    } catch (error) {
      if (error instanceof ManifestError) problems.push(...error.problems);
      else if (error instanceof OptionError) problems.push({ path: [...path, error.option], message: error.message });
      else problems.push({ path, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  };
  // Lazy, each section below is a function run on its first use (and only then parsed and compiled by the engine):
  // a new isolate's first webhook compiles its integration, not the routes, auth, commands or alerts beside it.
  const section = <V>(names: string[], compile: (name: string) => V | undefined): Map<string, V> => {
    if (lazy) return new LazyMap<string, V>(names.map((name) => [name, () => checked(() => compile(name))!]));
    const map = new Map<string, V>();
    for (const name of names) {
      const value = compile(name);
      if (value !== undefined) map.set(name, value);
    }
    return map;
  };

  const queues = new Map<string, CompiledQueue>();
  for (const [name, q] of Object.entries(manifest.queues ?? {})) {
    queues.set(name, { name, binding: q.binding, ...(q.dead_letter ? { deadLetter: q.dead_letter } : {}) });
  }
  const queueNames = new Set(queues.keys());
  // What steps compile with (templates, stores, limits): lazy, built when the first step compiles.
  let templates = new Map<string, CompiledTemplate>();
  let stores = new Map<string, CompiledStore>();
  let limits = new Map<string, CompiledLimit>();
  let context: StepCompileContext | undefined;
  const stepContext = () => context ?? checked(contextNow);
  if (!lazy) contextNow();
  // A policy that cannot be parsed is a problem already; compiling goes on with the spec's own to find the rest.
  const defaultRetry =
    attempt(['defaults', 'retry'], retryPolicyOf, defaults.retry as Required<NonNullable<typeof defaults.retry>>) ??
    BUILTIN_RETRY;
  const defaultMaxBody = parseSize(defaults.max_body!);

  // Lazy, an effect is known once its handler compiled; asking for one by id that is not yet compiles the rest.
  const effects: HandlerContext['effects'] = lazy
    ? { byId: new CompletingMap(late, true), byStep: new CompletingMap(late, false) }
    : { byId: new Map(), byStep: new Map() };
  const integrationOf = (name: string, spec: Integration, deferTo: Defer) =>
    compileIntegration(
      name,
      spec,
      ['integrations', name],
      registry,
      queues,
      stepContext,
      defaultRetry,
      defaultMaxBody,
      defaults.replay_window!,
      attempt,
      effects,
      deferTo,
      checked,
      options.conditions,
    );
  let integrations = new Map<string, CompiledIntegration>();
  let webhookPaths = new Map<string, CompiledIntegration>();
  let sources = new Map<string, EventSource>();
  let routes: CompiledRoute[] = [];
  let shells: Map<string, CompiledRoute> | undefined;
  let routesCompiled = false;
  function routesNow() {
    if (routesCompiled) return;
    routesCompiled = true;
    const compiled = compileRoutes();
    // Lazy, shells the app registered were filled in place.
    if (!shells) routes = compiled;
    if (lazy) checkRouteAnalytics();
  }
  if (lazy) indexLazily();
  else compileIntegrations();
  const auth = section<AuthHooks>(Object.keys(manifest.auth ?? {}), compileAuth);
  function compileAuth(name: string) {
    const spec = manifest.auth![name]!;
    const { type } = spec as { type: string };
    const component = registry.auth.get(type);
    return attempt(['auth', name, component ? 'type' : 'type'], () => {
      if (!component)
        throw new Error(
          `unknown auth provider type ${JSON.stringify(type)}; known: ${[...registry.auth.keys()].join(', ')}`,
        );
      return checkedAuth(build(component, spec, undefined));
    });
  }
  function knownAuth(path: (string | number)[], name: string | undefined) {
    if (name !== undefined && !manifest.auth?.[name])
      problems.push({
        path,
        message: `auth provider ${JSON.stringify(name)} is not declared under auth:${didYouMean(name, Object.keys(manifest.auth ?? {}))}`,
      });
  }
  if (!lazy) routesNow();
  const commands = section<CompiledCommand>(Object.keys(manifest.commands ?? {}), compileCommandNamed);
  if (!lazy) checkRouteAnalytics();
  if (!lazy) checkAdmin();
  function declaredRetention() {
    return attempt(['retention'], retentionPolicy, manifest.retention) ?? retentionPolicy();
  }
  // Whether any verifier signs no timestamp needs every integration compiled: the Worker (lazy) asks on the cron only.
  function retentionOf(declared: RetentionPolicy) {
    return replayProof(declared, [...integrations.values()]);
  }
  const retention = lazy ? undefined : retentionOf(declaredRetention());
  const alerts: CompiledAlert[] = lazy ? [] : compileAlerts();
  if (problems.length) throw new ManifestError(problems);
  const compiled: CompiledManifest = {
    version: manifest.version,
    webhookPaths,
    integrations,
    queues,
    stores,
    templates,
    limits,
    plan: manifest.platform!.plan!,
    sources,
    auth,
    routes,
    retention: retention!,
    alerts,
    effects,
    commands,
    stuckAfterMs: parseDuration(defaults.stuck_after!),
    secrets: new LazyMap(
      Object.entries(manifest.integrations).map(([name, spec]) => [name, () => integrationSecrets(registry, spec)]),
    ),
    ...(manifest.admin
      ? {
          admin: {
            ...(manifest.admin.auth ? { auth: manifest.admin.auth } : {}),
            ...(manifest.admin.require ? { require: manifest.admin.require } : {}),
          },
        }
      : {}),
  };
  if (lazy) {
    // The app registers each route by its path and methods; the rest of a route compiles on first use.
    onFirstRead(compiled, 'routes', routeShells);
    // Admin tokens are checked against their provider and claims on the first admin request.
    const admin = compiled.admin;
    if (admin) onFirstRead(compiled, 'admin', () => (checked(checkAdmin), admin));
    onFirstRead(compiled, 'templates', () => stepContext().templates);
    onFirstRead(compiled, 'limits', () => stepContext().limits);
    onFirstRead(compiled, 'stores', () => stepContext().stores);
    onFirstRead(compiled, 'alerts', () => checked(compileAlerts));
    onFirstRead(compiled, 'retention', () => checked(() => retentionOf(declaredRetention())));
  }
  return compiled;

  /** Lazy: each route by its name, path and methods; the rest compiles (for every route) when first read. */
  function routeShells(): CompiledRoute[] {
    if (routesCompiled) return routes;
    shells = new Map(
      Object.entries(manifest.routes ?? {}).map(([name, spec]) => [
        name,
        routeShell(name, spec, () => checked(routesNow)),
      ]),
    );
    return (routes = [...shells.values()]);
  }

  /** Runs a compile step after the manifest was returned: a problem it finds is thrown, as compileManifest would. */
  function checked<T>(fn: () => T): T {
    const known = problems.length;
    const value = fn();
    if (problems.length > known) throw new ManifestError(problems.slice(known));
    return value;
  }

  /** Templates, stores and limits, and the context steps compile with. */
  function contextNow(): StepCompileContext {
    templates = section<CompiledTemplate>(Object.keys(manifest.templates ?? {}), (name) =>
      attempt(['templates', name], () => compileTemplate(name, manifest.templates![name]!)),
    );
    stores = compileStores(manifest.stores, (path, message) => problems.push({ path, message }));
    const actionTypes = [...registry.actions.keys()];
    const createAction = (block: Readonly<Record<string, unknown>>) => {
      const type = String(block.action);
      const component = registry.actions.get(type);
      if (!component)
        throw new Error(
          `unknown action ${JSON.stringify(type)}${didYouMean(type, actionTypes)}; known: ${actionTypes.join(', ')}`,
        );
      return build(component, block, { templates });
    };
    const limitNames = Object.keys(manifest.limits ?? {});
    limits = lazy ? new LazyMap(limitNames.map((name) => [name, () => checked(() => compileLimit(name))])) : new Map();
    context = { queues: queueNames, action: createAction, actionTypes, templates, limits, stores, block: {} };
    if (!lazy) limitNames.forEach(compileLimit);
    return context;
  }

  /** Eager: every integration, each by its name and by its route (a second integration on a route is a problem). */
  function compileIntegrations(): void {
    for (const [name, spec] of Object.entries(manifest.integrations)) {
      const at = ['integrations', name];
      const compiled = integrationOf(name, spec, defer);
      if (!compiled) continue;
      const clash = webhookPaths.get(compiled.route);
      if (clash)
        problems.push({
          path: [...at, 'route'],
          message: `route ${compiled.route} is already served by integration ${clash.name}`,
        });
      else webhookPaths.set(compiled.route, compiled);
      integrations.set(name, compiled);
    }
    sources = new Map<string, EventSource>(integrations);
  }

  /**
   * Lazy: each integration compiles on its first lookup (by name, by route or as a source), once. Its own deferred
   * parts (handlers) keep the integration's place among everything deferred, as eager compiling orders them.
   */
  function indexLazily(): void {
    const byName: [string, () => CompiledIntegration][] = [];
    const byRoute: [string, () => CompiledIntegration][] = [];
    for (const [name, spec] of Object.entries(manifest.integrations)) {
      let compiled: CompiledIntegration | undefined;
      const own: (() => void)[] = [];
      const thunk = () => (compiled ??= checked(() => integrationOf(name, spec, (fn) => own.push(fn)))!);
      deferred.push(() => {
        thunk();
        for (const fn of own.splice(0)) fn();
      });
      byName.push([name, thunk]);
      byRoute.push([spec.route, thunk]);
    }
    integrations = new LazyMap(byName);
    webhookPaths = new LazyMap(byRoute);
    deferred.push(() => void routesNow());
    for (const name of Object.keys(manifest.commands ?? {})) deferred.push(() => void commands.get(name));
    // A webhook's event looks up its integration only: the other sources are listed on the first other lookup.
    sources = new LazyMap<string, EventSource>(byName, otherSources);
  }

  /** Lazy: routes and commands that queue events are sources too; looking one up compiles its section. */
  function otherSources(): [string, () => EventSource][] {
    const more: [string, () => EventSource][] = [];
    for (const [name, spec] of Object.entries(manifest.routes ?? {})) {
      const type = (spec.endpoint as { type?: string } | undefined)?.type;
      if (spec.queue !== undefined && type !== undefined && registry.endpoints.get(type)?.queue)
        more.push([name, () => (checked(routesNow), sources.get(name)!)]);
    }
    for (const [name, spec] of Object.entries(manifest.commands ?? {})) {
      // A command that only counts has no steps: nothing of it is ever queued.
      if (!spec.count) more.push([commandSource(name), () => (commands.get(name), sources.get(commandSource(name))!)]);
    }
    return more;
  }

  /** Admin tokens: a declared provider, bound to a claim value. */
  function checkAdmin(): void {
    if (!manifest.admin) return;
    knownAuth(['admin', 'auth'], manifest.admin.auth);
    // Roles alone can be self-granted (whoever creates a Clerk organisation is its org:admin): an admin token
    // must also carry a named claim value, such as the organisation's id.
    if (manifest.admin?.auth && !Object.keys(manifest.admin.require?.claims ?? {}).length) {
      problems.push({
        path: manifest.admin.require ? ['admin', 'require'] : ['admin', 'auth'],
        message:
          'admin.require must bind admin tokens to a claim value, not roles alone (anyone may hold a role in an organisation they created): add claims, e.g. { org_id: { env: ADMIN_ORG_ID } }',
      });
    }
  }

  /** One of `limits:`; its notify step compiles with it, or (lazy) on its first read. */
  function compileLimit(name: string): CompiledLimit {
    const ctx = stepContext();
    const spec = manifest.limits![name]!;
    const at = ['limits', name];
    const perValue = spec.per;
    const per =
      perValue === undefined
        ? undefined
        : attempt([...at, 'per'], () => compileValue(perValue, { allowEnvelope: true }));
    const counts = spec.counts!;
    const limit: CompiledLimit = {
      name,
      period: spec.period,
      limit: spec.limit,
      warnAt: spec.warn_at!,
      onExceed: spec.on_exceed!,
      counts,
      ...(per ? { per } : {}),
      ...(spec.per_recipient ? { perRecipient: true } : {}),
    };
    problems.push(...limitProblems(spec, at));
    limits.set(name, limit);
    const notify = spec.notify;
    if (notify) {
      const compileNotify = () => {
        if ((notify as { if?: unknown }).if !== undefined)
          problems.push({
            path: [...at, 'notify', 'if'],
            message: "a limit's notify is sent when the limit is reached, with no event to test: remove if",
          });
        const step = compileStep(
          notify as unknown as Record<string, unknown>,
          [...at, 'notify'],
          registry,
          ctx,
          attempt,
        );
        if (step && !step.effect) problems.push({ path: [...at, 'notify'], message: 'notify must be an action step' });
        return step?.effect?.action;
      };
      if (!lazy) {
        const action = compileNotify();
        if (action) limit.notify = action;
      } else onFirstRead(limit, 'notify', () => checked(compileNotify));
    }
    return limit;
  }

  /** `routes:` (application-facing proxies and endpoints); a route that queues events is a source too. */
  function compileRoutes(): CompiledRoute[] {
    const ctx = stepContext();
    const routes: CompiledRoute[] = [];
    for (const [name, spec] of Object.entries(manifest.routes ?? {})) {
      const at = ['routes', name];
      const shell = shells?.get(name);
      if (shell) for (const key of ROUTE_FIELDS) delete shell[key];
      knownAuth([...at, 'auth'], spec.auth);
      if (integrations.has(name))
        problems.push({
          path: at,
          message: `route ${name} has the name of an integration; names of event sources must be unique`,
        });
      if ([...webhookPaths.keys()].includes(spec.path))
        problems.push({ path: [...at, 'path'], message: `path ${spec.path} is also a webhook route` });
      const targets = [spec.upstream !== undefined, spec.endpoint !== undefined].filter(Boolean).length;
      if (targets !== 1) {
        problems.push({ path: at, message: 'a route needs exactly one target: upstream or endpoint' });
        continue;
      }
      let endpoint: CompiledRoute['endpoint'];
      let createEndpoint: (() => CompiledRoute['endpoint']) | undefined;
      let authMode: CompiledRoute['authMode'] = 'required';
      let source: EventSource | undefined;
      if (spec.endpoint) {
        const { type } = spec.endpoint as { type: string };
        const adapter = registry.endpoints.get(type);
        if (!adapter) {
          problems.push({
            path: [...at, 'endpoint', 'type'],
            message: `unknown endpoint type ${JSON.stringify(type)}; known: ${[...registry.endpoints.keys()].join(', ')}`,
          });
          continue;
        }
        authMode = adapter.auth;
        if (adapter.auth === 'required' && !spec.auth)
          problems.push({ path: [...at, 'auth'], message: `endpoint ${type} needs an auth provider` });
        const create = () => attempt([...at, 'endpoint'], () => build(adapter, spec.endpoint!, undefined));
        // Lazy: created on the route's first request (see below).
        endpoint = lazy ? undefined : create();
        if (lazy) createEndpoint = () => checked(create);
        if (adapter.queue) {
          const queue = spec.queue ? queues.get(spec.queue) : undefined;
          if (!queue)
            problems.push({ path: [...at, 'queue'], message: `endpoint ${type} needs a queue declared under queues:` });
          else {
            const retry = attempt([...at, 'retry'], () => resolveRetryPolicy(defaultRetry, spec.retry)) ?? defaultRetry;
            source = withHandlers(
              { name, format: 'json' as const, queue, retry, appliesInRequest: () => false },
              spec.handlers ?? [],
              at,
              { registry, ctx, attempt, retry, effects, conditions: options.conditions },
              defer,
              checked,
            );
            sources.set(name, source);
          }
        } else if (spec.queue || spec.handlers)
          problems.push({
            path: [...at, 'handlers'],
            message: `endpoint ${type} queues nothing: remove queue and handlers`,
          });
      } else if (spec.queue || spec.handlers)
        problems.push({
          path: [...at, 'handlers'],
          message: 'an upstream route queues nothing: remove queue and handlers',
        });
      if (spec.require && !spec.auth)
        problems.push({ path: [...at, 'require'], message: 'require needs an auth provider' });
      // Whether a profile is read is the auth provider's to say (its profile options): a route that reads the user
      // (forward_user, forward_profile, on_first_seen) reads it where the provider has one, unless profile: false.
      const declared = spec.auth ? auth.get(spec.auth)?.profile : undefined;
      const readsUser = !!(spec.forward_user || spec.forward_profile || spec.on_first_seen);
      const profile = spec.profile === false ? undefined : spec.profile || readsUser ? declared : undefined;
      if (spec.profile && spec.auth && auth.has(spec.auth) && !declared)
        problems.push({ path: [...at, 'profile'], message: `auth provider ${spec.auth} has no profile options` });
      if ((spec.forward_profile || spec.forward_user || spec.on_first_seen) && !spec.auth)
        problems.push({ path: at, message: 'forward_profile, forward_user and on_first_seen need an auth provider' });
      if (spec.forward_profile && spec.auth && auth.has(spec.auth) && !profile)
        problems.push({
          path: [...at, 'forward_profile'],
          message: `forward_profile reads the profile: give auth provider ${spec.auth} profile options (and no profile: false), or use forward_user`,
        });
      let onFirstSeen: CompiledStep[] = [];
      defer(() => {
        onFirstSeen = (spec.on_first_seen ?? []).flatMap(
          (step, i) =>
            compileStep(
              step as unknown as Record<string, unknown>,
              [...at, 'on_first_seen', i],
              registry,
              ctx,
              attempt,
            ) ?? [],
        );
      });
      const forwardProfile = Object.entries(spec.forward_profile ?? {}).flatMap(([header, path]) => {
        const compiled = attempt([...at, 'forward_profile', header], () => compilePath(path));
        return compiled ? [[header, compiled] as [string, ReturnType<typeof compilePath>]] : [];
      });
      const forwardUser = Object.entries(spec.forward_user ?? {}).flatMap(([header, path]) => {
        const compiled = attempt([...at, 'forward_user', header], () => compilePath(path));
        return compiled ? [[header, compiled] as [string, ReturnType<typeof compilePath>]] : [];
      });
      const routeLimits = (spec.limits ?? []).flatMap((limitName, i) => {
        const limit = limits.get(limitName);
        const problem = !limit
          ? `limit ${JSON.stringify(limitName)} is not declared under limits:${didYouMean(limitName, [...limits.keys()])}`
          : limit.counts === 'sends'
            ? `limit ${limitName} counts sends: name it on an action step, or give it counts: active_users or tracked_events`
            : limit.counts === 'active_users' && !spec.auth
              ? `limit ${limitName} counts active users: the route needs an auth provider`
              : limit.counts === 'tracked_events' && !(spec.endpoint && spec.queue)
                ? `limit ${limitName} counts tracked events: name it on a route that queues events (track)`
                : undefined;
        if (problem) problems.push({ path: [...at, 'limits', i], message: problem });
        return limit && !problem ? [limit] : [];
      });
      if (spec.analytics && !spec.upstream)
        problems.push({
          path: [...at, 'analytics'],
          message: 'analytics tracks proxied requests: it needs an upstream route',
        });
      if (spec.rate_limit?.per === 'user' && !spec.auth)
        problems.push({ path: [...at, 'rate_limit', 'per'], message: 'a per-user rate limit needs an auth provider' });
      const fields: CompiledRoute = {
        name,
        path: spec.path,
        methods: routeMethods(spec),
        authMode,
        ...(spec.auth ? { auth: spec.auth } : {}),
        ...(spec.require ? { require: spec.require } : {}),
        ...(spec.rate_limit ? { rateLimit: spec.rate_limit } : {}),
        ...(spec.upstream
          ? {
              upstream: {
                origin: spec.upstream.replace(/\/+$/, ''),
                forwardClaims: Object.entries(spec.forward_claims ?? {}),
                forwardProfile,
                forwardUser,
                keepAuthorization: spec.keep_authorization!,
              },
            }
          : {}),
        ...(profile ? { profile } : {}),
        ...(onFirstSeen.length ? { onFirstSeen } : {}),
        ...(endpoint ? { endpoint } : {}),
        ...(source ? { source } : {}),
        ...(spec.analytics ? { analytics: compileRouteAnalytics(spec.analytics) } : {}),
        ...(routeLimits.length ? { limits: routeLimits } : {}),
      };
      const route = shell ? Object.assign(shell, fields) : fields;
      if (lazy && spec.on_first_seen?.length) {
        onFirstRead(route, 'onFirstSeen', () => {
          late();
          return onFirstSeen.length ? onFirstSeen : undefined;
        });
      }
      if (createEndpoint) onFirstRead(route, 'endpoint', createEndpoint);
      routes.push(route);
    }
    return routes;
  }

  /** A route's analytics go to a route that queues events (known once every route compiled). */
  function checkRouteAnalytics(): void {
    for (const route of routes) {
      const to = route.analytics?.to;
      if (to && !routes.some((r) => r.name === to && r.source))
        problems.push({
          path: ['routes', route.name, 'analytics', 'to'],
          message: `route ${JSON.stringify(to)} does not queue events: name a route whose endpoint has a queue (e.g. track)${didYouMean(
            to,
            routes.filter((r) => r.source).map((r) => r.name),
          )}`,
        });
    }
  }

  /** One of `commands:`, with its steps as a source of queued events. */
  function compileCommandNamed(name: string): CompiledCommand | undefined {
    const ctx = stepContext();
    const spec = manifest.commands![name]!;
    const at = ['commands', name];
    knownAuth([...at, 'auth', 'provider'], spec.auth.provider);
    const validate = () =>
      attempt([...at, 'input'], () => options.inputValidator?.(name, spec.input)) ??
      (() => {
        throw new Error(`command ${name} has no compiled input validator: run switchyard build`);
      });
    if (spec.count) return compileCountCommand(name, spec, validate());
    if (!spec.steps || spec.queue === undefined) {
      problems.push({
        path: at,
        message: 'a command has steps (and the queue they go through), or count: (a limit with counts: operations)',
      });
      return undefined;
    }
    const queue = queues.get(spec.queue);
    if (!queue) {
      problems.push({
        path: [...at, 'queue'],
        message: `queue ${JSON.stringify(spec.queue)} is not declared under queues:${didYouMean(spec.queue, [...queues.keys()])}`,
      });
      return undefined;
    }
    const stepList = spec.steps as unknown as Record<string, unknown>[];
    // A synchronous command's action is tried once, in the request: its caller retries with the same Idempotency-Key.
    if (spec.sync && stepList.some((step) => 'retry' in step))
      problems.push({
        path: [...at, 'steps', 0, 'retry'],
        message:
          "a synchronous command's action is tried once, in the request (the caller retries with the same Idempotency-Key): remove retry",
      });
    // A synchronous call may be asked again (a retry, a repeat after its cache time): the provider must see the same key.
    const action =
      spec.sync && typeof stepList[0]?.action === 'string' ? registry.actions.get(stepList[0].action) : undefined;
    if (action?.idempotencyOption && !stepList[0]![action.idempotencyOption]) {
      problems.push({
        path: [...at, 'steps', 0],
        message:
          'a synchronous command sends its Idempotency-Key to the provider: set idempotency_header (e.g. Idempotency-Key)',
      });
    }
    // A caller waiting for a result cannot wait for a limit's reset; a deferred send would happen behind its back.
    for (const limit of spec.sync && Array.isArray(stepList[0]?.limits) ? (stepList[0]!.limits as string[]) : []) {
      if (manifest.limits?.[limit]?.on_exceed === 'defer')
        problems.push({
          path: [...at, 'steps', 0, 'limits'],
          message: `limit ${limit} defers sends past its reset, which a synchronous call cannot wait for: use a limit with on_exceed drop or warn`,
        });
    }
    const declared = attempt([...at, 'retry'], () => resolveRetryPolicy(defaultRetry, spec.retry)) ?? defaultRetry;
    const retry = spec.sync ? { ...declared, maxAttempts: 1 } : declared;
    const name_ = commandSource(name);
    let steps: () => readonly CompiledStep[] = () => [];
    const source = withHandlers(
      {
        name: name_,
        format: 'json' as const,
        queue,
        retry,
        apply: spec.apply!,
        ...(spec.sync ? { sync: true } : {}),
        appliesInRequest: (type: string) =>
          !spec.sync &&
          spec.apply === 'auto' &&
          steps().length > 0 &&
          type === name &&
          steps().every((s) => s.inRequest === true),
      },
      [{ on: name, steps: spec.steps as unknown[], ...(spec.let ? { let: spec.let } : {}) }],
      at,
      { registry, ctx, attempt, retry, effects, stepsAt: () => at, conditions: options.conditions },
      defer,
      checked,
    );
    steps = () => source.stepsFor(name);
    sources.set(name_, source);
    return attempt(at, () =>
      compileCommand(name, spec, {
        validate: validate(),
        maxBody: defaultMaxBody,
        steps: () => steps(),
        problem: (path, message) => problems.push({ path, message }),
      }),
    );
  }

  /** A command that counts the application's own operations against a `counts: operations` limit: no steps, no source. */
  function compileCountCommand(
    name: string,
    spec: NonNullable<Manifest['commands']>[string],
    validate: InputValidator,
  ): CompiledCommand | undefined {
    const at = ['commands', name];
    const count = spec.count!;
    // `apply` has a default (auto: what a count does anyway), so only `apply: queue` says something a count cannot do.
    for (const key of ['steps', 'queue', 'sync', 'apply', 'retry'] as const) {
      if (key === 'apply' ? spec.apply === 'queue' : spec[key] !== undefined)
        problems.push({
          path: [...at, key],
          message: `a command that counts operations has no ${key}: it only counts (remove ${key}, or count:)`,
        });
    }
    stepContext();
    const limit = limits.get(count.limit);
    if (!limit)
      problems.push({
        path: [...at, 'count', 'limit'],
        message: `limit ${JSON.stringify(count.limit)} is not declared under limits:${didYouMean(count.limit, [...limits.keys()])}`,
      });
    else if (limit.counts !== 'operations')
      problems.push({
        path: [...at, 'count', 'limit'],
        message: `limit ${count.limit} counts ${limit.counts}, not operations: give it counts: operations, or count a limit that does`,
      });
    const n = count.n === undefined ? () => 1 : attempt([...at, 'count', 'n'], () => compileValue(count.n!));
    if (limit?.counts !== 'operations' || !n) return undefined;
    return attempt(at, () => ({
      ...compileCommand(name, spec, {
        validate,
        maxBody: defaultMaxBody,
        steps: () => [],
        problem: (path, message) => problems.push({ path, message }),
      }),
      count: { limit, n },
    }));
  }

  /** `alerts:`, each with its condition and notify action. */
  function compileAlerts(): CompiledAlert[] {
    const ctx = stepContext();
    const alerts: CompiledAlert[] = [];
    for (const [name, spec] of Object.entries(manifest.alerts ?? {})) {
      const at = ['alerts', name];
      const measure = attempt([...at, 'when'], () =>
        compileCondition(spec.when, parseDuration, (l) => limits.get(l)?.period),
      );
      const step = compileStep(
        spec.notify as unknown as Record<string, unknown>,
        [...at, 'notify'],
        registry,
        ctx,
        attempt,
      );
      const notify = step?.effect?.action;
      if (step && !notify) problems.push({ path: [...at, 'notify'], message: 'notify must be an action step' });
      if (measure && notify) alerts.push({ name, measure, notify });
    }
    return alerts;
  }
}

const routeMethods = (spec: NonNullable<Manifest['routes']>[string]) => [
  ...(spec.methods ?? ROUTE_METHODS[spec.endpoint ? 'endpoint' : 'upstream']),
];

/** What a route compiles beyond its name, path and methods. */
const ROUTE_FIELDS = [
  'authMode',
  'auth',
  'require',
  'rateLimit',
  'upstream',
  'profile',
  'onFirstSeen',
  'endpoint',
  'source',
  'analytics',
  'limits',
] as const;

/** A route's name, path and methods; reading any other field compiles the routes (which fill it in place). */
function routeShell(
  name: string,
  spec: NonNullable<Manifest['routes']>[string],
  compileRoutes: () => void,
): CompiledRoute {
  const shell = { name, path: spec.path, methods: routeMethods(spec) } as CompiledRoute;
  for (const key of ROUTE_FIELDS) {
    Object.defineProperty(shell, key, {
      configurable: true,
      enumerable: true,
      get() {
        compileRoutes();
        return Object.getOwnPropertyDescriptor(shell, key)?.get ? undefined : shell[key];
      },
    });
  }
  return shell;
}

/**
 * A map filled as handlers compile (lazy): iterating it, or (`onMiss`) asking for a key it lacks, first compiles the
 * rest of the manifest, so it answers as the eagerly compiled one would.
 */
class CompletingMap<K, V> extends Map<K, V> {
  private readonly complete: () => void;
  private readonly onMiss: boolean;
  constructor(complete: () => void, onMiss: boolean) {
    super();
    this.complete = complete;
    this.onMiss = onMiss;
  }
  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value !== undefined || !this.onMiss) return value;
    this.complete();
    return super.get(key);
  }
  override has(key: K): boolean {
    return this.get(key) !== undefined || super.has(key);
  }
  override get size(): number {
    this.complete();
    return super.size;
  }
  override keys(): MapIterator<K> {
    this.complete();
    return super.keys();
  }
  override values(): MapIterator<V> {
    this.complete();
    return super.values();
  }
  override entries(): MapIterator<[K, V]> {
    this.complete();
    return super.entries();
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.complete();
    super.forEach(fn, thisArg);
  }
}

/** Makes `object[key]` computed on its first read; from then on it is a plain property. */
function onFirstRead<T extends object, K extends keyof T>(object: T, key: K, compute: () => T[K]): void {
  Object.defineProperty(object, key, {
    configurable: true,
    enumerable: true,
    get() {
      const value = compute();
      Object.defineProperty(object, key, { value, configurable: true, enumerable: true, writable: true });
      return value;
    },
  });
}

type Defer = (fn: () => void) => unknown;

/** Runs a compile step on first use and throws, as a ManifestError, the problems it found. */
type Check = <T>(fn: () => T) => T;

/**
 * An event source with its handlers: compiled now, or (lazy) each handler when an event type it matches is first
 * asked for (`stepsFor`: its patterns are matched before any step compiles), and all on the first read of
 * `handlers`. The compiled objects are the same either way.
 */
function withHandlers<S extends object>(
  base: S,
  list: HandlerSpec[],
  at: (string | number)[],
  hc: HandlerContext,
  defer: Defer,
  check: Check,
): S & { handlers: CompiledHandler[]; stepsFor(type: string): readonly CompiledStep[] } {
  const compiled: CompiledHandler[] = [];
  const handlerAt = (h: number) => (compiled[h] ??= compileHandler(list[h]!, h, at, hc));
  let handlers: CompiledHandler[] | undefined;
  let stepsFor: ((type: string) => readonly CompiledStep[]) | undefined;
  const all = (compile: (h: number) => CompiledHandler) => {
    handlers = list.map((_, h) => compile(h));
    stepsFor = memoizedSteps(handlers);
    return handlers;
  };
  defer(() => all(handlerAt));
  if (handlers) return { ...base, handlers, stepsFor: stepsFor! };
  // Lazy. A handler that fails is not kept: its next use throws its problems again.
  let matchers: ((type: string) => boolean)[] | undefined;
  const checkedAt = (h: number) =>
    compiled[h] ?? (compiled[h] = check(() => compileHandler(list[h]!, h, at, hc, matchers?.[h])));
  const typed = new Map<string, readonly CompiledStep[]>();
  const lazy = {
    handlers: [] as CompiledHandler[],
    stepsFor(type: string) {
      if (stepsFor) return stepsFor(type);
      let steps = typed.get(type);
      if (!steps) {
        matchers ??= list.map((handler) => matcherOf(patternsOf(handler.on)));
        steps = Object.freeze(list.flatMap((_, h) => (matchers![h]!(type) ? checkedAt(h).steps : [])));
        if (typed.size < 1000) typed.set(type, steps);
      }
      return steps;
    },
  };
  onFirstRead(lazy, 'handlers', () => handlers ?? all(checkedAt));
  return Object.defineProperties({ ...base }, Object.getOwnPropertyDescriptors(lazy)) as S & typeof lazy;
}

type Attempt = <A extends unknown[], T>(path: (string | number)[], fn: (...args: A) => T, ...args: A) => T | undefined;

/** Throws a manifest problem's message (for `attempt`, which records it at its path). */
function fail(message: string): never {
  throw new Error(message);
}

/** Event extraction may read headers and the body's hash. */
const EXTRACTION = { allowHeaders: true };

/** Compiles `handlers:` (of an integration or a route): patterns and steps. */
interface HandlerContext {
  /** The integration's derived values (`let:`), under each handler's own. */
  lets?: LetScope;
  registry: Registry;
  ctx: StepCompileContext;
  attempt: Attempt;
  /** The retry policy of the handlers' source: effects layer their own over it. */
  retry: RetryPolicy;
  effects: { byId: Map<string, EffectSpec>; byStep: Map<CompiledStep, EffectSpec> };
  /** Where a handler's steps are in the manifest (default `<at>.handlers.<h>`; a command's are at `commands.<name>`). */
  stepsAt?: (h: number) => (string | number)[];
  conditions?: ConditionObserver | undefined;
}

const patternsOf = (on: string | string[]) => (typeof on === 'string' ? [on] : on);

/** Whether an event type matches a handler's `on:` (names, and patterns with `*`). */
function matcherOf(patterns: string[]): (type: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const regexes = patterns.filter((p) => p.includes('*')).map(compilePattern);
  return (t: string) => exact.has(t) || regexes.some((r) => r.test(t));
}

/** A handler as the manifest writes it (an integration's, a route's, or a command's steps). */
interface HandlerSpec {
  on: string | string[];
  steps: unknown[];
  store?: string;
  if?: ConditionSpec;
  let?: Record<string, Value>;
}

/** Compiles a condition at its place; a problem inside it is reported at that node. */
function conditionAt(
  spec: ConditionSpec,
  at: (string | number)[],
  attempt: Attempt,
  observer?: ConditionObserver,
): CompiledMatcher | undefined {
  try {
    const compiled = compileMatcher(spec);
    observer?.compiled(formatPath(at), at, compiled.text);
    return compiled;
  } catch (error) {
    if (!(error instanceof ConditionError)) throw error;
    return attempt([...at, ...error.at], fail, error.message);
  }
}

/** A handler's condition where its steps evaluate it: what it decided per event (by the event's values), shared by its steps. */
interface HandlerCondition extends GateCondition {
  decided: WeakMap<object, boolean>;
}

/**
 * A step behind its conditions and derived values: it runs with `$name` readable, and only when its handler's
 * condition (evaluated once per event, by whichever of its steps runs first) and its own hold; otherwise it says
 * which condition skipped it.
 */
function gated(
  step: CompiledStep,
  scope: LetScope | undefined,
  handlerIf: HandlerCondition | undefined,
  stepIf: GateCondition | undefined,
  observer?: ConditionObserver,
): CompiledStep {
  if (!scope && !handlerIf && !stepIf) return step;
  return {
    ...step,
    run(ctx) {
      const values = scope ? scope.bind(ctx.values) : ctx.values;
      if (handlerIf) {
        let holds = handlerIf.decided.get(ctx.values);
        if (holds === undefined) {
          handlerIf.decided.set(ctx.values, (holds = handlerIf.condition.test(values)));
          observer?.evaluated(handlerIf.at, holds);
        }
        if (!holds) return { skipped: `${handlerIf.at}: ${handlerIf.condition.why(values)}` };
      }
      if (stepIf) {
        const holds = stepIf.condition.test(values);
        observer?.evaluated(stepIf.at, holds);
        if (!holds) return { skipped: `${stepIf.at}: ${stepIf.condition.why(values)}` };
      }
      return step.run(values === ctx.values ? ctx : { ...ctx, values });
    },
  };
}

/** Compiles the handler at index `h` of `handlers:`: its steps, each action step as an effect. */
function compileHandler(
  handler: HandlerSpec,
  h: number,
  at: (string | number)[],
  hc: HandlerContext,
  matches?: (type: string) => boolean,
): CompiledHandler {
  const { registry, attempt } = hc;
  // A handler's store is where its sql steps write, unless a step names its own.
  const ctx = handler.store === undefined ? hc.ctx : { ...hc.ctx, store: handler.store };
  const patterns = patternsOf(handler.on);
  const steps: CompiledStep[] = [];
  const handlerAt = hc.stepsAt ? hc.stepsAt(h) : [...at, 'handlers', h];
  const scope = compileLets(handler.let, hc.lets, (where, message) =>
    attempt([...handlerAt, 'let', ...where], fail, message),
  );
  const names = scope?.names ?? new Set<string>();
  const unknown = [
    ...unknownLets(handler.steps, names, [...handlerAt, 'steps']),
    ...unknownLets(handler.if, names, [...handlerAt, 'if']),
  ];
  for (const problem of unknown) attempt(problem.path, fail, problem.message);
  const handlerMatcher =
    handler.if === undefined ? undefined : conditionAt(handler.if, [...handlerAt, 'if'], attempt, hc.conditions);
  const holds = (matcher: CompiledMatcher) => (values: ValueContext) =>
    matcher.test(scope ? scope.bind(values) : values);
  const handlerIf: HandlerCondition | undefined = handlerMatcher && {
    at: formatPath([...handlerAt, 'if']),
    spec: handler.if!,
    condition: handlerMatcher,
    holds: holds(handlerMatcher),
    decided: new WeakMap<object, boolean>(),
  };
  const stepIfs: (GateCondition | undefined)[] = [];
  handler.steps.forEach((step, s) => {
    const path = [...handlerAt, 'steps', s];
    const parts = stepParts(step as Record<string, unknown>, path, registry, ctx, attempt, hc.conditions);
    if (!parts || (handler.if !== undefined && !handlerMatcher)) return;
    const own = parts.condition;
    const stepIf = own && {
      at: formatPath([...path, 'if']),
      spec: own.spec,
      condition: own.matcher,
      holds: holds(own.matcher),
    };
    const compiled = gated(parts.built, scope, handlerIf, stepIf, hc.conditions);
    steps.push(compiled);
    stepIfs.push(stepIf);
    const effect = compiled.effect;
    if (effect) {
      const retry = attempt([...path, 'retry'], () => resolveRetryPolicy(hc.retry, effect.retry)) ?? hc.retry;
      const spec = { id: formatPath(path), action: effect.action, retry, step: compiled };
      hc.effects.byId.set(spec.id, spec);
      hc.effects.byStep.set(compiled, spec);
    }
  });
  return {
    patterns,
    matches: matches ?? matcherOf(patterns),
    steps,
    ...(handlerIf ? { if: handlerIf } : {}),
    ...(stepIfs.some(Boolean) ? { stepIfs } : {}),
  };
}

/** The steps for an event type, in handler order, computed once per type (up to 1000 types). */
function memoizedSteps(handlers: CompiledHandler[]): (type: string) => readonly CompiledStep[] {
  const memo = new Map<string, readonly CompiledStep[]>();
  return (eventType) => {
    let steps = memo.get(eventType);
    if (!steps) {
      steps = Object.freeze(handlers.filter((h) => h.matches(eventType)).flatMap((h) => h.steps));
      if (memo.size < 1000) memo.set(eventType, steps);
    }
    return steps;
  };
}

/**
 * Compiles one step by the registered adapter for its key, and its own condition (`if:`) beside it, ungated: a
 * handler gates it with its derived values in scope (compileHandler); elsewhere compileStep does.
 */
function stepParts(
  step: Record<string, unknown>,
  at: (string | number)[],
  registry: Registry,
  ctx: StepCompileContext,
  attempt: Attempt,
  observer?: ConditionObserver,
): { built: CompiledStep; condition?: { spec: ConditionSpec; matcher: CompiledMatcher } } | undefined {
  const key = Object.keys(step).find((k) => registry.steps.has(k));
  if (!key) {
    attempt(at, () => {
      throw new Error(`unknown step; known: ${[...registry.steps.keys()].join(', ')}`);
    });
    return undefined;
  }
  const { description: _description, if: spec, ...options } = step;
  const matcher = spec === undefined ? undefined : conditionAt(spec as ConditionSpec, [...at, 'if'], attempt, observer);
  const built = attempt([...at, key], () => build(registry.steps.get(key)!, options, { ...ctx, block: options }));
  if (!built || (spec !== undefined && !matcher)) return undefined;
  return { built, ...(matcher ? { condition: { spec: spec as ConditionSpec, matcher } } : {}) };
}

/** Compiles one step outside a handler (a route's on_first_seen, a limit's notify), behind its own condition. */
function compileStep(
  step: Record<string, unknown>,
  at: (string | number)[],
  registry: Registry,
  ctx: StepCompileContext,
  attempt: Attempt,
): CompiledStep | undefined {
  const parts = stepParts(step, at, registry, ctx, attempt);
  const condition = parts?.condition;
  if (!parts || !condition) return parts?.built;
  return gated(parts.built, undefined, undefined, {
    at: formatPath([...at, 'if']),
    spec: condition.spec,
    condition: condition.matcher,
    holds: (values) => condition.matcher.test(values),
  });
}

function compileIntegration(
  name: string,
  spec: Integration,
  at: (string | number)[],
  registry: Registry,
  queues: Map<string, CompiledQueue>,
  ctx: () => StepCompileContext,
  defaultRetry: RetryPolicy,
  defaultMaxBody: number,
  defaultReplayWindow: string,
  attempt: Attempt,
  effects: HandlerContext['effects'],
  defer: Defer,
  check: Check,
  conditions?: ConditionObserver,
): CompiledIntegration | undefined {
  // The manifest the runtime compiles has both (a provider preset was applied at load); say so if one is missing.
  if (!spec.verifier) attempt(at, fail, 'no verifier: set `provider:` or `verifier:`');
  if (!spec.event) attempt(at, fail, 'no event extraction: set `provider:` or `event:`');
  const event = spec.event ?? ({} as NonNullable<Integration['event']>);
  const block = (spec.verifier ?? {}) as { type: string };
  const verifierType = block.type;
  const adapter = registry.verifiers.get(verifierType);
  // Parsed once: create() and signedHeaders() take the same options.
  const verifierOptions = adapter ? attempt([...at, 'verifier'], optionsOf, adapter, block) : undefined;
  const verifier = adapter
    ? verifierOptions && attempt([...at, 'verifier'], () => adapter.create(verifierOptions, undefined))
    : attempt(
        [...at, 'verifier', 'type'],
        fail,
        `unknown verifier type ${JSON.stringify(verifierType)}; known: ${[...registry.verifiers.keys()].join(', ')}`,
      );
  // Derived values the envelope reads (`id: { template: "{$kind}:{data.id}" }`) are computed from the body and
  // headers, before there is an envelope.
  // Most integrations read no `$name` in event: (a provider preset's never does): then none of the let machinery runs,
  // and a new isolate's first webhook does not compile it.
  const readsLets = mentionsLet(event);
  const extractionLets =
    readsLets && spec.let && letReferences(event).length
      ? compileLets(
          spec.let,
          undefined,
          (where, message) =>
            attempt(
              [...at, 'let', ...where],
              fail,
              `${message} (read by event:, so it is computed before the envelope exists)`,
            ),
          EXTRACTION,
        )
      : undefined;
  if (readsLets)
    for (const problem of unknownLets(event, extractionLets?.names ?? new Set(), [...at, 'event']))
      attempt(problem.path, fail, problem.message);
  const extraction = (fn: ValueFn | undefined) =>
    fn && extractionLets ? (ctx: ValueContext) => fn(extractionLets.bind(ctx)) : fn;
  const id = extraction(attempt([...at, 'event', 'id'], compileValue, event.id, { ...EXTRACTION, allowWindow: true }));
  const type = extraction(attempt([...at, 'event', 'type'], compileValue, event.type, EXTRACTION));
  const occurredAt =
    event.occurred_at === undefined
      ? undefined
      : extraction(attempt([...at, 'event', 'occurred_at'], compileValue, event.occurred_at, EXTRACTION));
  const handshake = spec.handshake
    ? compileHandshake(spec.handshake, [...at, 'handshake'], registry, attempt)
    : undefined;
  const response = spec.response ? attempt([...at, 'response'], compileResponse, spec.response) : undefined;
  const queue = queues.get(spec.queue);
  if (!queue)
    attempt(
      [...at, 'queue'],
      fail,
      `queue ${JSON.stringify(spec.queue)} is not declared under queues:${didYouMean(spec.queue, [...queues.keys()])}`,
    );
  const retry = attempt([...at, 'retry'], resolveRetryPolicy, defaultRetry, spec.retry);
  const maxBody = spec.max_body ? parseSize(spec.max_body) : defaultMaxBody;
  if (maxBody > MAX_STORABLE_BODY)
    attempt(
      [...at, spec.max_body ? 'max_body' : 'route'],
      fail,
      `max_body ${maxBody} bytes is more than a D1 row can store for the event log (${MAX_STORABLE_BODY})`,
    );

  const lets = spec.let
    ? compileLets(spec.let, undefined, (where, message) => attempt([...at, 'let', ...where], fail, message))
    : undefined;
  const withSteps = withHandlers(
    {},
    spec.handlers ?? [],
    at,
    {
      ...(lets ? { lets } : {}),
      registry,
      get ctx() {
        return ctx();
      },
      attempt,
      retry: retry ?? defaultRetry,
      effects,
      conditions,
    },
    defer,
    check,
  );
  const signed = new Set(
    tolerantList(() => (adapter?.signedHeaders && verifierOptions ? adapter.signedHeaders(verifierOptions) : [])).map(
      (h) => h.toLowerCase(),
    ),
  );
  const unsignedEventHeaders = (['id', 'type'] as const).flatMap((field) =>
    valueSources(event[field]).flatMap((value) =>
      typeof value.header === 'string' && !signed.has(value.header.toLowerCase())
        ? [{ field, header: value.header }]
        : [],
    ),
  );
  const idWindow =
    typeof event.id === 'object' &&
    event.id !== null &&
    'body_sha256' in event.id &&
    typeof event.id.window === 'string'
      ? parseDuration(event.id.window)
      : 0;
  const replayWindowMs = Math.max(
    unsignedEventHeaders.length ? parseDuration(spec.replay_window ?? defaultReplayWindow) : 0,
    idWindow,
  );
  const timestampToleranceMs =
    adapter?.timestampTolerance && verifierOptions
      ? attempt([...at, 'verifier'], () => adapter.timestampTolerance!(verifierOptions))
      : undefined;

  if (
    !verifier ||
    !id ||
    !type ||
    !queue ||
    !retry ||
    (event.occurred_at !== undefined && !occurredAt) ||
    (spec.handshake && !handshake) ||
    (spec.response && !response)
  )
    return undefined;
  const integration = {
    name,
    route: spec.route,
    methods: new Set([...spec.methods!, ...(handshake?.methods ?? [])]),
    format: spec.format!,
    ...(handshake ? { handshake } : {}),
    ...(response ? { response } : {}),
    maxBody,
    verifier,
    verifierType,
    extract: { id, type, ...(occurredAt ? { occurredAt } : {}) },
    hashesBody: [event.id, event.type, event.occurred_at].some((v) =>
      valueSources(v).some((source) => 'body_sha256' in source),
    ),
    extractHeaders: [event.id, event.type, event.occurred_at].flatMap((v) =>
      valueSources(v).flatMap((source) => (typeof source.header === 'string' ? [source.header.toLowerCase()] : [])),
    ),
    unsignedEventHeaders,
    ...(replayWindowMs > 0 ? { replayWindowMs } : {}),
    ...(idWindow > 0 ? { idPerArrival: true } : {}),
    ...(timestampToleranceMs !== undefined ? { timestampToleranceMs } : {}),
    secrets: integrationSecrets(registry, spec),
    queue,
    retry,
    apply: spec.apply!,
    // Everything commits in the event log's D1 (SQL, effect and outbox rows; sends go out after the commit), so the
    // request can apply it. A projection into another store (Postgres) goes through the queue: its applied-marker
    // lives in that store.
    appliesInRequest:
      spec.apply === 'auto'
        ? (eventType: string) => withSteps.stepsFor(eventType).every((step) => step.inRequest === true)
        : () => false,
  };
  // The handlers (deferred when lazy) go on as they are, getters included.
  return Object.defineProperties(integration, Object.getOwnPropertyDescriptors(withSteps)) as typeof integration &
    typeof withSteps;
}

/** Builds an integration's handshake through its adapter; unknown types and bad options are load-time problems. */
function compileHandshake(
  spec: NonNullable<Integration['handshake']>,
  at: (string | number)[],
  registry: Registry,
  attempt: Attempt,
): Handshake | undefined {
  const { type } = spec as { type: string };
  const adapter = registry.handshakes.get(type);
  if (!adapter)
    return attempt([...at, 'type'], () => {
      throw new Error(
        `unknown handshake type ${JSON.stringify(type)}${didYouMean(type, [...registry.handshakes.keys()])}`,
      );
    });
  return attempt(at, () => build(adapter, spec, undefined));
}

/** An adapter's declaration that fails on bad options: the adapter's factory reports those, so none here. */
function tolerantList(fn: () => string[]): string[] {
  try {
    return fn();
  } catch {
    return [];
  }
}
