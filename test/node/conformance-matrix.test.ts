/**
 * The conformance matrix's CLI cells (the design note is test/worker/conformance-matrix.test.ts's header; the cells
 * are cli/lib/conformance.ts): on every row the matrix lists (test/support/matrix.ts),
 *  - send: `switchyard send <integration> <type>` runs as a user runs it (the manifest file, secrets in the
 *    environment, no samples/ file for a catalog preset, so it falls back to the catalog sample) against a local
 *    server that records the request; the integration's verifier accepts what it sent and the envelope is read from
 *    it (the type asked for);
 *  - test: `switchyard test`'s runner (cli/lib/manifest-tests/run.ts, on node:sqlite) runs a case whose event is the
 *    sample by name (`sample:`: a samples/ file, else the catalog sample, as a user's case finds it), signed by the
 *    runner (a key pair of its own for a scheme only the provider can sign): it is applied, and
 *    the same event signed with a wrong secret is refused.
 * A cell listed in KNOWN_GAPS must fail here, so the list cannot go stale.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import { compileManifest } from '../../runtime/manifest/compile.ts';
import { extractEnvelope } from '../../runtime/event/extract.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import { sha256, toHex } from '../../runtime/lib/bytes.ts';
import { compileInputSchema } from '../../cli/lib/input-validators.ts';
import { sendCommand } from '../../cli/commands/send.ts';
import { projectFor } from '../../cli/lib/project.ts';
import { loadCatalog } from '../../cli/lib/catalog.ts';
import { nodeTarget } from '../../cli/lib/manifest-tests/node.ts';
import { fieldSource, runCase } from '../../cli/lib/manifest-tests/run.ts';
import type { Case } from '../../cli/lib/manifest-tests/cases.ts';
import { applies, CELLS, gapOf, type Cell } from '../../cli/lib/conformance.ts';
import { matrixRows, rowSecrets, sampleSources, type MatrixRow } from '../support/matrix.ts';
import { ROOT } from '../support/project.ts';

interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

let server: Server;
let base: string;
const received: Recorded[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // send asks the admin API how the event ended (when ADMIN_TOKEN is set): it was applied.
      if (req.method === 'GET')
        return void res.end(
          JSON.stringify({
            event: { status: 'applied', attempts: 1, max_attempts: null, error: null, next_at: null },
            effects: [],
          }),
        );
      received.push({
        url: `${base}${req.url}`,
        method: req.method!,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.end(JSON.stringify({ status: 'applied', id: 'recorded' }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** The manifest file `send` reads for a row: the shipped file, or a one-integration file naming the preset. */
function manifestFileOf(row: MatrixRow): string {
  if (row.manifestFile === 'integrations.yaml' || row.manifestFile.startsWith('examples/'))
    return join(ROOT, row.manifestFile);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-matrix-'));
  const spec = row.entry
    ? { provider: row.entry.name, route: row.route, queue: 'events' }
    : row.manifest.integrations[row.integration];
  writeFileSync(
    join(dir, 'integrations.yaml'),
    JSON.stringify({
      version: 1,
      queues: { events: { binding: 'EVENTS_QUEUE' } },
      integrations: { [row.integration]: spec },
    }),
  );
  return join(dir, 'integrations.yaml');
}

/** Runs `switchyard send` with the row's secrets in the environment; what it sent (or why not). */
async function send(
  row: MatrixRow,
  type: string,
  env: Record<string, string>,
): Promise<{ code: number; request?: Recorded; said: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const said: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void said.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void said.push(a.join(' ')));
  const before = received.length;
  try {
    const code = await sendCommand([row.integration, type, '--manifest', manifestFileOf(row), '--url', base]);
    return {
      code,
      ...(received.length > before ? { request: received[received.length - 1]! } : {}),
      said: said.join('\n'),
    };
  } catch (e) {
    return { code: 2, said: `${said.join('\n')}\n${(e as Error).message}` };
  } finally {
    log.mockRestore();
    error.mockRestore();
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

const rows = matrixRows();
/** The project a row's cases run in: its manifest's (examples/postgres.yaml's Postgres migrations), else the default. */
const projectOf = (row: MatrixRow) =>
  projectFor(
    join(
      ROOT,
      row.manifestFile.endsWith('.yaml') && !row.manifestFile.startsWith('catalog/')
        ? row.manifestFile
        : 'integrations.yaml',
    ),
  );

describe('the conformance matrix: switchyard send and switchyard test on every row', () => {
  delete process.env.ADMIN_TOKEN;
  for (const row of rows) {
    it(row.label, async () => {
      const { env } = await rowSecrets(row);
      const compiled = compileManifest(row.manifest, defaultRegistry, {
        inputValidator: (_name, schema) => compileInputSchema(schema),
      });
      const integration = compiled.integrations.get(row.integration)!;
      const problems: Record<Cell, string[]> = {
        runtime: [],
        tamper: [],
        stale: [],
        ids: [],
        plan: [],
        send: [],
        test: [],
      };
      // Only what `send` can find: a samples/ file or the preset's sample (the README's shop has neither: its curl is checked in workerd).
      const sources = sampleSources(row).filter((s) => s.from !== 'README.md');

      for (const source of applies(row.verifier, 'send') ? sources : []) {
        const sent = await send(row, source.type, env);
        if (!sent.request) {
          problems.send.push(`${source.type}: send sent nothing (exit ${sent.code}): ${sent.said}`);
          continue;
        }
        const r = sent.request;
        try {
          await integration.verifier.verify(
            {
              method: r.method,
              url: new URL(r.url),
              headers: new Headers(r.headers),
              body: new TextEncoder().encode(r.body),
              now: Date.now(),
            },
            env,
          );
          const envelope = extractEnvelope(
            integration,
            r.body,
            new Headers(r.headers),
            new Date().toISOString(),
            integration.hashesBody ? toHex(await sha256(r.body)) : undefined,
          );
          if (envelope.type !== source.type)
            problems.send.push(`${source.type}: sent an event of type ${envelope.type}`);
        } catch (e) {
          problems.send.push(
            `${source.type} (${source.from}): ${e instanceof VerificationError ? `the verifier refused what send signed: ${e.reason}` : `the runtime cannot read what send sent: ${(e as Error).message}`}`,
          );
        }
      }

      if (applies(row.verifier, 'test') && sources.length) {
        const built = nodeTarget(projectOf(row), 'default', row.manifest);
        if (!built.ok) throw new Error(built.problems.map((p) => p.message).join('; '));
        // A catalog row is an integration of no manifest file: its preset's sample is what `sample:` falls back to.
        const catalogSample = row.provider ? loadCatalog().entries.get(row.provider)?.sample : undefined;
        const catalogSamples = {
          ...built.target.catalogSamples,
          ...(catalogSample ? { [row.integration]: catalogSample } : {}),
        };
        const target = { ...built.target, secrets: { ...built.target.secrets, ...env }, catalogSamples };
        const spec = row.manifest.integrations[row.integration]! as unknown as { event: Record<string, unknown> };
        for (const source of sources) {
          const now = Date.now();
          const typeFrom = fieldSource(spec.event.type);
          const event = {
            sample: source.type,
            ...(typeFrom && 'header' in typeFrom ? { type: source.type } : {}),
          };
          const c: Case = {
            file: 'matrix.test.yaml',
            name: `${row.label} ${source.type}`,
            path: [],
            integration: row.integration,
            now,
            seed: {},
            steps: [
              { path: ['events', 0], ...event },
              { path: ['events', 1], ...event, signature: 'bad', expect: { http: 401 } },
            ],
            expect: {},
          };
          const result = await runCase(target, c);
          const [first, second] = result.actual.steps;
          if (result.failures.length || !first || first.http >= 300 || second?.http !== 401) {
            problems.test.push(
              `${source.type} (${source.from}): answered ${first?.http} ${JSON.stringify(first?.body)}, then ${second?.http} for a wrong secret; ${result.failures.map((f) => f.message).join('; ')}`,
            );
          }
        }
      }

      for (const cell of ['send', 'test'] as Cell[]) {
        const gap = gapOf(row.provider, cell, row.label);
        if (gap)
          expect
            .soft(
              problems[cell],
              `${row.label} ${cell} is listed in KNOWN_GAPS (${gap.issue}) but passes: remove it from cli/lib/conformance.ts`,
            )
            .not.toEqual([]);
        else expect.soft(problems[cell], `${row.label}: ${cell} (${CELLS[cell]})`).toEqual([]);
      }
    });
  }
});
