/**
 * `switchyard migrate [--local | --remote] [--env NAME]`: brings a D1 database's tables up to this version of
 * switchyard. First the runtime's own (runtime/migrations/d1, recorded in `switchyard_migrations`), then the
 * project's `migrations/` (`wrangler d1 migrations apply`, recorded in wrangler's `d1_migrations`). `switchyard dev`
 * runs the same for the local database, and a project's `npm run deploy` runs `migrate --remote` before deploying.
 * With `--postgres URL` it migrates the runtime's tables in a Postgres store instead.
 */
import { defineCommand, parseCommand } from '../lib/command.ts';
import { applyLocalMigrations } from '../lib/dev-migrations.ts';
import { migrateD1 } from '../lib/migrate-d1.ts';
import { migratePostgresUrl } from '../lib/migrate-postgres.ts';
import { projectFor } from '../lib/project.ts';
import { captureWrangler } from '../lib/wrangler.ts';

export const migrateSpec = defineCommand({
  name: 'migrate',
  summary: "apply the runtime's migrations, then the project's, to D1 (local or remote) or a Postgres store",
  description: `Brings a database up to this version of switchyard, keeping every row. First the runtime's own
tables (events, effects, dead letters, ...: the package's runtime/migrations/d1, recorded in the database's
switchyard_migrations table), then the project's migrations/ (wrangler d1 migrations apply, recorded in d1_migrations).
A database built when both lived in one migrations/ folder is recognised and only what it lacks runs.

switchyard dev runs it for the local database; a project's npm run deploy runs migrate --remote before wrangler deploy.
With --postgres it migrates the runtime's table in a Postgres store (switchyard_applied) instead.`,
  flags: {
    local: { type: 'boolean', description: 'the local database of wrangler dev (the default)' },
    remote: { type: 'boolean', description: "the environment's D1 database in your Cloudflare account" },
    env: { type: 'string', value: 'NAME', description: 'the wrangler environment ([env.NAME] in wrangler.toml)' },
    database: {
      type: 'string',
      value: 'BINDING',
      default: 'DB',
      description: 'the D1 binding that holds the event store',
    },
    'persist-to': { type: 'string', value: 'DIR', description: 'the local state folder (as given to wrangler dev)' },
    'runtime-only': { type: 'boolean', description: "apply only the runtime's migrations, not the project's" },
    postgres: {
      type: 'string',
      value: 'URL',
      description: "a Postgres connection string: migrate the runtime's tables there instead of D1",
    },
  },
  exclusive: [['local', 'remote', 'postgres']],
  examples: [
    { command: 'switchyard migrate', does: 'the local D1 database: runtime tables, then the project’s migrations' },
    { command: 'switchyard migrate --remote --env production', does: 'the production D1 database' },
  ],
});

export async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(migrateSpec, args);
  if (values.postgres !== undefined) {
    const result = await migratePostgresUrl(values.postgres);
    (result.ok ? console.log : console.error)(result.message);
    return result.ok ? 0 : 1;
  }
  const project = projectFor();
  const shared = [
    ...(values.env !== undefined ? ['--env', values.env] : []),
    ...(values['persist-to'] !== undefined ? ['--persist-to', values['persist-to']] : []),
  ];
  const where = values.remote ? '--remote' : '--local';
  const runtime = await migrateD1({ cwd: project.root, database: values.database, args: [where, ...shared] });
  (runtime.ok ? console.log : console.error)(runtime.message);
  if (!runtime.ok || values['runtime-only']) return runtime.ok ? 0 : 1;
  if (!values.remote) {
    const own = await applyLocalMigrations(project.root, shared, values.database);
    (own.ok ? console.log : console.error)(own.message);
    return own.ok ? 0 : 1;
  }
  const { code, output } = await captureWrangler(
    ['d1', 'migrations', 'apply', values.database, '--remote', ...shared],
    { cwd: project.root, env: { ...process.env, CI: 'true' } },
  );
  (code === 0 ? console.log : console.error)(
    code === 0 ? `[switchyard] D1 ${values.database} (remote): project migrations applied` : output.trimEnd(),
  );
  return code === 0 ? 0 : 1;
}
