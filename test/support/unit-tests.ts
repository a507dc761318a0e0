/**
 * The fast tier's files, shared by vitest.unit.config.ts (`npm run test:unit`) and vitest.config.ts (`npm test`),
 * so nothing runs only in the fast tier. Tests beside their modules (`runtime/language/sql.test.ts`,
 * `adapters/verifiers/stripe.test.ts`) are pure; the in-process checks that read across modules live under test/node/.
 */
export const BESIDE_MODULES = ['runtime/**/*.test.ts', 'adapters/**/*.test.ts', 'cli/**/*.test.ts'];

/**
 * test/node/ files that run in this process, with no wrangler, browser or spawned CLI: the
 * source checks (casts, status literals, lazy compilation, the figures docs state), `validate`, `send` and
 * `switchyard test` called in-process, the catalog's conformance and the conformance matrix.
 */
export const IN_PROCESS = [
  'test/node/type-casts.test.ts',
  'test/node/status-literals.test.ts',
  'test/node/compile-lazy.test.ts',
  'test/node/console-docs.test.ts',
  'test/node/counters-doc.test.ts',
  'test/node/validate.test.ts',
  'test/node/validate-verifiers.test.ts',
  'test/node/manifest-test.test.ts',
  'test/node/manifest-defaults.test.ts',
  'test/node/decide.test.ts',
  'test/node/offline-engine.test.ts',
  'test/node/catalog.test.ts',
  'test/node/secret-rotation.test.ts',
  'test/node/cli-signing.test.ts',
  'test/node/conformance-matrix.test.ts',
];

export const UNIT_TESTS = [...BESIDE_MODULES, ...IN_PROCESS];
