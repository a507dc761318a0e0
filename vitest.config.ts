import { readdirSync, readFileSync } from 'node:fs';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { buildSync } from 'esbuild';
import { build } from './cli/commands/build.ts';
import { offlineEngine } from './test/support/offline-engine.ts';
import { matrixService } from './test/support/matrix.ts';
import { TEST_SECRETS } from './test/support/secrets.ts';
import { BESIDE_MODULES } from './test/support/unit-tests.ts';

// The Worker bundles .switchyard/manifests.json; build it before anything imports the Worker.
const built = build();
const examples = build('examples/more-providers.yaml', 'examples.json');
if (!examples.ok) throw new Error(`example manifest build failed:\n${examples.messages.join('\n')}`);
const forward = build('examples/forward.yaml', 'forward.json');
if (!forward.ok) throw new Error(`examples/forward.yaml build failed:\n${forward.messages.join('\n')}`);
if (!built.ok) throw new Error(`switchyard build failed:\n${built.messages.join('\n')}`);
// The runtime's tables (runtime/migrations/d1, named apart so they never collide with the project's), then the cookbook's.
const migrations = [
  ...(await readD1Migrations('./runtime/migrations/d1')).map((m) => ({ ...m, name: `switchyard/${m.name}` })),
  ...(await readD1Migrations('./migrations')),
];
// The application's Worker, calling switchyard through a Service Binding with the generated client (test/worker/commands-rpc.test.ts).
const caller = buildSync({
  entryPoints: ['test/support/caller-worker.ts'],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
}).outputFiles[0]!.text;
// The Postgres suite (test/worker/postgres.test.ts) runs when a Postgres answers at SWITCHYARD_PG_URL
// (scripts/postgres-test.sh starts one): the Worker reaches it through miniflare's Hyperdrive binding, over TCP.
const pgUrl = process.env.SWITCHYARD_PG_URL;
if (process.env.SWITCHYARD_PG_REQUIRED && !pgUrl)
  throw new Error(
    'SWITCHYARD_PG_REQUIRED is set but SWITCHYARD_PG_URL is not: start Postgres with scripts/postgres-test.sh',
  );
const postgres = build('examples/postgres.yaml', 'postgres.json');
const pgMigrations = readdirSync('examples/postgres-migrations')
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => readFileSync(`examples/postgres-migrations/${f}`, 'utf8'));
if (!postgres.ok) throw new Error(`examples/postgres.yaml build failed:\n${postgres.messages.join('\n')}`);

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // MATRIX: the Node side of the conformance matrix (rows, plan --budget's figures, freshly signed samples).
            // OFFLINE_ENGINE: the Node side of the manifest-tests agreement test (switchyard test's engine); CALLER: the
            // application's Worker, calling switchyard through a Service Binding (test/worker/commands-rpc.test.ts).
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                TEST_SECRETS,
                ...TEST_SECRETS,
                ...(pgUrl ? { TEST_PG_MIGRATIONS: pgMigrations } : {}),
              },
              serviceBindings: { OFFLINE_ENGINE: offlineEngine, MATRIX: matrixService, CALLER: 'caller' },
              ...(pgUrl ? { hyperdrives: { HYPERDRIVE: pgUrl } } : {}),
              workers: [
                {
                  name: 'caller',
                  modules: true,
                  script: caller,
                  compatibilityDate: '2026-11-01',
                  // The Worker under test runs as the pool's runner, named after this project ("workers").
                  serviceBindings: {
                    SWITCHYARD: { name: 'vitest-plugin-runner-workers', entrypoint: 'SwitchyardEntrypoint' },
                  },
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
          // The tests beside pure modules run here too (and alone, fast, in vitest.unit.config.ts: `npm run test:unit`).
          include: ['test/node/**/*.test.ts', ...BESIDE_MODULES],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
