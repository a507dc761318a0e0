/**
 * The Node side of the conformance matrix (test/worker/conformance-matrix.test.ts), served to workerd as the MATRIX
 * service binding from vitest.config.ts, and read directly by test/node/conformance-matrix.test.ts. It lists the
 * rows (every catalog provider as a one-integration manifest, every integration of integrations.yaml and of
 * examples/*.yaml as built, and the README's own `shop` example), prices each with `plan --budget`'s functions
 * (node:sqlite: the schema the migrations build), and signs each row's samples on demand with the signer `switchyard
 * send` uses, so timestamps are fresh when workerd delivers them.
 *   GET /rows          every row (manifest, plan rows for its integration, secrets)
 *   GET /requests?row=N&sample=I   fresh signed requests for sample type I of row N (all without `sample`)
 *   POST /budget       `plan --budget`'s rows for the manifest in the body (JSON)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defaultRegistry } from '../../worker/registry.ts';
import { signBuilt } from '../../cli/lib/sign-sample.ts';
import { optionsOf } from '../../runtime/component/define.ts';
import { applyPreset, type CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { compileManifest, compilePattern, type CompiledManifest } from '../../runtime/manifest/compile.ts';
import { compileValue } from '../../runtime/language/values.ts';
import { compileLets } from '../../runtime/language/lets.ts';
import type { Manifest, Value } from '../../runtime/manifest/types.gen.ts';
import { catalogSample, fillSample, loadCatalog, type CatalogSample } from '../../cli/lib/catalog.ts';
import { CostModel, handlerCosts, NO_HANDLER, stepName, type HandlerCost } from '../../cli/lib/budget.ts';
import { branchOf } from '../../runtime/manifest/decide.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { migratedSchema } from '../../cli/lib/sqlite.ts';
import { applies } from '../../cli/lib/conformance.ts';
import { build } from '../../cli/commands/build.ts';
import { secretsFor, tamper } from './catalog.ts';
import { ROOT } from './project.ts';

/** Where requests are sent (schemes that sign the URL sign this one): bench/flow-runner.ts's origin. */
export const MATRIX_ORIGIN = 'https://switchyard.test';

type Verifier = { type: string } & Record<string, unknown>;

export interface MatrixRow {
  /** `catalog github`, `integrations.yaml github`, `examples/more-providers.yaml shopify`, `README.md shop`. */
  label: string;
  /** The catalog provider (gaps are recorded by it), or the label for an integration without a preset. */
  provider: string;
  manifestFile: string;
  integration: string;
  manifest: Manifest;
  route: string;
  verifier: Verifier;
  format: 'json' | 'form';
  /** `plan --budget`'s rows for this integration. */
  plan: HandlerCost[];
  /** The catalog entry when the integration uses a preset (its sample is one of the row's sample types). */
  entry?: CatalogEntry;
}

export interface SignedRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
  /** Rows an UPDATE of the handlers expects to find, inserted before the request (as `plan --budget` prices it). */
  seed?: { sql: string; params: unknown[] }[];
}

export interface SampleRequests {
  type: string;
  /** Where the sample came from: `catalog` or `samples/<integration>/<file>`. */
  from: string;
  /** `plan --budget`'s row that prices this type. */
  on: string;
  /** Of a type whose handlers have conditions: the branch the sample takes, and the conditional steps it leaves out. */
  branch?: { label: string; without: string[] };
  /** Two distinct samples, signed now. */
  first: SignedRequest;
  second: SignedRequest;
  tampered: SignedRequest;
  unsigned: SignedRequest;
  /** Signed and dated past the scheme's tolerance (when it signs a timestamp). */
  stale?: SignedRequest;
}

/**
 * A manifest as `switchyard build` writes it (defaults applied): built here, once per process, so the fast tier (which
 * has none of vitest.config.ts's set-up) never reads a missing or stale build.
 */
const builds = new Map<string, { environments: Record<string, { manifest: Manifest }> }>();
function built(source: string, output: string) {
  let known = builds.get(output);
  if (!known) {
    const result = build(source, output);
    if (!result.ok) throw new Error(`${source} does not build:\n${result.messages.join('\n')}`);
    known = JSON.parse(readFileSync(result.output!, 'utf8')) as {
      environments: Record<string, { manifest: Manifest }>;
    };
    builds.set(output, known);
  }
  return known;
}

/** The README's "Five minutes: add a provider" integration, as the README prints it. */
export function readmeShop(): Manifest {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Five minutes: add a provider'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!.replace(/^ {3}/gm, '');
  const { integrations } = parse(yaml) as { integrations: Record<string, Record<string, unknown>> };
  return { version: 1, queues: { events: { binding: 'EVENTS_QUEUE' } }, integrations } as unknown as Manifest;
}

function compile(manifest: Manifest): CompiledManifest {
  return compileManifest(manifest, defaultRegistry, { inputValidator: (_name, schema) => compileInputSchema(schema) });
}

let rows: MatrixRow[] | undefined;

/** Every row of the matrix, in a stable order: the catalog, then the manifests. */
export function matrixRows(): MatrixRow[] {
  if (rows) return rows;
  const catalog = loadCatalog();
  if (catalog.problems.length)
    throw new Error(`catalog problems: ${catalog.problems.map((p) => p.message).join('; ')}`);
  const schema = migratedSchema(join(ROOT, 'migrations'));
  const model = new CostModel(schema);
  const out: MatrixRow[] = [];
  const add = (
    label: string,
    manifestFile: string,
    manifest: Manifest,
    names: string[],
    providerOf: (name: string) => string | undefined,
  ) => {
    const compiled = compile(manifest);
    const costs = handlerCosts(model, manifest, compiled);
    for (const integration of names) {
      const spec = manifest.integrations[integration]! as unknown as {
        route: string;
        verifier: Verifier;
        format?: 'json' | 'form';
      };
      const provider = providerOf(integration);
      out.push({
        label: `${label} ${integration}`,
        provider: provider ?? `${label} ${integration}`,
        manifestFile,
        integration,
        manifest,
        route: spec.route,
        verifier: spec.verifier,
        format: spec.format ?? 'json',
        plan: costs.filter((c) => c.source === integration),
        ...(provider ? { entry: catalog.entries.get(provider)! } : {}),
      });
    }
  };
  for (const entry of catalog.entries.values()) {
    const name = entry.name.replace(/-/g, '_');
    const spec = applyPreset({ provider: entry.name, route: `/webhooks/${entry.name}`, queue: 'events' }, entry);
    add(
      'catalog',
      `catalog/${entry.name}.yaml`,
      {
        version: 1,
        queues: { events: { binding: 'EVENTS_QUEUE' } },
        integrations: { [name]: spec },
      } as unknown as Manifest,
      [name],
      () => entry.name,
    );
  }
  for (const [file, json] of [
    ['integrations.yaml', 'manifests.json'],
    ...readdirSync(join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.yaml') && f !== 'postgres.yaml')
      .map((f) => [
        `examples/${f}`,
        f === 'more-providers.yaml' ? 'examples.json' : f === 'forward.yaml' ? 'forward.json' : '',
      ]),
    ['examples/postgres.yaml', 'postgres.json'],
  ] as [string, string][]) {
    if (!json) throw new Error(`${file}: no build of it for the matrix (add it to vitest.config.ts's builds and here)`);
    const manifest = built(file, json).environments.default!.manifest;
    const raw = parse(readFileSync(join(ROOT, file), 'utf8')) as {
      integrations?: Record<string, { provider?: string }>;
    };
    add(file, file, manifest, Object.keys(manifest.integrations), (name) => raw.integrations?.[name]?.provider);
  }
  add('README.md', 'README.md', readmeShop(), ['shop'], () => undefined);
  // The same, with the same-body check turned off (`replay_window: 0s`): the claim writes no body hash then.
  const unwindowed = readmeShop();
  (unwindowed.integrations.shop as { replay_window?: string }).replay_window = '0s';
  add('README.md, replay_window: 0s,', 'README.md', unwindowed, ['shop'], () => undefined);
  // And through the queue (`apply: queue`): the claim, the message, the consumer's applied-marker.
  const queued = readmeShop();
  (queued.integrations.shop as { apply?: string }).apply = 'queue';
  add('README.md, apply: queue,', 'README.md', queued, ['shop'], () => undefined);
  schema.close();
  rows = out;
  return out;
}

/** Fresh secrets for a row: what the Worker reads (env) and what the signer takes. Cached per row. */
const secrets = new Map<string, Promise<{ env: Record<string, string>; signing: string[] }>>();
export function rowSecrets(row: MatrixRow) {
  let s = secrets.get(row.label);
  if (!s)
    secrets.set(row.label, (s = secretsFor({ name: row.label, verifier: row.verifier } as unknown as CatalogEntry)));
  return s;
}

/** A time header in the form its extraction reads it (cli/lib/catalog.ts's rule for catalog samples). */
function timeAs(transform: unknown, now: number): string {
  const names = JSON.stringify(transform ?? '');
  return names.includes('unix_seconds')
    ? String(Math.floor(now / 1000))
    : names.includes('unix_ms')
      ? String(now)
      : new Date(now).toISOString();
}

/** A samples/ file as `switchyard send` reads it: placeholders filled, the envelope's headers made up, forms encoded. */
function fromFile(text: string, type: string, row: MatrixRow, now: number): CatalogSample {
  const filled = fillSample(text, now).trim();
  const form = row.format === 'form' ? (JSON.parse(filled) as Record<string, string>) : undefined;
  const headers: Record<string, string> = {};
  for (const [field, value] of Object.entries(
    (row.manifest.integrations[row.integration] as { event?: Record<string, unknown> }).event ?? {},
  )) {
    const header = value && typeof value === 'object' ? (value as { header?: string }).header : undefined;
    if (header)
      headers[header.toLowerCase()] =
        field === 'id'
          ? crypto.randomUUID()
          : field === 'type'
            ? type
            : timeAs((value as { transform?: unknown }).transform, now);
  }
  return { type, body: form ? new URLSearchParams(form).toString() : filled, headers, ...(form ? { form } : {}) };
}

/** The sample types of a row: its samples/ files (manifest rows: what `switchyard send` reads), then its catalog sample. */
export function sampleSources(row: MatrixRow): { type: string; from: string; make: (now: number) => CatalogSample }[] {
  const out: { type: string; from: string; make: (now: number) => CatalogSample }[] = [];
  if (!row.label.startsWith('catalog ')) {
    const dir = join(ROOT, 'samples', row.integration);
    let files: string[] = [];
    try {
      files = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
    } catch {
      // no samples for this integration
    }
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      out.push({
        type: f.slice(0, -5),
        from: `samples/${row.integration}/${f}`,
        make: (now) => fromFile(text, f.slice(0, -5), row, now),
      });
    }
  }
  if (row.entry && !out.some((s) => s.type === row.entry!.sample.type))
    out.push({ type: row.entry.sample.type, from: 'catalog', make: (now) => catalogSample(row.entry!, now) });
  if (row.manifestFile === 'README.md') {
    // The README's curl: the same body and headers (a fresh id each time).
    out.push({
      type: 'orders/paid',
      from: 'README.md',
      make: () => ({
        type: 'orders/paid',
        body: JSON.stringify({ id: 1000 + Math.floor(Math.random() * 1e9), total: '12.00' }),
        headers: { 'x-shop-webhook-id': crypto.randomUUID(), 'x-shop-topic': 'orders/paid' },
      }),
    });
  }
  return out;
}

/** The budget row that prices an event type: its own pattern, a wildcard that matches it, or `(no handler)`. */
export function planRowFor(row: MatrixRow, type: string): string {
  return (
    (
      row.plan.find((c) => c.on === type) ??
      row.plan.find((c) => c.on !== NO_HANDLER && compilePattern(c.on).test(type)) ??
      row.plan.find((c) => c.on === NO_HANDLER)
    )?.on ?? NO_HANDLER
  );
}

/** The branch a sample takes when its type's handlers have conditions (decide.ts `branchOf`, on the compiled manifest). */
function sampleBranch(row: MatrixRow, type: string, sample: CatalogSample): SampleRequests['branch'] {
  const source = compile(row.manifest).sources.get(row.integration);
  const handlers = source?.handlers.filter((h) => h.matches(type)) ?? [];
  if (!handlers.some((h) => h.if || h.stepIfs)) return undefined;
  const payload =
    row.format === 'form' ? Object.fromEntries(new URLSearchParams(sample.body)) : (JSON.parse(sample.body) as unknown);
  const { label, without } = branchOf(handlers, { payload, envelope: { type } });
  return { label, without: without.map(stepName) };
}

/**
 * What the handlers' UPDATEs of this type expect to find (`UPDATE t SET … WHERE col = :param`), as inserts to run
 * before the request: `plan --budget` prices an UPDATE as finding its row (bench/flows.ts seeds the same way).
 */
function seedsFor(row: MatrixRow, type: string, sample: CatalogSample): SignedRequest['seed'] {
  type Lets = Record<string, Value>;
  const spec = row.manifest.integrations[row.integration] as {
    let?: Lets;
    handlers?: { on: string | string[]; let?: Lets; steps: { sql?: string; params?: Record<string, unknown> }[] }[];
  };
  const payload =
    row.format === 'form' ? Object.fromEntries(new URLSearchParams(sample.body)) : (JSON.parse(sample.body) as unknown);
  const seeds: { sql: string; params: unknown[] }[] = [];
  const on = planRowFor(row, type);
  const ignore = () => {};
  const integrationLets = compileLets(spec.let, undefined, ignore);
  for (const h of spec.handlers ?? []) {
    if (!([] as string[]).concat(h.on).some((p) => p === on || p === type)) continue;
    // A param may read a derived value (`$order_id`): read through the handler's let: over the integration's.
    const lets = compileLets(h.let, integrationLets, ignore);
    const base = { payload, envelope: { type } };
    for (const step of h.steps) {
      const m = step.sql && /^\s*UPDATE\s+(\w+)\s+SET[\s\S]*\bWHERE\s+(\w+)\s*=\s*:(\w+)\s*$/i.exec(step.sql);
      if (!m) continue;
      const value = compileValue(step.params?.[m[3]!] as Value)(lets ? lets.bind(base) : base);
      seeds.push({ sql: `INSERT OR IGNORE INTO ${m[1]} (${m[2]}) VALUES (?)`, params: [value] });
    }
  }
  return seeds.length ? seeds : undefined;
}

/** Signs a sample with `switchyard send`'s own signer (`signBuilt`), its headers merged as `send` merges them. */
async function signed(row: MatrixRow, sample: CatalogSample, now: number, signing: string[]): Promise<SignedRequest> {
  const contentType = sample.form ? 'application/x-www-form-urlencoded' : 'application/json';
  const built = {
    type: '',
    body: sample.body,
    headers: { 'content-type': contentType, ...sample.headers },
    ...(sample.form ? { form: sample.form } : {}),
  };
  const out = await signBuilt({ verifier: row.verifier }, built, {
    url: `${MATRIX_ORIGIN}${row.route}`,
    now,
    secrets: signing,
  });
  return { path: row.route, body: out.body, headers: out.headers };
}

/** How far back a stale request is signed: the scheme's tolerance plus two minutes. */
function staleBy(row: MatrixRow): number {
  const adapter = defaultRegistry.verifiers.get(row.verifier.type)!;
  const { type: _t, ...block } = row.verifier;
  return (adapter.timestampTolerance?.(optionsOf(adapter, block)) ?? 0) + 120_000;
}

/** Fresh signed requests for every sample type of a row (or only the `only`th). */
export async function rowRequests(row: MatrixRow, only?: number): Promise<SampleRequests[]> {
  const { signing } = await rowSecrets(row);
  const out: SampleRequests[] = [];
  for (const [i, source] of sampleSources(row).entries()) {
    if (only !== undefined && i !== only) continue;
    // Two samples a second apart, as two real events are (an id made of the time, __NOW_S__, differs too), signed now.
    const now = Date.now();
    const one = source.make(now - 1000);
    const two = source.make(now);
    const first = await signed(row, one, now, signing);
    const second = { ...(await signed(row, two, now, signing)) };
    const seed = seedsFor(row, source.type, two);
    if (seed) second.seed = seed;
    const firstSeed = seedsFor(row, source.type, one);
    if (firstSeed) first.seed = firstSeed;
    // Tampered after signing: one signed character of the body changed, the signature kept.
    const tampered = { ...second, body: tamper({ verifier: row.verifier } as unknown as CatalogEntry, second.body) };
    delete tampered.seed;
    // Unsigned: the sample as it was before signing (a body-carried signature is left out with its fields).
    const unsigned = {
      path: row.route,
      body: two.body,
      headers: { 'content-type': second.headers['content-type']!, ...two.headers },
    };
    let stale: SignedRequest | undefined;
    if (applies(row.verifier, 'stale')) {
      const then = now - staleBy(row);
      stale = await signed(row, source.make(then), then, signing);
    }
    const branch = sampleBranch(row, source.type, two);
    out.push({
      type: source.type,
      from: source.from,
      on: planRowFor(row, source.type),
      ...(branch ? { branch } : {}),
      first,
      second,
      tampered,
      unsigned,
      ...(stale ? { stale } : {}),
    });
  }
  return out;
}

/** The service binding: rows, and fresh requests for one row. */
export async function matrixService(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === '/rows') {
    const list = matrixRows();
    const env = await Promise.all(list.map(async (r) => (await rowSecrets(r)).env));
    return Response.json(list.map((r, i) => ({ ...r, env: env[i] })));
  }
  if (url.pathname === '/requests') {
    const row = matrixRows()[Number(url.searchParams.get('row'))]!;
    const sample = url.searchParams.get('sample');
    return Response.json(await rowRequests(row, sample === null ? undefined : Number(sample)));
  }
  if (url.pathname === '/budget' && request.method === 'POST')
    return Response.json(budgetOf((await request.json()) as Manifest));
  return new Response('not found', { status: 404 });
}

/** `plan --budget`'s rows for any manifest (a test's own, with conditions), priced on the schema the migrations build. */
export function budgetOf(manifest: Manifest): HandlerCost[] {
  const schema = migratedSchema(join(ROOT, 'migrations'));
  try {
    return handlerCosts(new CostModel(schema), manifest, compile(manifest));
  } finally {
    schema.close();
  }
}
