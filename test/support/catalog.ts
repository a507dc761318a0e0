/**
 * The conformance kit for catalog/*.yaml: each provider's preset is built through the real registry and manifest
 * pipeline, its sample signed with the scheme's own signer, and its published vectors replayed. Per-provider SDK
 * cross-checks live in test/catalog/sdk/<name>.ts and are found by name.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultRegistry } from '../../worker/registry.ts';
import { loadCatalog, type Catalog } from '../../cli/lib/catalog.ts';
import { buildSample, signBuilt } from '../../cli/lib/sign-sample.ts';
import { PACKAGE_ROOT } from '../../cli/lib/project.ts';
import { VerificationError, type Verifier } from '../../runtime/component/verifier.ts';
import type { InboundRequest } from '../../runtime/component/context.ts';
import { toBase64, toHex } from '../../runtime/lib/bytes.ts';
import { applyPreset, fieldsOf, type CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { compileManifest, type CompiledIntegration } from '../../runtime/manifest/compile.ts';
import { createManifestValidator } from '../../runtime/manifest/load.ts';
import type { Manifest } from '../../runtime/manifest/types.gen.ts';
import { secretNamesOf } from '../../runtime/component/sign.ts';
import { optionsOf, type Component } from '../../runtime/component/define.ts';

/** What an SDK cross-check gets; `now` is milliseconds. */
export interface SdkArgs {
  secret: string;
  /** Every secret value, in the order of the scheme's secret options (Basic: user name, then password). */
  secrets?: string[];
  body: string;
  url: string;
  now: number;
  headers: Record<string, string>;
}

/** test/catalog/sdk/<name>.ts default-exports one of these. */
export interface CatalogSdk {
  package: string;
  /** The SDK signs; our verifier must accept what it produced. */
  sign?: (args: Omit<SdkArgs, 'headers'>) => Promise<Record<string, string>>;
  /** The SDK verifies what our scheme's sign() produced: true, and false once tampered (sender schemes: without credentials). */
  verify?: (args: SdkArgs) => Promise<boolean>;
}

export const catalog = (): Catalog => loadCatalog();

/** Where samples are sent in these tests (schemes that sign the URL sign this one). */
export const urlFor = (entry: CatalogEntry) => `https://hooks.example.com/webhooks/${entry.name}`;

/** The manifest schema's validator, compiled once (Ajv takes about half a second) for every preset checked. */
let validator: ReturnType<typeof createManifestValidator> | undefined;
const manifestValidator = () => (validator ??= createManifestValidator(defaultRegistry, [...catalog().entries.keys()]));

/** The preset as a one-integration manifest, validated by the manifest schema and compiled by the runtime. */
export function compilePreset(entry: CatalogEntry): {
  integration: CompiledIntegration;
  spec: Record<string, unknown>;
} {
  const spec = applyPreset({ provider: entry.name, route: `/webhooks/${entry.name}`, queue: 'events' }, entry);
  const manifest = {
    version: 1,
    queues: { events: { binding: 'EVENTS_QUEUE' } },
    integrations: { [entry.name.replace(/-/g, '_')]: spec },
  };
  const problems = manifestValidator()(manifest);
  if (problems.length)
    throw new Error(
      `the ${entry.name} preset is not a valid integration: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
    );
  const compiled = compileManifest(manifest as unknown as Manifest, defaultRegistry);
  return { integration: compiled.integrations.get(entry.name.replace(/-/g, '_'))!, spec };
}

export function adapterOf(entry: CatalogEntry): {
  // biome-ignore lint/suspicious/noExplicitAny: any verifier, whatever its options (Component is invariant in them)
  adapter: Component<'verifier', any>;
  options: Record<string, unknown>;
} {
  const { type, ...options } = entry.verifier;
  const adapter = defaultRegistry.verifiers.get(type);
  if (!adapter) throw new Error(`${entry.name}: no verifier type ${type}`);
  return { adapter, options };
}

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** A secret value of the shape the scheme expects (whsec_ keys, base64 or hex keys, prefixes). */
function secretValue(type: string, options: Record<string, unknown>): string {
  if (type === 'svix' || type === 'standard-webhooks') return `whsec_${toBase64(random(24))}`;
  const encoding = options.secret_encoding;
  const body =
    encoding === 'base64' ? toBase64(random(32)) : encoding === 'hex' ? toHex(random(32)) : `test_${toHex(random(12))}`;
  return `${typeof options.secret_prefix === 'string' ? options.secret_prefix : ''}${body}`;
}

/** Fresh secrets for an entry: the env the verifier reads, and the values its signer takes (private keys). */
export async function secretsFor(entry: CatalogEntry): Promise<{ env: Record<string, string>; signing: string[] }> {
  const { adapter, options } = adapterOf(entry);
  const env: Record<string, string> = {};
  const signing: string[] = [];
  for (const names of secretNamesOf(adapter, options)) {
    if (adapter.keyPair) {
      const pair = await adapter.keyPair(options);
      for (const n of names) env[n] = pair.publicKey;
      signing.push(pair.privateKey);
    } else {
      const value = secretValue(entry.verifier.type, options);
      for (const n of names) env[n] = value;
      signing.push(value);
    }
  }
  return { env, signing };
}

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The entry's sample, signed at `now` (ms) with the scheme's own signer through `buildSample` and `signBuilt`, what
 * `send` posts (`signSample`); `unsigned` is its headers before signing.
 */
export async function signedSample(
  entry: CatalogEntry,
  now: number,
  signing: string[],
): Promise<SignedRequest & { type: string; unsigned: Record<string, string> }> {
  const url = urlFor(entry);
  const built = buildSample(entry, { now });
  const signed = await signBuilt(entry, built, { url, now, secrets: signing });
  return { type: built.type, url, method: 'POST', body: signed.body, headers: signed.headers, unsigned: built.headers };
}

/**
 * What our verifier says of the entry's sample signed by the provider's SDK alone: our signer's headers are dropped,
 * so a preset reading another header than the SDK writes cannot pass on our own signature. Header names are
 * lower-cased (an SDK's mixed-case name beside ours would be joined into one malformed value).
 */
export async function sdkSignedVerdict(
  entry: CatalogEntry,
  verifier: Verifier,
  sdk: CatalogSdk,
  env: Record<string, string>,
  signing: string[],
  now: number,
): Promise<string> {
  const sample = await signedSample(entry, now, signing);
  const headers = await sdk.sign!({
    secret: signing[0]!,
    secrets: signing,
    body: sample.body,
    url: urlFor(entry),
    now,
  });
  const sent = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return verdict(verifier, { ...sample, headers: { ...sample.unsigned, ...sent } }, env, now);
}

export function inbound(request: SignedRequest, now: number): InboundRequest {
  return {
    method: request.method,
    url: new URL(request.url),
    headers: new Headers(request.headers),
    body: new TextEncoder().encode(request.body),
    now,
  };
}

/** `accepted`, or the reason the verifier gave. */
export async function verdict(
  verifier: Verifier,
  request: SignedRequest,
  env: Record<string, string>,
  now: number,
): Promise<string> {
  try {
    await verifier.verify(inbound(request, now), env);
    return 'accepted';
  } catch (error) {
    if (error instanceof VerificationError) return error.reason;
    throw error;
  }
}

/** Whether the scheme checks a timestamp (so a stale one must be refused). */
export function isTimestamped(entry: CatalogEntry): boolean {
  const v = fieldsOf(entry.verifier);
  if (['stripe', 'svix', 'standard-webhooks', 'paddle', 'sendgrid'].includes(entry.verifier.type)) return true;
  return Boolean(v.timestamp_header || v.timestamp_field || v.timestamp_key || v.signature_format === 'positional');
}

/** How far in the past a request must be to be stale: the tolerance plus two minutes. */
export function staleByMs(entry: CatalogEntry): number {
  // The scheme's own parsed options: its declared default applies when the preset sets none (Paddle's is 5s).
  const { adapter, options } = adapterOf(entry);
  const { tolerance } = optionsOf(adapter, options) as { tolerance?: number };
  return (tolerance ?? 0) + 120_000;
}

const nudge = (c: string) =>
  c === '9' ? '8' : c === 'z' ? 'y' : c === 'Z' ? 'Y' : String.fromCharCode(c.charCodeAt(0) + 1);

/** Changes one signed character of a body. JSON stays JSON; a scheme that signs only fields gets a field changed. */
export function tamper(entry: CatalogEntry, body: string): string {
  const signed = (entry.verifier as { signed?: string }).signed ?? '{body}';
  const fields = signed.includes('{body}')
    ? []
    : [...signed.matchAll(/\{field\.([^}]+)\}/g)].map((m) => m[1]!.split('.'));
  try {
    const json = JSON.parse(body) as unknown;
    const at = fields.length ? fields[fields.length - 1]! : firstStringPath(json);
    if (at) {
      let node = json as Record<string, unknown>;
      for (const k of at.slice(0, -1)) node = node[k] as Record<string, unknown>;
      const last = at[at.length - 1]!;
      const value = String(node[last]);
      node[last] =
        typeof node[last] === 'number' ? Number(value) + 1 : value.slice(0, -1) + nudge(value.slice(-1) || 'a');
      const out = JSON.stringify(json);
      if (out !== body && JSON.stringify(JSON.parse(body)) === body) return out;
      // The body was not compact JSON: change a character in place instead, keeping every other byte.
    }
  } catch {
    // not JSON: change a letter or digit below
  }
  const i = body.search(/[A-Za-z0-9](?=[^A-Za-z0-9]*$)/);
  return i < 0 ? `${body} ` : body.slice(0, i) + nudge(body[i]!) + body.slice(i + 1);
}

function firstStringPath(json: unknown, at: string[] = []): string[] | undefined {
  if (typeof json === 'string' && json.length > 0) return at;
  if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      const found = firstStringPath(v, [...at, k]);
      if (found) return found;
    }
  }
  return undefined;
}

const sdkPath = (entry: CatalogEntry) => join(PACKAGE_ROOT, 'test/catalog/sdk', `${entry.name}.ts`);

/** Whether test/catalog/sdk/<name>.ts exists (found by name: no list to keep). */
export const hasSdk = (entry: CatalogEntry) => existsSync(sdkPath(entry));

/** The provider's SDK cross-check module, when test/catalog/sdk/<name>.ts exists. */
export async function sdkFor(entry: CatalogEntry): Promise<CatalogSdk | undefined> {
  const path = sdkPath(entry);
  if (!existsSync(path)) return undefined;
  return ((await import(pathToFileURL(path).href)) as { default: CatalogSdk }).default;
}
