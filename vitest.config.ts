import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { build } from './cli/commands/build.ts';
import { offlineEngine } from './test/support/offline-engine.ts';
import { TEST_SECRETS } from './test/support/secrets.ts';

// The Worker bundles .switchyard/manifests.json; build it before anything imports the Worker.
const built = build();
const examples = build('examples/more-providers.yaml', 'examples.json');
if (!examples.ok) throw new Error(`example manifest build failed:\n${examples.messages.join('\n')}`);
if (!built.ok) throw new Error(`switchyard build failed:\n${built.messages.join('\n')}`);
const migrations = await readD1Migrations('./migrations');

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // OFFLINE_ENGINE: the Node side of the manifest-tests agreement test (switchyard test's engine).
            miniflare: { bindings: { TEST_MIGRATIONS: migrations, TEST_SECRETS, ...TEST_SECRETS }, serviceBindings: { OFFLINE_ENGINE: offlineEngine } },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/worker/**/*.test.ts'],
          setupFiles: ['test/support/apply-migrations.ts'],
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
