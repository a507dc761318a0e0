/**
 * The one pipeline behind `validate` and `build`: parse, resolve each environment, schema-check, compile,
 * then check what a schema cannot (wrangler bindings, declared secrets, SQL against the migrations).
 * Every problem is collected with file:line:column; nothing stops at the first.
 */
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { loadOwnComponents, type OwnComponent } from './own-components.ts';
import { upgradeValue, versionProblems } from './upgrade.ts';
import type { CompiledManifest } from '../../runtime/manifest/compile.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { compileInputSchema } from './input-validators.ts';
import {
  createManifestValidator,
  environmentsOf,
  locate,
  parseManifest,
  resolveEnvironment,
  type ParsedManifest,
  type SourcedProblem,
} from '../../runtime/manifest/load.ts';
import { formatPath, ManifestError, type ManifestProblem } from '../../runtime/manifest/problems.ts';
import { buildManifestSchema } from '../../runtime/manifest/schema.ts';
import { applyDefaults } from '../../runtime/manifest/defaults.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import type { Registry } from '../../runtime/component/registry.ts';
import { optionsOf, type CheckContext, type Finding } from '../../runtime/component/define.ts';
import { readText, type Project } from './project.ts';
import { secretUses } from './secrets.ts';
import { devAuthProblems } from './dev-auth.ts';
import { budgetTable, CostModel, type BudgetTable } from './budget.ts';
import { migratedSchema, type MigratedSchema } from './sqlite.ts';
import { didYouMean } from '../../runtime/language/closest.ts';
import { readWranglerEnvironment, wranglerEnvironments } from './wrangler-config.ts';
import { checkPostgresSql, hyperdriveWarnings, mixedStoreProblems, storeType } from './postgres-check.ts';
import { applyProviders, providersOf } from '../../runtime/manifest/catalog.ts';
import { presetOverrideWarnings, unsignedBodyWarnings } from './verifier-warnings.ts';
import { eventIdWarnings } from './id-warnings.ts';
import { samplePathChecks } from './sample-checks.ts';
import { samplePayloads, type SamplePayload } from './sample-payloads.ts';
import { loadCatalog } from './catalog.ts';
import { duplicateWindowMs } from '../../runtime/manifest/retention.ts';

export interface EnvironmentBuild {
  name: string;
  hash: string;
  manifest: Manifest;
  /** Queue names by producer binding, from wrangler.toml: how the Worker tells which queue a batch is from. */
  queueNames: Record<string, string>;
  /** Each handler's cost per event in billed units (from the migrated schema), when it could be priced. */
  budget?: BudgetTable;
  /** Integrations whose verifier signs no timestamp, and how long a re-sent capture of theirs is refused. */
  replayWindows: ReplayWindow[];
}

/**
 * A verifier that signs no timestamp (GitHub's, Meta's, Asana's HMAC over the body) makes a captured delivery valid
 * forever: only the event row refuses it again, as a duplicate, for as long as retention keeps the row.
 */
export interface ReplayWindow {
  integration: string;
  verifier: string;
  /** The same delivery (same id) is a duplicate for this long after it was first received: its row's life. */
  duplicateMs: number;
  /** Where the id comes from an unsigned header: the same body under another id is refused for this long. */
  sameBodyMs?: number;
  /** The id is the body's hash within a window (`body_sha256` with `window`): the same body is a duplicate this long. */
  bodyWindowMs?: number;
}

/** The replay window of each integration whose verifier signs no timestamp. */
export function replayWindows(compiled: CompiledManifest): ReplayWindow[] {
  const rowMs = duplicateWindowMs(compiled.retention);
  return [...compiled.integrations.values()]
    .filter((i) => i.timestampToleranceMs === undefined)
    .map((i) =>
      i.idPerArrival
        ? {
            integration: i.name,
            verifier: i.verifierType,
            duplicateMs: Math.min(i.replayWindowMs ?? 0, rowMs),
            bodyWindowMs: Math.min(i.replayWindowMs ?? 0, rowMs),
          }
        : {
            integration: i.name,
            verifier: i.verifierType,
            duplicateMs: rowMs,
            ...(i.replayWindowMs ? { sameBodyMs: Math.min(i.replayWindowMs, rowMs) } : {}),
          },
    );
}

export interface Problem extends SourcedProblem {
  environments: string[];
}

export interface CheckResult {
  problems: Problem[];
  /** What is valid but weaker than it looks (a header outside the signature choosing the event). */
  warnings: Problem[];
  builds: EnvironmentBuild[];
  parsed?: ParsedManifest;
  /** The registry the manifest was checked with: the built-in components and the project's own. */
  registry?: Registry;
  /** The project's own components (its `components:` files), which the build's registry module imports. */
  own?: OwnComponent[];
}

/** SHA-256 of the manifest with keys sorted, so the same content always hashes the same. */
export function manifestHash(manifest: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(manifest)))
    .digest('hex');
}

/** The environments to check when none is named: the base plus every one the manifest or wrangler.toml declares. */
export function allEnvironments(project: Project, value: unknown): string[] {
  const wrangler = readText(project.wrangler);
  return [...new Set(['default', ...environmentsOf(value), ...(wrangler ? wranglerEnvironments(wrangler) : [])])];
}

export interface CheckOptions {
  environments?: string[];
  registry?: Registry;
  /** Also require every secret in the README's secrets table (this repository's docs; opt-in for a user's project). */
  readmeSecrets?: boolean;
  /**
   * Prepare Postgres stores' SQL against their migrations (default true). `switchyard test` turns it off: it runs
   * those statements against the same migrations itself, and a second Postgres (PGlite) would double its start-up.
   */
  postgresSql?: boolean;
}

/**
 * Ajv's manifest validator, compiled once per registry and provider list: compiling takes about a second, and a
 * registry never changes once built, so a process that checks several manifests (`plan` against a ref, the
 * in-process tests) pays it once.
 */
const validators = new WeakMap<Registry, Map<string, ReturnType<typeof createManifestValidator>>>();
function manifestValidator(registry: Registry, providers: readonly string[]) {
  let byProviders = validators.get(registry);
  if (!byProviders) validators.set(registry, (byProviders = new Map()));
  const key = providers.join('\n');
  let validate = byProviders.get(key);
  if (!validate) byProviders.set(key, (validate = createManifestValidator(registry, providers)));
  return validate;
}

export function checkProject(project: Project, options: CheckOptions = {}): CheckResult {
  const file = relative(process.cwd(), project.manifest) || project.manifest;
  const text = readText(project.manifest);
  if (text === undefined)
    return {
      problems: [{ file, line: 1, column: 1, path: [], message: 'file not found', environments: [] }],
      warnings: [],
      builds: [],
    };
  const parsed = parseManifest(text, file);
  if (parsed.problems.length)
    return { problems: parsed.problems.map((p) => ({ ...p, environments: [] })), warnings: [], builds: [], parsed };
  // The project's own components join the built-in ones before the schema is built from them.
  const own = options.registry
    ? { registry: options.registry, components: [], problems: [] }
    : loadOwnComponents(project.manifest, parsed.value);
  const registry = own.registry;
  // An older manifest is read in the current language (its old forms renamed); versionProblems says what changed.
  const versioned = upgradeValue(parsed.value);
  const versions = versionProblems(parsed.value);

  const catalog = loadCatalog();
  const providers = [...catalog.entries.keys()];
  const schema = buildManifestSchema(registry, providers);
  const validate = manifestValidator(registry, providers);
  const environments = options.environments ?? allEnvironments(project, parsed.value);
  const collected: Problem[] = [];
  const warned: Problem[] = [];
  const add = (env: string, problems: SourcedProblem[], into = collected) =>
    problems.forEach((p) => into.push({ ...p, environments: [env] }));
  add('default', locate(parsed, [...versions.problems, ...own.problems]));
  add('default', locate(parsed, versions.warnings), warned);
  let sqlite: MigratedSchema | undefined;
  try {
    sqlite = migratedSchema(project.migrations);
  } catch (error) {
    add(
      'default',
      locate(parsed, [{ path: [], message: `cannot build the schema from migrations/: ${(error as Error).message}` }]),
    );
  }

  // Each integration's sample payloads, read once for every environment.
  const sampleCache = new Map<string, SamplePayload[]>();
  const samplesOf = (name: string, provider: string | undefined, format: string | undefined) => {
    const key = `${name}\n${provider ?? ''}\n${format ?? ''}`;
    let found = sampleCache.get(key);
    if (!found)
      sampleCache.set(
        key,
        (found = samplePayloads(
          project.root,
          name,
          provider ? catalog.entries.get(provider)?.sample : undefined,
          format,
        )),
      );
    return found;
  };
  const known = allEnvironments(project, parsed.value);
  const builds: EnvironmentBuild[] = [];
  for (const env of environments) {
    if (!known.includes(env)) {
      add(
        env,
        locate(parsed, [
          {
            path: [],
            message: `unknown environment ${JSON.stringify(env)}: neither wrangler.toml nor the manifest declares it (known: ${known.join(', ')})`,
          },
        ]),
      );
      continue;
    }
    let resolved: unknown;
    try {
      resolved = resolveEnvironment(versioned.value, env);
    } catch (error) {
      add(env, locate(parsed, [{ path: ['environments'], message: (error as Error).message }]));
      continue;
    }
    const inlined = inlineTemplateFiles(resolved, dirname(project.manifest));
    add(env, locate(parsed, inlined.problems, env));
    add(
      env,
      locate(
        parsed,
        tolerant(() => presetOverrideWarnings(inlined.manifest, catalog.entries)),
        env,
      ),
      warned,
    );
    resolved = applyProviders(inlined.manifest, catalog.entries);
    const schemaProblems = validate(resolved);
    add(env, locate(parsed, schemaProblems, env));
    const manifest = resolved as Manifest;
    let compiled: CompiledManifest | undefined;
    if (!schemaProblems.length) {
      try {
        compiled = compileManifest(manifest, registry, {
          inputValidator: (_name, schema) => compileInputSchema(schema),
        });
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        add(env, locate(parsed, error.problems, env));
      }
    }
    // These checks also run on a manifest with schema errors, so one run lists every problem; on a
    // malformed shape a check may not apply, and the schema error already says why.
    const wranglerProblems = tolerant(() => checkWrangler(project, env, manifest, compiled));
    add(
      env,
      locateInWrangler(
        project,
        env,
        wranglerProblems.filter((p) => p.section),
      ),
    );
    const components = tolerantChecks(() => checkComponents(manifest, registry, sqlite));
    add(env, locate(parsed, components.warnings, env), warned);
    const projectProblems = [
      ...wranglerProblems.filter((p) => !p.section),
      ...tolerant(() => checkSecrets(project, schema, manifest, options.readmeSecrets ?? false)),
      ...components.problems,
      // Postgres stores: each statement against its store's own migrations; and no event's SQL in two stores.
      ...(options.postgresSql === false
        ? []
        : tolerant(() => checkPostgresSql(manifest, dirname(project.manifest)).problems)),
      ...tolerant(() => mixedStoreProblems(manifest)),
    ];
    add(env, locate(parsed, projectProblems, env));
    if (compiled) add(env, locate(parsed, unsignedHeaderWarnings(compiled), env), warned);
    add(
      env,
      locate(
        parsed,
        tolerant(() => unsignedBodyWarnings(manifest, registry)),
        env,
      ),
      warned,
    );
    add(
      env,
      locate(
        parsed,
        tolerant(() => eventIdWarnings(manifest)),
        env,
      ),
      warned,
    );
    const samples = tolerantChecks(() =>
      samplePathChecks(manifest, schema, (name) =>
        samplesOf(
          name,
          providersOf(inlined.manifest).get(name),
          (manifest.integrations[name] as { format?: string } | undefined)?.format,
        ),
      ),
    );
    add(env, locate(parsed, samples.problems, env));
    add(env, locate(parsed, samples.warnings, env), warned);
    add(
      env,
      locate(
        parsed,
        tolerant(() => checkVersionGuards(manifest)),
        env,
      ),
      warned,
    );
    add(
      env,
      locate(
        parsed,
        tolerant(() => hyperdriveWarnings(manifest, readText(project.wrangler) ?? '', env)),
        env,
      ),
      warned,
    );
    if (compiled && !collected.some((p) => p.environments.includes(env))) {
      const wrangler = readWranglerEnvironment(readText(project.wrangler) ?? '', env);
      const budget = sqlite ? priced(() => budgetTable(new CostModel(sqlite), manifest, compiled)) : undefined;
      // The Worker receives the manifest with its defaults applied, so its compile defaults nothing (the hash is of what was written).
      builds.push({
        name: env,
        hash: manifestHash(manifest),
        manifest: applyDefaults(manifest),
        queueNames: Object.fromEntries(wrangler?.producers ?? []),
        ...(budget ? { budget } : {}),
        replayWindows: replayWindows(compiled),
      });
    }
  }
  sqlite?.close();
  // A broken catalog file is this checkout's problem, whichever providers the manifest uses: it is reported as is.
  collected.push(...catalog.problems.map((p) => ({ ...p, environments })));
  // The local dev issuer must never reach a deployed environment: its variables are refused anywhere in wrangler.toml.
  const wranglerText = readText(project.wrangler);
  if (wranglerText !== undefined) {
    const wranglerFile = relative(process.cwd(), project.wrangler) || project.wrangler;
    collected.push(...devAuthProblems(wranglerText, wranglerFile).map((p) => ({ ...p, environments })));
  }
  return {
    problems: mergeAcrossEnvironments(collected),
    warnings: mergeAcrossEnvironments(warned),
    builds,
    parsed,
    registry,
    own: own.components,
  };
}

/** An event id or type read from a header the verifier does not sign: a captured body can be re-sent with another. */
function unsignedHeaderWarnings(compiled: CompiledManifest): ManifestProblem[] {
  return [...compiled.integrations.values()].flatMap((i) =>
    i.unsignedEventHeaders.map(({ field, header }) => ({
      path: ['integrations', i.name, 'event', field],
      message: `the event ${field} comes from header ${header}, which the ${i.verifierType} verifier does not sign: anyone holding a captured request can re-send its body with another ${header}; the same body is accepted once per replay_window (${Math.round(((i.replayWindowMs ?? 0) / 86_400_000) * 100) / 100}d)`,
    })),
  );
}

/**
 * Replaces each template's `html_file` / `text_file` with the file's content (paths relative to the manifest),
 * so the Worker receives complete templates and never reads files.
 */
export function inlineTemplateFiles(value: unknown, dir: string): { manifest: unknown; problems: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const templates = (value as { templates?: Record<string, Record<string, unknown>> })?.templates;
  if (!templates || typeof templates !== 'object') return { manifest: value, problems };
  const inlined: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(templates)) {
    if (!spec || typeof spec !== 'object') {
      inlined[name] = spec;
      continue;
    }
    const copy: Record<string, unknown> = { ...spec };
    for (const field of ['html', 'text'] as const) {
      const file = copy[`${field}_file`];
      if (typeof file !== 'string') continue;
      const content = readText(join(dir, file));
      if (content === undefined)
        problems.push({
          path: ['templates', name, `${field}_file`],
          message: `template file ${file} not found next to the manifest`,
        });
      else if (copy[field] !== undefined)
        problems.push({ path: ['templates', name, field], message: `give ${field} or ${field}_file, not both` });
      else {
        copy[field] = content;
        delete copy[`${field}_file`];
      }
    }
    inlined[name] = copy;
  }
  return { manifest: { ...(value as object), templates: inlined }, problems };
}

/** A statement the budget model cannot price leaves the build without a budget; it never fails the build. */
function priced(fn: () => BudgetTable): BudgetTable | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** tolerant, for a check that sorts what it finds into problems and warnings. */
function tolerantChecks(check: () => { problems: ManifestProblem[]; warnings: ManifestProblem[] }): {
  problems: ManifestProblem[];
  warnings: ManifestProblem[];
} {
  try {
    return check();
  } catch {
    return { problems: [], warnings: [] };
  }
}

function tolerant<P extends ManifestProblem>(check: () => P[]): P[] {
  try {
    return check();
  } catch {
    return [];
  }
}

/** The same problem found in several environments is reported once, naming them all. */
function mergeAcrossEnvironments(problems: Problem[]): Problem[] {
  const merged = new Map<string, Problem>();
  for (const p of problems) {
    const key = `${p.file}:${p.line}:${p.column}:${p.message}`;
    const seen = merged.get(key);
    if (seen) seen.environments.push(...p.environments.filter((e) => !seen.environments.includes(e)));
    else merged.set(key, { ...p, environments: [...p.environments] });
  }
  return [...merged.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** A problem to fix in wrangler.toml: `section` names the table (`queues.producers`) the fix belongs in. */
interface WranglerProblem extends ManifestProblem {
  section?: string;
}

/**
 * Places wrangler.toml problems at the environment's own table for the section (its first `[[env.X.queues.producers]]`),
 * else at the environment's header, so the error points where the missing binding goes.
 */
function locateInWrangler(project: Project, env: string, problems: WranglerProblem[]): SourcedProblem[] {
  const lines = (readText(project.wrangler) ?? '').split('\n');
  const prefix = env === 'default' ? '' : `env.${env}.`;
  const header = (name: string) => lines.findIndex((l) => l.trim() === `[${name}]` || l.trim() === `[[${name}]]`);
  const file = relative(process.cwd(), project.wrangler) || project.wrangler;
  return problems.map(({ section, ...p }) => {
    const at = [header(`${prefix}${section}`), env === 'default' ? -1 : header(`env.${env}`)].find((i) => i >= 0) ?? 0;
    const neededBy = p.path.length ? ` (needed by ${formatPath(p.path)} in the manifest)` : '';
    return { ...p, message: `${p.message}${neededBy}`, path: [], file, line: at + 1, column: 1 };
  });
}

function checkWrangler(
  project: Project,
  env: string,
  manifest: Manifest,
  compiled: CompiledManifest | undefined,
): WranglerProblem[] {
  const text = readText(project.wrangler);
  if (text === undefined) return [{ path: [], message: 'wrangler.toml not found next to the manifest' }];
  let wrangler;
  try {
    wrangler = readWranglerEnvironment(text, env);
  } catch (error) {
    return [{ path: [], message: `wrangler.toml does not parse: ${(error as Error).message.split('\n')[0]}` }];
  }
  const where = 'wrangler.toml';
  if (!wrangler)
    return [
      {
        path: ['environments', env],
        message: `wrangler.toml has no [env.${env}]: declare the environment and its bindings`,
      },
    ];
  const problems: WranglerProblem[] = [];
  // A binding another environment declares is this environment's omission, not a typo in the manifest.
  const declaredSomewhere = new Set(
    ['default', ...wranglerEnvironments(text)].flatMap((e) => [
      ...(readWranglerEnvironment(text, e)?.producers.keys() ?? []),
    ]),
  );
  const inWrangler = (binding: string) => (declaredSomewhere.has(binding) ? { section: 'queues.producers' } : {});
  const expectedEnv = env === 'default' ? 'default' : env;
  if (wrangler.vars.SWITCHYARD_ENV !== expectedEnv) {
    problems.push({
      path: [],
      section: 'vars',
      message: `${where} must set vars.SWITCHYARD_ENV = "${expectedEnv}" so the Worker serves this environment's manifest`,
    });
  }
  if (!wrangler.d1.has('DB'))
    problems.push({ path: [], section: 'd1_databases', message: `${where} has no D1 binding "DB"` });
  for (const use of envValueUses(manifest)) {
    if (!(use.name in wrangler.vars))
      problems.push({
        path: use.path,
        message: `variable ${use.name} is not in this environment's [vars] in wrangler.toml`,
      });
  }
  const attemptsByQueue = new Map<string, number>();
  for (const integration of compiled?.integrations.values() ?? []) {
    attemptsByQueue.set(
      integration.queue.name,
      Math.max(attemptsByQueue.get(integration.queue.name) ?? 0, integration.retry.maxAttempts),
    );
  }
  for (const [name, queue] of Object.entries(manifest.queues ?? {})) {
    const queueName = wrangler.producers.get(queue.binding);
    if (!queueName) {
      problems.push({
        path: ['queues', name, 'binding'],
        ...inWrangler(queue.binding),
        message: `queue binding ${queue.binding} has no [[queues.producers]] entry in ${where}`,
      });
      continue;
    }
    if (queue.dead_letter && !wrangler.producers.has(queue.dead_letter)) {
      problems.push({
        path: ['queues', name, 'dead_letter'],
        ...inWrangler(queue.dead_letter),
        message: `dead-letter binding ${queue.dead_letter} has no [[queues.producers]] entry in ${where}`,
      });
    }
    const attempts = attemptsByQueue.get(name);
    if (attempts === undefined) continue;
    const consumer = wrangler.consumers.find((c) => c.queue === queueName);
    if (!consumer) {
      problems.push({
        path: ['queues', name],
        section: 'queues.consumers',
        message: `queue ${queueName} receives events but has no [[queues.consumers]] entry in ${where}`,
      });
      continue;
    }
    if (!consumer.dead_letter_queue) {
      problems.push({
        path: ['queues', name],
        section: 'queues.consumers',
        message: `consumer of ${queueName} in ${where} has no dead_letter_queue: Queues would delete messages after max_retries`,
      });
    } else if (!wrangler.consumers.some((c) => c.queue === consumer.dead_letter_queue)) {
      problems.push({
        path: ['queues', name],
        section: 'queues.consumers',
        message: `dead-letter queue ${consumer.dead_letter_queue} has no [[queues.consumers]] entry in ${where}: its messages would never be recorded as dead letters`,
      });
    } else if (
      queue.dead_letter &&
      wrangler.producers.has(queue.dead_letter) &&
      wrangler.producers.get(queue.dead_letter) !== consumer.dead_letter_queue
    ) {
      problems.push({
        path: ['queues', name, 'dead_letter'],
        message: `${queue.dead_letter} sends to ${wrangler.producers.get(queue.dead_letter)}, but the consumer's dead_letter_queue is ${consumer.dead_letter_queue}`,
      });
    }
    const retries = consumer.max_retries ?? 3;
    if (retries + 1 < attempts) {
      problems.push({
        path: ['queues', name],
        section: 'queues.consumers',
        message: `consumer of ${queueName} in ${where} has max_retries = ${retries}, fewer than the ${attempts} attempts the retry policy needs (set max_retries >= ${attempts - 1})`,
      });
    }
  }
  return problems;
}

/** Every `{ env: NAME }` value in the manifest, with where it is. */
function envValueUses(value: unknown, path: (string | number)[] = []): { name: string; path: (string | number)[] }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => envValueUses(v, [...path, i]));
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const own =
    typeof record.env === 'string' && Object.keys(record).every((k) => ['env', 'transform', 'default'].includes(k))
      ? [{ name: record.env, path: [...path, 'env'] }]
      : [];
  return [...own, ...Object.entries(record).flatMap(([k, v]) => (k === 'env' ? [] : envValueUses(v, [...path, k])))];
}

function checkSecrets(
  project: Project,
  schema: Record<string, unknown>,
  manifest: Manifest,
  readmeTable: boolean,
): ManifestProblem[] {
  const example = readText(project.devVarsExample) ?? '';
  const declared = new Set([...example.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]!));
  const readme = readText(project.readme) ?? '';
  const documented = new Set([...readme.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]!));
  const problems: ManifestProblem[] = [];
  // A secret a handshake learns from the provider and keeps (Asana's X-Hook-Secret) need not be set (the operator arms its handshake): setting it pins it.
  const learnt = new Set(
    Object.values(manifest.integrations ?? {}).flatMap((i) => {
      const h = i?.handshake as { secret?: unknown; secret_store?: unknown } | undefined;
      return h && h.secret_store !== undefined && typeof h.secret === 'string' ? [h.secret] : [];
    }),
  );
  for (const use of secretUses(schema, manifest)) {
    // A value that is not an env var name may be a pasted secret: the schema error says so, without echoing it.
    if (!/^[A-Z][A-Z0-9_]*$/.test(use.name) || learnt.has(use.name)) continue;
    if (!declared.has(use.name))
      problems.push({ path: use.path, message: `secret ${use.name} is not declared in .dev.vars.example` });
    if (readmeTable && !documented.has(use.name))
      problems.push({ path: use.path, message: `secret ${use.name} is not in the README's secrets table` });
  }
  return problems;
}

/** One step of the manifest, where it is, and the store its SQL goes to. */
interface StepUse {
  path: (string | number)[];
  step: Readonly<Record<string, unknown>>;
  store: string;
  /** A limit's or an alert's notification: sent by itself, never logged to the action's tables. */
  notify?: boolean;
}

/** Every step in the manifest: integrations' and routes' handlers, routes' on_first_seen, commands, limits' and alerts' notify. */
export function stepsOf(manifest: Manifest): StepUse[] {
  type Handlers = { handlers?: { store?: string; steps: unknown[] }[] };
  const uses: StepUse[] = [];
  const add = (path: (string | number)[], step: unknown, store = 'd1', notify = false) => {
    if (step && typeof step === 'object')
      uses.push({ path, step: step as Record<string, unknown>, store, ...(notify ? { notify } : {}) });
  };
  const handlers = (at: (string | number)[], source: Handlers) =>
    (source.handlers ?? []).forEach((handler, h) =>
      handler.steps.forEach((step, s) => add([...at, 'handlers', h, 'steps', s], step, handler.store)),
    );
  for (const [name, integration] of Object.entries(manifest.integrations ?? {}))
    handlers(['integrations', name], integration as Handlers);
  for (const [name, route] of Object.entries(manifest.routes ?? {})) {
    handlers(['routes', name], route as Handlers);
    ((route as { on_first_seen?: unknown[] }).on_first_seen ?? []).forEach((step, s) =>
      add(['routes', name, 'on_first_seen', s], step),
    );
  }
  for (const [name, command] of Object.entries(manifest.commands ?? {}))
    (command.steps ?? []).forEach((step, s) => add(['commands', name, 'steps', s], step));
  for (const [name, limit] of Object.entries(manifest.limits ?? {}))
    add(['limits', name, 'notify'], limit.notify, 'd1', true);
  for (const [name, alert] of Object.entries(manifest.alerts ?? {}))
    add(['alerts', name, 'notify'], alert.notify, 'd1', true);
  return uses;
}

/**
 * Runs every step's and action's own `check` (the sql step prepares its statement against the migrations), and
 * checks that the tables each action declares it `writes` exist. Findings become problems at the step's path.
 */
function checkComponents(
  manifest: Manifest,
  registry: Registry,
  sqlite: MigratedSchema | undefined,
): { problems: ManifestProblem[]; warnings: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const warnings: ManifestProblem[] = [];
  // The word an SQLite error names, by the message it was explained as, so the problem points at it.
  const words = new Map<string, string>();
  const isD1 = (store: string) => storeType(manifest, store) === 'd1';
  const tables = sqlite
    ? new Set(
        sqlite
          .query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          .map((r) => String(r.name).toLowerCase()),
      )
    : undefined;
  const context: Omit<CheckContext, 'store'> = {
    // SQL for another store (Postgres) is checked against that store's own migrations (postgres-check.ts).
    ...(sqlite
      ? {
          prepare: (sql: string, store: string) => {
            if (!isD1(store)) return undefined;
            const error = sqlite.prepare(sql);
            if (!error) return undefined;
            const explained = explainSqlError(sqlite, error);
            if (explained.word) words.set(explained.message, explained.word);
            return explained.message;
          },
          tables: (store: string) => (isD1(store) ? tables : undefined),
        }
      : {}),
  };
  for (const use of stepsOf(manifest)) {
    const key = Object.keys(use.step).find((k) => registry.steps.has(k));
    if (!key) continue;
    const step = registry.steps.get(key)!;
    const action =
      key === 'action' && typeof use.step.action === 'string' ? registry.actions.get(use.step.action) : undefined;
    const ctx: CheckContext = { ...context, store: typeof use.step.store === 'string' ? use.step.store : use.store };
    for (const component of [step, ...(action ? [action] : [])]) {
      if (!component.check) continue;
      let findings: Finding[];
      try {
        findings = component.check(optionsOf(component, use.step), ctx);
      } catch {
        continue; // options the schema or the compile step already reports
      }
      for (const f of findings) {
        const word = words.get(f.message);
        (f.severity === 'warning' ? warnings : problems).push({
          path: [...use.path, ...(f.path ?? [])],
          message: f.message,
          ...(word ? { word } : {}),
        });
      }
    }
    // A notification is sent on its own (sendNotification) and logs nothing: its action's tables need not exist.
    const written = use.notify ? [] : (action?.writes ?? []);
    const known = context.tables?.('d1');
    for (const table of known ? written.filter((t) => !known.has(t.toLowerCase())) : []) {
      problems.push({
        path: [...use.path, 'action'],
        message: `a ${action!.name} send logs to table ${table}, which migrations/ do not create${didYouMean(table, [...known!])}`,
        word: action!.name,
      });
    }
  }
  return { problems, warnings };
}

/** An SQLite error as a problem: at the word it names, with the nearest column or table when it names a missing one. */
function explainSqlError(sqlite: MigratedSchema, error: string): Pick<ManifestProblem, 'message' | 'word'> {
  const message = `SQL does not prepare against migrations/: ${error}`;
  const tables = sqlite
    .query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .map((r) => String(r.name));
  const columnsOf = (table: string) =>
    sqlite.query(`SELECT name FROM pragma_table_info('${table.replace(/'/g, "''")}')`).map((r) => String(r.name));
  const column =
    /no such column: ((?:\w+\.)?(\w+))/.exec(error) ?? /table (\w+) has no column named ((\w+))/.exec(error);
  if (column) {
    const [, word, bare] = column;
    const candidates = error.startsWith('table ')
      ? columnsOf(error.split(' ')[1]!)
      : [...new Set(tables.flatMap(columnsOf))];
    return { message: `${message}${didYouMean(bare!, candidates)}`, word: error.startsWith('table ') ? bare! : word! };
  }
  const table = /no such table: (\w+)/.exec(error);
  if (table) return { message: `${message}${didYouMean(table[1]!, tables)}`, word: table[1]! };
  const near = /near "([^"]+)": syntax error/.exec(error);
  return near ? { message, word: near[1]! } : { message };
}

/** Whether a manifest value reads `@occurred_at` (directly or in a template). */
const readsOccurredAt = (v: unknown) =>
  typeof v === 'string'
    ? v === '@occurred_at'
    : typeof (v as { template?: string })?.template === 'string'
      ? (v as { template: string }).template.includes('{@occurred_at}')
      : (v as { path?: string })?.path === '@occurred_at';

/**
 * Warns about ordering guards (a `:version`-like parameter compared in SQL) that can pick the wrong winner: built
 * on `@occurred_at` where an integration may not have one (such an event would sort as the oldest, or with a
 * template like `{@occurred_at}|{@id}` as the newest forever), or on a value with a default, or tie-broken by
 * the event id instead of arrival order. `@version` is the safe form.
 */
export function checkVersionGuards(manifest: Manifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const sources: [string[], { handlers?: { steps: unknown[] }[] }, unknown][] = [
    ...Object.entries(manifest.integrations).map(
      ([n, i]) => [['integrations', n], i, i.event?.occurred_at] as [string[], typeof i, unknown],
    ),
    ...Object.entries(manifest.routes ?? {}).map(
      ([n, r]) =>
        [['routes', n], r as { handlers?: { steps: unknown[] }[] }, undefined] as [
          string[],
          { handlers?: { steps: unknown[] }[] },
          unknown,
        ],
    ),
  ];
  for (const [at, source, occurredAt] of sources) {
    const mayLackTime =
      occurredAt === undefined || (typeof occurredAt === 'object' && occurredAt !== null && 'default' in occurredAt);
    (source.handlers ?? []).forEach((handler, h) =>
      handler.steps.forEach((step, s) => {
        const params = (step as { sql?: string; params?: Record<string, unknown> }).params;
        if (!(step as { sql?: string }).sql || !params) return;
        for (const [name, value] of Object.entries(params)) {
          if (!/version/i.test(name) || value === '@version') continue;
          const path = [...at, 'handlers', h, 'steps', s, 'params', name];
          const template = (value as { template?: string })?.template ?? '';
          if (readsOccurredAt(value) && mayLackTime) {
            problems.push({
              path,
              message: `this ordering guard depends on @occurred_at, which ${occurredAt === undefined ? 'this source does not extract' : 'may be missing (it has a default)'}: such an event ${template.includes('|') ? "sorts after every dated one ('|' > digits) and wins forever" : 'compares wrongly'}; use "@version" (occurred_at, then arrival order; an undated event never outranks a dated one)`,
            });
          } else if (template.includes('{@id}')) {
            problems.push({
              path,
              message:
                'this ordering guard breaks same-time ties by the event id, which is random: use "@version" (occurred_at, then arrival order)',
            });
          } else if (typeof value === 'object' && value !== null && 'default' in value) {
            problems.push({
              path,
              message:
                'this ordering guard falls back to a default when the value is missing, so an event without it compares as that default; use "@version" or drop the default',
            });
          }
        }
      }),
    );
  }
  return problems;
}
