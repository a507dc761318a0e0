/**
 * `switchyard send <integration> [event-type | --file payload.json] [--url URL] [--env NAME]`: posts a realistic
 * sample event, signed exactly as the provider signs it, using the secret from the environment or .dev.vars. It
 * prints the response, then the event's final status from the admin API (with ADMIN_TOKEN). Works for every
 * verifier signed with a shared secret, the generic hmac included, from the manifest alone; an integration with
 * `provider:` and no samples/ file sends the catalog's sample.
 */
import { EffectStatus, EventStatus } from '../../runtime/store/status.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../worker/registry.ts';
import { secretNamesOf, signRequest } from '../../runtime/component/sign.ts';
import { closest } from '../../runtime/manifest/closest.ts';
import { providersOf } from '../../runtime/manifest/catalog.ts';
import { parseManifest, resolveEnvironment } from '../../runtime/manifest/load.ts';
import { catalogSample, fillSample, loadCatalog, resolveWithProviders, type CatalogSample } from '../lib/catalog.ts';
import type { Integration, Manifest } from '../../runtime/manifest/types.gen.ts';
import { parseArgs, UsageError } from '../lib/args.ts';
import { readDevVars } from '../lib/dev-vars.ts';
import { projectFor, readText } from '../lib/project.ts';
import { reach, serverUrl } from '../lib/server.ts';

export { fillSample };

/**
 * A samples/ file (or --file) as a request: form providers' JSON fields form-encoded, and the headers the extraction
 * rules read (a fresh delivery id, the event type, the time) filled in.
 */
function fromText(text: string, type: string, spec: Integration, now: number): CatalogSample {
  const form = spec.format === 'form' ? (JSON.parse(text) as Record<string, string>) : undefined;
  const headers: Record<string, string> = {};
  for (const [field, value] of Object.entries((spec.event ?? {}) as Record<string, unknown>)) {
    const header = value && typeof value === 'object' ? (value as { header?: string }).header : undefined;
    if (header) headers[header.toLowerCase()] = field === 'id' ? crypto.randomUUID() : field === 'type' ? type : String(Math.floor(now / 1000));
  }
  return { type, body: form ? new URLSearchParams(form).toString() : text, headers, ...(form ? { form } : {}) };
}

export async function sendCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs(args, { url: { type: 'string' }, env: { type: 'string' }, file: { type: 'string' }, manifest: { type: 'string' } });
  const [integrationName, eventType, extra] = positionals;
  if (extra) throw new UsageError(`unexpected argument ${extra}`);
  const project = projectFor(values.manifest);
  const parsed = parseManifest(readText(project.manifest) ?? '', project.manifest);
  if (parsed.problems.length) {
    console.error(`${project.manifest} does not parse; run switchyard validate`);
    return 1;
  }
  const manifest = resolveWithProviders(parsed.value, values.env ?? 'default') as Manifest;
  const spec = integrationName ? (manifest.integrations[integrationName] as Integration | undefined) : undefined;
  if (!spec) {
    const known = Object.keys(manifest.integrations);
    const guess = integrationName ? closest(integrationName, known) : undefined;
    throw new UsageError(`${integrationName ? `no integration ${integrationName}${guess ? ` (did you mean ${guess}?)` : ''}` : 'name the integration to send to'}; integrations: ${known.join(', ')}`);
  }
  const verifierType = spec.verifier!.type;
  const adapter = defaultRegistry.verifiers.get(verifierType);
  if (!adapter || adapter.keyPair || !(adapter.sign || adapter.signBody)) {
    console.error(`${verifierType} requests are signed with the provider's private key, which switchyard does not have: use the provider's own test tools`);
    return 1;
  }
  const provider = providersOf(resolveEnvironment(parsed.value, values.env ?? 'default')).get(integrationName!);
  const entry = provider ? loadCatalog().entries.get(provider) : undefined;

  const now = Date.now();
  let sample: CatalogSample;
  const file = values.file;
  if (file !== undefined) {
    const read = readText(file);
    if (read === undefined) {
      console.error(`--file ${file}: no such file (nothing was sent)`);
      return 1;
    }
    sample = fromText(fillSample(read, now).trim(), eventType ?? 'sample', spec, now);
  } else {
    const dir = join(project.root, 'samples', integrationName!);
    const available = (() => {
      try {
        return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
      } catch {
        return [];
      }
    })();
    const type = eventType ?? available[0];
    if (type && available.includes(type)) sample = fromText(fillSample(readText(join(dir, `${type}.json`))!, now).trim(), type, spec, now);
    else if (entry && (!eventType || eventType === entry.sample.type)) {
      // No samples/ file: the provider's catalog sample, as the provider sends it.
      sample = catalogSample(entry, now);
    } else {
      const offered = [...available, ...(entry ? [`${entry.sample.type} (catalog)`] : [])];
      const guess = type ? closest(type, [...available, ...(entry ? [entry.sample.type] : [])]) : undefined;
      console.error(
        type ? `no sample ${type} for ${integrationName} in samples/${integrationName}/${guess ? ` (did you mean ${guess}?)` : ''} (have: ${offered.join(', ') || 'none'}); pass --file payload.json`
        : `no samples for ${integrationName}: add samples/${integrationName}/<event-type>.json, set \`provider:\`, or pass --file payload.json`,
      );
      return 1;
    }
  }

  const url = `${serverUrl(project, values.url)}${spec.route}`;
  const vars = { ...readDevVars(join(project.root, '.dev.vars')), ...process.env } as Record<string, string | undefined>;
  const secretNames = secretNamesOf(adapter, spec.verifier!).map((list) => list[0]!);
  const secrets = secretNames.map((n) => vars[n]);
  if (secrets.some((s) => !s)) {
    console.error(`set ${secretNames.join(', ')} in the environment or .dev.vars to sign`);
    return 1;
  }
  const signed = await signRequest(adapter, spec.verifier!, { url, body: sample.body, now, secrets: secrets as string[], headers: sample.headers, ...(sample.form ? { form: sample.form } : {}) });
  const headers = { 'content-type': sample.form ? 'application/x-www-form-urlencoded' : 'application/json', ...sample.headers, ...signed.headers };
  const body = signed.body;

  const res = await reach(url, { method: 'POST', headers, body });
  const answer = await res.text();
  console.log(`POST ${url} -> ${res.status} ${answer}`);
  if (!res.ok) return 1;

  const id = (JSON.parse(answer) as { id?: string }).id;
  const token = vars.ADMIN_TOKEN;
  if (!id || !token) {
    if (!token) console.log('(set ADMIN_TOKEN to see the final status)');
    return 0;
  }
  const detail = `${url.slice(0, url.length - spec.route.length)}/admin/api/events/${encodeURIComponent(integrationName!)}/${encodeURIComponent(id)}`;
  type Detail = {
    event: { status: string; attempts: number; max_attempts: number | null; error: string | null; next_at: string | null };
    effects: { step: string; action: string; status: string; attempts: number; max_attempts: number | null; error: string | null; next_at: string | null }[];
  };
  let found: Detail | undefined;
  const waiting: string[] = [EventStatus.queued, EventStatus.replayed];
  const settled = (d: Detail | undefined) => d && !waiting.includes(d.event.status) && !(d.effects ?? []).some((e) => e.status === EffectStatus.sending || e.status === EffectStatus.pending);
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    const r = await reach(detail, { headers: { authorization: `Bearer ${token}` } });
    if (r.ok) found = (await r.json()) as Detail;
    if (r.status === 401) {
      console.error('the admin token was refused, so the final status is unknown: check ADMIN_TOKEN');
      return 1;
    }
    if (settled(found)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const event = found?.event ?? { status: EventStatus.queued, attempts: 0, max_attempts: null, error: null, next_at: null };
  const retrying = (x: { attempts: number; max_attempts: number | null; next_at: string | null }) => ` (attempt ${x.attempts} of ${x.max_attempts ?? '?'}, next at ${x.next_at ?? '?'})`;
  console.log(`event ${integrationName}/${id}: ${event.status}${event.status === EventStatus.retrying ? retrying(event) : ''}${event.error ? `: ${event.error}` : ''}`);
  for (const e of found?.effects ?? []) {
    console.log(`  effect ${e.step} ${e.action}: ${e.status}${e.status === EffectStatus.retrying ? retrying(e) : ''}${e.error ? `: ${e.error}` : ''}`);
  }
  return event.status === EventStatus.applied || event.status === EventStatus.ignored ? 0 : 1;
}
