/**
 * The import rules `npm run check` enforces (dependency-cruiser). Type-only imports count: a cycle through types
 * still ties modules together.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Modules import each other in a loop; move the shared part below both.', from: {}, to: { circular: true } },
    { name: 'core-knows-no-provider', severity: 'error', comment: 'The runtime core never imports an adapter or the composition root: providers reach it through the registry.', from: { path: '^runtime/' }, to: { path: '^(adapters|worker)/' } },
    { name: 'contract-below-stages', severity: 'error', comment: 'runtime/component is the contract every stage builds on: it imports no stage (edge, operations) and no CLI.', from: { path: '^runtime/component/' }, to: { path: '^(runtime/(edge|operations)|cli|adapters|worker)/' } },
    { name: 'cli-not-in-worker', severity: 'error', comment: 'The Worker bundles runtime/, adapters/ and worker/; none of them may pull in CLI (Node) code.', from: { path: '^(runtime|adapters|worker)/' }, to: { path: '^cli/' } },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.switchyard)' },
  },
};
