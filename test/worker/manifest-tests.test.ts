/**
 * The agreement test: the manifest's own test cases (tests/*.test.yaml) run through the real Worker runtime on real
 * D1 in workerd, and through `switchyard test`'s offline engine (node:sqlite, run by vitest.config.ts's
 * OFFLINE_ENGINE binding), and the two must see the same thing: the same answers, rows, effects, queued messages,
 * dead letters and event statuses. Both run cli/lib/manifest-tests/run.ts, so the engines cannot drift unnoticed.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import built from '../../.switchyard/manifests.json';
import { defaultRegistry } from '../../worker/registry.ts';
import { parseCaseFile } from '../../cli/lib/manifest-tests/cases.ts';
import { runCase, type Actual, type CaseResult, type Target } from '../../cli/lib/manifest-tests/run.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { builtInputs } from '../support/harness.ts';

interface Offline {
  files: Record<string, string>;
  caseFiles: string[];
  tables: string[];
  results: CaseResult[];
  catalogSamples?: Target['catalogSamples'];
}

const entry = (built as unknown as { environments: Record<string, { manifest: Manifest; queueNames: Record<string, string> }> }).environments.default!;

/** Empties every table (not the migrations' bookkeeping), so each case starts as a fresh database does. */
async function wipe(db: D1Database): Promise<void> {
  const tables = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'").all<{ name: string }>();
  await db.batch([...tables.results.map((t) => db.prepare(`DELETE FROM "${t.name}"`)), db.prepare("DELETE FROM sqlite_sequence")]);
}

/** What both engines must agree on; an error's wording is SQLite's own and may differ between them. */
const comparable = (a: Actual) => ({ ...a, dead_letters: a.dead_letters.map(({ error: _error, ...d }) => d) });

describe('switchyard test agrees with the Worker in workerd', () => {
  it('runs every default manifest test case with the same results on node:sqlite and on D1', async () => {
    const offline = (await (await env.OFFLINE_ENGINE.fetch('http://offline/run')).json()) as Offline;
    expect(offline.caseFiles.length).toBeGreaterThan(0);
    const vars = Object.fromEntries(['APP_URL', 'ADMIN_EMAIL', 'ADMIN_ORG_ID', 'SWITCHYARD_ENV'].map((k) => [k, String((env as Record<string, unknown>)[k])]));
    const target: Target = {
      environment: 'default',
      manifest: entry.manifest,
      // The command input checks as the Worker has them: the code `switchyard build` generated.
      compiled: compileManifest(entry.manifest, defaultRegistry, builtInputs()),
      queueNames: entry.queueNames,
      secrets: env.TEST_SECRETS,
      vars,
      read: (path) => offline.files[path],
      ...(offline.catalogSamples ? { catalogSamples: offline.catalogSamples } : {}),
      storage: async () => (await wipe(env.DB), { db: env.DB }),
    };
    const workerd: CaseResult[] = [];
    for (const file of offline.caseFiles) {
      const parsed = parseCaseFile(file, offline.files[file]!);
      expect(parsed.problems).toEqual([]);
      for (const c of parsed.cases) workerd.push(await runCase(target, c, { tables: offline.tables }));
    }
    expect(workerd.map((r) => r.name)).toEqual(offline.results.map((r) => r.name));
    for (const [i, w] of workerd.entries()) {
      const o = offline.results[i]!;
      expect({ case: w.name, failures: w.failures }).toEqual({ case: w.name, failures: [] });
      expect({ case: o.name, failures: o.failures }).toEqual({ case: o.name, failures: [] });
      expect({ case: w.name, ...comparable(w.actual) }).toEqual({ case: o.name, ...comparable(o.actual) });
      expect(w.applied).toEqual(o.applied);
    }
  }, 60_000);
});
