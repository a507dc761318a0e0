import { defineConfig } from 'vitest/config';
import { UNIT_TESTS } from './test/support/unit-tests.ts';

// The edit-loop tier (`npm run test:unit`, under 20 s): the tests beside pure modules, and the in-process `validate`
// and `switchyard test` checks. No workerd, no wrangler, no spawned CLI, and none of vitest.config.ts's set-up (the
// manifests it builds, the caller Worker it bundles, the migrations it reads). `npm test` runs these files too.
export default defineConfig({
  test: {
    name: 'unit',
    include: UNIT_TESTS,
    environment: 'node',
    // Threads start faster than forked processes, and one module graph per worker (no isolation) means the CLI and
    // the runtime are loaded, and their TypeScript stripped, once per worker rather than once per file: about half
    // the wall clock. These tests mock no modules and change no process-wide state, so nothing leaks between files.
    pool: 'threads',
    isolate: false,
    testTimeout: 20_000,
  },
});
