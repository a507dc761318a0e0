/**
 * `switchyard test` (and `send --file`) sign a payload that is not the catalog's fresh sample: a fixture `capture`
 * wrote from the event log days ago, whose body still carries the time and the signature it was delivered with
 * (Linear's webhookTimestamp, Mailgun's signature block). For every catalog preset, and so every verifier kind, that
 * payload signed as the runner signs it (`buildSample` then `signBuilt`, cli/lib/sign-sample.ts) is accepted by the
 * provider's own verifier where test/catalog/sdk/ has one, and by the runtime's verifier for the preset.
 */
import { describe, expect, it } from 'vitest';
import { build, optionsOf } from '../../runtime/component/define.ts';
import { secretNamesOf } from '../../runtime/component/sign.ts';
import { buildSample, catalogText, fillSample, signBuilt } from './sign-sample.ts';
import { adapterOf, catalog, sdkFor, secretsFor, urlFor, verdict } from '../../test/support/catalog.ts';

const { entries } = catalog();
const THREE_DAYS = 3 * 86_400_000;

/** A verifier kind: its type and the options that change how it signs (secret names aside). */
const kindOf = (verifier: { type: string }) =>
  JSON.stringify(
    Object.entries(verifier)
      .filter(([k]) => !['secret', 'public_key', 'username', 'password'].includes(k))
      .sort(),
  );

describe('a captured fixture, signed again as switchyard test signs it, for every catalog preset', () => {
  it('covers every verifier kind the catalog uses', () => {
    const kinds = new Set([...entries.values()].map((e) => kindOf(e.verifier)));
    expect(kinds.size).toBeGreaterThan(20);
  });

  it.each([...entries.values()].map((e) => [e.name, e] as const))(
    "%s: the provider's verifier and the runtime accept it",
    async (_name, entry) => {
      const now = Date.now();
      // What capture writes: the payload as it arrived three days ago (its times and any in-body signature stale).
      const captured = fillSample(catalogText(entry.sample), now - THREE_DAYS, 'cap1');
      const { env, signing } = await secretsFor(entry);
      const url = urlFor(entry);
      const built = buildSample(entry, { now, text: captured, type: entry.sample.type });
      const signed = await signBuilt(entry, built, { url, now, secrets: signing });
      const request = { url, method: 'POST', headers: signed.headers, body: signed.body };

      const { adapter, options } = adapterOf(entry);
      expect(await verdict(build(adapter, options, undefined), request, env, now)).toBe('accepted');
      const sdk = await sdkFor(entry);
      if (sdk?.verify) {
        const secrets = secretNamesOf(adapter, optionsOf(adapter, options)).map((names) => env[names[0]!]!);
        expect(
          await sdk.verify({ secret: secrets[0]!, secrets, url, now, body: signed.body, headers: signed.headers }),
          `${sdk.package} refused it`,
        ).toBe(true);
      }
    },
  );
});
