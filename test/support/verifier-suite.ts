/**
 * One negative/positive matrix for every verifier: wrong secret, flipped byte, re-serialized JSON, missing and
 * garbled headers, tolerance edges both ways, unknown versions only, truncated signature, one valid among
 * several, rotated secrets, header-name case. Each verifier supplies how its provider signs.
 */
import { describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../runtime/component/context.ts';
import type { VerificationReason } from '../../runtime/component/verifier.ts';
import { VerificationError } from '../../runtime/component/verifier.ts';
import { build, type Component } from '../../runtime/component/define.ts';

export interface Signed {
  headers: Record<string, string>;
  body: string;
  url?: string;
}

export interface VerifierCase {
  // biome-ignore lint/suspicious/noExplicitAny: any verifier, whatever its options (Component is invariant in them)
  adapter: Component<'verifier', any>;
  options: Record<string, unknown>;
  /** Secret values: what the env var named in options holds, and another valid-looking one. */
  secret: string;
  otherSecret: string;
  body: string;
  /** Signs as the provider does (its official library where one exists). */
  sign(body: string, secret: string, ts: number): Promise<Signed>;
  signatureHeader: string;
  /** Tolerance in seconds, or undefined when the scheme has no timestamp. */
  tolerance?: number;
  /** The header value with only unknown signature versions, a truncated signature, and a decoy prepended. */
  unknownVersions?(value: string): string;
  truncate(value: string): string;
  withDecoy?(value: string): string;
  /** Expected reason for a wrong secret (usually signature_mismatch). */
  mismatchReason?: VerificationReason;
  url?: string;
}

const NOW = 1_750_000_000;

export function request(signed: Signed, now = NOW, url = 'https://hooks.example.com/webhooks/x'): InboundRequest {
  return {
    method: 'POST',
    url: new URL(signed.url ?? url),
    headers: new Headers(signed.headers),
    body: new TextEncoder().encode(signed.body),
    now: now * 1000,
  };
}

export async function reason(promise: Promise<void>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (error instanceof VerificationError) return error.reason;
    throw error;
  }
}

export function verifierSuite(name: string, c: VerifierCase) {
  const secretName = 'TEST_SECRET';
  const options = { ...c.options };
  const verifier = build(c.adapter, options, undefined);
  const env = { [secretName]: c.secret };
  const verify = (signed: Signed, now = NOW) => reason(verifier.verify(request(signed, now, c.url), env));
  const withHeader = (signed: Signed, value: string | undefined): Signed => {
    const headers = { ...signed.headers };
    delete headers[c.signatureHeader];
    if (value !== undefined) headers[c.signatureHeader] = value;
    return { ...signed, headers };
  };

  describe(`${name} verifier`, () => {
    it('accepts a request signed as the provider signs it', async () => {
      expect(await verify(await c.sign(c.body, c.secret, NOW))).toBe('accepted');
    });

    it('refuses the wrong secret', async () => {
      expect(await verify(await c.sign(c.body, c.otherSecret, NOW))).toBe(c.mismatchReason ?? 'signature_mismatch');
    });

    it('refuses one flipped body byte', async () => {
      const signed = await c.sign(c.body, c.secret, NOW);
      const i = Math.floor(signed.body.length / 2);
      const flipped =
        signed.body.slice(0, i) + String.fromCharCode(signed.body.charCodeAt(i) ^ 1) + signed.body.slice(i + 1);
      expect(await verify({ ...signed, body: flipped })).not.toBe('accepted');
    });

    it('refuses re-serialized JSON (verification is on the raw bytes)', async () => {
      const signed = await c.sign(c.body, c.secret, NOW);
      let reserialized: string;
      try {
        reserialized = JSON.stringify(JSON.parse(signed.body), null, 1);
      } catch {
        reserialized = signed.body.replace(/&/g, ' & ');
      }
      expect(reserialized).not.toBe(signed.body);
      expect(await verify({ ...signed, body: reserialized })).not.toBe('accepted');
    });

    it('refuses a missing or garbled signature header', async () => {
      const signed = await c.sign(c.body, c.secret, NOW);
      expect(await verify(withHeader(signed, undefined))).toBe('missing_signature');
      expect(await verify(withHeader(signed, '!!!garbled!!!'))).not.toBe('accepted');
    });

    it('refuses a truncated signature', async () => {
      const signed = await c.sign(c.body, c.secret, NOW);
      expect(await verify(withHeader(signed, c.truncate(signed.headers[c.signatureHeader]!)))).not.toBe('accepted');
    });

    if (c.unknownVersions) {
      it('refuses a header with unknown signature versions only', async () => {
        const signed = await c.sign(c.body, c.secret, NOW);
        expect(await verify(withHeader(signed, c.unknownVersions!(signed.headers[c.signatureHeader]!)))).toBe(
          'no_supported_signature',
        );
      });
    }

    if (c.withDecoy) {
      it('accepts one valid signature among several', async () => {
        const signed = await c.sign(c.body, c.secret, NOW);
        expect(await verify(withHeader(signed, c.withDecoy!(signed.headers[c.signatureHeader]!)))).toBe('accepted');
      });
    }

    if (c.tolerance !== undefined) {
      const tolerance = c.tolerance;
      it(`checks the timestamp both ways (tolerance ${tolerance}s)`, async () => {
        expect(await verify(await c.sign(c.body, c.secret, NOW - tolerance))).toBe('accepted');
        expect(await verify(await c.sign(c.body, c.secret, NOW + tolerance))).toBe('accepted');
        expect(await verify(await c.sign(c.body, c.secret, NOW - tolerance - 1))).toBe('timestamp_too_old');
        expect(await verify(await c.sign(c.body, c.secret, NOW + tolerance + 1))).toBe('timestamp_in_future');
      });
    }

    it('accepts either secret while rotating', async () => {
      const rotating = build(
        c.adapter,
        { ...options, [Object.keys(options).find((k) => options[k] === secretName)!]: ['OLD_SECRET', 'NEW_SECRET'] },
        undefined,
      );
      const rotatingEnv = { OLD_SECRET: c.secret, NEW_SECRET: c.otherSecret };
      for (const s of [c.secret, c.otherSecret]) {
        expect(await reason(rotating.verify(request(await c.sign(c.body, s, NOW), NOW, c.url), rotatingEnv))).toBe(
          'accepted',
        );
      }
    });

    it('reads header names in any case', async () => {
      const signed = await c.sign(c.body, c.secret, NOW);
      const upper = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toUpperCase(), v]));
      expect(await verify({ ...signed, headers: upper })).toBe('accepted');
    });

    it('fails closed naming the variable when the secret is not set', async () => {
      const signed = await c.sign(c.body, c.secret, NOW);
      await expect(verifier.verify(request(signed, NOW, c.url), {})).rejects.toThrow(`secret ${secretName} is not set`);
    });

    it('has an example config that validates and builds', () => {
      const { type, ...exampleOptions } = c.adapter.example;
      expect(type).toBe(c.adapter.name);
      expect(() => build(c.adapter, exampleOptions, undefined)).not.toThrow();
    });
  });
}
