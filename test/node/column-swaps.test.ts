/**
 * Tests that bite (issue 30): swapping any two projected columns of any sql step in the default manifest fails
 * `switchyard test`. Each mutant swaps two written expressions of one statement (two values of an INSERT's VALUES
 * row, or two right-hand sides of a SET / DO UPDATE SET), compiles the mutated manifest in memory and runs, on the
 * offline engine, the cases that committed that step unmutated, until one fails.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCaseFiles, loadCaseFiles, nodeTarget } from '../../cli/lib/manifest-tests/node.ts';
import { ConditionTally } from '../../cli/lib/manifest-tests/conditions.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { defaultRegistry } from '../../worker/registry.ts';
import { runCase, type Target } from '../../cli/lib/manifest-tests/run.ts';
import { sqlSteps, writtenColumns, type SqlStepSite } from '../../cli/lib/manifest-tests/columns.ts';
import type { Case } from '../../cli/lib/manifest-tests/cases.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { projectFor } from '../../cli/lib/project.ts';
import { ROOT } from '../support/project.ts';

interface Mutant {
  site: SqlStepSite;
  label: string;
  sql: string;
}

/** Every statement with two written expressions swapped, each pair once per clause. */
function mutants(manifest: Manifest): Mutant[] {
  const out: Mutant[] = [];
  for (const site of sqlSteps(manifest)) {
    for (const clause of writtenColumns(site.sql)) {
      const a = clause.assignments;
      for (let i = 0; i < a.length; i++) {
        for (let j = i + 1; j < a.length; j++) {
          const [x, y] = [a[i]!, a[j]!];
          const text = (at: { start: number; end: number }) => site.sql.slice(at.start, at.end);
          const sql =
            site.sql.slice(0, x.start) + text(y) + site.sql.slice(x.end, y.start) + text(x) + site.sql.slice(y.end);
          out.push({
            site,
            label: `${site.at} ${clause.kind} ${clause.table}: ${x.column} = ${text(y)}, ${y.column} = ${text(x)}`,
            sql,
          });
        }
      }
    }
  }
  return out;
}

/**
 * The offline target of `base` with its manifest replaced, compiled as nodeTarget compiles it; the commands' input
 * validators are compiled once for all mutants (Ajv takes ~0.2 s a manifest, ten times the cases a mutant runs).
 */
function mutantTarget(
  base: Target,
  manifest: Manifest,
  validators: Map<string, ReturnType<typeof compileInputSchema>>,
): Target {
  const conditions = new ConditionTally();
  const inputValidator = (_name: string, schema: Record<string, unknown>) => {
    const key = JSON.stringify(schema);
    if (!validators.has(key)) validators.set(key, compileInputSchema(schema));
    return validators.get(key)!;
  };
  return {
    ...base,
    manifest,
    compiled: compileManifest(manifest, defaultRegistry, { inputValidator, conditions }),
    conditions,
  };
}

/** The manifest with one sql step's statement replaced. */
function withSql(manifest: Manifest, path: (string | number)[], sql: string): Manifest {
  const copy = structuredClone(manifest);
  let at = copy as unknown as Record<string | number, unknown>;
  for (const key of path) at = at[key] as Record<string | number, unknown>;
  at.sql = sql;
  return copy;
}

/** The default manifest's offline target, its cases, and what each case committed unmutated (every case passing). */
async function baseline() {
  const project = projectFor(join(ROOT, 'integrations.yaml'));
  const built = nodeTarget(project, 'default');
  if (!built.ok) throw new Error(built.problems.map((p) => p.message).join('\n'));
  const cases: Case[] = loadCaseFiles(project, findCaseFiles(project)).flatMap((f) => f.cases);
  const ran = new Map<Case, string[]>();
  for (const c of cases) {
    const result = await runCase(built.target, c);
    expect({ case: c.name, failures: result.failures.map((f) => f.message) }).toEqual({ case: c.name, failures: [] });
    ran.set(c, result.ran);
  }
  return { base: built.target, cases, ran };
}
let unmutated: ReturnType<typeof baseline> | undefined;
const once = () => (unmutated ??= baseline());

describe('column swaps in the default manifest', () => {
  it("the issue's example: the Stripe subscription upsert writing status = excluded.plan_id fails a case", async () => {
    const { base, cases } = await once();
    const site = sqlSteps(base.manifest).find(
      (s) => s.label === 'stripe handler on customer.subscription.created, customer.subscription.updated',
    )!;
    expect(site.sql).toContain('status = excluded.status');
    const mutated = mutantTarget(
      base,
      withSql(base.manifest, site.path, site.sql.replace('status = excluded.status', 'status = excluded.plan_id')),
      new Map(),
    );
    const failed: string[] = [];
    for (const c of cases) if ((await runCase(mutated, c)).failures.length) failed.push(c.name);
    expect(failed).toContain('an update rewrites every column of the stored subscription');
  }, 60_000);

  it('every swap of two projected columns in any sql step fails a case', async () => {
    const { base, cases, ran } = await once();
    const all = mutants(base.manifest);
    // Every statement that writes two columns or more has mutants: the swaps cover each sql step of the manifest.
    const swappable = sqlSteps(base.manifest).filter((s) =>
      writtenColumns(s.sql).some((c) => c.assignments.length > 1),
    );
    expect(new Set(all.map((m) => m.site.at))).toEqual(new Set(swappable.map((s) => s.at)));
    expect(swappable.length).toBeGreaterThanOrEqual(10);

    const missed: string[] = [];
    const validators = new Map<string, ReturnType<typeof compileInputSchema>>();
    let runs = 0;
    for (const m of all) {
      const mutated = mutantTarget(base, withSql(base.manifest, m.site.path, m.sql), validators);
      let caught = false;
      for (const c of cases.filter((x) => ran.get(x)!.includes(m.site.at))) {
        runs++;
        if ((await runCase(mutated, c)).failures.length) {
          caught = true;
          break;
        }
      }
      if (!caught) missed.push(m.label);
    }
    expect(missed, `${missed.length} of ${all.length} swaps no case noticed (${runs} case runs)`).toEqual([]);
  }, 300_000);
});
