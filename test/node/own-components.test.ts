/**
 * A project's own component, end to end through the CLI: a temporary project (manifest + components/notify-team.ts,
 * wrangler.toml, migrations) whose manifest names the file under `components:`. validate knows its options, a name
 * clash with a built-in is refused, `switchyard test` runs it, the editor schema has it, and the build's registry
 * module imports it so the Worker bundle (esbuild, as wrangler bundles the entry) carries it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { cli, projectWith, ROOT } from '../support/project.ts';

const component = (name: string, exportName = 'notifyTeam') => `
import { defineComponent } from '${ROOT}/runtime/component/define.ts';
import { field } from '${ROOT}/runtime/component/spec.ts';
import { readSecrets } from '${ROOT}/runtime/component/context.ts';
import { providerError } from '${ROOT}/runtime/component/action.ts';

export const ${exportName} = defineComponent({
  kind: 'action',
  name: '${name}',
  title: '${exportName[0]!.toUpperCase()}${exportName.slice(1)}Action',
  description: 'Tells the team channel.',
  spec: {
    token: field.secret(),
    message: field.string({ minLength: 1 }),
    level: field.enum(['info', 'urgent']).default('info'),
  },
  example: { action: '${name}', token: 'SLACK_BOT_TOKEN', message: 'hello' },
  create(options) {
    const level: 'info' | 'urgent' = options.level;
    return {
      type: '${name}',
      maxBatch: 1,
      prepare: () => ({ message: options.message, level }),
      async send(items, io) {
        const [token] = readSecrets(io.env, options.token);
        return Promise.all(items.map(async (item) => {
          const res = await io.fetch('https://team.example/notify', { method: 'POST', headers: { authorization: 'Bearer ' + token }, body: JSON.stringify(item.payload) });
          return res.ok ? { ok: true as const, result: { notified: true } } : { ok: false as const, error: await providerError('${name}', res, io.now) };
        }));
      },
    };
  },
});
`;

const manifest = (step: string, components = ['./components/notify-team.ts']) => `version: 2
components:
${components.map((c) => `  - ${c}`).join('\n')}
queues:
  events: { binding: EVENTS_QUEUE, dead_letter: EVENTS_DLQ }
integrations:
  stripe:
    provider: stripe
    route: /webhooks/stripe
    queue: events
    handlers:
      - on: invoice.payment_failed
        steps:
          - action: notify-team
            token: SLACK_BOT_TOKEN
${step}
`;

const GOOD = '            message: a payment failed\n            level: urgent';

const testFile = `integration: stripe
now: 2026-01-01T00:00:00Z
cases:
  - name: a failed payment tells the team
    events:
      - json: { id: evt_1, object: event, type: invoice.payment_failed, created: 1767225600, data: { object: { id: in_1 } } }
        expect: { http: 200, event: applied }
    expect:
      effects:
        - action: notify-team
          status: sent
          attempts: 1
          payload: { message: a payment failed, level: urgent }
`;

/** A temporary project holding the manifest, its component file and its tests. */
function project(step = GOOD, components?: string[]): string {
  const file = projectWith(manifest(step, components));
  mkdirSync(join(dirname(file), 'components'));
  writeFileSync(join(dirname(file), 'components/notify-team.ts'), component('notify-team'));
  mkdirSync(join(dirname(file), 'tests'));
  writeFileSync(join(dirname(file), 'tests/notify.test.yaml'), testFile);
  return file;
}

/** line:column (1-based) of the first `text` in `file`. */
function positionOf(file: string, text: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `${line + 1}:${lines[line]!.indexOf(text) + 1}`;
}

describe("a project's own action", () => {
  it('validates, and validate checks its options at file:line:col like a built-in', () => {
    expect(cli(['validate', project()]).code).toBe(0);
    const typo = project('            mesage: a payment failed');
    const bad = cli(['validate', typo]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `integrations.yaml:${positionOf(typo, 'mesage')}: error [default, staging, production]: integrations.stripe.handlers[0].steps[0].mesage: unknown key "mesage" (did you mean "message"?)`,
    );
    const wrongType = project('            message: a payment failed\n            level: loud');
    const wrong = cli(['validate', wrongType]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      new RegExp(`integrations\\.yaml:${positionOf(wrongType, 'loud')}: error .*steps\\[0\\]\\.level: .*(info|urgent)`),
    );
    // Its secret option is a secret like a built-in's: it must be declared for development.
    const undeclared = project();
    writeFileSync(undeclared, readFileSync(undeclared, 'utf8').replace('token: SLACK_BOT_TOKEN', 'token: TEAM_TOKEN'));
    const secret = cli(['validate', '--env', 'default', undeclared]);
    expect(secret.code).toBe(1);
    expect(secret.stderr).toContain(
      `integrations.yaml:${positionOf(undeclared, 'TEAM_TOKEN')}: error [default]: integrations.stripe.handlers[0].steps[0].token: secret TEAM_TOKEN is not declared in .dev.vars.example`,
    );
  });

  it('is read by plan: a new secret it reads is named', () => {
    const file = project();
    const before = join(dirname(file), 'before.yaml');
    writeFileSync(before, readFileSync(file, 'utf8').replace('token: SLACK_BOT_TOKEN', 'token: SLACK_SIGNING_SECRET'));
    const plan = cli(['plan', '--from', before, file]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('! new secret SLACK_BOT_TOKEN');
  });

  it('is refused at its components: entry when it takes a built-in name', () => {
    const file = project(GOOD, ['./components/notify-team.ts', './components/http.ts']);
    writeFileSync(join(dirname(file), 'components/http.ts'), component('http', 'myHttp'));
    const result = cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `integrations.yaml:${positionOf(file, './components/http.ts')}: error [default]: components[1]: action "http" (./components/http.ts, export myHttp) has the name of a built-in action: give it another name`,
    );
  });

  it('names a missing file at its entry', () => {
    const file = project(GOOD, ['./components/notify-team.ts', './components/gone.ts']);
    const result = cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `integrations.yaml:${positionOf(file, './components/gone.ts')}: error [default]: components[1]: component file ./components/gone.ts not found`,
    );
  });

  it('runs in switchyard test: the case sees it sent', () => {
    const file = project();
    const passing = cli(['test', file, '--coverage=strict']);
    expect(passing.code, passing.stdout + passing.stderr).toBe(0);
    expect(passing.stdout).toContain('✓ tests/notify.test.yaml › a failed payment tells the team');
    // The same case fails when the action sends something else: the assertion is on what it did.
    const other = project('            message: something else\n            level: urgent');
    const failing = cli(['test', other]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('✗ tests/notify.test.yaml › a failed payment tells the team');
  });

  it('is in the schema the editor gets from switchyard types --schema', () => {
    const file = project();
    const out = join(dirname(file), '.switchyard/manifest.schema.json');
    expect(cli(['types', '--schema', out, file]).code).toBe(0);
    const schema = readFileSync(out, 'utf8');
    const branch = (JSON.parse(schema) as { definitions: Record<string, unknown> }).definitions;
    expect(JSON.stringify(branch)).toContain('"title":"NotifyTeamAction"');
    expect(schema).toContain('"const": "notify-team"');
  });

  it('is bundled into the Worker by switchyard build, and one the manifest does not use is not', async () => {
    const file = project(GOOD, ['./components/notify-team.ts', './components/page-oncall.ts']);
    const dir = dirname(file);
    writeFileSync(join(dir, 'components/page-oncall.ts'), component('page-oncall', 'pageOncall'));
    const built = cli(['build', '--quiet', file]);
    expect(built.code, built.stderr).toBe(0);
    const registry = readFileSync(join(dir, '.switchyard/manifests.registry.ts'), 'utf8');
    expect(registry).toContain('import { notifyTeam as own0_notifyTeam } from "../components/notify-team.ts";');
    expect(registry).toMatch(/createRegistry\(\[.*own0_notifyTeam\]\)/);
    expect(registry).not.toContain('pageOncall');
    // The Worker entry as wrangler bundles it, reading this project's build output instead of the checkout's.
    const redirect: Plugin = {
      name: 'project-build',
      setup(b) {
        b.onResolve({ filter: /\.switchyard\// }, (args) => ({ path: join(dir, '.switchyard', basename(args.path)) }));
      },
    };
    const result = await build({
      entryPoints: [join(ROOT, 'worker/index.ts')],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      conditions: ['workerd', 'worker'],
      external: ['cloudflare:*'],
      logLevel: 'silent',
      plugins: [redirect],
    });
    const inputs = Object.keys(result.metafile.inputs).map((f) => resolve(ROOT, f));
    expect(inputs).toContain(join(dir, 'components/notify-team.ts'));
    expect(result.outputFiles[0]!.text).toContain('https://team.example/notify');
  });
});
