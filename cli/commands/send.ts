/**
 * `switchyard send <integration> [event-type | --file payload.json] [--type TYPE] [--url URL] [--env NAME]`: posts a
 * realistic sample event, signed exactly as the provider signs it (cli/lib/sign-sample.ts, as `switchyard test`
 * signs), using the secret from the environment or .dev.vars. It prints the response, then what the runtime recorded
 * for the event, polled from the admin API (with ADMIN_TOKEN) until settled or --wait runs out, saying so when it is
 * still waiting or not recorded at all; a duplicate is reported at once. Works for every verifier signed with a
 * shared secret, the generic hmac included, from the manifest alone; an integration with `provider:` and no
 * samples/ file sends the catalog's sample.
 */
import { EffectStatus, EventStatus, isSettled } from '../../runtime/store/status.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../../runtime/component/registry.ts';
import { loadOwnComponents } from '../lib/own-components.ts';
import { secretNamesOf } from '../../runtime/component/sign.ts';
import { closest } from '../../runtime/language/closest.ts';
import { providersOf } from '../../runtime/manifest/catalog.ts';
import { parseManifest, resolveEnvironment } from '../../runtime/manifest/load.ts';
import { fillSample, loadCatalog, resolveWithProviders } from '../lib/catalog.ts';
import {
  buildSample,
  findSample,
  SampleError,
  signSample,
  type SampleOptions,
  type Signable,
  type SignedSample,
  type UnsignedSample,
} from '../lib/sign-sample.ts';
import { compileManifest, type CompiledIntegration } from '../../runtime/manifest/compile.ts';
import { extractEnvelope } from '../../runtime/event/extract.ts';
import type { Integration, Manifest } from '../../runtime/manifest/types.gen.ts';
import { UsageError } from '../lib/args.ts';
import { defineCommand, ENV_FLAG, MANIFEST_FLAG, parseCommand, URL_FLAG } from '../lib/command.ts';
import { readDevVars } from '../lib/dev-vars.ts';
import { projectFor, readText } from '../lib/project.ts';
import { reach, serverUrl } from '../lib/server.ts';
import { log, logError, processOutput, type Output } from '../lib/output.ts';

export { fillSample };

/** The one integration, compiled as the runtime compiles it (undefined if the rest of the manifest is needed). */
function compiledAlone(manifest: Manifest, name: string, registry: Registry): CompiledIntegration | undefined {
  try {
    const { handlers: _handlers, ...spec } = manifest.integrations[name]! as Integration & { handlers?: unknown };
    return compileManifest(
      { version: manifest.version, queues: manifest.queues, integrations: { [name]: spec } } as Manifest,
      registry,
    ).integrations.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Why this sample would be a duplicate from its second send on, if it would: two renderings (another `__ID__`, a
 * millisecond later) that give the same event id, or the same body where the integration also refuses a body it has seen.
 */
function repeats(
  integration: CompiledIntegration | undefined,
  signable: Signable,
  options: SampleOptions,
): string | undefined {
  if (!integration) return undefined;
  try {
    const [a, b] = ['aaaaaaaaaaaa', 'bbbbbbbbbbbb'].map((id, i) =>
      buildSample(signable, { ...options, id, now: options.now + i }),
    );
    const idOf = (s: UnsignedSample, i: number) =>
      extractEnvelope(
        integration,
        s.body,
        new Headers(s.headers),
        new Date(options.now + i).toISOString(),
        '0'.repeat(64),
      ).id;
    // An id made on arrival (`now: true`) is new on every send whatever the body.
    const madeOnArrival = Boolean((signable.event as { id?: { now?: unknown } } | undefined)?.id?.now);
    if (!madeOnArrival && (integration.hashesBody ? a!.body === b!.body : idOf(a!, 0) === idOf(b!, 1)))
      return 'the same event id on every send';
    if (integration.replayWindowMs && a!.body === b!.body)
      return 'the same body on every send, which this integration refuses as a replay (same_body)';
  } catch {
    // Not extractable here: the server's answer says why.
  }
  return undefined;
}

export const sendSpec = defineCommand({
  name: 'send',
  summary: 'post a signed sample event, and print what the runtime recorded',
  description: `Posts a sample event to the integration's route, signed as the provider signs it (the verifier's own
signer, as switchyard test signs), with the secret from the environment or .dev.vars. The payload is
samples/<integration>/<event-type>.json, else the catalog sample of the integration's provider:, or --file. It
signs for every scheme signed with a shared secret; for a scheme signed with the provider's private key (Ed25519,
ECDSA, RSA) it says so and sends nothing.

It prints the server's answer, then (with ADMIN_TOKEN) polls the event log until the event is settled and prints
what the runtime recorded: the event's status and each effect's. An event still queued when --wait runs out is
reported as still queued (not processed yet), and one the log does not have as not recorded; both exit 1.

A duplicate answer (the event id, or the same body, was received before) is printed at once with the server's
reason and exits 0: nothing new was recorded and nothing was lost. Exit 1 when the request is refused or the event
ends other than applied, ignored or skipped.`,
  arguments: [
    { name: '<integration>', description: 'the integration to send to (a key under integrations:)' },
    {
      name: '[event-type]',
      description:
        'the sample to send: samples/<integration>/<event-type>.json, or the catalog sample of that type (default: the first file in samples/<integration>/, else the catalog sample)',
    },
  ],
  flags: {
    file: {
      type: 'string',
      value: 'FILE',
      description: 'send this JSON payload instead of a sample (placeholders such as __ID__ and __NOW_S__ are filled)',
    },
    type: {
      type: 'string',
      value: 'TYPE',
      description: 'the event type, where the provider sends it in a header (needed with --file for those)',
    },
    url: URL_FLAG,
    env: ENV_FLAG,
    manifest: MANIFEST_FLAG,
    wait: {
      type: 'string',
      value: 'SECONDS',
      default: '20',
      description: 'how long to wait for the event to be settled before saying it is not',
    },
  },
  examples: [
    {
      command: 'switchyard send stripe',
      does: 'a sample event signed as Stripe signs it; prints the status the runtime recorded',
    },
    {
      command: 'switchyard send clerk user.updated',
      does: 'samples/clerk/user.updated.json, signed as Clerk signs it',
    },
    {
      command: 'switchyard send shopify --file order.json --type orders/create',
      does: 'your own payload, with the type Shopify sends in a header',
    },
  ],
});

/** Runs `switchyard send` with `args`, writing to `output`; secrets and ADMIN_TOKEN come from `env`, then .dev.vars. */
export async function sendCommand(
  args: string[],
  output: Output = processOutput,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const { values, positionals } = parseCommand(sendSpec, args);
  const waitSeconds = Number(values.wait);
  if (!(waitSeconds >= 0)) throw new UsageError(`--wait takes a number of seconds, not ${values.wait}`);
  const [integrationName, positionalType, extra] = positionals;
  if (extra) throw new UsageError(`unexpected argument ${extra}`);
  if (positionalType !== undefined && values.type !== undefined && positionalType !== values.type)
    throw new UsageError(`two event types (${positionalType} and --type ${values.type}): give one`);
  const eventType = values.type ?? positionalType;
  const project = projectFor(values.manifest);
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  if (parsed.problems.length) {
    logError(output, `${project.manifest} does not parse; run switchyard validate`);
    return 1;
  }
  const manifest = resolveWithProviders(parsed.value, values.env) as Manifest;
  const spec = integrationName ? (manifest.integrations[integrationName] as Integration | undefined) : undefined;
  if (!spec) {
    const known = Object.keys(manifest.integrations);
    const guess = integrationName ? closest(integrationName, known) : undefined;
    throw new UsageError(
      `${integrationName ? `no integration ${integrationName}${guess ? ` (did you mean ${guess}?)` : ''}` : 'name the integration to send to'}; integrations: ${known.join(', ')}`,
    );
  }
  const verifierType = spec.verifier!.type;
  // A verifier of the project's own (its `components:` files) signs as a built-in one does.
  const registry = loadOwnComponents(project.manifest, parsed.value).registry;
  const adapter = registry.verifiers.get(verifierType);
  if (!adapter || adapter.keyPair || !(adapter.sign || adapter.signBody)) {
    logError(
      output,
      `${verifierType} requests are signed with the provider's private key, which switchyard does not have: use the provider's own test tools`,
    );
    return 1;
  }
  const provider = providersOf(resolveEnvironment(parsed.value, values.env)).get(integrationName!);
  const entry = provider ? loadCatalog().entries.get(provider) : undefined;
  const signable: Signable = {
    name: integrationName!,
    verifier: spec.verifier!,
    ...(spec.event ? { event: spec.event } : {}),
    ...(spec.format ? { format: spec.format } : {}),
    ...(entry ? { sample: entry.sample } : {}),
  };

  const now = Date.now();
  let text: string | undefined;
  let type = eventType;
  let source: string;
  const file = values.file;
  if (file !== undefined) {
    text = readText(file);
    if (text === undefined) {
      logError(output, `--file ${file}: no such file (nothing was sent)`);
      return 1;
    }
    source = `--file ${file}`;
  } else {
    const dir = join(project.root, 'samples', integrationName!);
    const available = (() => {
      try {
        return readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -5))
          .sort();
      } catch {
        return [];
      }
    })();
    const wanted = eventType ?? available[0] ?? entry?.sample.type;
    const found = wanted
      ? findSample((path) => readText(join(project.root, path)), integrationName!, wanted, entry?.sample)
      : undefined;
    if (!found) {
      const offered = [...available, ...(entry ? [`${entry.sample.type} (catalog)`] : [])];
      const guess = wanted ? closest(wanted, [...available, ...(entry ? [entry.sample.type] : [])]) : undefined;
      logError(
        output,
        wanted
          ? `no sample ${wanted} for ${integrationName} in samples/${integrationName}/${guess ? ` (did you mean ${guess}?)` : ''} (have: ${offered.join(', ') || 'none'}); pass --file payload.json`
          : `no samples for ${integrationName}: add samples/${integrationName}/<event-type>.json, set \`provider:\`, or pass --file payload.json`,
      );
      return 1;
    }
    ({ text, type } = found);
    source = found.file ?? `catalog/${provider}.yaml`;
  }

  const url = `${serverUrl(project, values.url)}${spec.route}`;
  const vars = { ...readDevVars(join(project.root, '.dev.vars')), ...env } as Record<string, string | undefined>;
  const secretNames = secretNamesOf(adapter, spec.verifier!).map((list) => list[0]!);
  const secrets = secretNames.map((n) => vars[n]);
  if (secrets.some((s) => !s)) {
    logError(output, `set ${secretNames.join(', ')} in the environment or .dev.vars to sign`);
    return 1;
  }
  const options: SampleOptions = {
    now,
    ...(type !== undefined ? { type } : {}),
    ...(text !== undefined ? { text } : {}),
  };
  let request: SignedSample;
  try {
    request = await signSample(signable, { ...options, url, secrets: secrets as string[] });
  } catch (error) {
    if (error instanceof SampleError && error.typeHeader)
      throw new UsageError(
        `${integrationName} reads the event type from the header ${error.typeHeader}: name it (--type TYPE)`,
      );
    logError(
      output,
      `${source}: ${error instanceof SampleError || error instanceof SyntaxError ? error.message : `cannot sign it: ${(error as Error).message}`} (nothing was sent)`,
    );
    return 1;
  }
  const repeated = repeats(compiledAlone(manifest, integrationName!, registry), signable, options);
  if (repeated)
    logError(
      output,
      `warning: ${source} gives ${repeated}: put an __ID__ placeholder where the id is read (samples/README.md), or the second send is a duplicate`,
    );

  const res = await reach(url, { method: 'POST', headers: request.headers, body: request.body });
  const answer = await res.text();
  log(output, `POST ${url} -> ${res.status} ${answer}`);
  if (!res.ok) return 1;

  let answered: { id?: string; status?: string; reason?: string } = {};
  try {
    answered = JSON.parse(answer) as typeof answered;
  } catch {
    // not JSON: nothing more to say
  }
  // An integration's declared answer (`response:`) is for the provider: the outcome and id come in headers.
  const declared = res.headers.get('x-switchyard-status');
  if (declared)
    answered = {
      status: declared,
      id: res.headers.get('x-switchyard-id') ?? undefined,
      reason: res.headers.get('x-switchyard-reason') ?? undefined,
    };
  const id = answered.id;
  if (answered.status === 'duplicate') {
    // Nothing new was recorded, so there is no status to wait for: say what the server said, at once.
    const why =
      answered.reason === 'same_body'
        ? 'this body was accepted before under another id'
        : 'this event id was received before';
    log(
      output,
      `event ${integrationName}/${id}: duplicate${answered.reason ? ` (${answered.reason})` : ''}: ${why}; not processed again`,
    );
    return 0;
  }
  const token = vars.ADMIN_TOKEN;
  if (!id || !token) {
    if (!token) log(output, '(set ADMIN_TOKEN to see the final status)');
    return 0;
  }
  const detail = `${url.slice(0, url.length - spec.route.length)}/admin/api/events/${encodeURIComponent(integrationName!)}/${encodeURIComponent(id)}`;
  type Detail = {
    event: {
      status: string;
      attempts: number;
      max_attempts: number | null;
      error: string | null;
      next_at: string | null;
    };
    effects: {
      step: string;
      action: string;
      label?: string;
      status: string;
      attempts: number;
      max_attempts: number | null;
      error: string | null;
      next_at: string | null;
    }[];
  };
  let found: Detail | undefined;
  const waiting: string[] = [EventStatus.queued, EventStatus.replayed];
  const openEffect = (e: Detail['effects'][number]) =>
    e.status === EffectStatus.sending || e.status === EffectStatus.pending;
  const settled = (d: Detail | undefined) =>
    d && !waiting.includes(d.event.status) && !(d.effects ?? []).some(openEffect);
  for (const deadline = Date.now() + waitSeconds * 1000; ; ) {
    const r = await reach(detail, { headers: { authorization: `Bearer ${token}` } });
    if (r.ok) {
      // Only an event's detail counts: another server on that URL (a proxy's page) is not an answer.
      const read = (await r.json().catch(() => undefined)) as Partial<Detail> | undefined;
      if (read?.event && typeof read.event.status === 'string') found = { effects: [], ...read } as Detail;
    }
    if (r.status === 401) {
      logError(output, 'the admin token was refused, so the final status is unknown: check ADMIN_TOKEN');
      return 1;
    }
    if (settled(found) || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const waited = `${waitSeconds} s`;
  if (!found) {
    // The server answered for it, but its event log has no such event: say so, not a status it never had.
    logError(
      output,
      `event ${integrationName}/${id}: not recorded: the event log has no such event after ${waited} (the server answered ${answered.status ?? res.status}; is --url the server whose admin API reads that log?)`,
    );
    return 1;
  }
  if (waiting.includes(found.event.status)) {
    logError(
      output,
      `event ${integrationName}/${id}: still ${found.event.status} after ${waited}: recorded, not processed yet (no consumer has run it: check the server's log, or wait longer with --wait)`,
    );
    return 1;
  }
  const event = found.event;
  const retrying = (x: { attempts: number; max_attempts: number | null; next_at: string | null }) =>
    ` (attempt ${x.attempts} of ${x.max_attempts ?? '?'}, next at ${x.next_at ?? '?'})`;
  log(
    output,
    `event ${integrationName}/${id}: ${event.status}${event.status === EventStatus.retrying ? retrying(event) : ''}${event.error ? `: ${event.error}` : ''}`,
  );
  for (const e of found.effects ?? []) {
    // As the console names it (the manifest's step and the action), when the server says so.
    log(
      output,
      `  effect ${e.label ?? `${e.step} ${e.action}`}: ${openEffect(e) ? `still ${e.status} after ${waited}` : e.status}${e.status === EffectStatus.retrying ? retrying(e) : ''}${e.error ? `: ${e.error}` : ''}`,
    );
  }
  return isSettled(event.status) ? 0 : 1;
}
