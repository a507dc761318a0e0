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
    testTimeout: 20_000,
  },
});
