/**
 * Runs manifest test cases through the real runtime: the Worker's own `fetch` and `queue` handlers
 * (runtime/runtime.ts) over a compiled manifest, with the storage a target gives (node:sqlite offline, real D1 in
 * the agreement test), in-memory queues drained as the case's clock reaches their messages, and fake providers
 * that record every outbound call. Then compares what happened with what the case expects. Worker-safe: the CLI
 * (`switchyard test`) and the workerd agreement test run this same module, so the two cannot drift.
 */
import { defaultRegistry } from '../../../worker/registry.ts';
import type { Registry } from '../../../runtime/component/registry.ts';
import { optionsOf } from '../../../runtime/component/define.ts';
import { secretNamesOf } from '../../../runtime/component/sign.ts';
import {
  buildSample,
  catalogText,
  fillSample,
  findSample,
  jsonOfValue,
  SampleError,
  signBuilt,
  type CatalogSampleSpec,
  type Signable,
} from '../sign-sample.ts';
import type { ConsumerMessage } from '../../../runtime/consumer/consumer.ts';
import type { RuntimeEnv } from '../../../runtime/lib/envelope.ts';
import type { CompiledManifest } from '../../../runtime/manifest/compile.ts';
import type { Manifest } from '../../../runtime/manifest/types.gen.ts';
import { createRuntime } from '../../../runtime/runtime.ts';
import { commandSource } from '../../../runtime/manifest/commands/compile.ts';
import { effectsWithPayloads, EventStatus, eventOutcomes, listDeadLetters } from '../../../runtime/store/index.ts';
import type { PostgresConnect } from '../../../runtime/store/postgres.ts';
import { DEFAULT_STORE } from '../../../runtime/manifest/stores.ts';
import type { TelemetryEvent } from '../../../runtime/lib/telemetry.ts';
import { FakeProviders } from '../fake-providers.ts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  DEV_ALGORITHM,
  DEV_AUTH_VAR,
  DEV_ISSUER,
  DEV_JWK_VAR,
  DEV_PROVIDER_CLAIM,
} from '../../../runtime/edge/dev-auth.ts';
import { MemoryKV, OfflineQueue } from './bindings.ts';
import type { Case, Path, Row, Step, TestUser } from './cases.ts';
import type { ConditionTally, Outcomes } from './conditions.ts';
import { committedSqlSteps, firstSeenSqlSteps } from './columns.ts';
export type { Row } from './cases.ts';

/** Where a case's state lives: a fresh database (with the migrations applied) and KV per case. */
export interface Storage {
  db: D1Database;
  kv?: KVNamespace;
  /** The manifest's external projection stores (Postgres), by store name, each fresh with its migrations applied. */
  stores?: Record<string, ExternalStore>;
  /** The Postgres driver the runtime is handed for `stores` (pg by connection string, or pg over PGlite). */
  connectPostgres?: PostgresConnect;
  close?(): void | Promise<void>;
}

/** An external store as a case sees it: the Worker binding that reaches it, and SQL (`$1` parameters) to seed and read it. */
export interface ExternalStore {
  /** The env name of its binding (the Hyperdrive binding), and the value the Worker gets there. */
  binding: string;
  value: unknown;
  query(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** What the runner needs of a project: the manifest for one environment and how to get storage and files. */
export interface Target {
  environment: string;
  manifest: Manifest;
  compiled: CompiledManifest;
  /** The components the manifest was compiled with (built-in and the project's own); default: the built-in ones. */
  registry?: Registry;
  /** Queue names by producer binding (wrangler.toml), as the Worker sees them. */
  queueNames: Record<string, string>;
  /** Secret values to verify with (and sign with): development values, never production ones. */
  secrets: Record<string, string>;
  /** Worker variables ([vars] of the environment). */
  vars: Record<string, string>;
  /** A project file's text (samples/, fixtures), by path relative to the project root; undefined if absent. */
  read(path: string): string | undefined;
  /**
   * The catalog sample of each integration set with `provider:`, by integration name: what `sample: <type>` falls
   * back to without a samples/ file, and the headers its provider sends with every delivery.
   */
  catalogSamples?: Record<string, CatalogSampleSpec>;
  storage(): Promise<Storage>;
  /** Ends what the target keeps for the whole run (a Postgres engine). */
  close?(): Promise<void>;
  /** Which database ran the external stores' SQL, once a case ran (for the report). */
  engine?(): string | undefined;
  /** Counts the outcomes of the manifest's conditions: the observer `compiled` was compiled with. */
  conditions?: ConditionTally;
}

export interface Failure {
  /** Where in the test file the expectation was written (what `--update` rewrites). */
  path: Path;
  /** A more precise place to point at (the one row of a list that was not found). */
  at?: Path;
  what: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
  /** What `--update` writes at `path`. */
  update?: unknown;
}

export interface StepOutcome {
  http: number;
  body: unknown;
  integration?: string;
  id?: string;
  event?: string;
  /** The conditions that skipped steps of the event (`<manifest path of the if>: <deciding leaf>`), when any did. */
  skipped?: string[];
}

/** Everything a case did that a test can expect. */
export interface Actual {
  steps: StepOutcome[];
  tables: Record<string, Row[]>;
  effects: Row[];
  enqueued: Row[];
  dead_letters: Row[];
  events: Row[];
}

export interface CaseResult {
  file: string;
  name: string;
  path: Path;
  failures: Failure[];
  actual: Actual;
  /** (integration or route, event type) of every event a handler applied: what coverage counts. */
  applied: [string, string][];
  /** How often each condition held and did not in this case, by its manifest path (when the target counts them). */
  conditions: Record<string, Outcomes>;
  /** The sql steps whose statements this case committed, by manifest path, in commit order: what column coverage counts. */
  ran: string[];
  ms: number;
}

export interface RunOptions {
  /** Also read these tables into `actual.tables` (the agreement test and plan --replay read every projection table). */
  tables?: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The tables the manifest's SQL steps write (INSERT INTO / UPDATE / REPLACE INTO; an upsert's DO UPDATE is not a
 * table), each with the store it lives in: the `store:` of its step or handler, else the event log's D1.
 */
export function tableStores(manifest: Manifest): Map<string, string> {
  const tables = new Map<string, string>();
  const visit = (v: unknown, store: string): void => {
    if (Array.isArray(v)) v.forEach((x) => visit(x, store));
    else if (isObj(v)) {
      const here = typeof v.store === 'string' ? v.store : store;
      if (typeof v.sql === 'string')
        for (const m of v.sql.matchAll(/\b(?:INTO|(?<!\bDO\s+)UPDATE)\s+["`]?([A-Za-z_][A-Za-z0-9_]*)/gi))
          if (!tables.has(m[1]!) || here !== DEFAULT_STORE) tables.set(m[1]!, here);
      Object.values(v).forEach((x) => visit(x, here));
    }
  };
  visit(manifest.integrations, DEFAULT_STORE);
  visit(manifest.routes, DEFAULT_STORE);
  return tables;
}

/** The tables the manifest's SQL steps write, in any store. */
export const projectionTables = (manifest: Manifest): string[] => [...tableStores(manifest).keys()].sort();

// ---------------------------------------------------------------------------------------------------------- paths

/** Splits `data.items[0].price.id` into keys and indexes. */
function pathParts(path: string): (string | number)[] {
  return path.split('.').flatMap((part) => {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return [part];
    return [...(m[1] ? [m[1]] : []), ...[...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]))];
  });
}

function setPath(target: unknown, path: string, value: unknown): void {
  const parts = pathParts(path);
  let at = target as Record<string | number, unknown>;
  parts.forEach((key, i) => {
    if (i === parts.length - 1) at[key] = value;
    else {
      if (!isObj(at[key]) && !Array.isArray(at[key])) at[key] = typeof parts[i + 1] === 'number' ? [] : {};
      at = at[key] as Record<string | number, unknown>;
    }
  });
}

/** Where an envelope field comes from: a header, a plain path into the payload, or something the runner cannot set. */
export function fieldSource(spec: unknown): { header: string } | { path: string } | undefined {
  if (typeof spec === 'string') return spec.startsWith('@') ? undefined : { path: spec };
  if (isObj(spec) && typeof spec.header === 'string') return { header: spec.header.toLowerCase() };
  if (isObj(spec) && typeof spec.path === 'string' && spec.transform === undefined) return { path: spec.path };
  return undefined;
}

/** Sample placeholders, filled deterministically: `__ID__` is `e<step number>`, times are the case's clock. */
export function fillPlaceholders(text: string, id: string, now: number): string {
  return fillSample(text, now, id);
}

/** A secret that verifies nothing: the same shape as the real one (Svix keys stay base64), another key. */
function wrongSecret(secret: string): string {
  const m = /^(v1,)?whsec_/.exec(secret);
  if (m) return `${m[0]}${btoa('switchyard-test-wrong-secret-0123')}`;
  // Another secret of the same form: its first character changed within its own class, so a hex or base64 secret
  // (a scheme that decodes it) stays decodable and only the signature is wrong.
  const first = secret[0];
  if (first === undefined) return 'switchyard-test-wrong-secret';
  const other = /[0-9]/.test(first)
    ? first === '1'
      ? '2'
      : '1'
    : /[a-f]/.test(first)
      ? first === 'a'
        ? 'b'
        : 'a'
      : /[a-z]/.test(first)
        ? first === 'x'
          ? 'y'
          : 'x'
        : /[A-Z]/.test(first)
          ? first === 'A'
            ? 'B'
            : 'A'
          : 'A';
  return `${other}${secret.slice(1)}`;
}

interface Built {
  integration: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  form?: Record<string, string>;
  id?: string;
  signature: 'valid' | 'bad' | 'none';
}

/** Builds the request one event step sends (before signing). Throws with a message the case reports. */
function buildEvent(target: Target, c: Case, step: Step, index: number, now: number): Built {
  const integrationName = step.integration ?? c.integration;
  if (!integrationName)
    throw new Error('name the integration (integration: stripe) on the case or at the top of the file');
  const spec = target.manifest.integrations[integrationName] as
    | (Obj & { route: string; verifier: { type: string }; event: Obj; format?: string })
    | undefined;
  if (!spec)
    throw new Error(
      `no integration ${integrationName} in the manifest [${target.environment}]; integrations: ${Object.keys(target.manifest.integrations).join(', ')}`,
    );
  const catalog = target.catalogSamples?.[integrationName];
  const signable: Signable = {
    name: integrationName,
    verifier: spec.verifier,
    event: spec.event,
    ...(spec.format ? { format: spec.format } : {}),
    ...(catalog ? { sample: catalog } : {}),
  };
  const placeholder = `e${index + 1}`;
  let text: string;
  let type = step.type;
  if (step.sample !== undefined) {
    const found = findSample(target.read, integrationName, step.sample, catalog);
    if (!found)
      throw new Error(
        `no sample samples/${integrationName}/${step.sample}.json${catalog ? ` (the catalog's sample for this provider is ${catalog.type})` : ''}`,
      );
    text = found.text ?? catalogText(catalog!);
    type ??= step.sample;
  } else if (step.file !== undefined) {
    const dir = c.file.includes('/') ? c.file.slice(0, c.file.lastIndexOf('/') + 1) : '';
    const file = normalizePath(`${dir}${step.file}`);
    const read = target.read(file);
    if (read === undefined) throw new Error(`no file ${file}`);
    text = read;
  } else text = jsonOfValue(step.json);
  text = fillPlaceholders(text, placeholder, now);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new Error(`the event is not JSON: ${(error as Error).message}`);
  }
  const source = { id: fieldSource(spec.event.id), type: fieldSource(spec.event.type) };
  let changed = false;
  for (const [field, value] of [
    ['id', step.id],
    ['type', type],
  ] as const) {
    const from = source[field];
    if (value === undefined) continue;
    if (from && 'path' in from) setPath(payload, from.path, value), (changed = true);
    else if (!from && ((field === 'id' && step.id !== undefined) || (field === 'type' && step.type !== undefined))) {
      throw new Error(
        `${integrationName}'s event ${field} is computed (${JSON.stringify(spec.event[field])}): set the fields it reads with set: instead of ${field}:`,
      );
    }
  }
  for (const [path, value] of Object.entries(step.set ?? {})) setPath(payload, path, value), (changed = true);
  let built;
  try {
    // A delivery id in a header is stable per step (msg_e1), so a case's results do not depend on the run.
    built = buildSample(signable, {
      now,
      text: changed ? JSON.stringify(payload) : text,
      id: placeholder,
      deliveryId: step.id ?? `msg_${placeholder}`,
      ...(type !== undefined ? { type } : {}),
      ...(step.headers ? { headers: step.headers } : {}),
    });
  } catch (error) {
    if (error instanceof SampleError && error.typeHeader)
      throw new Error(
        `${integrationName} reads the event type from the header ${error.typeHeader}: give type: (or the header in headers:)`,
      );
    throw error;
  }
  const id = built.deliveryId ?? step.id;
  return {
    integration: integrationName,
    path: spec.route,
    body: built.body,
    headers: built.headers,
    ...(built.form ? { form: built.form } : {}),
    ...(id !== undefined ? { id } : {}),
    signature: step.signature ?? 'valid',
  };
}

/** `a/b/../c` -> `a/c`; a `..` above the start is kept (a test file outside the project names fixtures inside it). */
const normalizePath = (p: string) => {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/');
};

/**
 * Signs a built event with the integration's own signer (the one `send` uses), with the development secrets; a
 * scheme verified with a public key gets a key pair made for the case, its public half put where the Worker reads
 * the secret (`keys`, per integration). Returns the headers to send and the body as signed.
 */
async function sign(
  target: Target,
  built: Built,
  url: string,
  now: number,
  keys: Map<string, { privateKey: string; env: Record<string, string> }>,
  env: RuntimeEnv,
): Promise<{ headers: Record<string, string>; body: string }> {
  if (built.signature === 'none') return { headers: built.headers, body: built.body };
  const block = target.manifest.integrations[built.integration]!.verifier!;
  const adapter = (target.registry ?? defaultRegistry).verifiers.get(block.type);
  if (!adapter) throw new Error(`no verifier type ${block.type}`);
  // The names of each secret option the spec marks (`secret`, `public_key`, Basic's `username` and `password`).
  const names = secretNamesOf(adapter, block);
  let secrets: string[];
  if (adapter.keyPair) {
    let pair = keys.get(built.integration);
    if (!pair) {
      const made = await adapter.keyPair(optionsOf(adapter, block));
      pair = { privateKey: made.privateKey, env: Object.fromEntries(names.flat().map((n) => [n, made.publicKey])) };
      keys.set(built.integration, pair);
    }
    Object.assign(env, pair.env);
    secrets = [
      built.signature === 'bad' ? (await adapter.keyPair(optionsOf(adapter, block))).privateKey : pair.privateKey,
    ];
  } else {
    const first = names.map((list) => list[0]!);
    const values = first.map((n) => target.secrets[n]);
    if (values.some((v) => !v))
      throw new Error(`no value for ${first.join(', ')} to sign with (set it in .dev.vars.example)`);
    secrets = built.signature === 'bad' ? (values as string[]).map(wrongSecret) : (values as string[]);
  }
  const signable: Signable = { verifier: block };
  return signBuilt(
    signable,
    {
      type: '',
      body: built.body,
      headers: built.headers,
      ...(built.form ? { form: built.form } : {}),
      ...(built.id !== undefined ? { deliveryId: built.id } : {}),
    },
    { url, now, secrets },
  );
}

/**
 * A bearer token for a request's `user:`, from the local dev issuer (as `switchyard token` mints one): a key pair
 * made for the case, its public half in the variables that turn the issuer on. Signed at the real time, since
 * tokens are checked against it; the case's clock is the runtime's.
 */
async function devToken(
  target: Target,
  user: TestUser,
  env: RuntimeEnv,
  keys: { pair?: CryptoKeyPair },
): Promise<string> {
  const names = [...target.compiled.auth.keys()];
  const provider = user.provider ?? (names.length === 1 ? names[0]! : undefined);
  if (!provider || !target.compiled.auth.has(provider))
    throw new Error(`user: name the provider (provider: <one of ${names.join(', ') || 'none: declare auth:'}>)`);
  if (!keys.pair) {
    keys.pair = (await generateKeyPair(DEV_ALGORITHM, { extractable: true })) as CryptoKeyPair;
    Object.assign(env, {
      [DEV_AUTH_VAR]: '1',
      [DEV_JWK_VAR]: JSON.stringify({ ...(await exportJWK(keys.pair.publicKey)), alg: DEV_ALGORITHM }),
    });
  }
  const audience = target.compiled.auth.get(provider)!.audience;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...user.claims, [DEV_PROVIDER_CLAIM]: provider })
    .setProtectedHeader({ alg: DEV_ALGORITHM, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setSubject(user.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setAudience((Array.isArray(audience) ? audience[0] : audience) ?? DEV_ISSUER)
    .sign(keys.pair.privateKey);
}

// ---------------------------------------------------------------------------------------------------------- run

/**
 * Runs one case in fresh storage and compares it with its expectations.
 * @example const result = await runCase(target, file.cases[0]); result.failures.length === 0
 */
export async function runCase(target: Target, c: Case, options: RunOptions = {}): Promise<CaseResult> {
  const started = performance.now();
  target.conditions?.take();
  let clock = c.now;
  const now = () => clock;
  const storage = await target.storage();
  const telemetry: TelemetryEvent[] = [];
  const providers = new FakeProviders({ deterministic: true });
  const queues = new Map<string, OfflineQueue>();
  const queue = (binding: string) =>
    queues.get(binding) ?? (queues.set(binding, new OfflineQueue(binding, now)), queues.get(binding)!);
  const consumedBindings = new Set<string>();
  const queueByBinding = new Map<string, string>();
  for (const [name, q] of target.compiled.queues) {
    queue(q.binding);
    queueByBinding.set(q.binding, name);
    if (q.deadLetter) queue(q.deadLetter);
  }
  for (const i of Object.values(target.manifest.integrations))
    if (i.queue) consumedBindings.add(target.compiled.queues.get(i.queue)?.binding ?? '');
  for (const r of Object.values(target.manifest.routes ?? {}) as { queue?: string }[])
    if (r.queue) consumedBindings.add(target.compiled.queues.get(r.queue)?.binding ?? '');
  const env: RuntimeEnv = {
    ...target.vars,
    ...target.secrets,
    SWITCHYARD_ENV: target.environment,
    DB: storage.db,
    KV: storage.kv ?? (new MemoryKV(now) as unknown as KVNamespace),
    ...Object.fromEntries(queues),
    ...Object.fromEntries(Object.values(storage.stores ?? {}).map((s) => [s.binding, s.value])),
  };
  const runtime = createRuntime({
    compiled: target.compiled,
    environment: target.environment,
    hash: 'test',
    queueNames: target.queueNames,
    emit: (e) => telemetry.push(e),
    now,
    random: () => 0.5,
    fetch: providers.fetch,
    ...(storage.connectPostgres ? { connectPostgres: storage.connectPostgres } : {}),
  });
  const tableStore = tableStores(target.manifest);
  /**
   * The store a table lives in: the one the manifest's SQL writes it in; for a table no step writes (the
   * `switchyard_applied` markers), the first external store that has it; else the event log's D1.
   */
  const storeOf = async (table: string): Promise<string> => {
    const known = tableStore.get(table);
    if (known) return known;
    for (const [name, s] of Object.entries(storage.stores ?? {})) {
      if (
        (
          await s.query(
            'SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1',
            [table],
          )
        ).length
      )
        return (tableStore.set(table, name), name);
    }
    return (tableStore.set(table, DEFAULT_STORE), DEFAULT_STORE);
  };
  /** Runs SQL on the store a table lives in: D1 (`?n` parameters) or an external store (`$n`). */
  const onTable = async (
    table: string,
    sql: (p: (n: number) => string) => string,
    params: unknown[] = [],
  ): Promise<Row[]> => {
    const store = await storeOf(table);
    const external = store === DEFAULT_STORE ? undefined : storage.stores?.[store];
    if (store !== DEFAULT_STORE && !external)
      throw new Error(`table ${table} is in store ${store}, which this run has no database for`);
    if (external)
      return external.query(
        sql((n) => `$${n}`),
        params,
      );
    return (
      await storage.db
        .prepare(sql((n) => `?${n}`))
        .bind(...params)
        .all<Row>()
    ).results;
  };
  const failures: Failure[] = [];
  const steps: StepOutcome[] = [];
  const builtSteps: (Built | undefined)[] = [];
  const sentBodies: string[] = [];
  const keyPairs = new Map<string, { privateKey: string; env: Record<string, string> }>();
  const devKeys: { pair?: CryptoKeyPair } = {};

  /** Hands every due message of the consumed queues to the Worker's queue handler, until none is due. */
  const drain = async () => {
    for (let round = 0; round < 1000; round++) {
      let delivered = false;
      for (const binding of consumedBindings) {
        const q = queues.get(binding);
        const due = q?.takeDue(clock) ?? [];
        for (let i = 0; i < due.length; i += 10) {
          delivered = true;
          const messages = due.slice(i, i + 10).map((m) => {
            const message: ConsumerMessage & { retried?: number } = {
              id: m.id,
              body: structuredClone(m.body),
              attempts: m.attempts,
              ack() {},
              retry(o) {
                message.retried = o?.delaySeconds ?? 0;
              },
            };
            return message;
          });
          await runtime.queue({ queue: target.queueNames[binding] ?? binding, messages }, env);
          for (const [k, m] of messages.entries())
            if (m.retried !== undefined) q!.push(due[i + k]!.body, due[i + k]!.attempts + 1, clock + m.retried * 1000);
        }
      }
      if (!delivered) return;
    }
  };

  try {
    for (const [table, rows] of Object.entries(c.seed)) {
      for (const row of rows) {
        const columns = Object.keys(row);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table) || columns.some((col) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(col)))
          throw new Error(`seed.${table}: table and column names are plain identifiers`);
        const values = columns.map((col) =>
          isObj(row[col]) || Array.isArray(row[col]) ? JSON.stringify(row[col]) : row[col],
        );
        await onTable(
          table,
          (p) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => p(i + 1)).join(', ')})`,
          values,
        );
      }
    }
    for (const [index, step] of c.steps.entries()) {
      if (step.afterMs) clock += step.afterMs;
      if (step.waitMs !== undefined) {
        clock += step.waitMs;
        await drain();
        steps.push({ http: 0, body: null });
        builtSteps.push(undefined);
        continue;
      }
      let request: Request;
      let built: Built | undefined;
      let sentBody: string | undefined;
      try {
        if (step.request) {
          const r = step.request;
          // A signed-in request goes to loopback: the dev issuer answers nowhere else.
          const signedIn = r.user
            ? { authorization: `Bearer ${await devToken(target, r.user, env, devKeys)}` }
            : undefined;
          request = new Request(`${signedIn ? 'http://localhost' : 'https://switchyard.test'}${r.path}`, {
            method: r.method,
            headers: { ...r.headers, ...signedIn },
            ...(r.body !== undefined ? { body: r.body } : {}),
          });
        } else {
          built =
            step.redeliver !== undefined ? builtSteps[step.redeliver - 1] : buildEvent(target, c, step, index, clock);
          if (!built) throw new Error(`event ${step.redeliver} was not an event that can be delivered again`);
          const url = `https://switchyard.test${built.path}`;
          const signed = await sign(target, built, url, clock, keyPairs, env);
          request = new Request(url, { method: 'POST', headers: signed.headers, body: signed.body });
          sentBody = signed.body;
        }
      } catch (error) {
        failures.push({ path: step.path, what: 'event', message: (error as Error).message });
        steps.push({ http: 0, body: null });
        builtSteps.push(undefined);
        continue;
      }
      builtSteps.push(built);
      sentBodies.push(sentBody ?? step.request?.body ?? '');
      const waits: Promise<unknown>[] = [];
      const ctx = {
        waitUntil: (p: Promise<unknown>) => void waits.push(p),
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext;
      const response = await runtime.fetch(request, env, ctx);
      await Promise.all(waits);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: compared as text
      }
      await drain();
      const outcome: StepOutcome = { http: response.status, body };
      const id = (isObj(body) && typeof body.id === 'string' ? body.id : undefined) ?? built?.id;
      let error: string | undefined;
      if (built && id) {
        outcome.integration = built.integration;
        outcome.id = id;
        const event = (await eventOutcomes(storage.db)).find(
          (e) => e.integration === built!.integration && e.id === id,
        );
        if (event) {
          outcome.event = event.status;
          const skipped = skippedBy(event.steps);
          if (skipped.length) outcome.skipped = skipped;
          // Why an event did not apply is what a failing case most needs to show: its error, or the conditions that skipped it.
          if (event.status === EventStatus.skipped) error = skipped.join('; ');
          else if (event.status !== EventStatus.applied) error = event.error ?? undefined;
        }
      }
      steps.push(outcome);
      compareStep(step, outcome, failures, error);
    }
    const actual = stableIds(
      await collect(storage.db, onTable, c, queues, consumedBindings, queueByBinding, steps, options),
      sentBodies.join('\n'),
    );
    compareCase(c, actual, failures);
    const applied = telemetry
      .filter((e): e is Extract<TelemetryEvent, { kind: 'event.applied' }> => e.kind === 'event.applied')
      .map((e) => [e.integration, e.type] as [string, string]);
    // A command that only counts (count:) records no event: a call it counted is its coverage.
    for (const e of telemetry)
      if (e.kind === 'command.accepted' && e.status === EventStatus.applied)
        applied.push([commandSource(e.command), e.command]);
    const ran = await sqlStepsRan(target.manifest, storage.db, c, steps);
    return {
      file: c.file,
      name: c.name,
      path: c.path,
      failures,
      actual,
      applied,
      conditions: target.conditions?.take() ?? {},
      ran,
      ms: performance.now() - started,
    };
  } catch (error) {
    failures.push({ path: c.path, what: 'case', message: `the case could not run: ${(error as Error).message}` });
    return {
      file: c.file,
      name: c.name,
      path: c.path,
      failures,
      actual: { steps, tables: {}, effects: [], enqueued: [], dead_letters: [], events: [] },
      applied: [],
      conditions: target.conditions?.take() ?? {},
      ran: [],
      ms: performance.now() - started,
    };
  } finally {
    await storage.close?.();
  }
}

/**
 * The sql steps a case committed: those of the handlers its applied events ran (from the event log's record of
 * each step), and the on_first_seen steps of the routes that first saw its signed-in users.
 */
async function sqlStepsRan(manifest: Manifest, db: D1Database, c: Case, steps: StepOutcome[]): Promise<string[]> {
  const requests = c.steps.flatMap((s, k) =>
    s.request?.user ? [{ path: s.request.path, sub: s.request.user.sub, http: steps[k]?.http ?? 0 }] : [],
  );
  const seen = requests.length
    ? new Set((await db.prepare('SELECT sub FROM seen_users').all<{ sub: string }>()).results.map((r) => r.sub))
    : new Set<string>();
  // A user's on_first_seen commits with their first request, before the events that request queues.
  return [
    ...firstSeenSqlSteps(manifest, requests, seen),
    ...committedSqlSteps(manifest, await eventOutcomes(db), EventStatus.applied),
  ];
}

type OnTable = (table: string, sql: (p: (n: number) => string) => string, params?: unknown[]) => Promise<Row[]>;

async function collect(
  db: D1Database,
  onTable: OnTable,
  c: Case,
  queues: Map<string, OfflineQueue>,
  consumed: Set<string>,
  names: Map<string, string>,
  steps: StepOutcome[],
  options: RunOptions,
): Promise<Actual> {
  const tables: Record<string, Row[]> = {};
  for (const table of new Set([...Object.keys(c.expect.tables ?? {}), ...(options.tables ?? [])])) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`${table} is not a table name`);
    const rows = await onTable(table, () => `SELECT * FROM ${table}`);
    tables[table] = rows.map((r) => ({ ...r })).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  const effects = (await effectsWithPayloads(db)).map((e) => ({
    action: e.action,
    status: e.status,
    attempts: e.attempts,
    event: e.event_id,
    step: e.step,
    payload: e.payload,
  }));
  const enqueued: Row[] = [];
  for (const [binding, q] of queues) {
    if (consumed.has(binding)) continue;
    for (const m of q.sent)
      enqueued.push({
        queue: names.get(binding) ?? binding,
        body: m.body,
        ...(m.delaySeconds ? { delay_seconds: m.delaySeconds } : {}),
      });
  }
  const dead_letters = (await listDeadLetters(db, null, 'all')).reverse().map((d) => ({
    integration: d.integration,
    stage: d.stage,
    event: d.event_id,
    reason: d.reason,
    error: d.error,
    attempts: d.attempts,
  }));
  const events = (await eventOutcomes(db)).map((e) => {
    const skipped = skippedBy(e.steps);
    return {
      integration: e.integration,
      id: e.id,
      type: e.type,
      status: e.status,
      attempts: e.attempts,
      ...(skipped.length ? { skipped } : {}),
    };
  });
  return { steps, tables, effects, enqueued, dead_letters, events };
}

/**
 * The conditions that skipped steps of an event, from its row's `steps` (each step `{ kind, ..., skipped? }`), each
 * once, in step order: `integrations.stripe.handlers[4].if: data.object.mode eq payment`.
 */
export function skippedBy(steps: string | null): string[] {
  let parsed: unknown;
  try {
    parsed = steps ? JSON.parse(steps) : [];
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return [...new Set(parsed.flatMap((s) => (isObj(s) && typeof s.skipped === 'string' ? [s.skipped] : [])))];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;

/**
 * Random ids the runtime made (the analytics endpoint's insert ids) become `uuid-1`, `uuid-2`... in order of first
 * appearance, so results are the same on every run and on both engines. Ids that came in with an event stay.
 */
function stableIds(actual: Actual, sent: string): Actual {
  const labels = new Map<string, string>();
  const label = (id: string) =>
    sent.includes(id) ? id : (labels.get(id) ?? (labels.set(id, `uuid-${labels.size + 1}`), labels.get(id)!));
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replace(UUID, label)
      : Array.isArray(v)
        ? v.map(walk)
        : isObj(v)
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  const { events, ...rest } = actual;
  const stableEvents = walk(events) as Row[];
  return { ...(walk(rest) as Omit<Actual, 'events'>), events: stableEvents };
}

// ---------------------------------------------------------------------------------------------------------- compare

/** Whether `actual` has everything `expected` says: maps by their listed keys, lists element by element, scalars equal. */
export function matches(expected: unknown, actual: unknown): boolean {
  if (isObj(expected)) return isObj(actual) && Object.entries(expected).every(([k, v]) => matches(v, actual[k]));
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => matches(v, actual[i]))
    );
  if (expected === null) return actual === null || actual === undefined;
  return expected === actual;
}

/** `actual` cut down to the keys `shape` lists (deeply), so a diff shows only what the test looks at. */
export function project(actual: unknown, shape: unknown): unknown {
  if (isObj(shape) && isObj(actual))
    return Object.fromEntries(
      Object.keys(shape)
        .map((k) => [k, project(actual[k], shape[k])])
        .filter(([, v]) => v !== undefined),
    );
  if (Array.isArray(shape) && Array.isArray(actual) && shape.length && shape.every(isObj)) {
    const merged = Object.assign({}, ...shape);
    return actual.map((a) => project(a, merged));
  }
  return actual === undefined ? null : actual;
}

/** The union of the keys the expected rows list (deeply merged), the shape actual rows are shown in. */
function shapeOf(rows: Row[], fallback: Row): Row {
  if (!rows.length) return fallback;
  const merge = (a: unknown, b: unknown): unknown =>
    isObj(a) && isObj(b)
      ? Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, merge(a[k], b[k])]))
      : (b ?? a);
  return rows.reduce((acc: Row, r) => merge(acc, r) as Row, {});
}

/** Pairs expected rows with distinct actual rows; the unmatched of each side. */
function pair(expected: Row[], actual: Row[]): { missing: number[]; extra: number[] } {
  const used = new Set<number>();
  const missing: number[] = [];
  expected.forEach((e, i) => {
    const j = actual.findIndex((a, k) => !used.has(k) && matches(e, a));
    if (j < 0) missing.push(i);
    else used.add(j);
  });
  return { missing, extra: actual.map((_, k) => k).filter((k) => !used.has(k)) };
}

function compareList(
  what: string,
  path: Path,
  expected: Row[],
  actual: Row[],
  mode: 'rows' | 'contains',
  fallback: Row,
  failures: Failure[],
): void {
  const { missing, extra } = pair(expected, actual);
  if (!missing.length && (mode === 'contains' || !extra.length)) return;
  const shape = shapeOf(expected, fallback);
  const shown = actual.map((a) => project(a, shape));
  const problems = [
    missing.length ? `${missing.length} expected ${missing.length === 1 ? 'entry' : 'entries'} not found` : '',
    mode === 'rows' && extra.length ? `${extra.length} unexpected` : '',
  ]
    .filter(Boolean)
    .join(', ');
  // One row missing: point at that row; else at the list.
  failures.push({
    path,
    ...(missing.length === 1 && expected.length > 1 ? { at: [...path, missing[0]!] } : {}),
    what,
    message: `${what}: ${problems} (${actual.length} actual)`,
    expected,
    actual: shown,
    update: shown,
  });
}

/** `error`: the event's last error when it did not apply (not part of the outcome: its text differs by engine). */
function compareStep(step: Step, outcome: StepOutcome, failures: Failure[], error?: string): void {
  const e = step.expect;
  if (!e) return;
  if (e.http !== undefined && e.http !== outcome.http)
    failures.push({
      path: [...step.path, 'expect', 'http'],
      what: 'http status',
      message: `http status ${outcome.http}, expected ${e.http}`,
      expected: e.http,
      actual: outcome.http,
      update: outcome.http,
    });
  if (e.body !== undefined && !matches(e.body, outcome.body)) {
    const shown = isObj(outcome.body) ? project(outcome.body, e.body) : outcome.body;
    failures.push({
      path: [...step.path, 'expect', 'body'],
      what: 'response body',
      message: 'the response body differs',
      expected: e.body,
      actual: isObj(outcome.body) ? outcome.body : shown,
      update: shown,
    });
  }
  if (e.event !== undefined && e.event !== outcome.event)
    failures.push({
      path: [...step.path, 'expect', 'event'],
      what: 'event status',
      message: `event ${outcome.id ?? '(no id)'} is ${outcome.event ?? 'not in the event log'}${error ? ` (${error})` : ''}, expected ${e.event}`,
      expected: e.event,
      actual: outcome.event ?? null,
      update: outcome.event ?? null,
    });
  if (e.skippedBy !== undefined && !skippedMatches(e.skippedBy, outcome.skipped ?? [])) {
    const actual = outcome.skipped ?? [];
    failures.push({
      path: [...step.path, 'expect', 'skipped_by'],
      what: 'skipped by',
      message: `event ${outcome.id ?? '(no id)'}: the conditions that skipped steps differ`,
      expected: e.skippedBy,
      actual,
      update: actual,
    });
  }
}

/** Each expected entry is part of a distinct condition that skipped a step (its path, or path and leaf), and no other skipped one. */
function skippedMatches(expected: string[], actual: string[]): boolean {
  if (expected.length !== actual.length) return false;
  const used = new Set<number>();
  return expected.every((e) => {
    const i = actual.findIndex((a, k) => !used.has(k) && a.includes(e));
    return i >= 0 && used.add(i) !== undefined;
  });
}

function compareCase(c: Case, actual: Actual, failures: Failure[]): void {
  for (const [table, t] of Object.entries(c.expect.tables ?? {}))
    compareList(`table ${table}`, t.path, t.rows, actual.tables[table] ?? [], t.mode, {}, failures);
  const at = (key: string): Path => [...c.path, 'expect', key];
  if (c.expect.effects)
    compareList(
      'effects',
      at('effects'),
      c.expect.effects,
      actual.effects,
      'rows',
      { action: null, status: null, payload: null },
      failures,
    );
  if (c.expect.enqueued)
    compareList(
      'enqueued',
      at('enqueued'),
      c.expect.enqueued,
      actual.enqueued,
      'rows',
      { queue: null, body: null },
      failures,
    );
  if (c.expect.dead_letters)
    compareList(
      'dead letters',
      at('dead_letters'),
      c.expect.dead_letters,
      actual.dead_letters,
      'rows',
      { stage: null, reason: null },
      failures,
    );
}

// ---------------------------------------------------------------------------------------------------------- coverage

export interface Coverage {
  /** Handlers no case applied an event to, as `integration on <patterns>` with where they are in the manifest. */
  handlers: { source: string; index: number; on: string[] }[];
  /** `on:` patterns (of handlers with several) no applied event type matched. */
  patterns: { source: string; index: number; pattern: string }[];
  total: { handlers: number; patterns: number };
}

const patternRe = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** Which handlers, `on:` patterns and commands of the manifest no applied event exercised. */
export function coverage(manifest: Manifest, applied: [string, string][]): Coverage {
  const out: Coverage = { handlers: [], patterns: [], total: { handlers: 0, patterns: 0 } };
  const sources: [string, { handlers?: { on: string | string[] }[] }][] = [
    ...Object.entries(manifest.integrations),
    ...Object.entries(manifest.routes ?? {}),
  ];
  for (const [source, spec] of sources) {
    const types = applied.filter(([s]) => s === source).map(([, t]) => t);
    (spec.handlers ?? []).forEach((h, index) => {
      const on = ([] as string[]).concat(h.on);
      out.total.handlers++;
      out.total.patterns += on.length;
      const hit = on.filter((p) => types.some((t) => patternRe(p).test(t)));
      if (!hit.length) out.handlers.push({ source, index, on });
      else for (const pattern of on.filter((p) => !hit.includes(p))) out.patterns.push({ source, index, pattern });
    });
  }
  // A command is one handler of its own source: covered when a case applied a call of it.
  for (const name of Object.keys(manifest.commands ?? {})) {
    out.total.handlers++;
    if (!applied.some(([s]) => s === commandSource(name)))
      out.handlers.push({ source: commandSource(name), index: 0, on: [name] });
  }
  return out;
}
