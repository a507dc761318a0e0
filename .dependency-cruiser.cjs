/**
 * The import rules `npm run check` enforces (dependency-cruiser). Type-only imports count: a cycle through types
 * still ties modules together.
 *
 * The runtime is a stack of layers, and a module imports only from its own layer or the ones below it
 * (docs/architecture.md shows the order and why). Each layer gets one rule, made from the list below: nothing
 * names an exception.
 */

/** The runtime's layers, bottom first. Every module under runtime/ belongs to exactly one (test/node/layers.test.ts). */
const LAYERS = [
  {
    name: 'vocabulary',
    path: '^runtime/(store/status|manifest/types\\.gen)\\.ts$',
    what: 'the names every layer speaks: the statuses the store writes (store/status.ts) and the types generated from the schema (manifest/types.gen.ts); declarations only, importing nothing',
  },
  { name: 'lib', path: '^runtime/lib/', what: 'small libraries: bytes, durations, http, telemetry, chunk, …' },
  {
    name: 'language',
    path: '^runtime/language/',
    what: "the manifest's languages: values, templates, conditions, lets, named SQL",
  },
  { name: 'component', path: '^runtime/component/', what: 'the component contract every adapter and stage builds on' },
  {
    name: 'store',
    path: '^runtime/store/(?!status\\.ts$)',
    what: 'the event log: every stage reads and writes it through here only',
  },
  {
    name: 'manifest',
    path: '^runtime/manifest/(?!types\\.gen\\.ts$)',
    what: 'the manifest: its sections (schema, defaults, compile), loaded and compiled into a CompiledManifest',
  },
  {
    name: 'event',
    path: '^runtime/event/',
    what: 'an event as every stage reads it (payload, envelope, message) and its admission into the log',
  },
  {
    name: 'consumer',
    path: '^runtime/consumer/',
    what: 'applying events: load, plan, commit, deliver effects, settle',
  },
  {
    name: 'edge',
    path: '^runtime/edge/',
    what: 'answering requests: ingest, routes, auth, commands; it applies in the request what the consumer would',
  },
  {
    name: 'operations',
    path: '^runtime/operations/',
    what: 'the admin API, dashboard, replay, rebuild, sweep, backfill, alerts',
  },
  {
    name: 'composition',
    path: '^runtime/[^/]+\\.ts$',
    what: 'createRuntime and the HTTP app: they wire the stages together',
  },
];

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.name}`,
  severity: 'error',
  comment: `runtime ${layer.name} (${layer.what}) imports only its own layer and those below it (${
    LAYERS.slice(0, i)
      .map((l) => l.name)
      .join(', ') || 'none'
  }), never ${LAYERS.slice(i + 1)
    .map((l) => l.name)
    .join(', ')}. Move what both need below both.`,
  from: { path: layer.path },
  to: { path: LAYERS.slice(i + 1).map((l) => l.path) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other in a loop; move the shared part below both.',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'vocabulary-imports-nothing',
      severity: 'error',
      comment:
        'The vocabulary (statuses, generated types) is declarations that every layer may name, so it imports nothing of the runtime.',
      from: { path: LAYERS[0].path },
      to: { path: '^runtime/' },
    },
    {
      name: 'components-know-no-stage',
      severity: 'error',
      comment:
        'An adapter is a component: it stands on the contract (component/) and what is below it, the store and the manifest, and never on a stage (event, consumer, edge, operations) or the composition: stages call components, not the other way round.',
      from: { path: '^adapters/' },
      to: { path: LAYERS.slice(LAYERS.findIndex((l) => l.name === 'event')).map((l) => l.path) },
    },
    {
      name: 'core-knows-no-provider',
      severity: 'error',
      comment:
        'The runtime core never imports an adapter or the composition root: providers reach it through the registry.',
      from: { path: '^runtime/' },
      to: { path: '^(adapters|worker)/' },
    },
    {
      name: 'cli-not-in-worker',
      severity: 'error',
      comment: 'The Worker bundles runtime/, adapters/ and worker/; none of them may pull in CLI (Node) code.',
      from: { path: '^(runtime|adapters|worker)/' },
      to: { path: '^cli/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.switchyard)' },
  },
};

// For test/node/layers.test.ts; not enumerable, so dependency-cruiser's own config check does not see it.
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
