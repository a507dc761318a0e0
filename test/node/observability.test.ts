/**
 * The observability settings and their page: wrangler.toml turns Workers Logs and traces on in every environment
 * with keys wrangler's own schema knows (a typo fails here, not at deploy), validate still reads the file, and
 * docs/observability.md states what the code and the tests say: its settings block is wrangler.toml's, its table of
 * stages and outcomes is the telemetry's, its sample line is what logRecord writes, its volume figures are the measured ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { readWranglerEnvironment, wranglerEnvironments } from '../../cli/lib/wrangler-config.ts';
import { KIND_ATTRIBUTES, logRecord, type TelemetryEvent } from '../../runtime/lib/telemetry.ts';
import { MAX_LINE_BYTES, RECORDS_PER_EVENT } from '../support/observability-figures.ts';
import { ROOT } from '../support/project.ts';

const WRANGLER = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
const DOC = readFileSync(join(ROOT, 'docs/observability.md'), 'utf8');

interface Observability {
  enabled?: boolean;
  logs?: { enabled?: boolean; head_sampling_rate?: number; destinations?: string[] };
  traces?: { enabled?: boolean; head_sampling_rate?: number; destinations?: string[] };
}
const config = parse(WRANGLER) as unknown as {
  observability?: Observability;
  env: Record<string, { observability?: Observability }>;
};
const tables: [string, Observability | undefined][] = [
  ['default', config.observability],
  ...Object.entries(config.env).map(([name, env]) => [name, env.observability] as [string, Observability | undefined]),
];

describe('wrangler.toml: observability', () => {
  it("every environment's table is valid for wrangler's own configuration schema", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'node_modules/wrangler/config-schema.json'), 'utf8')) as {
      definitions: Record<string, unknown>;
    };
    const validate = new Ajv({ strict: false }).compile({
      $ref: '#/definitions/Observability',
      definitions: schema.definitions,
    });
    for (const [name, table] of tables)
      expect([name, validate(table), validate.errors ?? []]).toEqual([name, true, []]);
  });

  it('logs every invocation and traces one in ten, everywhere; no destination is set until the user names theirs', () => {
    expect(tables.map(([name]) => name)).toEqual(['default', 'staging', 'production']);
    for (const [name, table] of tables) {
      expect([name, table?.enabled, table?.logs?.enabled, table?.logs?.head_sampling_rate]).toEqual([
        name,
        true,
        true,
        1,
      ]);
      expect([name, table?.traces?.enabled, table?.traces?.head_sampling_rate]).toEqual([name, true, 0.1]);
      // A destination must exist in the account's dashboard first: a made-up name would break the deploy.
      expect([name, table?.logs?.destinations, table?.traces?.destinations]).toEqual([name, undefined, undefined]);
    }
    // What to set is written beside each table, commented out.
    expect(WRANGLER.match(/^# destinations = \["switchyard(-staging|-production)?-logs"\]$/gm)).toHaveLength(3);
    expect(WRANGLER.match(/^# destinations = \["switchyard(-staging|-production)?-traces"\]$/gm)).toHaveLength(3);
  });

  it('validate still reads every environment of it', () => {
    for (const name of ['default', ...wranglerEnvironments(WRANGLER)])
      expect(readWranglerEnvironment(WRANGLER, name)?.producers.size).toBeGreaterThan(0);
  });
});

describe('docs/observability.md', () => {
  it("its settings block is wrangler.toml's, word for word", () => {
    const block = WRANGLER.slice(
      WRANGLER.indexOf('[observability]\n'),
      WRANGLER.indexOf('# Retention pruning'),
    ).trimEnd();
    expect(DOC).toContain(`\`\`\`toml\n${block}\n\`\`\``);
  });

  it("its table of stages and outcomes is the telemetry's, every kind", () => {
    // The kinds whose stage or outcome the event says: every value they can take.
    const samples: Record<string, object[]> = {
      'webhook.dead_lettered': [{ stage: 'ingest' }, { stage: 'consumer' }],
      'event.applied': [{ in_request: true }, {}],
      'event.ignored': [{ in_request: true }, {}],
      'event.skipped': [{ in_request: true }, {}],
      'event.stuck': [{ action: 'requeued' }, { action: 'dead_lettered' }],
    };
    const table = DOC.slice(
      DOC.indexOf('| Kind | Stage | Outcome |'),
      DOC.indexOf('\n\n', DOC.indexOf('| Kind | Stage | Outcome |')),
    );
    const shown = new Map(
      [...table.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \| (.+?) \| (.+?) \|$/gm)].map((m) => [m[1]!, `${m[2]} | ${m[3]}`]),
    );
    const expected = new Map(
      Object.entries(KIND_ATTRIBUTES).map(([kind, entry]) => {
        expect(typeof entry === 'function' ? samples[kind] : [], `samples of ${kind}'s values`).toBeDefined();
        const pairs =
          typeof entry === 'function'
            ? samples[kind]!.map((s) => (entry as (e: object) => readonly [string, string])({ kind, ...s }))
            : [entry as readonly [string, string]];
        const list = (i: 0 | 1) => [...new Set(pairs.map((p) => p[i]))].map((v) => `\`${v}\``).join(' or ');
        return [kind, `${list(0)} | ${list(1)}`];
      }),
    );
    expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(expected));
  });

  it('its sample line has the fields, order and names logRecord writes', () => {
    const sample = JSON.parse(/```json\n(.*)\n```/.exec(DOC)![1]!) as Record<string, unknown>;
    const { event_id, attempt, stage: _stage, outcome: _outcome, ts: _ts, level: _level, ...fields } = sample;
    const event = { ...fields, id: event_id, attempt } as unknown as TelemetryEvent;
    const written = { ...logRecord(event), ts: sample.ts };
    expect(Object.keys(JSON.parse(JSON.stringify(written)))).toEqual(Object.keys(sample));
    expect(JSON.parse(JSON.stringify(written))).toEqual(sample);
  });

  it('its volume figures are the ones test/worker/observability.test.ts measures', () => {
    expect(DOC).toContain(
      `an event applied in the request with its email sent writes\n${RECORDS_PER_EVENT.inRequestWithEmail} records; a queued event with SQL only writes ${RECORDS_PER_EVENT.queuedSqlOnly}`,
    );
    expect(DOC).toContain(`No line was longer than ${MAX_LINE_BYTES} bytes`);
    expect(DOC).toContain(`at (${RECORDS_PER_EVENT.inRequestWithEmail} + 1) log events per event`);
    expect(DOC).toContain(
      `holds ${(200_000 / (RECORDS_PER_EVENT.inRequestWithEmail + 1)).toLocaleString('en-US')} events a day`,
    );
    expect(DOC).toContain(
      `0.5 GB holds over ${Math.floor(0.5e9 / MAX_LINE_BYTES / 1e5) / 10} million of switchyard's records of at most ${MAX_LINE_BYTES} bytes`,
    );
  });
});
