/**
 * The import rules `npm run check` enforces (dependency-cruiser). Type-only imports count: a cycle through types
 * still ties modules together.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Modules import each other in a loop; move the shared part below both.', from: {}, to: { circular: true } },
    { name: 'core-knows-no-provider', severity: 'error', comment: 'The runtime core never imports an adapter or the composition root: providers reach it through the registry.', from: { path: '^runtime/' }, to: { path: '^(adapters|worker)/' } },
    { name: 'contract-below-stages', severity: 'error', comment: 'runtime/component is the contract every stage builds on: it imports only the manifest languages and lib/, never a stage (edge, consumer, operations), the store or the CLI.', from: { path: '^runtime/component/' }, to: { path: '^(runtime/(edge|consumer|operations|store)|cli|adapters|worker)/' } },
    { name: 'lib-at-the-bottom', severity: 'error', comment: 'runtime/lib is small libraries: it imports nothing else of the runtime but the status vocabulary (telemetry names statuses).', from: { path: '^runtime/lib/' }, to: { path: '^(runtime/(component|edge|consumer|operations|store|manifest)|cli|adapters|worker)/', pathNot: '^runtime/store/status\\.ts$' } },
    { name: 'cli-not-in-worker', severity: 'error', comment: 'The Worker bundles runtime/, adapters/ and worker/; none of them may pull in CLI (Node) code.', from: { path: '^(runtime|adapters|worker)/' }, to: { path: '^cli/' } },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.switchyard)' },
  },
};
