/**
 * Conformance of every catalog/*.yaml: the file is valid, its preset compiles through the real registry, its sample
 * signed the scheme's way is accepted and extracts the declared event type, tampering, a wrong secret and a stale
 * timestamp are refused, the provider's published vectors verify, and its SDK (where one exists) agrees.
 */
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../worker/registry.ts';
import type { CatalogEntry } from '../../runtime/manifest/catalog.ts';
import { sha256, toHex } from '../../runtime/lib/bytes.ts';
import { extractEnvelope } from '../../runtime/event/extract.ts';
import { catalogNames } from '../../cli/lib/catalog.ts';
import {
  adapterOf,
  catalog,
  compilePreset,
  hasSdk,
  isTimestamped,
  sdkFor,
  sdkSignedVerdict,
  secretsFor,
  signedSample,
  staleByMs,
  tamper,
  verdict,
  type SignedRequest,
} from '../support/catalog.ts';
import { build, optionsOf } from '../../runtime/component/define.ts';
import { secretNames } from '../../runtime/component/spec.ts';
import { secretNamesOf } from '../../runtime/component/sign.ts';

const { entries, problems } = catalog();

/** The secret names a preset's handshake reads (its adapter's secret options). */
function handshakeSecrets(entry: CatalogEntry): string[] {
  if (!entry.handshake) return [];
  const { type, ...options } = entry.handshake;
  return secretNames(defaultRegistry.handshakes.get(type)!.spec, options).flat();
}

describe('the catalog', () => {
  it('has a valid file for every name, each checked against schemas/catalog.schema.json', () => {
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`)).toEqual([]);
    expect([...entries.keys()]).toEqual(catalogNames());
  });
});

describe('the SDK cross-check', () => {
  it('refuses a preset that reads another header than the SDK signs, though our own signer would satisfy it', async () => {
    const github = entries.get('github')!;
    const wrong: CatalogEntry = {
      ...github,
      verifier: { ...github.verifier, header: 'X-Hub-Signature-Elsewhere' } as CatalogEntry['verifier'],
    };
    const { adapter, options } = adapterOf(wrong);
    const verifier = build(adapter, options, undefined);
    const { env, signing } = await secretsFor(wrong);
    const now = Date.now();
    expect(await verdict(verifier, await signedSample(wrong, now, signing), env, now)).toBe('accepted');
    expect(await sdkSignedVerdict(wrong, verifier, (await sdkFor(github))!, env, signing, now)).toBe(
      'missing_signature',
    );
  });
});

describe.each([...entries.values()].map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
  const now = Date.now();
  const { adapter, options } = adapterOf(entry);
  const verifier = build(adapter, options, undefined);

  it('compiles as a `provider:` integration, and the sample extracts its declared type', async () => {
    const { integration } = compilePreset(entry);
    const { signing } = await secretsFor(entry);
    const sample = await signedSample(entry, now, signing);
    const digest = integration.hashesBody ? toHex(await sha256(sample.body)) : undefined;
    const envelope = extractEnvelope(
      integration,
      sample.body,
      new Headers(sample.headers),
      new Date(now).toISOString(),
      digest,
    );
    expect(envelope.type).toBe(entry.sample.type);
    expect(envelope.id).toBeTruthy();
    if (integration.extract.occurredAt)
      expect(envelope.occurred_at === null || !Number.isNaN(Date.parse(envelope.occurred_at))).toBe(true);
    // `secrets:` lists exactly the names the preset reads, each with where to find it.
    const read = new Set([...secretNamesOf(adapter, options).flat(), ...handshakeSecrets(entry)]);
    expect(Object.keys(entry.secrets).sort()).toEqual([...read].sort());
  });

  it("accepts the sample signed the provider's way, and refuses it tampered or under another secret", async () => {
    const { env, signing } = await secretsFor(entry);
    const sample = await signedSample(entry, now, signing);
    expect(await verdict(verifier, sample, env, now)).toBe('accepted');
    if (adapter.authenticates?.(optionsOf(adapter, options)) === 'sender') {
      // A token or Basic credentials prove the sender, not the body: what must fail is a request without them.
      expect(await verdict(verifier, { ...sample, headers: {} }, env, now)).not.toBe('accepted');
    } else {
      expect(await verdict(verifier, { ...sample, body: tamper(entry, sample.body) }, env, now)).not.toBe('accepted');
    }
    const other = await secretsFor(entry);
    expect(await verdict(verifier, await signedSample(entry, now, other.signing), env, now)).not.toBe('accepted');
  });

  if (isTimestamped(entry))
    it('refuses a stale timestamp', async () => {
      const { env, signing } = await secretsFor(entry);
      const stale = await signedSample(entry, now - staleByMs(entry), signing);
      expect(await verdict(verifier, stale, env, now)).toBe('timestamp_too_old');
    });

  if (entry.vectors?.length)
    it('verifies every vector published in the docs, and refuses each with one byte changed', async () => {
      for (const vector of entry.vectors ?? []) {
        const at = (vector.now ?? Math.floor(now / 1000)) * 1000;
        const env = Object.fromEntries(
          secretNamesOf(adapter, options)
            .flat()
            .map((n) => [n, vector.secret]),
        );
        const request: SignedRequest = {
          url: vector.url ?? `https://hooks.example.com/webhooks/${entry.name}`,
          method: vector.method ?? 'POST',
          headers: vector.headers,
          body: vector.body,
        };
        expect(await verdict(verifier, request, env, at), vector.source).toBe('accepted');
        expect(
          await verdict(verifier, { ...request, body: tamper(entry, vector.body) }, env, at),
          vector.source,
        ).not.toBe('accepted');
      }
    });

  if (entry.verified_by === 'sdk' || hasSdk(entry))
    it("agrees with the provider's SDK", async () => {
      const sdk = await sdkFor(entry);
      expect(sdk, `verified_by: sdk needs test/catalog/sdk/${entry.name}.ts`).toBeDefined();
      expect(sdk!.package).toBe(entry.sdk?.package);
      expect(sdk!.sign ?? sdk!.verify).toBeDefined();
      const { env, signing } = await secretsFor(entry);
      const url = `https://hooks.example.com/webhooks/${entry.name}`;
      // SDKs check freshness against their own clock (Paddle's allows 5 s): sign now, not when the file loaded.
      const now = Date.now();
      if (sdk!.sign) expect(await sdkSignedVerdict(entry, verifier, sdk!, env, signing, now)).toBe('accepted');
      if (sdk!.verify) {
        const sample = await signedSample(entry, now, signing);
        const secrets = secretNamesOf(adapter, options).map((names) => env[names[0]!]!);
        const args = { secret: secrets[0]!, secrets, url, now };
        expect(await sdk!.verify({ ...args, body: sample.body, headers: sample.headers })).toBe(true);
        // As above: credentials prove the sender, not the body, so the SDK must refuse a request without them.
        const unsigned =
          adapter.authenticates?.(optionsOf(adapter, options)) === 'sender'
            ? { body: sample.body, headers: {} }
            : { body: tamper(entry, sample.body), headers: sample.headers };
        expect(await sdk!.verify({ ...args, ...unsigned })).toBe(false);
      }
    });

  if (entry.verified_by === 'doc-vector')
    it('has a vector to prove it', () => {
      expect(entry.vectors?.length).toBeGreaterThan(0);
    });
});
