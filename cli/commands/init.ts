/**
 * `switchyard init <dir>` (and `npm create switchyard@latest <dir>`): a new project that holds only the user's
 * things: the manifest, wrangler.toml, its own migrations/, tests/, .dev.vars.example, a CI workflow and a
 * package.json whose scripts call the package. The runtime, its migrations, adapters and catalog stay in
 * node_modules/switchyard, so `npm update switchyard` is the upgrade. Runs on Node 20 (cli/bin.ts loads it alone).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../lib/args.ts';
import { defineCommand, parseCommand } from '../lib/command.ts';
import { PACKAGE_ROOT } from '../lib/project.ts';
import { MANIFEST_VERSION } from '../../runtime/manifest/sections/manifest.ts';

export const TEMPLATES = ['cookbook', 'empty'] as const;

export const initSpec = defineCommand({
  name: 'init',
  summary: 'make a new project that uses switchyard as a package (npm create switchyard)',
  description: `Makes a new project in DIR holding only what is yours: integrations.yaml, wrangler.toml, migrations/ (your
tables; the runtime's are migrated by the package), tests/, .dev.vars.example, a CI workflow, a README and a
package.json whose dev, test, validate and deploy scripts call switchyard. npm create switchyard@latest DIR runs it.

The manifest starts from a template (cookbook: this package's own example app, with its tables, templates and
tests; empty: no integration), or from providers picked from the catalog (--providers stripe,clerk). Then: cd DIR,
npm install, npm run dev.`,
  arguments: [{ name: '<DIR>', description: 'the new project folder (it must not exist, or be empty)' }],
  flags: {
    template: {
      type: 'string',
      value: 'NAME',
      default: 'cookbook',
      description: 'the starting point: cookbook or empty (ignored with --providers)',
    },
    providers: {
      type: 'string',
      value: 'LIST',
      description:
        'catalog providers to start from, comma-separated (stripe,clerk): each gets a route, its verifier and its secrets',
    },
    name: {
      type: 'string',
      value: 'NAME',
      defaultText: "the folder's name",
      description: "the project's (and the Worker's) name",
    },
    switchyard: {
      type: 'string',
      value: 'SPEC',
      defaultText: "^ this package's version",
      description: 'what package.json asks npm for (a version range, or a path to a packed tarball)',
    },
  },
  exclusive: [['template', 'providers']],
  examples: [
    {
      command: 'npm create switchyard@latest my-app',
      does: 'a project with the cookbook app, ready for npm install && npm run dev',
    },
    {
      command: 'npx switchyard init my-app --providers stripe,clerk',
      does: 'a project receiving Stripe and Clerk webhooks, nothing else',
    },
  ],
});

interface PackageJson {
  version: string;
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
  engines?: Record<string, string>;
}

const packageJson = () => JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;

interface CatalogPreset {
  name: string;
  title?: string;
  secrets?: Record<string, string>;
  sample?: { type?: string };
}

/** A provider's preset, or a usage error naming the catalog's providers. */
function preset(name: string): CatalogPreset {
  const file = join(PACKAGE_ROOT, 'catalog', `${name}.yaml`);
  if (!existsSync(file)) {
    const known = readdirSync(join(PACKAGE_ROOT, 'catalog'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''));
    throw new UsageError(`no provider "${name}" in the catalog (switchyard providers lists them): ${known.join(', ')}`);
  }
  return parse(readFileSync(file, 'utf8')) as CatalogPreset;
}

/** A development value for a secret: this package's own where it has one, else a placeholder. */
function devValue(name: string): string {
  const own = readFileSync(join(PACKAGE_ROOT, '.dev.vars.example'), 'utf8').match(new RegExp(`^${name}=(.*)$`, 'm'));
  return own ? own[1]! : `dev_${name.toLowerCase()}`;
}

const SCHEMA_LINE = '# yaml-language-server: $schema=./node_modules/switchyard/schemas/manifest.schema.json';

/** The manifest for picked providers: each on /webhooks/<name>, queued, with no handler yet. */
function providersManifest(names: string[]): string {
  return [
    SCHEMA_LINE,
    '#',
    '# Your integrations. `provider: <name>` takes the verifier, envelope and any handshake from the catalog',
    '# (`npx switchyard providers <name>`); add handlers to project events into your tables (migrations/).',
    '# Check it with `npm run validate`. Reference: node_modules/switchyard/docs/manifest.md.',
    `version: ${MANIFEST_VERSION}`,
    '',
    'queues:',
    '  events:',
    '    binding: EVENTS_QUEUE',
    '    dead_letter: EVENTS_DLQ',
    '',
    names.length ? 'integrations:' : 'integrations: {}',
    ...names.flatMap((name) => [
      `  ${name.replace(/-/g, '_')}:`,
      `    provider: ${name}`,
      `    route: /webhooks/${name}`,
      '    queue: events',
      '',
    ]),
  ].join('\n');
}

/** wrangler.toml for a project without the cookbook: the event store, the events queue and its dead letters. */
function wranglerToml(name: string): string {
  const own = readFileSync(join(PACKAGE_ROOT, 'wrangler.toml'), 'utf8');
  const date = own.match(/^compatibility_date = "([^"]+)"/m)![1]!;
  return `# One runtime per environment: \`npm run deploy\` (SWITCHYARD_ENV=default); add [env.production] tables to split.
name = "${name}"
# The Worker entry \`switchyard build\` writes (your manifest, built, handed to the package's runtime).
main = ".switchyard/worker.ts"
compatibility_date = "${date}"
compatibility_flags = ["nodejs_compat"]
minify = true
upload_source_maps = true

[observability]
enabled = true

# The sweep (lapsed leases, stuck events), retention and alerts.
[triggers]
crons = ["*/10 * * * *"]

[vars]
SWITCHYARD_ENV = "default"

[[d1_databases]]
binding = "DB"
database_name = "${name}"
# \`npx wrangler d1 create ${name}\` prints the id to put here.
database_id = "00000000-0000-4000-8000-000000000000"
migrations_dir = "migrations"

[[queues.producers]]
binding = "EVENTS_QUEUE"
queue = "${name}-events"

[[queues.producers]]
binding = "EVENTS_DLQ"
queue = "${name}-events-dlq"

[[queues.consumers]]
queue = "${name}-events"
max_batch_size = 10
max_batch_timeout = 1
max_retries = 10
dead_letter_queue = "${name}-events-dlq"

[[queues.consumers]]
queue = "${name}-events-dlq"
max_retries = 10
`;
}

const WORKFLOW = `# Validate, test and bundle on every push (the deploy itself: npm run deploy, with CLOUDFLARE_API_TOKEN).
name: switchyard
on: [push, pull_request]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: { node-version: 22 }
      - run: npm ci
      - run: npm run validate
      - run: npm test
      - run: npx switchyard build && npx wrangler deploy --dry-run --outdir .switchyard/dry-run
`;

const GITIGNORE = 'node_modules/\n.switchyard/\n.wrangler/\n.dev.vars\n';

function readme(name: string): string {
  return `# ${name}

Webhooks, queues and D1 projections from one manifest, \`integrations.yaml\`, served by
[switchyard](https://www.npmjs.com/package/switchyard).

\`\`\`sh
npm install && npm run dev   # serves http://localhost:8787 with local D1, KV and Queues (wrangler dev)
npm test                     # the manifest's own tests (tests/*.test.yaml)
\`\`\`

\`npm run validate\` checks the manifest, \`npm run deploy\` migrates the remote D1 and deploys. Upgrading switchyard
is \`npm update switchyard\`: the next \`npm run dev\` or \`npm run deploy\` applies its new runtime migrations.
`;
}

/** Writes the project; returns the files written (relative), for the summary. */
export function initProject(
  dir: string,
  options: { template?: string; providers?: string[]; name?: string; switchyard?: string },
): string[] {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length) throw new UsageError(`${dir} exists and is not empty`);
  const template = options.template ?? 'cookbook';
  if (!options.providers && !(TEMPLATES as readonly string[]).includes(template))
    throw new UsageError(`--template ${template}: one of ${TEMPLATES.join(', ')}`);
  const name = (options.name ?? basename(target)).toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const own = packageJson();
  const written: string[] = [];
  const write = (file: string, text: string) => {
    mkdirSync(join(target, file, '..'), { recursive: true });
    writeFileSync(join(target, file), text);
    written.push(file);
  };
  const copy = (from: string, to = from) => {
    cpSync(join(PACKAGE_ROOT, from), join(target, to), { recursive: true });
    written.push(to);
  };

  if (template === 'cookbook' && !options.providers) {
    // This package's own app: its manifest, tables, templates, tests and secrets, its wrangler.toml renamed.
    write(
      'integrations.yaml',
      readFileSync(join(PACKAGE_ROOT, 'integrations.yaml'), 'utf8').replace(
        /^# yaml-language-server: .*$/m,
        SCHEMA_LINE,
      ),
    );
    const toml = readFileSync(join(PACKAGE_ROOT, 'wrangler.toml'), 'utf8')
      .replace(
        /^main = .*$/m,
        '# The Worker entry `switchyard build` writes (your manifest, built, handed to the package\'s runtime).\nmain = ".switchyard/worker.ts"',
      )
      .replace(/"switchyard(-[a-z-]+)?"/g, (_, rest: string | undefined) => `"${name}${rest ?? ''}"`);
    write('wrangler.toml', toml);
    copy('migrations');
    copy('templates');
    copy('tests');
    copy('samples');
    copy('.dev.vars.example');
  } else {
    const picked = options.providers ?? [];
    const presets = picked.map(preset);
    write('integrations.yaml', providersManifest(picked));
    write('wrangler.toml', wranglerToml(name));
    write(
      'migrations/README.md',
      "# Your tables\n\nD1 migrations for the tables your handlers write (`0001_<what>.sql`, ...), applied by `npm run dev`\nand `npm run deploy` after the runtime's own. switchyard's tables are migrated by the package.\n",
    );
    write(
      'tests/README.md',
      "# Your manifest's tests\n\n`<name>.test.yaml` files here run with `npm test` (`switchyard test`): see\nnode_modules/switchyard/docs/testing.md.\n",
    );
    // A first test per provider: its catalog sample, signed with the development secret, is accepted.
    for (const p of presets.filter((p) => p.sample?.type)) {
      const key = p.name.replace(/-/g, '_');
      write(
        `tests/${p.name}.test.yaml`,
        `integration: ${key}\ncases:\n  - name: a signed ${p.sample!.type} is verified and recorded\n    events:\n      - sample: ${p.sample!.type}\n        expect: { http: 200 }\n`,
      );
    }
    const secrets = presets.flatMap((p) => Object.keys(p.secrets ?? {}));
    write(
      '.dev.vars.example',
      [
        '# Local secrets for `npm run dev` (copied to .dev.vars, which git ignores, on first run).',
        '# Development values only; set real ones with `npx wrangler secret put NAME`.',
        ...secrets.map((s) => `${s}=${devValue(s)}`),
        '',
      ].join('\n'),
    );
  }

  const version = (dep: string) => own.devDependencies[dep]!;
  write(
    'package.json',
    `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        scripts: {
          dev: 'switchyard dev',
          test: 'switchyard test',
          validate: 'switchyard validate',
          build: 'switchyard build',
          migrate: 'switchyard migrate',
          deploy: 'switchyard build && switchyard migrate --remote && wrangler deploy',
          switchyard: 'switchyard',
        },
        devDependencies: {
          // Wrangler 4 needs Node >= 22.12: the npm package `node` runs every npm script on Node 24, whatever is installed.
          node: version('node'),
          switchyard: options.switchyard ?? `^${own.version}`,
          wrangler: version('wrangler'),
        },
        // npm runs only these packages' install scripts: node's fetches Node 24, esbuild's and workerd's their binaries.
        allowScripts: own.allowScripts ?? {},
      },
      null,
      2,
    )}\n`,
  );
  write('README.md', readme(name));
  write('.gitignore', GITIGNORE);
  write('.github/workflows/switchyard.yml', WORKFLOW);
  return written;
}

export async function initCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommand(initSpec, args);
    const dir = positionals[0];
    if (!dir) throw new UsageError('name the new project folder: switchyard init my-app');
    const providers = values.providers
      ?.split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    initProject(dir, {
      template: values.template,
      ...(providers ? { providers } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values.switchyard ? { switchyard: values.switchyard } : {}),
    });
    console.log(`made ${dir}. Next:\n\n  cd ${dir}\n  npm install && npm run dev\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`switchyard init: ${error.message}\nrun \`switchyard init --help\` for its flags`);
    return 2;
  }
}
