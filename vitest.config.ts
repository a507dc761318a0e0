import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { buildSync } from 'esbuild';
import { build } from './cli/commands/build.ts';
import { TEST_SECRETS } from './test/support/secrets.ts';

// The Worker bundles .switchyard/manifests.json; build it before anything imports the Worker.
const built = build();
const examples = build('examples/more-providers.yaml', 'examples.json');
if (!examples.ok) throw new Error(`example manifest build failed:\n${examples.messages.join('\n')}`);
if (!built.ok) throw new Error(`switchyard build failed:\n${built.messages.join('\n')}`);
const migrations = await readD1Migrations('./migrations');
// The application's Worker, calling switchyard through a Service Binding with the generated client (test/worker/commands-rpc.test.ts).
const caller = buildSync({ entryPoints: ['test/support/caller-worker.ts'], bundle: true, format: 'esm', platform: 'neutral', write: false }).outputFiles[0]!.text;

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { TEST_MIGRATIONS: migrations, TEST_SECRETS, ...TEST_SECRETS },
              serviceBindings: { CALLER: 'caller' },
              workers: [
                {
                  name: 'caller',
                  modules: true,
                  script: caller,
                  compatibilityDate: '2026-11-01',
                  // The Worker under test runs as the pool's runner, named after this project ("workers").
                  serviceBindings: { SWITCHYARD: { name: 'vitest-plugin-runner-workers', entrypoint: 'SwitchyardEntrypoint' } },
                },
              ],
            },
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
