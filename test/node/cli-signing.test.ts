/**
 * `send` and `switchyard test` sign every catalog preset, through one signer: the CLI walked over every provider in
 * catalog/ against one running runtime (all providers in one manifest), plus the findings of issue 24 one by one.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../../cli/lib/output.ts';
import { UsageError } from '../../cli/lib/args.ts';
import { sendCommand, sendSpec } from '../../cli/commands/send.ts';
import { commandHelp } from '../../cli/lib/cli-doc.ts';
import { loadCatalog } from '../../cli/lib/catalog.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import type { CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { manifestTests } from '../support/in-process.ts';
import { projectWith, ROOT } from '../support/project.ts';
import { secretsFor } from '../support/catalog.ts';
import { serveRuntime, type RuntimeServer } from '../support/runtime-server.ts';

const ADMIN_TOKEN = 'cli-signing-admin-token';
const entries = [...loadCatalog().entries.values()];
const keyOf = (name: string) => name.replace(/-/g, '_');
/** Presets signed with the provider's private key: `send` cannot sign them (switchyard never holds that key). */
const privateKeyed = entries.filter((e) => defaultRegistry.verifiers.get(e.verifier.type)?.keyPair).map((e) => e.name);

/** Where the envelope reads a field from, when it is a header. */
const headerOf = (entry: CatalogEntry, field: string) => {
  const spec = (entry.event as unknown as Record<string, unknown>)[field];
  return spec && typeof spec === 'object' && 'header' in spec ? String((spec as { header: string }).header) : undefined;
};

let dir: string;
let manifest: string;
let server: RuntimeServer;
/** The values `send` signs with (the same as the server verifies with, but for private keys). */
const env: Record<string, string> = { ADMIN_TOKEN };

async function send(
  args: string[],
  project = manifest,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const { output, text } = capture();
  const started = Date.now();
  let code: number;
  try {
    code = await sendCommand([...args, '--manifest', project, '--url', server.url], output, env);
  } catch (error) {
    // What the CLI's entry point makes of a usage error: the message on stderr, exit 2.
    if (!(error instanceof UsageError)) throw error;
    output.stderr.write(`${error.message}\n`);
    code = 2;
  }
  return { code, ...text(), ms: Date.now() - started };
}

beforeAll(async () => {
  const integrations = Object.fromEntries(
    entries.map((e) => [keyOf(e.name), { provider: e.name, route: `/webhooks/${e.name}`, queue: 'events' }]),
  );
  manifest = projectWith(
    stringify({ version: 1, queues: { events: { binding: 'EVENTS_QUEUE', dead_letter: 'EVENTS_DLQ' } }, integrations }),
  );
  dir = dirname(manifest);
  const vars: Record<string, string> = { ADMIN_TOKEN };
  for (const entry of entries) {
    for (const name of Object.keys(entry.secrets ?? {})) vars[name] ??= `dev_${name.toLowerCase()}`;
    const { env: verifyWith, signing } = await secretsFor(entry);
    Object.assign(vars, verifyWith);
    Object.keys(verifyWith).forEach((name, i) => (env[name] = signing[i] ?? verifyWith[name]!));
  }
  writeFileSync(
    join(dir, '.dev.vars.example'),
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  server = await serveRuntime(manifest);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('switchyard send, over every catalog provider', () => {
  it.each(entries.filter((e) => !privateKeyed.includes(e.name)).map((e) => e.name))(
    '%s: the catalog sample is accepted, twice, as two events',
    async (name) => {
      const first = await send([keyOf(name)]);
      const second = await send([keyOf(name)]);
      for (const run of [first, second]) {
        expect(run.stderr).toBe('');
        expect(run.stdout).toMatch(/-> 20[02] \{"status":"(applied|ignored|accepted)"/);
        expect(run.code).toBe(0);
      }
      const events = await server.query<{ id: string; status: string }>(
        'SELECT id, status FROM events WHERE integration = ?',
        keyOf(name),
      );
      expect(events).toHaveLength(2);
      // What send printed as the outcome is what the runtime recorded for that event.
      for (const [i, run] of [first, second].entries()) {
        const said = new RegExp(`^event ${keyOf(name)}/(.+): (\\w+)$`, 'm').exec(run.stdout);
        expect(said, run.stdout).not.toBeNull();
        expect(
          events.find((e) => e.id === said![1]),
          `send ${i + 1}`,
        ).toEqual({ id: said![1], status: said![2] });
      }
      expect(await server.query('SELECT reason, error FROM dead_letters WHERE integration = ?', keyOf(name))).toEqual(
        [],
      );
    },
  );

  it.each(privateKeyed)("%s: says it cannot sign with the provider's private key, and sends nothing", async (name) => {
    const run = await send([keyOf(name)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("requests are signed with the provider's private key");
    expect(await server.query('SELECT id FROM events WHERE integration = ?', keyOf(name))).toEqual([]);
  });
});

describe('switchyard test, over every catalog provider', () => {
  it('signs a `sample:` (the catalog sample) and a `json:` event for every provider, private-keyed ones included', async () => {
    const cases = entries.map((entry) => {
      const typeHeader = headerOf(entry, 'type');
      const body = entry.sample.body ?? JSON.parse(entry.sample.raw!.replace(/(__NOW_S__|__NOW_MS__)(?!")/g, '"$1"'));
      return {
        name: entry.name,
        integration: keyOf(entry.name),
        events: [
          { sample: entry.sample.type, expect: { http: 200 } },
          { json: body, ...(typeHeader ? { type: entry.sample.type } : {}), expect: { http: 200 } },
        ],
      };
    });
    mkdirSync(join(dir, 'tests'), { recursive: true });
    writeFileSync(join(dir, 'tests/providers.test.yaml'), stringify({ cases }));
    const run = await manifestTests([manifest]);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('✗') || /^\S+:\d+:\d+:/.test(l))).toEqual([]);
    expect(run.stdout).toContain(`${entries.length} passed, 0 failed`);
    expect(run.code).toBe(0);
  });
});

describe('the findings of issue 24', () => {
  /** Runs one case file in the walk project. */
  async function testCase(name: string, integration: string, events: unknown[]) {
    const file = join(dir, 'tests', `${name}.case.test.yaml`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, stringify({ cases: [{ name, integration, events }] }));
    return manifestTests([manifest, file]);
  }

  it('linear: a `sample:` falls back to the catalog sample, and a `json:` event is signed (the signature covers a body timestamp)', async () => {
    const run = await testCase('linear', 'linear', [
      { sample: 'Issue.create', expect: { http: 200, body: { status: 'ignored' } } },
      {
        json: {
          action: 'update',
          type: 'Issue',
          createdAt: '__NOW_ISO__',
          data: { id: 'i1' },
          webhookTimestamp: '__NOW_MS__',
        },
        expect: { http: 200, body: { status: 'ignored' } },
      },
    ]);
    expect(run.stdout).not.toContain('signBody');
    expect(run.stdout).toContain('1 passed, 0 failed');
  });

  it('mailgun: a `json:` event is signed in its body', async () => {
    const run = await testCase('mailgun', 'mailgun', [
      {
        json: {
          signature: { timestamp: '0', token: 't0k3n', signature: '' },
          'event-data': { id: 'mg_1', event: 'opened', timestamp: '__NOW_S__' },
        },
        expect: { http: 200, body: { status: 'ignored', id: 'mg_1' } },
      },
    ]);
    expect(run.stdout).not.toContain('signBody');
    expect(run.stdout).toContain('1 passed, 0 failed');
  });

  it('shopify: a `json:` event carries X-Shopify-Triggered-At as the ISO time the preset reads', async () => {
    const run = await testCase('shopify', 'shopify', [
      { json: { id: 1 }, type: 'orders/create', expect: { http: 200, body: { status: 'ignored' } } },
    ]);
    expect(run.stdout).not.toContain('is not a date');
    expect(run.stdout).toContain('1 passed, 0 failed');
  });

  it('a `json:` event for a provider whose type is a header, without type:, says what to give', async () => {
    const run = await testCase('shopify-no-type', 'shopify', [{ json: { id: 1 } }]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('X-Shopify-Topic');
    expect(run.stdout).toContain('type:');
  });

  /** A project with the repository's samples/ and `provider:` integrations for github and shopify (as a new user has). */
  const withRepoSamples = () => {
    const project = projectWith(
      stringify({
        version: 1,
        queues: { events: { binding: 'EVENTS_QUEUE' } },
        integrations: Object.fromEntries(
          ['github', 'shopify'].map((p) => [p, { provider: p, route: `/webhooks/${p}`, queue: 'events' }]),
        ),
      }),
    );
    cpSync(join(ROOT, 'samples'), join(dirname(project), 'samples'), { recursive: true });
    return project;
  };

  it('send shopify with samples/shopify/orders-paid.json: accepted (X-Shopify-Triggered-At is ISO), nothing dead-lettered', async () => {
    const run = await send(['shopify'], withRepoSamples());
    expect(run.stdout).toMatch(/-> 200 \{"status":"ignored"/);
    expect(run.code).toBe(0);
    expect(await server.query('SELECT reason FROM dead_letters WHERE integration = ?', 'shopify')).toEqual([]);
  });

  it('send --file for a provider whose type is a header: the type from --type, never `sample`', async () => {
    const file = join(dir, 'order.json');
    writeFileSync(file, JSON.stringify({ id: '__ID__', total_price: '1.00' }));
    const refused = await send(['shopify', '--file', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--type');
    const run = await send(['shopify', '--file', file, '--type', 'orders/create']);
    expect(run.code).toBe(0);
    const id = /"id":"([^"]+)"/.exec(run.stdout)![1]!;
    expect(await server.query('SELECT type FROM events WHERE integration = ? AND id = ?', 'shopify', id)).toEqual([
      { type: 'orders/create' },
    ]);
  });

  it('send github twice with samples/github/issues.json: two events; the same --file twice: a duplicate, reported at once', async () => {
    const project = withRepoSamples();
    const first = await send(['github', 'issues'], project);
    const second = await send(['github', 'issues'], project);
    expect(first.stdout).toMatch(/-> 200 \{"status":"ignored"/);
    expect(second.stdout).toMatch(/-> 200 \{"status":"ignored"/);

    const file = join(dir, 'issue.json');
    writeFileSync(file, JSON.stringify({ action: 'closed', issue: { number: 7 } }));
    const once = await send(['github', '--file', file, '--type', 'issues'], project);
    // Its body has no placeholder, and GitHub's id header is not signed: warned before it is sent.
    expect(once.stderr).toContain(`warning: --file ${file} gives the same body on every send`);
    expect(first.stderr).toBe('');
    const again = await send(['github', '--file', file, '--type', 'issues'], project);
    expect(again.stdout).toContain('duplicate (same_body)');
    expect(again.stdout).not.toContain('queued');
    expect(again.ms).toBeLessThan(5000);
    expect(again.code).toBe(0);
    // The choice is documented where a user looks for it.
    expect(commandHelp(sendSpec)).toContain(
      'A duplicate answer (the event id, or the same body, was received before) is printed at once',
    );
  });
});
