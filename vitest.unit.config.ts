import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { UNIT_TESTS } from './test/support/unit-tests.ts';

// The edit-loop tier (`npm run test:unit`, under 20 s): the tests beside their modules, and the test/node/ checks
// that run in-process (test/support/unit-tests.ts). No workerd, no wrangler, no browser, no spawned CLI, and none
// of vitest.config.ts's set-up (the manifests it builds, the caller Worker it bundles, the migrations it reads).
// `npm test` runs these files too.
export default defineConfig({
  test: {
    name: 'unit',
    include: UNIT_TESTS,
    environment: 'node',
    // Threads start faster than forked processes, and one module graph per worker (no isolation) means the CLI and
    // the runtime are loaded, and their TypeScript stripped, once per worker rather than once per file: about half
    // the wall clock. These tests mock no modules, and restore the process-wide state they change (the conformance matrix's
    // environment variables and console), so nothing leaks between files.
    pool: 'threads',
    isolate: false,
    // Every core: vitest's default leaves one for its main thread (a single worker on a 2-core machine), which here
    // only collects results.
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 20_000,
  },
});
