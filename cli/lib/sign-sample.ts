/**
 * One way to make a signed sample request, for `switchyard send`, `switchyard test` and the conformance tests: the
 * payload (a catalog sample, a samples/ file, a test case's JSON) with its placeholders filled, the headers the
 * envelope reads (a delivery id, the type, the time in the form the extraction expects), form-encoded for form
 * providers, then signed by the verifier's own signer (`signRequest`), which may rewrite the body (Mailgun's
 * signature, Linear's timestamp). Worker-safe: WebCrypto only, no Node APIs.
 */
import { defaultRegistry } from '../../worker/registry.ts';
import { signRequest } from '../../runtime/component/sign.ts';
import type { Registry } from '../../runtime/component/registry.ts';
import type { CatalogEntry } from '../../runtime/manifest/catalog.ts';

/** A provider's sample, as catalog/<name>.yaml gives it. */
export type CatalogSampleSpec = CatalogEntry['sample'];

/** What a sample is built and signed for: an integration (or a catalog entry), and the catalog sample it may use. */
export interface Signable {
  /** The integration's (or provider's) name, for messages. */
  name?: string;
  /** The verifier block (`type` and its options). */
  verifier: { type: string };
  /** The envelope extraction (`id`, `type`, `occurred_at`): which of them are headers. */
  event?: object;
  format?: string;
  /** The provider's catalog sample: the default payload, and the headers each delivery carries. */
  sample?: CatalogSampleSpec;
}

export interface SampleOptions {
  /** The time the request is made (ms): what the time placeholders and time headers say. */
  now: number;
  /** The event type; default the catalog sample's (when no `text` is given). */
  type?: string;
  /** The payload text (a samples/ file, `--file`, a test case's JSON) instead of the catalog sample. */
  text?: string;
  /** The value of `__ID__` (default: 12 random hex characters). */
  id?: string;
  /** The delivery id a header carries when the envelope's id is a header (default: the sample's, else a fresh UUID). */
  deliveryId?: string;
  /** Headers to send as given (they win over everything computed). */
  headers?: Record<string, string>;
}

export interface SignOptions extends SampleOptions {
  url: string;
  /** The values of the secrets the verifier names, in `secretNamesOf` order (a private key for key-pair schemes). */
  secrets: string[];
  registry?: Registry;
}

/** A sample request before signing. */
export interface UnsignedSample {
  type: string;
  body: string;
  headers: Record<string, string>;
  /** For form providers, the fields (what a form signer signs). */
  form?: Record<string, string>;
  /** The delivery id put in a header, when the envelope reads one. */
  deliveryId?: string;
}

/** A request ready to send. */
export interface SignedSample {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  type: string;
}

/** A sample that cannot be built as asked; `typeHeader` is set when the event type must be named. */
export class SampleError extends Error {
  override name = 'SampleError';
  readonly typeHeader: string | undefined;
  constructor(message: string, typeHeader?: string) {
    super(message);
    this.typeHeader = typeHeader;
  }
}

/** Fills a sample's placeholders: `__ID__`, `__NOW_S__` / `__NOW_MS__` (Unix seconds / ms) and `__NOW_ISO__`. */
export function fillSample(text: string, now: number, id = crypto.randomUUID().replace(/-/g, '').slice(0, 12)): string {
  return text
    .replace(/__ID__/g, id)
    .replace(/__NOW_MS__/g, String(now))
    .replace(/__NOW_S__/g, String(Math.floor(now / 1000)))
    .replace(/__NOW_ISO__/g, new Date(now).toISOString());
}

/** JSON text of a YAML value: there a whole-value time placeholder is a string; in the JSON sent it is the number. */
export const jsonOfValue = (value: unknown): string =>
  JSON.stringify(value ?? {}).replace(/"(__NOW_S__|__NOW_MS__)"/g, '$1');

/** A catalog sample's payload text, placeholders not yet filled: its `raw` bytes, else its `body` as JSON. */
export const catalogText = (sample: CatalogSampleSpec): string => sample.raw ?? jsonOfValue(sample.body);

/**
 * `now` as an envelope field read from a header expects it, judged by the field's transform: Unix seconds for
 * `unix_seconds_to_iso`, ms for `unix_ms_to_iso`, else ISO 8601 (what `iso` reads).
 */
export function timeAs(transform: unknown, now: number): string {
  const names = JSON.stringify(transform ?? '');
  return names.includes('unix_seconds')
    ? String(Math.floor(now / 1000))
    : names.includes('unix_ms')
      ? String(now)
      : new Date(now).toISOString();
}

/** The header an envelope field is read from, as written in the manifest, if it is a header. */
export function headerOf(event: object | undefined, field: 'id' | 'type' | 'occurred_at'): string | undefined {
  const spec = (event as Record<string, unknown> | undefined)?.[field];
  return spec && typeof spec === 'object' && typeof (spec as { header?: unknown }).header === 'string'
    ? (spec as { header: string }).header
    : undefined;
}

/**
 * Where a named sample comes from: `samples/<integration>/<type>.json` when the project has it, else the catalog
 * sample when its type is the one asked for (`text` then absent: `buildSample` uses the catalog's). Undefined if
 * neither has it. `read` reads a project file by relative path.
 */
export function findSample(
  read: (path: string) => string | undefined,
  integration: string,
  type: string,
  catalog?: CatalogSampleSpec,
): { type: string; text?: string; file?: string } | undefined {
  const file = `samples/${integration}/${type}.json`;
  const text = read(file);
  if (text !== undefined) return { type, text, file };
  return catalog && catalog.type === type ? { type } : undefined;
}

/**
 * The request a sample makes, unsigned.
 * @example buildSample({ verifier: { type: 'hmac' }, event: entry.event, sample: entry.sample }, { now: Date.now() })
 */
export function buildSample(signable: Signable, options: SampleOptions): UnsignedSample {
  const { now } = options;
  const sample = signable.sample;
  const fill = (text: string) => fillSample(text, now, options.id);
  let text: string;
  if (options.text !== undefined) text = options.text;
  else if (sample) text = catalogText(sample);
  else throw new SampleError(`${signable.name ?? 'this integration'} has no catalog sample: give the payload`);
  text = fill(text).trim();
  const given = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(sample?.headers ?? {})) headers[k.toLowerCase()] = fill(v);
  const type = options.type ?? (options.text === undefined ? sample?.type : undefined);
  const typeHeader = headerOf(signable.event, 'type');
  if (typeHeader) {
    if (type !== undefined) headers[typeHeader.toLowerCase()] = type;
    else if (given[typeHeader.toLowerCase()] === undefined)
      throw new SampleError(
        `${signable.name ?? 'this integration'} reads the event type from the header ${typeHeader}: name the type`,
        typeHeader,
      );
  }
  const idHeader = headerOf(signable.event, 'id')?.toLowerCase();
  let deliveryId: string | undefined;
  if (idHeader) headers[idHeader] = deliveryId = options.deliveryId ?? headers[idHeader] ?? crypto.randomUUID();
  const timeHeader = headerOf(signable.event, 'occurred_at')?.toLowerCase();
  if (timeHeader)
    headers[timeHeader] = timeAs(
      (signable.event as { occurred_at: { transform?: unknown } }).occurred_at.transform,
      now,
    );
  let form: Record<string, string> | undefined;
  if (signable.format === 'form') {
    let fields: unknown;
    try {
      fields = JSON.parse(text);
    } catch (error) {
      throw new SampleError(`a form sample is a JSON object of its fields: ${(error as Error).message}`);
    }
    form = Object.fromEntries(
      Object.entries(fields as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    );
    text = new URLSearchParams(form).toString();
  }
  headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
  Object.assign(headers, given);
  if (given[idHeader ?? ''] !== undefined) deliveryId = given[idHeader!];
  return {
    type: type ?? given[typeHeader?.toLowerCase() ?? ''] ?? sample?.type ?? 'event',
    body: text,
    headers,
    ...(form ? { form } : {}),
    ...(deliveryId !== undefined ? { deliveryId } : {}),
  };
}

/**
 * Signs a built sample with the verifier's own signer: the headers it adds, and the body as sent (changed by
 * schemes that carry the signature or its timestamp in the body).
 */
export async function signBuilt(
  signable: Signable,
  built: UnsignedSample,
  options: { url: string; now: number; secrets: string[]; registry?: Registry },
): Promise<{ headers: Record<string, string>; body: string }> {
  const { type } = signable.verifier;
  const adapter = (options.registry ?? defaultRegistry).verifiers.get(type);
  if (!adapter) throw new SampleError(`no verifier type ${type}`);
  if (!adapter.sign && !adapter.signBody)
    throw new SampleError(`the ${type} scheme has no signer: give the signed headers yourself`);
  const signed = await signRequest(adapter, signable.verifier, {
    url: options.url,
    body: built.body,
    now: options.now,
    secrets: options.secrets,
    headers: built.headers,
    ...(built.form ? { form: built.form } : {}),
    ...(built.deliveryId !== undefined ? { id: built.deliveryId } : {}),
  });
  return { headers: { ...built.headers, ...signed.headers }, body: signed.body };
}

/**
 * A sample request for an integration (or a catalog entry), signed as the provider signs it: what `switchyard send`
 * posts and the conformance matrix replays.
 * @example const req = await signSample(entry, { url, now: Date.now(), secrets: ['whsec_...'] }); await fetch(req.url, req)
 */
export async function signSample(signable: Signable, options: SignOptions): Promise<SignedSample> {
  const built = buildSample(signable, options);
  const signed = await signBuilt(signable, built, options);
  return { url: options.url, method: 'POST', headers: signed.headers, body: signed.body, type: built.type };
}
