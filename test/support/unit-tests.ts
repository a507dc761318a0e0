/**
 * The fast tier's files, shared by vitest.unit.config.ts (`npm run test:unit`) and vitest.config.ts (`npm test`),
 * so nothing runs only in the fast tier. Tests beside their modules (`runtime/manifest/sql.test.ts`) are pure; the
 * in-process CLI checks live under test/node/.
 */
export const BESIDE_MODULES = ['runtime/**/*.test.ts', 'cli/**/*.test.ts'];

/** test/node/ files that read the sources (casts, status literals) or run the CLI's commands in-process (no spawn, no workerd). */
export const IN_PROCESS_CLI = ['test/node/type-casts.test.ts', 'test/node/status-literals.test.ts', 'test/node/validate.test.ts', 'test/node/validate-verifiers.test.ts', 'test/node/manifest-test.test.ts', 'test/node/manifest-defaults.test.ts'];

export const UNIT_TESTS = [...BESIDE_MODULES, ...IN_PROCESS_CLI];
