/**
 * `switchyard capture [--url URL] [--integration NAME] [--type TYPE] [--days N | --since ISO] [--limit N]
 * [--out tests/captured.test.yaml]`: turns real deliveries into manifest tests. It reads events from a running
 * environment's event log through the admin API, scrubs personal data (e-mails, phone numbers and names by default,
 * plus the rules in tests/capture.yaml), writes each payload to tests/fixtures/<integration>/, and appends a case
 * per event to the output test file expecting the status the event reached. Signatures are not kept (the event log
 * never stores them): `switchyard test` signs each fixture again, the integration's own way.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { parseManifest } from '../../runtime/manifest/load.ts';
import { resolveWithProviders } from '../lib/catalog.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, MANIFEST_FLAG, parseCommand, URL_FLAG } from '../lib/command.ts';
import { fieldSource } from '../lib/manifest-tests/run.ts';
import { Scrubber, type ScrubRules } from '../lib/manifest-tests/scrub.ts';
import { TESTS_DIR } from '../lib/manifest-tests/node.ts';
import { projectFor, readText } from '../lib/project.ts';
import { adminCall, adminToken, ServerError, serverUrl } from '../lib/server.ts';

interface ListedEvent {
  integration: string;
  id: string;
  type: string;
  status: string;
}

interface Detail {
  event: ListedEvent & { payload: unknown; occurred_at: string | null };
}

/** A file-name-safe form of an event id. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

const DEFAULT_OUT = `${TESTS_DIR}/captured.test.yaml`;

export const captureSpec = defineCommand({
  name: 'capture',
  summary: 'turn events from a running environment into scrubbed test fixtures',
  description: `Reads events from a running environment's event log through the admin API, scrubs personal data
(e-mails, phone numbers and names by default, plus the rules in tests/capture.yaml), writes each payload to
tests/fixtures/<integration>/, and appends a case per event to the test file (--out) expecting the status the
event reached. Signatures are not kept (the event log never stores them): switchyard test signs each fixture again
with the integration's signer. Events already captured are skipped. Review the fixtures before committing them.`,
  flags: {
    url: URL_FLAG,
    integration: { type: 'string', value: 'NAME', description: "only this integration's events" },
    type: { type: 'string', value: 'TYPE', description: 'only events of this type' },
    days: { type: 'string', value: 'N', description: 'only events received in the last N days' },
    since: { type: 'string', value: 'ISO', description: 'only events received since this time' },
    limit: {
      type: 'string',
      value: 'N',
      default: '20',
      description: 'at most this many events (1 to 200), the newest',
    },
    out: {
      type: 'string',
      value: 'FILE',
      default: DEFAULT_OUT,
      description: "the test file to append the cases to (relative to the manifest's folder, or absolute)",
    },
    env: ENV_FLAG,
    manifest: MANIFEST_FLAG,
  },
  exclusive: [['days', 'since']],
  examples: [
    {
      command: 'switchyard capture --integration stripe --days 1',
      does: "yesterday's Stripe events, as cases in tests/captured.test.yaml",
    },
    {
      command: 'switchyard capture --url https://hooks.example.com --out tests/prod.test.yaml',
      does: 'from a deployed environment, into another file',
    },
  ],
});

export async function captureCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(captureSpec, args);
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(days > 0)) throw new UsageError('--days takes a positive number');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    throw new UsageError('--limit takes a number from 1 to 200');
  const project = projectFor(values.manifest);
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  if (parsed.problems.length) {
    console.error(`${project.manifest} does not parse; run switchyard validate`);
    return 1;
  }
  const manifest = resolveWithProviders(parsed.value, values.env) as Manifest;
  const base = serverUrl(project, values.url);
  const token = adminToken(project);
  if (!token) throw new ServerError('capture reads the admin API: set ADMIN_TOKEN in the environment or in .dev.vars');
  const since =
    values.since ?? (days !== undefined ? new Date(Date.now() - days * 86_400_000).toISOString() : undefined);
  const query = new URLSearchParams({
    limit: String(limit),
    ...(values.integration ? { integration: values.integration } : {}),
    ...(values.type ? { type: values.type } : {}),
    ...(since ? { since } : {}),
  });
  const listed = await adminCall<{ events: ListedEvent[] }>(base, token, `/events?${query}`);
  const events = listed.events.filter((e) => manifest.integrations[e.integration]).reverse();
  if (!events.length) {
    console.log(`no events to capture from ${base}${values.integration ? ` for ${values.integration}` : ''}`);
    return 0;
  }

  const rulesPath = join(project.root, TESTS_DIR, 'capture.yaml');
  const rules =
    ((readText(rulesPath) ? parse(readText(rulesPath)!) : {}) as { scrub?: ScrubRules } | null)?.scrub ?? {};
  const scrubber = new Scrubber(rules);
  // Relative to the project, or absolute as given (joined, an absolute path became a folder under the project).
  const out = resolve(project.root, values.out);
  const doc = existsSync(out)
    ? parseDocument(readText(out)!)
    : parseDocument(
        '# Captured with `switchyard capture`: real deliveries, personal data scrubbed. Review before committing.\ncases: []\n',
      );
  const cases = (doc.toJS() as { cases?: { events?: { file?: string }[] }[] }).cases ?? [];
  const have = new Set(cases.flatMap((c) => (c.events ?? []).map((e) => e.file)));
  let written = 0;
  for (const e of events) {
    const detail = await adminCall<Detail>(
      base,
      token,
      `/events/${encodeURIComponent(e.integration)}/${encodeURIComponent(e.id)}`,
    );
    const spec = manifest.integrations[e.integration]!;
    let payload = detail.event.payload;
    // A form body (Twilio) is kept as its fields, the shape the runner posts form-encoded again.
    if (typeof payload === 'string' && spec.format === 'form')
      payload = Object.fromEntries(new URLSearchParams(payload));
    const fixture = join(project.root, TESTS_DIR, 'fixtures', e.integration, `${safe(e.type)}.${safe(e.id)}.json`);
    const file = relative(dirname(out), fixture).split('\\').join('/');
    if (have.has(file)) continue;
    mkdirSync(dirname(fixture), { recursive: true });
    writeFileSync(fixture, `${JSON.stringify(scrubber.scrub(payload), null, 2)}\n`);
    const event = spec.event as unknown as Record<string, unknown>;
    const step: Record<string, unknown> = { file };
    // The id and type as the log has them, where the runner can set them (a header, or a plain path).
    if (fieldSource(event.id)) step.id = e.id;
    if (fieldSource(event.type)) step.type = e.type;
    step.expect = { event: detail.event.status };
    doc.addIn(
      ['cases'],
      doc.createNode({
        name: `captured ${e.integration} ${e.type} ${e.id}`,
        integration: e.integration,
        events: [step],
      }),
    );
    written++;
  }
  if (written) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, doc.toString({ lineWidth: 0 }));
  }
  console.log(
    `captured ${written} event${written === 1 ? '' : 's'} from ${base} into ${relative(process.cwd(), out) || out}${written < events.length ? ` (${events.length - written} already there)` : ''}`,
  );
  console.log(
    'personal data scrubbed (e-mails, phone numbers, names, and the rules in tests/capture.yaml); run `switchyard test` to check them',
  );
  return 0;
}
