/** What validate says about Postgres stores: SQL prepared against the store's own migrations, and no event in two stores. */
import { stepContext } from '../../runtime/component/context.ts';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { ManifestError } from '../../runtime/manifest/problems.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { compileNamedSql } from '../../runtime/language/sql.ts';
import { CLI, ROOT, projectWith, replaceOnce } from '../support/project.ts';

const EXAMPLE = readFileSync(join(ROOT, 'examples/postgres.yaml'), 'utf8');
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;

/** validate in a child, with or without a Postgres to check against (without: PGlite, offline). */
function validate(manifest: string, pgUrl: string | undefined) {
  const { SWITCHYARD_PG_URL: _drop, ...env } = process.env;
  const result = spawnSync(process.execPath, [CLI, 'validate', '--env', 'default', manifest], {
    encoding: 'utf8',
    env: { ...env, ...(pgUrl ? { SWITCHYARD_PG_URL: pgUrl } : {}) },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A project copy whose manifest is `text`, with the example's Postgres migrations beside it. */
function exampleProject(text: string): string {
  const manifest = projectWith(text);
  cpSync(join(ROOT, 'examples/postgres-migrations'), join(dirname(manifest), 'postgres-migrations'), {
    recursive: true,
  });
  return manifest;
}

describe('validate with a postgres store', () => {
  it('validates examples/postgres.yaml offline, its SQL prepared in PGlite against postgres-migrations/', () => {
    const { code, stdout, stderr } = validate(join(ROOT, 'examples/postgres.yaml'), undefined);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/examples\/postgres\.yaml: valid for default/);
  });

  it("keeps PGlite's initialized data directory, so the next validate loads it instead of running initdb", () => {
    // initdb ran on every validate before (6 to 10 s of a 10 s validate on a 2-core machine); switchyard test kept
    // the directory, validate's check never read it.
    const cache = join(ROOT, 'node_modules/.cache/switchyard');
    const kept = () => (existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith('pglite-datadir-')) : []);
    for (const f of kept()) rmSync(join(cache, f), { force: true });
    const { code, stderr } = validate(join(ROOT, 'examples/postgres.yaml'), undefined);
    expect([code, stderr]).toEqual([0, '']);
    expect(kept()).toHaveLength(1);
  });

  const engines: [string, string | undefined, RegExp][] = [['offline, in PGlite', undefined, /in PGlite/]];
  if (process.env.SWITCHYARD_PG_URL)
    engines.push(['against the Postgres at SWITCHYARD_PG_URL', process.env.SWITCHYARD_PG_URL, /in PostgreSQL \d+/]);
  for (const [name, url, engine] of engines) {
    it(`points at a misspelt column with a caret, and refuses an event whose SQL goes to two stores (${name})`, () => {
      let text = replaceOnce(EXAMPLE, "UPDATE orders SET status = 'paid'", "UPDATE orders SET statuss = 'paid'");
      // A D1 handler for an event type a Postgres handler also takes.
      text = replaceOnce(
        text,
        '      - on: customer.subscription.deleted\n',
        '      - on: customer.subscription.deleted\n        steps: [{ sql: "DELETE FROM orders WHERE id = :id", params: { id: data.object.id } }]\n      - on: customer.subscription.deleted\n',
      );
      const manifest = exampleProject(text);
      const { code, stderr } = validate(manifest, url);
      expect(code).toBe(1);
      const line = lineOf(text, 'statuss');
      const column = text.split('\n')[line - 1]!.indexOf('statuss') + 1;
      expect(stderr).toContain(
        `integrations.yaml:${line}:${column}: error [default]: integrations.stripe.handlers[0].steps[0].sql: SQL does not prepare against store app (postgres-migrations, `,
      );
      expect(stderr).toMatch(engine);
      expect(stderr).toContain('column "statuss" of relation "orders" does not exist');
      expect(stderr).toMatch(
        /integrations\.stripe\.handlers\[3\]: an event customer\.subscription\.deleted runs this handler \(store app\) and handler 2 \(store d1\): one event's SQL must go to one store/,
      );
    });
  }

  it('reports a missing migrations folder', () => {
    const manifest = projectWith(EXAMPLE);
    writeFileSync(manifest, EXAMPLE);
    const { code, stderr } = validate(manifest, undefined);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /stores\.app\.migrations: migrations folder postgres-migrations not found next to the manifest/,
    );
  });
});

describe('stores at compile time', () => {
  const base = (): Manifest => ({
    version: 1,
    queues: { events: { binding: 'EVENTS_QUEUE' } },
    stores: { app: { type: 'postgres', binding: 'HYPERDRIVE', migrations: 'pg' } },
    integrations: {
      shop: {
        route: '/s',
        verifier: { type: 'token', secret: 'T' },
        event: { id: 'id', type: 'type' },
        queue: 'events',
        handlers: [
          {
            on: 'paid',
            store: 'app',
            steps: [
              {
                sql: 'UPDATE orders SET status = :s WHERE id = :id AND tags ? :s::text',
                params: { s: 'status', id: 'id' },
              },
            ],
          },
        ],
      },
    },
  });
  const problems = (m: Manifest) => {
    try {
      compileManifest(m, defaultRegistry);
      return [];
    } catch (error) {
      return (error as ManifestError).problems.map((p) => `${p.path.join('.')}: ${p.message}`);
    }
  };

  it('writes $N placeholders for a Postgres store and keeps its ? operator and :: casts', () => {
    const step = compileManifest(base(), defaultRegistry).sources.get('shop')!.stepsFor('paid')[0]!;
    expect(
      step.run(
        stepContext(
          {
            integration: 'shop',
            id: 'e1',
            type: 'paid',
            occurred_at: null,
            received_at: '2026-01-01T00:00:00.000Z',
            payload: { status: 'paid', id: 'o1' },
          },
          {},
        ),
      ),
    ).toEqual({
      statements: [
        {
          sql: 'UPDATE orders SET status = $1 WHERE id = $2 AND tags ? $1::text',
          params: ['paid', 'o1'],
          store: 'app',
        },
      ],
    });
  });

  it('refuses an unknown store, and a d1 store that is not the event log', () => {
    const m = base();
    m.integrations.shop!.handlers![0]!.store = 'warehouse';
    m.stores!.other = { type: 'd1', binding: 'OTHER_DB' };
    expect(problems(m)).toEqual([
      "stores.other.binding: a d1 store is the event log's database (binding DB): its projections commit with their applied-marker; use a postgres store for another database",
      expect.stringMatching(
        /^integrations\.shop\.handlers\.0\.steps\.0\.sql: store "warehouse" is not declared under stores: \(known: d1, app\)/,
      ),
    ]);
  });

  it('never applies a Postgres handler in the request: its marker lives in Postgres', () => {
    const compiled = compileManifest(base(), defaultRegistry);
    expect(compiled.integrations.get('shop')!.appliesInRequest('paid')).toBe(false);
  });
});

describe(':named parameters for Postgres', () => {
  it('skips literals, E-strings, dollar quotes and comments, and refuses $N', () => {
    expect(compileNamedSql("SELECT :a, ':b', E'it\\'s :c', $q$ :d $q$, x::int -- :e\nWHERE y = :a", '$')).toEqual({
      text: "SELECT $1, ':b', E'it\\'s :c', $q$ :d $q$, x::int -- :e\nWHERE y = $1",
      names: ['a'],
    });
    expect(() => compileNamedSql('SELECT $1', '$')).toThrow(/found a \$N parameter/);
    expect(() => compileNamedSql('SELECT $q$ open', '$')).toThrow(/unterminated \$q\$ quote/);
  });
});
