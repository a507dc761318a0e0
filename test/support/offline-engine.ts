/**
 * The Node side of the agreement test (test/worker/manifest-tests.test.ts), served to workerd as a service binding
 * from vitest.config.ts: `GET /run` runs the project's manifest tests offline (node:sqlite, as `switchyard test`
 * does) and answers the test files, the project files they read, and every case's result. Lazy: it runs only when
 * the agreement test asks. `POST /run` with `{ manifest, files }` runs the given test files' cases against that
 * manifest instead (the default one with a handler added, say), and answers their results.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectFor, readText } from '../../cli/lib/project.ts';
import { findCaseFiles, loadCaseFiles, nodeTarget } from '../../cli/lib/manifest-tests/node.ts';
import { parseCaseFile } from '../../cli/lib/manifest-tests/cases.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { projectionTables, runCase, type CaseResult } from '../../cli/lib/manifest-tests/run.ts';
import { ROOT } from './project.ts';

/** Every file a case may read: the test files, their fixtures, and samples/. */
function projectFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      const text = /\.(json|ya?ml)$/.test(entry) ? readText(path) : undefined;
      if (text !== undefined) files[relative(ROOT, path).split('\\').join('/')] = text;
      else if (!entry.includes('.')) walk(path);
    }
  };
  walk(join(ROOT, 'tests'));
  walk(join(ROOT, 'samples'));
  return files;
}

let answer: Promise<string> | undefined;

async function run(): Promise<string> {
  const project = projectFor(join(ROOT, 'integrations.yaml'));
  const built = nodeTarget(project, 'default');
  if (!built.ok) throw new Error(`the manifest does not build: ${built.problems.map((p) => p.message).join('; ')}`);
  const files = loadCaseFiles(project, findCaseFiles(project));
  const tables = projectionTables(built.target.manifest);
  const results: CaseResult[] = [];
  for (const file of files) for (const c of file.cases) results.push(await runCase(built.target, c, { tables }));
  return JSON.stringify({
    files: projectFiles(),
    caseFiles: files.map((f) => f.file),
    tables,
    results,
    catalogSamples: built.target.catalogSamples,
  });
}

/** The cases of `files` (path → text) run against `manifest`, in the project's setting (migrations, secrets, vars). */
async function runGiven(manifest: Manifest, files: Record<string, string>): Promise<string> {
  const built = nodeTarget(projectFor(join(ROOT, 'integrations.yaml')), 'default', manifest);
  if (!built.ok) throw new Error(`the manifest does not build: ${built.problems.map((p) => p.message).join('; ')}`);
  const tables = projectionTables(manifest);
  const results: CaseResult[] = [];
  for (const [file, text] of Object.entries(files))
    for (const c of parseCaseFile(file, text).cases) results.push(await runCase(built.target, c, { tables }));
  return JSON.stringify({ tables, results });
}

export async function offlineEngine(request: Request): Promise<Response> {
  if (new URL(request.url).pathname !== '/run') return new Response('not found', { status: 404 });
  if (request.method === 'POST') {
    const { manifest, files } = (await request.json()) as { manifest: Manifest; files: Record<string, string> };
    return new Response(await runGiven(manifest, files), { headers: { 'content-type': 'application/json' } });
  }
  answer ??= run();
  return new Response(await answer, { headers: { 'content-type': 'application/json' } });
}
